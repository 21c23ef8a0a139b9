//! Stored files (processed photos, form attachments) are content-addressed and may be shared
//! by several requests. They are written before the transaction that refers to them, and
//! deleted only by the delayed clean-up job, never by a failing submission: that job deletes a
//! file only when, under the file's lock, nothing refers to it and no writer may still be
//! about to.
//!
//! Every writer first claims its keys: in one statement holding each key's shared
//! lock, it queues a clean-up job for them, due after `CLEANUP_DELAY` (longer than any
//! submission takes to commit). The job takes the key's lock alone, so it runs either before
//! the claim (and the writer then writes the file anew) or after it, when it sees the
//! writer's job still to come and leaves the file to that job.

use bytes::Bytes;
use guichet_shared::sniff;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::Duration;

use crate::db::{self, DbError};
use crate::photos::StoreError;
use crate::state::AppState;

/// The outbox job kind of the clean-up.
pub const CLEANUP: &str = "photos.cleanup";
/// Long enough for any submission to commit; then its files are either referenced or garbage.
pub const CLEANUP_DELAY: Duration = Duration::minutes(10);

#[derive(Debug, Serialize, Deserialize)]
pub struct Cleanup {
    pub keys: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The key of stored bytes: their SHA-256, with the extension of their sniffed type.
pub fn key_for(bytes: &[u8], mime: &str) -> String {
    let ext = sniff::extension_for_mime(mime).unwrap_or("bin");
    format!("{}.{ext}", hex::encode(Sha256::digest(bytes)))
}

/// Claims the keys, then writes the bytes (content already stored under a key stays as is).
pub async fn write(state: &AppState, files: &[(String, Bytes)]) -> Result<(), FileError> {
    if files.is_empty() {
        return Ok(());
    }
    let mut keys: Vec<String> = files.iter().map(|(k, _)| k.clone()).collect();
    keys.sort_unstable();
    keys.dedup();
    claim(state, keys, CLEANUP_DELAY).await?;
    for (key, bytes) in files {
        state.photos.put(key, bytes.clone()).await?;
    }
    Ok(())
}

/// Claims keys already stored (a wallet document attached to a filing) without writing them:
/// their clean-up then waits until the filing has committed its reference.
pub async fn keep(state: &AppState, mut keys: Vec<String>) -> Result<(), FileError> {
    if keys.is_empty() {
        return Ok(());
    }
    keys.sort_unstable();
    keys.dedup();
    claim(state, keys, CLEANUP_DELAY).await?;
    Ok(())
}

/// Queues the clean-up of files that may have lost their last reference (replaced
/// attachments), inside the transaction that drops the references.
pub async fn forget(tx: &mut sqlx::PgConnection, keys: Vec<String>) -> Result<(), DbError> {
    if keys.is_empty() {
        return Ok(());
    }
    let payload = payload(keys)?;
    db::outbox::enqueue(&mut *tx, CLEANUP, &payload, Duration::ZERO).await?;
    Ok(())
}

async fn claim(state: &AppState, keys: Vec<String>, delay: Duration) -> Result<(), DbError> {
    let payload = payload(keys.clone())?;
    db::files::claim(&state.db, &keys, CLEANUP, &payload, delay.as_seconds_f64()).await
}

fn payload(keys: Vec<String>) -> Result<serde_json::Value, DbError> {
    serde_json::to_value(Cleanup { keys }).map_err(|e| DbError::Data(e.to_string()))
}

/// The clean-up job `job_id`: deletes each of its files that nothing refers to and that no
/// later claim still covers. Returns how many files it deleted.
pub async fn clean_up(state: &AppState, job_id: i64, keys: &[String]) -> Result<usize, FileError> {
    let mut deleted = 0;
    for key in keys {
        let mut tx = state.db.begin().await.map_err(DbError::from)?;
        db::files::lock_key(&mut tx, key).await?;
        // A later claim means a writer may be at work on this key: leave it all to its job.
        if db::files::claimed_later(&mut *tx, key, job_id, CLEANUP).await? {
            continue;
        }
        // No writer is: what a write killed halfway left is junk, whether or not the key is
        // in use.
        state.photos.discard_partial(key).await?;
        if db::files::key_in_use(&mut *tx, key).await? {
            continue;
        }
        // Deleted while the lock is held: no writer can claim the key in between.
        state.photos.delete(key).await?;
        tx.commit().await.map_err(DbError::from)?;
        deleted += 1;
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_digest_of_the_bytes_with_their_type() {
        let a = key_for(b"%PDF-1.7 a", "application/pdf");
        assert!(a.ends_with(".pdf"));
        assert_eq!(a.len(), 64 + 4);
        assert_eq!(a, key_for(b"%PDF-1.7 a", "application/pdf"));
        assert_ne!(a, key_for(b"%PDF-1.7 b", "application/pdf"));
        assert!(key_for(b"x", "application/x-unknown").ends_with(".bin"));
    }
}
