-- The audit trail: who read personal data or acted, when, what on, and from where. Agents'
-- reads of personal data (a request's detail, its files, searches, exports), every agent and
-- admin action, and security events (logins and their failures, password and second-factor
-- changes). Append-only: rows are never changed, and only the retention purge
-- (`db::audit::purge`, which says so with the `guichet.audit_purge` setting) removes old ones.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    -- 'read' (personal data), 'action' (a change), 'security' (logins and the like).
    kind        text NOT NULL CHECK (kind IN ('read', 'action', 'security')),
    -- The agent, when one is known; their e-mail is kept as it was, so that a trace still
    -- names them once the account is gone or renamed.
    agent_id    bigint REFERENCES agents (id) ON DELETE SET NULL,
    actor       text NOT NULL,
    -- `GET /api/v1/agent/requests/{number}`, or a security event's name (`agent.login`).
    action      text NOT NULL,
    -- What it was about: a request number, an agent id, the e-mail given at a login.
    target      text,
    -- The query string of a read (what was searched for), the answer's status.
    detail      text,
    status      smallint,
    ip          inet,
    user_agent  text
);

CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_agent ON audit_log (agent_id, at DESC);
CREATE INDEX audit_log_target ON audit_log (target, at DESC) WHERE target IS NOT NULL;

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('guichet.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
