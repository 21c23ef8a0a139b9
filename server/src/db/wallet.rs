//! The document wallet's rows (`wallet_documents`): each one an account's document, its bytes
//! in the file store under `storage_key`. Every statement names the owner: a document is
//! only ever read, listed or deleted through its account.

use sqlx::{FromRow, PgConnection, PgExecutor};
use time::OffsetDateTime;

use super::DbError;

#[derive(Debug, Clone, FromRow)]
pub struct DocumentRow {
    pub id: i64,
    pub label: String,
    pub kind: String,
    pub filename: String,
    pub mime: String,
    pub bytes: i32,
    pub storage_key: String,
    pub created_at: OffsetDateTime,
}

const COLUMNS: &str = "id, label, kind, filename, mime, bytes, storage_key, created_at";

pub struct NewDocument<'a> {
    pub citizen_id: i64,
    pub label: &'a str,
    pub kind: &'a str,
    pub filename: &'a str,
    pub mime: &'a str,
    pub bytes: i32,
    pub storage_key: &'a str,
}

/// The account's documents, newest first.
pub async fn list(db: impl PgExecutor<'_>, citizen_id: i64) -> Result<Vec<DocumentRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM wallet_documents WHERE citizen_id = $1 ORDER BY created_at DESC, id DESC"
    ))
    .bind(citizen_id)
    .fetch_all(db)
    .await?)
}

/// The account's documents among `ids` (others' and unknown ones are left out).
pub async fn of_citizen(
    db: impl PgExecutor<'_>,
    citizen_id: i64,
    ids: &[i64],
) -> Result<Vec<DocumentRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM wallet_documents WHERE citizen_id = $1 AND id = ANY($2)"
    ))
    .bind(citizen_id)
    .bind(ids)
    .fetch_all(db)
    .await?)
}

pub async fn one(
    db: impl PgExecutor<'_>,
    citizen_id: i64,
    id: i64,
) -> Result<Option<DocumentRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM wallet_documents WHERE citizen_id = $1 AND id = $2"
    ))
    .bind(citizen_id)
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// Bytes the account's documents take.
pub async fn used_bytes(db: impl PgExecutor<'_>, citizen_id: i64) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT coalesce(sum(bytes), 0)::bigint FROM wallet_documents WHERE citizen_id = $1",
    )
    .bind(citizen_id)
    .fetch_one(db)
    .await?)
}

/// Adds a document if the account stays within `quota` bytes; `None` when it would not.
/// The account's row is locked first, so that two uploads at once cannot both pass the check.
pub async fn insert_within_quota(
    tx: &mut PgConnection,
    d: &NewDocument<'_>,
    quota: i64,
) -> Result<Option<DocumentRow>, DbError> {
    sqlx::query("SELECT 1 FROM citizens WHERE id = $1 FOR UPDATE")
        .bind(d.citizen_id)
        .execute(&mut *tx)
        .await?;
    let used = used_bytes(&mut *tx, d.citizen_id).await?;
    if used + i64::from(d.bytes) > quota {
        return Ok(None);
    }
    Ok(Some(
        sqlx::query_as(&format!(
            "INSERT INTO wallet_documents (citizen_id, label, kind, filename, mime, bytes, storage_key)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
        ))
        .bind(d.citizen_id)
        .bind(d.label)
        .bind(d.kind)
        .bind(d.filename)
        .bind(d.mime)
        .bind(d.bytes)
        .bind(d.storage_key)
        .fetch_one(&mut *tx)
        .await?,
    ))
}

/// Deletes the account's document; returns its storage key, `None` if it has no such document.
pub async fn delete(
    tx: &mut PgConnection,
    citizen_id: i64,
    id: i64,
) -> Result<Option<String>, DbError> {
    Ok(sqlx::query_scalar(
        "DELETE FROM wallet_documents WHERE citizen_id = $1 AND id = $2 RETURNING storage_key",
    )
    .bind(citizen_id)
    .bind(id)
    .fetch_optional(tx)
    .await?)
}

/// Deletes every document of the account (it is closing); returns their storage keys.
pub async fn delete_all(tx: &mut PgConnection, citizen_id: i64) -> Result<Vec<String>, DbError> {
    Ok(sqlx::query_scalar(
        "DELETE FROM wallet_documents WHERE citizen_id = $1 RETURNING storage_key",
    )
    .bind(citizen_id)
    .fetch_all(tx)
    .await?)
}
