-- The phone desk's search: one French full-text vector per request and per report, over
-- what a caller may give (name, e-mail, phone, address, words of the description, any text of
-- the form), accents folded so that "abimé" finds "abîmé".
CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE FUNCTION search_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;

-- Every text value of a form's answers, blocks included.
CREATE FUNCTION form_strings(jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT coalesce(string_agg(v #>> '{}', ' '), '')
            FROM jsonb_path_query($1, 'strict $.** ? (@.type() == "string")') AS v $$;

ALTER TABLE requests ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('french', search_fold(
        coalesce(contact_name, '') || ' ' || coalesce(contact_email, '') || ' ' ||
        coalesce(contact_phone, '') || ' ' || coalesce(address, '') || ' ' ||
        coalesce(description, '') || ' ' || form_strings(data)))
) STORED;
CREATE INDEX requests_search ON requests USING gin (search);

ALTER TABLE reports ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('french', search_fold(
        coalesce(contact_name, '') || ' ' || coalesce(contact_email, '') || ' ' ||
        coalesce(contact_phone, '') || ' ' || coalesce(address, '') || ' ' ||
        coalesce(description, '') || ' ' || form_strings(data)))
) STORED;
CREATE INDEX reports_search ON reports USING gin (search);

-- A caller who reads the digits of their number: "123" finds 2026-SIG-000123.
CREATE INDEX requests_number_sequence ON requests (split_part(number, '-', 3));

-- The back office's live feed: every event of a request is announced with its id, so that
-- open queues refresh without reload and a reconnecting client resumes after the last id
-- it saw.
CREATE FUNCTION notify_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('guichet_events', NEW.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION notify_event();
