//! Receipts of submissions, kept for idempotent retries: a client id seen again gets the
//! first answer back, whichever route (report, "me too", any démarche) it comes through. The
//! clear tracking code in it is blanked once retries no longer need it (`crate::codes`).

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::DbError;

/// Serialises submissions of one client id across instances until the transaction ends.
pub async fn lock_client_id(tx: &mut PgConnection, client_id: Uuid) -> Result<(), DbError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('report:' || $1::text, 0))")
        .bind(client_id)
        .execute(tx)
        .await?;
    Ok(())
}

/// The receipt of an earlier submission with this client id, a report's or a request's.
pub async fn stored(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
) -> Result<Option<serde_json::Value>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT receipt FROM reports WHERE client_id = $1
         UNION ALL
         SELECT receipt FROM requests WHERE client_id = $1 AND receipt IS NOT NULL
         LIMIT 1",
    )
    .bind(client_id)
    .fetch_optional(db)
    .await?)
}

pub async fn set_for_report(
    tx: &mut PgConnection,
    report_id: i64,
    receipt: &serde_json::Value,
) -> Result<(), DbError> {
    sqlx::query("UPDATE reports SET receipt = $2 WHERE id = $1")
        .bind(report_id)
        .bind(receipt)
        .execute(tx)
        .await?;
    Ok(())
}

/// A request filed without a report (any démarche but incidents) keeps its receipt itself.
pub async fn set_for_request(
    tx: &mut PgConnection,
    request_id: i64,
    receipt: &serde_json::Value,
) -> Result<(), DbError> {
    sqlx::query("UPDATE requests SET receipt = $2 WHERE id = $1")
        .bind(request_id)
        .bind(receipt)
        .execute(tx)
        .await?;
    Ok(())
}

/// Blanks the clear code of a report's receipt.
pub async fn forget_report_code(db: impl PgExecutor<'_>, report_id: i64) -> Result<(), DbError> {
    sqlx::query(concat!(
        "UPDATE reports SET receipt = ",
        receipt_without_code!(),
        " WHERE id = $1"
    ))
    .bind(report_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Blanks the clear code of a request's receipt.
pub async fn forget_request_code(db: impl PgExecutor<'_>, request_id: i64) -> Result<(), DbError> {
    sqlx::query(concat!(
        "UPDATE requests SET receipt = ",
        receipt_without_code!(),
        " WHERE id = $1"
    ))
    .bind(request_id)
    .execute(db)
    .await?;
    Ok(())
}
