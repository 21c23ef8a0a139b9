-- Field teams: requests they file on site, the photos they take after acting (and those a
-- reporter sends when the problem is back), and the keys that make their offline actions count
-- once.

ALTER TABLE requests DROP CONSTRAINT requests_channel_check;
ALTER TABLE requests ADD CONSTRAINT requests_channel_check
    CHECK (channel IN ('app', 'web', 'phone', 'desk', 'mail', 'email', 'api', 'field'));

-- Photos that come with an event of a request rather than with a report: `after`, taken by an
-- agent once the work is done (a filled pothole); `not_fixed`, sent by a reporter when the
-- problem is back. Processed like reports' photos: content-addressed variants, no metadata.
CREATE TABLE event_photos (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id     bigint NOT NULL REFERENCES requests (id),
    kind           text NOT NULL CHECK (kind IN ('after', 'not_fixed')),
    agent_id       bigint REFERENCES agents (id),
    position       smallint NOT NULL CHECK (position >= 0),
    display_key    text NOT NULL,
    display_width  int  NOT NULL,
    display_height int  NOT NULL,
    thumb_key      text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_photos_request ON event_photos (request_id, id);
CREATE INDEX event_photos_display_key ON event_photos (display_key);
CREATE INDEX event_photos_thumb_key ON event_photos (thumb_key);

-- One row per agent action sent with an `Idempotency-Key`, written in the action's own
-- transaction: the row exists if and only if the action took effect, so a repeat of the
-- same key answers the stored result instead of acting twice.
CREATE TABLE agent_action_keys (
    agent_id    bigint NOT NULL REFERENCES agents (id),
    key         text NOT NULL,
    method      text NOT NULL,
    path        text NOT NULL,
    status      smallint NOT NULL DEFAULT 204,
    result      jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, key)
);
CREATE INDEX agent_action_keys_created ON agent_action_keys (created_at);
