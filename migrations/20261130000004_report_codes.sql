-- Every report gets its own tracking code: the first report of a request shares the request's
-- (its filer may act on it), while co-reporters and supporters get one of their own that only
-- lets them follow the request. A report also keeps the form data its reporter gave.
ALTER TABLE reports
    ADD COLUMN tracking_code text,
    ADD COLUMN data jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN contact_phone text;
CREATE INDEX reports_tracking ON reports (request_id, tracking_code);
