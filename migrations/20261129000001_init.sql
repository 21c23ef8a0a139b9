-- Guichet schema: catalogue, zones and teams, requests with their reports and photos,
-- the append-only event log and the outbox of background jobs.
-- Positions are geography(Point,4326) so that distances are metres on the ground.

CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE demarche_groups (
    code          text PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    title         text NOT NULL,
    title_en      text NOT NULL,
    -- Middle part of request numbers: 2026-SIG-000123.
    number_prefix text NOT NULL UNIQUE CHECK (number_prefix ~ '^[A-Z]{3}$'),
    position      int  NOT NULL DEFAULT 0
);

CREATE TABLE teams (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code       text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    name       text NOT NULL,
    email      text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE demarches (
    code             text PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    group_code       text NOT NULL REFERENCES demarche_groups (code),
    current_revision int  NOT NULL,
    active           boolean NOT NULL DEFAULT true,
    position         int  NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now()
);

-- Editing a démarche adds a revision; a request keeps the revision it was filed under.
CREATE TABLE demarche_revisions (
    demarche_code     text NOT NULL REFERENCES demarches (code),
    revision          int  NOT NULL CHECK (revision > 0),
    title             text NOT NULL,
    title_en          text NOT NULL,
    description       text NOT NULL DEFAULT '',
    keywords          text[] NOT NULL DEFAULT '{}',
    channels          text[] NOT NULL,
    auth              text NOT NULL CHECK (auth IN ('anonymous', 'account')),
    geolocated        boolean NOT NULL,
    dedup_radius_m    double precision CHECK (dedup_radius_m BETWEEN 1 AND 500),
    dedup_window_days int CHECK (dedup_window_days > 0),
    sla_days          int CHECK (sla_days > 0),
    -- The whole catalogue entry as loaded, for what has no column yet (forms, workflow).
    definition        jsonb NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (demarche_code, revision),
    CHECK (geolocated OR dedup_radius_m IS NULL)
);

ALTER TABLE demarches
    ADD CONSTRAINT demarches_current_revision_fk
    FOREIGN KEY (code, current_revision) REFERENCES demarche_revisions (demarche_code, revision)
    DEFERRABLE INITIALLY DEFERRED;

-- Communes, districts, sectors. Their union (in_service_area) is where reports are accepted.
CREATE TABLE zones (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code            text NOT NULL UNIQUE,
    kind            text NOT NULL,
    name            text NOT NULL,
    population      int,
    town_hall       geography(Point, 4326),
    geom            geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    in_service_area boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX zones_geom_gist ON zones USING gist (geom);

-- Routing: the first rule (lowest priority value) matching démarche x zone names the team.
-- A NULL démarche or zone matches any.
CREATE TABLE routing_rules (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    demarche_code text REFERENCES demarches (code),
    zone_id       bigint REFERENCES zones (id),
    team_id       bigint NOT NULL REFERENCES teams (id),
    priority      int NOT NULL DEFAULT 100,
    UNIQUE NULLS NOT DISTINCT (demarche_code, zone_id)
);

-- Gap-free per year and prefix, as citizens read and quote these numbers.
CREATE TABLE request_counters (
    year   int  NOT NULL,
    prefix text NOT NULL,
    last   bigint NOT NULL,
    PRIMARY KEY (year, prefix)
);

CREATE TABLE requests (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number              text NOT NULL UNIQUE,
    tracking_code       text NOT NULL,
    demarche_code       text NOT NULL,
    demarche_revision   int  NOT NULL,
    channel             text NOT NULL
        CHECK (channel IN ('app', 'web', 'phone', 'desk', 'mail', 'email', 'api')),
    status              text NOT NULL,
    phase               text NOT NULL
        CHECK (phase IN ('received', 'in_progress', 'waiting_for_citizen', 'closed', 'withdrawn')),
    outcome             text
        CHECK (outcome IN ('resolved', 'rejected', 'duplicate', 'redirected', 'no_follow_up')),
    team_id             bigint REFERENCES teams (id),
    zone_id             bigint REFERENCES zones (id),
    location            geography(Point, 4326),
    location_accuracy_m double precision,
    location_source     text CHECK (location_source IN ('gps', 'map', 'address', 'exif')),
    address             text,
    description         text,
    data                jsonb NOT NULL DEFAULT '{}',
    report_count        int NOT NULL DEFAULT 0,
    due_at              timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    closed_at           timestamptz,
    FOREIGN KEY (demarche_code, demarche_revision)
        REFERENCES demarche_revisions (demarche_code, revision),
    CHECK ((phase = 'closed') = (outcome IS NOT NULL))
);
CREATE INDEX requests_location_gist ON requests USING gist (location);
-- Dedup and the public map only look at open requests.
CREATE INDEX requests_open_location_gist ON requests USING gist (location)
    WHERE phase IN ('received', 'in_progress', 'waiting_for_citizen');
CREATE INDEX requests_demarche_phase ON requests (demarche_code, phase);
CREATE INDEX requests_team_phase_created ON requests (team_id, phase, created_at);

-- One citizen submission. The first report of an incident creates its request; later
-- reports of the same incident are co-reports of it.
CREATE TABLE reports (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id     uuid NOT NULL UNIQUE,
    request_id    bigint NOT NULL REFERENCES requests (id),
    channel       text NOT NULL,
    location      geography(Point, 4326) NOT NULL,
    accuracy_m    double precision,
    description   text NOT NULL DEFAULT '',
    address       text,
    observed_at   timestamptz,
    contact_email text,
    contact_name  text,
    deduplicated  boolean NOT NULL,
    -- The answer given to the citizen, returned unchanged when the same client id retries.
    receipt       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reports_request ON reports (request_id);

-- Photos are stored content-addressed (key = SHA-256 of the stored bytes); the row keeps the
-- keys and sizes of the served variants, never the original file nor its metadata.
CREATE TABLE photos (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id      bigint NOT NULL REFERENCES reports (id),
    position       smallint NOT NULL CHECK (position >= 0),
    source_sha256  text NOT NULL,
    source_format  text NOT NULL,
    source_bytes   int  NOT NULL,
    source_width   int  NOT NULL,
    source_height  int  NOT NULL,
    display_key    text NOT NULL,
    display_width  int  NOT NULL,
    display_height int  NOT NULL,
    display_bytes  int  NOT NULL,
    thumb_key      text NOT NULL,
    thumb_width    int  NOT NULL,
    thumb_height   int  NOT NULL,
    thumb_bytes    int  NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (report_id, position)
);
CREATE INDEX photos_display_key ON photos (display_key);
CREATE INDEX photos_thumb_key ON photos (thumb_key);

-- The history of a request: the citizen's timeline (public) and the audit trail (all).
CREATE TABLE events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id bigint NOT NULL REFERENCES requests (id),
    kind       text NOT NULL,
    public     boolean NOT NULL,
    actor      text NOT NULL,
    data       jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_request ON events (request_id, id);

CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER events_no_update_or_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

-- Background work (e-mails, webhooks, clean-ups), claimed with FOR UPDATE SKIP LOCKED.
CREATE TABLE outbox_jobs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL,
    payload      jsonb NOT NULL,
    -- Optional: enqueueing twice with the same key keeps one job.
    dedup_key    text UNIQUE,
    run_at       timestamptz NOT NULL DEFAULT now(),
    attempts     int NOT NULL DEFAULT 0,
    max_attempts int NOT NULL DEFAULT 10,
    locked_until timestamptz,
    last_error   text,
    done_at      timestamptz,
    failed_at    timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_jobs_due ON outbox_jobs (run_at) WHERE done_at IS NULL AND failed_at IS NULL;
