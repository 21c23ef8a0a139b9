-- The agents' queue, newest first. An agent's queue reads each of their teams' requests in
-- date order (closed ones too, when asked), one page per team; the partial index on open
-- requests serves the default queue. An admin's queue walks all requests in date order.
CREATE INDEX requests_team_created ON requests (team_id, created_at DESC, id DESC);
CREATE INDEX requests_created ON requests (created_at DESC, id DESC);
