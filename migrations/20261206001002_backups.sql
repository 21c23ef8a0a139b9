-- Backups taken with `guichet backup`: the age of the last one is a metric
-- (`guichet_backup_age_seconds`), so that an operator is alerted when backups stop.
CREATE TABLE backups (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    taken_at    timestamptz NOT NULL DEFAULT now(),
    objects     bigint NOT NULL,
    bytes       bigint NOT NULL
);
