-- Tracking codes are kept as SHA-256 digests, like session tokens: a clear code is given to its
-- holder (in the filing's answer and the first acknowledgement) and never read back. Existing
-- codes are hashed here, in their canonical form (`7K2M-QX4P-9TZC`, as they were generated).

ALTER TABLE requests ADD COLUMN tracking_code_digest bytea;
UPDATE requests SET tracking_code_digest = sha256(convert_to(tracking_code, 'UTF8'));
ALTER TABLE requests ALTER COLUMN tracking_code_digest SET NOT NULL;
ALTER TABLE requests DROP COLUMN tracking_code;

ALTER TABLE reports ADD COLUMN tracking_code_digest bytea;
UPDATE reports SET tracking_code_digest = sha256(convert_to(tracking_code, 'UTF8'))
 WHERE tracking_code IS NOT NULL;
-- Reports filed before reporters had codes of their own: the first one held the request's.
UPDATE reports rp SET tracking_code_digest = r.tracking_code_digest
  FROM requests r
 WHERE rp.tracking_code IS NULL AND NOT rp.deduplicated AND r.id = rp.request_id
   AND rp.id = (SELECT min(id) FROM reports WHERE request_id = r.id);
DROP INDEX reports_tracking;
ALTER TABLE reports DROP COLUMN tracking_code;
-- A code is looked up by its digest (a request's reporters; a new code replacing an old one
-- wherever it is kept); merged requests by their target.
CREATE INDEX reports_tracking_digest ON reports (tracking_code_digest);
CREATE INDEX requests_tracking_digest ON requests (tracking_code_digest);
CREATE INDEX requests_merged_into ON requests (merged_into) WHERE merged_into IS NOT NULL;

-- A stored receipt keeps the clear code only while idempotent retries may need it: a
-- `receipts.forget_code` job blanks it once the window is over (24 h unless configured).
-- Receipts older than that lose it now; younger ones get their job.
UPDATE reports
   SET receipt = receipt || jsonb_build_object(
           'tracking_code', '', 'status_url', split_part(receipt->>'status_url', '?', 1))
 WHERE coalesce(receipt->>'tracking_code', '') <> '' AND created_at < now() - interval '24 hours';
UPDATE requests
   SET receipt = receipt || jsonb_build_object(
           'tracking_code', '', 'status_url', split_part(receipt->>'status_url', '?', 1))
 WHERE coalesce(receipt->>'tracking_code', '') <> '' AND created_at < now() - interval '24 hours';
INSERT INTO outbox_jobs (kind, payload, run_at)
SELECT 'receipts.forget_code', jsonb_build_object('report_id', id), created_at + interval '24 hours'
  FROM reports WHERE coalesce(receipt->>'tracking_code', '') <> '';
INSERT INTO outbox_jobs (kind, payload, run_at)
SELECT 'receipts.forget_code', jsonb_build_object('request_id', id), created_at + interval '24 hours'
  FROM requests WHERE coalesce(receipt->>'tracking_code', '') <> '';

-- E-mails that will never be sent keep no text (it may hold a code or a link).
UPDATE outbox_jobs SET payload = payload - 'body'
 WHERE kind = 'email.send' AND failed_at IS NOT NULL;

-- Secrets the service generates itself. `follow_key` signs follow links when
-- GUICHET_SECRET_KEY is not set (never in production): one per database, so that every
-- instance derives the same links and they survive restarts.
CREATE TABLE server_secrets (
    name       text PRIMARY KEY,
    value      bytea NOT NULL CHECK (length(value) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);
