-- The document wallet: files a citizen's account keeps (identity, proof of address…) to attach
-- to any démarche's file field without sending them again. The bytes are in the file store
-- under their content key, like attachments; a request that attached one keeps its own
-- reference (request_files), so deleting the document from the wallet leaves filed requests
-- whole. Closing the account removes the wallet.
CREATE TABLE wallet_documents (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    citizen_id bigint NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    label text NOT NULL CHECK (length(label) BETWEEN 1 AND 120),
    kind text NOT NULL CHECK (kind IN ('identity', 'proof-of-address', 'income', 'family', 'other')),
    filename text NOT NULL,
    mime text NOT NULL,
    bytes integer NOT NULL CHECK (bytes > 0),
    storage_key text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX wallet_documents_citizen ON wallet_documents (citizen_id, created_at DESC);
-- The clean-up job asks whether a key is still referred to.
CREATE INDEX wallet_documents_key ON wallet_documents (storage_key);
