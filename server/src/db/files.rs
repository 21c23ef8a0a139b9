//! Files attached to requests (form files other than photos) and the references that keep a
//! stored file alive. Stored bytes are content-addressed and shared: they are deleted only by
//! the clean-up job, once nothing refers to them (see `crate::outbox`).

use sqlx::{PgConnection, PgExecutor};

use super::DbError;

pub struct NewFile<'a> {
    pub request_id: i64,
    pub field_id: &'a str,
    pub position: i16,
    pub storage_key: &'a str,
    pub filename: &'a str,
    pub mime: &'a str,
    pub bytes: i32,
}

pub async fn insert(tx: &mut PgConnection, f: &NewFile<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO request_files
            (request_id, field_id, position, storage_key, filename, mime, bytes)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(f.request_id)
    .bind(f.field_id)
    .bind(f.position)
    .bind(f.storage_key)
    .bind(f.filename)
    .bind(f.mime)
    .bind(f.bytes)
    .execute(tx)
    .await?;
    Ok(())
}

/// Removes the files of a field (replaced or no longer asked by a complement answer). The
/// stored bytes stay until no row refers to them.
pub async fn delete_of_field(
    tx: &mut PgConnection,
    request_id: i64,
    field_id: &str,
) -> Result<(), DbError> {
    sqlx::query("DELETE FROM request_files WHERE request_id = $1 AND field_id = $2")
        .bind(request_id)
        .bind(field_id)
        .execute(tx)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FileRow {
    pub id: i64,
    pub field_id: String,
    pub storage_key: String,
    pub filename: String,
    pub mime: String,
    pub bytes: i32,
}

pub async fn of_request(db: impl PgExecutor<'_>, request_id: i64) -> Result<Vec<FileRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, field_id, storage_key, filename, mime, bytes FROM request_files
          WHERE request_id = $1 ORDER BY field_id, position",
    )
    .bind(request_id)
    .fetch_all(db)
    .await?)
}

/// True when a stored photo (a report's or an event's) or an attached file still refers
/// to the bytes under `key`.
pub async fn key_in_use(db: impl PgExecutor<'_>, key: &str) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM photos WHERE display_key = $1 OR thumb_key = $1)
             OR EXISTS (SELECT 1 FROM event_photos WHERE display_key = $1 OR thumb_key = $1)
             OR EXISTS (SELECT 1 FROM request_files WHERE storage_key = $1)
             OR EXISTS (SELECT 1 FROM wallet_documents WHERE storage_key = $1)",
    )
    .bind(key)
    .fetch_one(db)
    .await?)
}

/// Whether `key` is a processed photo (a report's or a status change's): the only stored
/// files `/media` serves. Attachments and wallet documents share the store, and a WebP one
/// would otherwise be served to whoever knows its digest.
pub async fn is_photo(db: impl PgExecutor<'_>, key: &str) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM photos WHERE display_key = $1 OR thumb_key = $1)
             OR EXISTS (SELECT 1 FROM event_photos WHERE display_key = $1 OR thumb_key = $1)",
    )
    .bind(key)
    .fetch_one(db)
    .await?)
}

/// The lock on `key` that its deletion holds alone until the transaction ends, and that
/// writers share while they claim it (`claim`).
pub async fn lock_key(tx: &mut PgConnection, key: &str) -> Result<(), DbError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('file:' || $1, 0))")
        .bind(key)
        .execute(tx)
        .await?;
    Ok(())
}

/// Whether a clean-up job other than `job_id`, not yet due, covers `key`: a writer claimed it
/// since, and may still be about to commit a reference to it.
pub async fn claimed_later(
    db: impl PgExecutor<'_>,
    key: &str,
    job_id: i64,
    kind: &str,
) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM outbox_jobs
                         WHERE kind = $3 AND id <> $2 AND done_at IS NULL AND failed_at IS NULL
                           AND run_at > now() AND payload->'keys' ? $1)",
    )
    .bind(key)
    .bind(job_id)
    .bind(kind)
    .fetch_one(db)
    .await?)
}

/// Claims `keys` for a writer in one statement: under each key's shared lock (released when
/// the statement commits), queues the clean-up job `kind` due after `delay_secs`.
pub async fn claim(
    db: impl PgExecutor<'_>,
    keys: &[String],
    kind: &str,
    payload: &serde_json::Value,
    delay_secs: f64,
) -> Result<(), DbError> {
    sqlx::query(
        "WITH held AS MATERIALIZED (
            SELECT pg_advisory_xact_lock_shared(hashtextextended('file:' || k, 0))
              FROM unnest($1::text[]) AS k)
         INSERT INTO outbox_jobs (kind, payload, run_at)
         SELECT $2, $3, now() + make_interval(secs => $4)
          WHERE (SELECT count(*) FROM held) >= 0",
    )
    .bind(keys)
    .bind(kind)
    .bind(payload)
    .bind(delay_secs)
    .execute(db)
    .await?;
    Ok(())
}
