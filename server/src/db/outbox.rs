//! The outbox: background jobs stored in PostgreSQL, claimed with `FOR UPDATE SKIP LOCKED` so
//! that any number of instances share the work without taking a job twice.

use sqlx::{PgConnection, PgExecutor, PgPool};
use time::Duration;

use super::DbError;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub attempts: i32,
    pub max_attempts: i32,
}

/// Adds a job due after `delay`.
pub async fn enqueue(
    db: impl PgExecutor<'_>,
    kind: &str,
    payload: &serde_json::Value,
    delay: Duration,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO outbox_jobs (kind, payload, run_at)
         VALUES ($1, $2, now() + make_interval(secs => $3))
         RETURNING id",
    )
    .bind(kind)
    .bind(payload)
    .bind(delay.as_seconds_f64())
    .fetch_one(db)
    .await?)
}

/// Adds a job due after `delay` that is tried at most `max_attempts` times. Called inside the
/// caller's transaction, so the job exists exactly when what it announces was committed.
pub async fn enqueue_in_tx(
    tx: &mut PgConnection,
    kind: &str,
    payload: &serde_json::Value,
    delay: Duration,
    max_attempts: i32,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO outbox_jobs (kind, payload, run_at, max_attempts)
         VALUES ($1, $2, now() + make_interval(secs => $3), $4)
         RETURNING id",
    )
    .bind(kind)
    .bind(payload)
    .bind(delay.as_seconds_f64())
    .bind(max_attempts.max(1))
    .fetch_one(tx)
    .await?)
}

/// Claims up to `limit` due jobs for `lease`: other workers skip them until the lease ends, so
/// a worker that dies mid-job gives its jobs back.
pub async fn claim_due(pool: &PgPool, limit: i64, lease: Duration) -> Result<Vec<Job>, DbError> {
    // RETURNING gives rows in no particular order; the outer query restores the order in
    // which they fell due, so that e.g. an acknowledgement goes out before a later notice.
    Ok(sqlx::query_as(
        "WITH claimed AS (
            UPDATE outbox_jobs SET locked_until = now() + make_interval(secs => $2),
                                   attempts = attempts + 1
             WHERE id IN (SELECT id FROM outbox_jobs
                           WHERE done_at IS NULL AND failed_at IS NULL AND run_at <= now()
                             AND (locked_until IS NULL OR locked_until < now())
                           ORDER BY run_at
                           LIMIT $1
                           FOR UPDATE SKIP LOCKED)
             RETURNING id, kind, payload, attempts, max_attempts, run_at)
         SELECT id, kind, payload, attempts, max_attempts FROM claimed ORDER BY run_at, id",
    )
    .bind(limit)
    .bind(lease.as_seconds_f64())
    .fetch_all(pool)
    .await?)
}

/// Marks a job done. A sent e-mail's payload (address, body, maybe a verification link) is
/// personal data with no further use: only its request id stays; the request's timeline keeps
/// who was notified of what.
pub async fn mark_done(pool: &PgPool, id: i64) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE outbox_jobs SET done_at = now(), locked_until = NULL,
                payload = CASE WHEN kind = 'email.send'
                               THEN jsonb_build_object('request_id', payload->'request_id',
                                                       'sent', true)
                               ELSE payload END
          WHERE id = $1",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes jobs done (or failed) longer ago than `keep`; returns how many.
pub async fn prune(pool: &PgPool, keep: Duration) -> Result<u64, DbError> {
    Ok(sqlx::query(
        "DELETE FROM outbox_jobs
          WHERE coalesce(done_at, failed_at) < now() - make_interval(secs => $1)",
    )
    .bind(keep.as_seconds_f64())
    .execute(pool)
    .await?
    .rows_affected())
}

/// An e-mail job's payload once it will never be sent: its text (which may hold a tracking
/// code or a follow link) goes; the address and the request stay for operators to see who was
/// not reached.
macro_rules! unsent_email_payload {
    () => {
        "CASE WHEN kind = 'email.send' THEN payload - 'body' ELSE payload END"
    };
}

/// Records a failure: retried after `retry_in`, or failed for good (visible to operators) once
/// the attempts are used up.
pub async fn mark_failed(
    pool: &PgPool,
    job: &Job,
    error: &str,
    retry_in: Duration,
) -> Result<(), DbError> {
    sqlx::query(concat!(
        "UPDATE outbox_jobs
            SET last_error = $2, locked_until = NULL,
                run_at = now() + make_interval(secs => $3),
                failed_at = CASE WHEN attempts >= max_attempts THEN now() END,
                payload = CASE WHEN attempts >= max_attempts THEN ",
        unsent_email_payload!(),
        " ELSE payload END
          WHERE id = $1"
    ))
    .bind(job.id)
    .bind(error)
    .bind(retry_in.as_seconds_f64())
    .execute(pool)
    .await?;
    Ok(())
}

/// Fails a job for good at once: retrying cannot help (e.g. the mail server refused the
/// address). It stays visible with its error like a job whose attempts ran out (an e-mail
/// without its text).
pub async fn mark_given_up(pool: &PgPool, id: i64, error: &str) -> Result<(), DbError> {
    sqlx::query(concat!(
        "UPDATE outbox_jobs SET last_error = $2, locked_until = NULL, failed_at = now(),
                payload = ",
        unsent_email_payload!(),
        " WHERE id = $1"
    ))
    .bind(id)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(())
}

/// How far behind the background work is, for the metrics: e-mail and other outbox jobs, and
/// webhook deliveries.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Backlog {
    /// Jobs due and not done.
    pub jobs_due: i64,
    /// Seconds the oldest due job has waited; 0 when none waits.
    pub jobs_oldest_secs: f64,
    /// Jobs given up after their last attempt, in the last 24 hours.
    pub jobs_failed_day: i64,
    pub deliveries_pending: i64,
    pub deliveries_oldest_secs: f64,
    pub deliveries_failed_day: i64,
}

pub async fn backlog(pool: &PgPool) -> Result<Backlog, DbError> {
    Ok(sqlx::query_as(
        "SELECT
           (SELECT count(*) FROM outbox_jobs
             WHERE done_at IS NULL AND failed_at IS NULL AND run_at <= now()) AS jobs_due,
           (SELECT coalesce(extract(epoch FROM now() - min(run_at)), 0)::float8 FROM outbox_jobs
             WHERE done_at IS NULL AND failed_at IS NULL AND run_at <= now()) AS jobs_oldest_secs,
           (SELECT count(*) FROM outbox_jobs
             WHERE failed_at > now() - interval '1 day') AS jobs_failed_day,
           (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending') AS deliveries_pending,
           (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
              FROM webhook_deliveries WHERE status = 'pending') AS deliveries_oldest_secs,
           (SELECT count(*) FROM webhook_deliveries
             WHERE status = 'failed' AND failed_at > now() - interval '1 day') AS deliveries_failed_day",
    )
    .fetch_one(pool)
    .await?)
}
