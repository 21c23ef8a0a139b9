-- Password resets by e-mail for citizens: single-use links that expire. As for sessions and
-- verifications, only a SHA-256 of the token is kept.
CREATE TABLE password_resets (
    token_sha256 bytea PRIMARY KEY,
    citizen_id   bigint NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX password_resets_citizen ON password_resets (citizen_id);
CREATE INDEX email_verifications_citizen ON email_verifications (citizen_id);
CREATE INDEX sessions_agent ON sessions (agent_id) WHERE agent_id IS NOT NULL;
CREATE INDEX sessions_citizen ON sessions (citizen_id) WHERE citizen_id IS NOT NULL;
