-- Retention (CNIL): closed requests past their démarche's retention period are anonymised by
-- one path, `db::retention::anonymise`. It is the only rewrite the append-only event log
-- allows: within a transaction that says so (`guichet.anonymise`), an event's `data` may lose
-- keys, and nothing else about it may change.
ALTER TABLE requests ADD COLUMN anonymised_at timestamptz;
CREATE INDEX requests_to_anonymise ON requests (closed_at)
    WHERE anonymised_at IS NULL AND closed_at IS NOT NULL;

CREATE OR REPLACE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('guichet.anonymise', true) = 'on'
       AND NEW.id = OLD.id AND NEW.request_id = OLD.request_id AND NEW.kind = OLD.kind
       AND NEW.public = OLD.public AND NEW.actor = OLD.actor
       AND NEW.created_at = OLD.created_at
       AND OLD.data @> NEW.data THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'events are append-only (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;
