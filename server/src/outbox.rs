//! The background worker that runs outbox jobs, in every `guichet serve` instance.
//!
//! Job kinds:
//! - `photos.cleanup`: removes photo files that no stored photo refers to. Intake enqueues one
//!   before writing the files of a submission, so that files left by a crash between the
//!   write and the commit are removed later; a submission that fails cleanly removes its files
//!   at once and the job finds nothing to do.

use std::time::Duration as StdDuration;

use serde::{Deserialize, Serialize};
use time::Duration;

use crate::db::{self, DbError, outbox::Job};
use crate::state::AppState;

pub const PHOTOS_CLEANUP: &str = "photos.cleanup";
/// Long enough for any submission to commit; then its files are either referenced or garbage.
pub const PHOTOS_CLEANUP_DELAY: Duration = Duration::minutes(10);

#[derive(Debug, Serialize, Deserialize)]
pub struct PhotosCleanup {
    pub keys: Vec<String>,
}

/// Polls for due jobs until `shutdown` fires.
pub async fn run_worker(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        match run_due_jobs(&state).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox: cannot claim jobs"),
        }
        tokio::select! {
            _ = tokio::time::sleep(StdDuration::from_secs(2)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Runs the jobs due now; returns how many were claimed.
pub async fn run_due_jobs(state: &AppState) -> Result<usize, DbError> {
    let jobs = db::outbox::claim_due(&state.db, 16, Duration::minutes(5)).await?;
    let n = jobs.len();
    for job in jobs {
        match run_job(state, &job).await {
            Ok(()) => db::outbox::mark_done(&state.db, job.id).await?,
            Err(error) => {
                tracing::warn!(job = job.id, kind = %job.kind, %error, "outbox job failed");
                db::outbox::mark_failed(&state.db, &job, &error, backoff(job.attempts)).await?;
            }
        }
    }
    Ok(n)
}

/// 30 s, 1 min, 2 min… capped at 6 h.
pub fn backoff(attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    Duration::seconds((30_i64 << exp).min(6 * 3600))
}

async fn run_job(state: &AppState, job: &Job) -> Result<(), String> {
    match job.kind.as_str() {
        PHOTOS_CLEANUP => {
            let task: PhotosCleanup =
                serde_json::from_value(job.payload.clone()).map_err(|e| e.to_string())?;
            for key in &task.keys {
                let in_use = db::intake::photo_key_in_use(&state.db, key)
                    .await
                    .map_err(|e| e.to_string())?;
                if !in_use {
                    state.photos.delete(key).await.map_err(|e| e.to_string())?;
                }
            }
            Ok(())
        }
        other => Err(format!("unknown job kind {other:?}")),
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
    }
}
