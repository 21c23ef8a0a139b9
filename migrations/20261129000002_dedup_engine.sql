-- Dedup engine: dedup groups (related démarches whose reports may merge), perceptual hashes of
-- photos, "possible duplicate" flags for agents, and change notifications that keep the
-- in-memory index of every instance in sync.

ALTER TABLE demarche_revisions ADD COLUMN dedup_group text;

-- The dedup candidates of a report are the open requests of one démarche near a point: one
-- GiST index on both (btree_gist lets GiST index the text column) answers that without
-- visiting the other démarches' requests, which dominate in busy places.
CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE INDEX requests_open_demarche_location_gist ON requests USING gist (demarche_code, location)
    WHERE phase IN ('received', 'in_progress', 'waiting_for_citizen');

-- 64-bit difference hash of the display variant, for photo similarity.
ALTER TABLE photos ADD COLUMN phash bigint;

-- Set when the dedup score fell in the grey band: an agent decides.
ALTER TABLE requests
    ADD COLUMN possible_duplicate_of bigint REFERENCES requests (id),
    ADD COLUMN dedup_score real;
CREATE INDEX requests_possible_duplicate ON requests (possible_duplicate_of)
    WHERE possible_duplicate_of IS NOT NULL;

-- Every change that matters to the index of open incidents is announced on one channel with
-- the request id; listeners re-read the row (or drop it if it is no longer open).
CREATE FUNCTION notify_request_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('guichet_requests', COALESCE(NEW.id, OLD.id)::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER requests_notify_insert AFTER INSERT ON requests
    FOR EACH ROW WHEN (NEW.location IS NOT NULL) EXECUTE FUNCTION notify_request_change();
CREATE TRIGGER requests_notify_update AFTER UPDATE OF phase, status, location, demarche_code, report_count
    ON requests FOR EACH ROW EXECUTE FUNCTION notify_request_change();
CREATE TRIGGER requests_notify_delete AFTER DELETE ON requests
    FOR EACH ROW EXECUTE FUNCTION notify_request_change();
