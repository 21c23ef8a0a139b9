-- Agents who asked for the morning e-mail of their "for me" view (assigned to them, overdue,
-- reopened).
ALTER TABLE agents ADD COLUMN daily_digest boolean NOT NULL DEFAULT false;
