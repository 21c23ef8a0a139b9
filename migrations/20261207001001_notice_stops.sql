-- Addresses that asked, with the link of one of their e-mails, to hear no more about one
-- request. Notices skip them (see db::notify::contacts); the request's deletion removes them.
CREATE TABLE notice_stops (
    request_id bigint NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    -- Trimmed and lower-cased, as contacts are compared.
    email text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, email)
);
