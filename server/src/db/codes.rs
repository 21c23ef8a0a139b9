//! Tracking code digests and what they open (see `crate::codes`), and the secrets the service
//! generates itself.

use sqlx::{PgConnection, PgPool};

use super::DbError;

/// The secret stored under `name`, created with `fresh` if there is none yet. Two instances
/// starting together keep the same one: the second insert does nothing and reads the first.
pub async fn secret(pool: &PgPool, name: &str, fresh: &[u8]) -> Result<Vec<u8>, DbError> {
    sqlx::query(
        "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(fresh)
    .execute(pool)
    .await?;
    Ok(
        sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(pool)
            .await?,
    )
}

/// Whether `digest` is the code of someone who follows request `request_id` without having
/// filed it: one of its reporters (a co-reporter, a supporter, or a reporter whose request was
/// merged into it), or the filer of a request merged into it, however many merges ago.
pub async fn follows(pool: &PgPool, request_id: i64, digest: &[u8]) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM reports
                         WHERE tracking_code_digest = $2 AND request_id = $1)
             OR EXISTS (WITH RECURSIVE merged (id, digest) AS (
                            SELECT id, tracking_code_digest FROM requests WHERE merged_into = $1
                            UNION
                            SELECT r.id, r.tracking_code_digest
                              FROM requests r JOIN merged m ON r.merged_into = m.id)
                        SELECT 1 FROM merged WHERE digest = $2)",
    )
    .bind(request_id)
    .bind(digest)
    .fetch_one(pool)
    .await?)
}

/// A report's request and code digest (none for reports from before reporters had codes).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportCode {
    pub request_id: i64,
    pub digest: Option<Vec<u8>>,
}

pub async fn of_report(pool: &PgPool, report_id: i64) -> Result<Option<ReportCode>, DbError> {
    Ok(sqlx::query_as(
        "SELECT request_id, tracking_code_digest AS digest FROM reports WHERE id = $1",
    )
    .bind(report_id)
    .fetch_optional(pool)
    .await?)
}

/// A request's code digest.
pub async fn of_request(pool: &PgPool, request_id: i64) -> Result<Option<Vec<u8>>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT tracking_code_digest FROM requests WHERE id = $1")
            .bind(request_id)
            .fetch_optional(pool)
            .await?,
    )
}

/// Whether request `source` was merged into `target`, directly or through other merges.
pub async fn merged_into(pool: &PgPool, source: i64, target: i64) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar(
        "WITH RECURSIVE chain (id, depth) AS (
            SELECT merged_into, 1 FROM requests WHERE id = $1 AND merged_into IS NOT NULL
            UNION ALL
            SELECT r.merged_into, c.depth + 1
              FROM requests r JOIN chain c ON r.id = c.id
             WHERE r.merged_into IS NOT NULL AND c.depth < 64)
         SELECT EXISTS (SELECT 1 FROM chain WHERE id = $2)",
    )
    .bind(source)
    .bind(target)
    .fetch_one(pool)
    .await?)
}

/// Gives a split-out request the code of the report it was made of: its reporter, now its
/// filer, keeps the code they hold.
pub async fn set_request_digest(
    tx: &mut PgConnection,
    request_id: i64,
    digest: &[u8],
) -> Result<(), DbError> {
    sqlx::query("UPDATE requests SET tracking_code_digest = $2 WHERE id = $1")
        .bind(request_id)
        .bind(digest)
        .execute(tx)
        .await?;
    Ok(())
}

/// Gives a report a code (a report from before reporters had codes, split out on its own).
pub async fn set_report_digest(
    tx: &mut PgConnection,
    report_id: i64,
    digest: &[u8],
) -> Result<(), DbError> {
    sqlx::query("UPDATE reports SET tracking_code_digest = $2 WHERE id = $1")
        .bind(report_id)
        .bind(digest)
        .execute(tx)
        .await?;
    Ok(())
}

/// Replaces request `request_id`'s code by a new one wherever the old one is kept (the request,
/// its filer's report, wherever that went, a request split out with the same holder) and
/// blanks the receipts that still hold the old one in clear. Returns false for an unknown
/// request.
pub async fn reissue(
    tx: &mut PgConnection,
    request_id: i64,
    new_digest: &[u8],
) -> Result<bool, DbError> {
    let old: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT tracking_code_digest FROM requests WHERE id = $1 FOR UPDATE")
            .bind(request_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(old) = old else {
        return Ok(false);
    };
    sqlx::query(concat!(
        "UPDATE requests SET tracking_code_digest = $2, receipt = ",
        receipt_without_code!(),
        " WHERE tracking_code_digest = $1"
    ))
    .bind(&old)
    .bind(new_digest)
    .execute(&mut *tx)
    .await?;
    sqlx::query(concat!(
        "UPDATE reports SET tracking_code_digest = $2, receipt = ",
        receipt_without_code!(),
        " WHERE tracking_code_digest = $1"
    ))
    .bind(&old)
    .bind(new_digest)
    .execute(&mut *tx)
    .await?;
    Ok(true)
}
