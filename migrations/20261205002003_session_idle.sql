-- Agents' sessions also end after an idle time: each call moves `last_seen_at`.
ALTER TABLE sessions ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();
