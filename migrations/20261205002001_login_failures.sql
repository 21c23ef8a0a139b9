-- Failed logins, counted per account and client address in the database so that every
-- instance of the service sees the same count. Counting per (account, address) and never per
-- account alone means that nobody can lock a named agent out from elsewhere.
CREATE TABLE login_failures (
    -- `agent`, `citizen`, or `agent-second-factor` (a wrong code after a right password).
    realm   text NOT NULL CHECK (realm IN ('agent', 'citizen', 'agent-second-factor')),
    -- The e-mail address as typed (lower-cased), whether or not it has an account.
    account text NOT NULL,
    -- The client address, or '*' when the count is per account whatever the address (second
    -- factor: only someone who gave the right password gets that far).
    client  text NOT NULL,
    at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key ON login_failures (realm, account, client, at DESC);
CREATE INDEX login_failures_at ON login_failures (at);
