-- Integrators' keys for Open311 GeoReport v2 (`POST /open311/v2/requests` needs one). Only
-- the SHA-256 digest of a key is kept, like session tokens: the clear key is printed once,
-- by `guichet api-key create`, and never stored.
CREATE TABLE api_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    key_digest   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- Open311 reads of updates walk public status changes by date.
CREATE INDEX events_status_changes ON events (created_at, id) WHERE kind = 'status_changed';
