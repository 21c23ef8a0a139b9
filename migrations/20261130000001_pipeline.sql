-- The general request pipeline: agents and citizens with their sessions, request fields for
-- workflows (assignee, who entered it, contact, SLA pause, complement), attachments of form
-- files, and idempotent generic intake.

CREATE TABLE agents (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Stored lower-cased: logins are case-insensitive.
    email         text NOT NULL UNIQUE CHECK (email = lower(email)),
    name          text NOT NULL,
    role          text NOT NULL CHECK (role IN ('agent', 'field', 'supervisor', 'admin')),
    -- argon2id in PHC string format.
    password_hash text NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agent_teams (
    agent_id bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    team_id  bigint NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    PRIMARY KEY (agent_id, team_id)
);
CREATE INDEX agent_teams_team ON agent_teams (team_id);

CREATE TABLE citizens (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email             text NOT NULL UNIQUE CHECK (email = lower(email)),
    name              text NOT NULL DEFAULT '',
    password_hash     text NOT NULL,
    lang              text NOT NULL DEFAULT 'fr' CHECK (lang IN ('fr', 'en')),
    email_verified_at timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- Bearer tokens of agents and citizens. Only a SHA-256 of the token is kept, so a leaked
-- table gives no usable token.
CREATE TABLE sessions (
    token_sha256 bytea PRIMARY KEY,
    agent_id     bigint REFERENCES agents (id) ON DELETE CASCADE,
    citizen_id   bigint REFERENCES citizens (id) ON DELETE CASCADE,
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((agent_id IS NULL) <> (citizen_id IS NULL))
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE email_verifications (
    token_sha256 bytea PRIMARY KEY,
    citizen_id   bigint NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);

ALTER TABLE requests
    -- Generic intake is idempotent by the client's id; reports keep theirs on `reports`.
    ADD COLUMN client_id     uuid UNIQUE,
    ADD COLUMN receipt       jsonb,
    -- The workflow template, pinned when the request is filed (like the revision).
    ADD COLUMN workflow      text NOT NULL DEFAULT 'report'
        CHECK (workflow IN ('report', 'decision', 'delivery', 'answer')),
    ADD COLUMN assignee_id   bigint REFERENCES agents (id),
    ADD COLUMN entered_by    bigint REFERENCES agents (id),
    ADD COLUMN citizen_id    bigint REFERENCES citizens (id),
    ADD COLUMN contact_name  text,
    ADD COLUMN contact_email text,
    ADD COLUMN contact_phone text,
    ADD COLUMN lang          text NOT NULL DEFAULT 'fr' CHECK (lang IN ('fr', 'en')),
    ADD COLUMN merged_into   bigint REFERENCES requests (id),
    -- Set while the request waits for the citizen: the SLA clock stands still, and due_at is
    -- pushed back by the pause when the citizen answers.
    ADD COLUMN sla_paused_at timestamptz,
    -- The open complement request: {"fields": [...], "message": "...", "requested_at": ...}.
    ADD COLUMN complement    jsonb;

CREATE INDEX requests_citizen ON requests (citizen_id, created_at DESC) WHERE citizen_id IS NOT NULL;
CREATE INDEX requests_assignee ON requests (assignee_id, phase) WHERE assignee_id IS NOT NULL;
-- The agent queue: a team's open requests, newest first, and the overdue ones.
CREATE INDEX requests_queue_open ON requests (team_id, created_at DESC, id DESC)
    WHERE phase IN ('received', 'in_progress', 'waiting_for_citizen');
CREATE INDEX requests_open_due ON requests (team_id, due_at)
    WHERE phase IN ('received', 'in_progress', 'waiting_for_citizen') AND sla_paused_at IS NULL;

ALTER TABLE reports
    ADD COLUMN lang text NOT NULL DEFAULT 'fr' CHECK (lang IN ('fr', 'en'));

-- Files given in form fields (CV, consent, proof of address). Stored content-addressed like
-- photos; the row keeps what the citizen called it and what the bytes really are.
CREATE TABLE request_files (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id  bigint NOT NULL REFERENCES requests (id),
    field_id    text NOT NULL,
    position    smallint NOT NULL CHECK (position >= 0),
    storage_key text NOT NULL,
    filename    text NOT NULL,
    mime        text NOT NULL,
    bytes       int NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX request_files_request ON request_files (request_id);
CREATE INDEX request_files_key ON request_files (storage_key);
