-- Agents' second factor (TOTP, RFC 6238). The secret is needed in clear to check codes; it
-- is given to the agent once, at enrolment. `totp_pending` holds a secret being enrolled
-- until a code confirms it; `totp_last_step` is the last time step accepted, so that a code
-- works once.
ALTER TABLE agents
    ADD COLUMN totp_secret    bytea,
    ADD COLUMN totp_pending   bytea,
    ADD COLUMN totp_last_step bigint;
