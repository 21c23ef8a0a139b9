-- The metrics read the background work's backlog at every scrape: these keep that cheap
-- however many jobs and deliveries are done.
CREATE INDEX outbox_jobs_failed ON outbox_jobs (failed_at) WHERE failed_at IS NOT NULL;
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (created_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_failed ON webhook_deliveries (failed_at) WHERE status = 'failed';
