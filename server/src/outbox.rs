//! The background worker that runs outbox jobs, in every `guichet serve` instance.
//!
//! Job kinds:
//! - `photos.cleanup`: removes stored files (photos, attachments) that nothing refers to any
//!   more; every writer queues one before writing, so files left by a crash or a failed
//!   submission go too. The rules are in `crate::files`.
//! - `digest.daily`: the agents' morning digest, see `crate::digest`; each run plans the next.
//! - `email.send` and `webhook.deliver`: notices, see `crate::notify`. A webhook job is one
//!   attempt at one delivery; its `webhook_deliveries` row records each outcome. An e-mail
//!   job keeps its address and text only until it is sent or given up.
//! - `receipts.forget_code`: blanks the clear tracking code of a stored receipt once
//!   idempotent retries no longer need it, see `crate::codes`.
//!
//! The pace (poll interval, first retry delay) is `Config::outbox`.

use std::time::Duration as StdDuration;

use time::Duration;

use crate::codes;
use crate::config::OutboxConfig;
use crate::db::{self, DbError, outbox::Job};
use crate::digest;
use crate::files;
use crate::notify;
use crate::state::AppState;

/// Why a job did not complete.
#[derive(Debug)]
pub enum JobError {
    /// Try again after the back-off, until the attempts run out.
    Retry(String),
    /// Trying again cannot help: fail the job now.
    GiveUp(String),
}

impl From<String> for JobError {
    fn from(error: String) -> Self {
        JobError::Retry(error)
    }
}

/// Finished jobs stay this long for operators (failed webhook deliveries keep their own
/// record), then go.
pub const KEEP_FINISHED_JOBS: Duration = Duration::days(30);
const PRUNE_EVERY: StdDuration = StdDuration::from_secs(3600);

/// Polls for due jobs until `shutdown` fires; prunes finished jobs once an hour.
pub async fn run_worker(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    // Every instance makes sure the next morning digest is planned (once: keyed by its day).
    if let Err(e) = digest::schedule(&state).await {
        tracing::warn!(error = %e, "outbox: cannot plan the morning digest");
    }
    let mut last_prune: Option<std::time::Instant> = None;
    loop {
        if last_prune.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            match db::outbox::prune(&state.db, KEEP_FINISHED_JOBS).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(jobs = n, "outbox: finished jobs pruned"),
                Err(e) => tracing::warn!(error = %e, "outbox: cannot prune finished jobs"),
            }
            last_prune = Some(std::time::Instant::now());
        }
        match run_due_jobs(&state).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox: cannot claim jobs"),
        }
        tokio::select! {
            _ = tokio::time::sleep(state.config.outbox.poll_interval) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Runs the jobs due now; returns how many were claimed.
pub async fn run_due_jobs(state: &AppState) -> Result<usize, DbError> {
    let lock = Duration::try_from(state.config.outbox.lock).unwrap_or(Duration::minutes(5));
    let jobs = db::outbox::claim_due(&state.db, 16, lock).await?;
    let n = jobs.len();
    for job in jobs {
        match run_job(state, &job).await {
            Ok(()) => db::outbox::mark_done(&state.db, job.id).await?,
            Err(JobError::Retry(error)) => {
                tracing::warn!(job = job.id, kind = %job.kind, %error, "outbox job failed");
                let retry_in = retry_delay(&state.config.outbox, job.attempts);
                db::outbox::mark_failed(&state.db, &job, &error, retry_in).await?;
            }
            Err(JobError::GiveUp(error)) => {
                tracing::warn!(job = job.id, kind = %job.kind, %error, "outbox job given up");
                db::outbox::mark_given_up(&state.db, job.id, &error).await?;
            }
        }
    }
    Ok(n)
}

/// 30 s, 1 min, 2 min… capped at 6 h.
pub fn backoff(attempts: i32) -> Duration {
    backoff_from(StdDuration::from_secs(30), attempts)
}

/// The wait after the `attempts`-th failure: `base`, doubled at each further failure,
/// capped at 6 h.
pub fn backoff_from(base: StdDuration, attempts: i32) -> Duration {
    const CAP_MS: i64 = 6 * 3600 * 1000;
    let exp = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    let base_ms = i64::try_from(base.as_millis()).unwrap_or(CAP_MS).max(1);
    Duration::milliseconds(base_ms.saturating_mul(1 << exp).min(CAP_MS))
}

/// The configured back-off after the `attempts`-th failure.
pub fn retry_delay(cfg: &OutboxConfig, attempts: i32) -> Duration {
    backoff_from(cfg.retry_base, attempts)
}

async fn run_job(state: &AppState, job: &Job) -> Result<(), JobError> {
    match job.kind.as_str() {
        files::CLEANUP => {
            let task: files::Cleanup = serde_json::from_value(job.payload.clone())
                .map_err(|e| JobError::GiveUp(format!("bad payload: {e}")))?;
            let deleted = files::clean_up(state, job.id, &task.keys)
                .await
                .map_err(|e| e.to_string())?;
            if deleted > 0 {
                tracing::debug!(job = job.id, deleted, "unreferenced files removed");
            }
            Ok(())
        }
        notify::EMAIL_SEND => notify::jobs::send_email(state, job).await,
        digest::DAILY => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let day = job.payload["day"]
                .as_str()
                .and_then(|d| time::Date::parse(d, format).ok());
            let sent = digest::send_daily(state, day)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(sent, "morning digests queued");
            Ok(())
        }
        codes::FORGET_RECEIPT_CODE => codes::forget_receipt_code(state, job).await,
        notify::WEBHOOK_DELIVER => notify::jobs::deliver_webhook(state, job).await,
        other => Err(JobError::Retry(format!("unknown job kind {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(5), Duration::seconds(480));
        assert_eq!(backoff(40), Duration::hours(6));
        let fast = StdDuration::from_millis(100);
        assert_eq!(backoff_from(fast, 1), Duration::milliseconds(100));
        assert_eq!(backoff_from(fast, 3), Duration::milliseconds(400));
    }
}
