//! Backups taken (`guichet backup`), for the age-of-the-last-backup metric.

use sqlx::PgPool;

use super::DbError;

pub async fn record(pool: &PgPool, objects: i64, bytes: i64) -> Result<(), DbError> {
    sqlx::query("INSERT INTO backups (objects, bytes) VALUES ($1, $2)")
        .bind(objects)
        .bind(bytes)
        .execute(pool)
        .await?;
    Ok(())
}

/// Seconds since the last backup; `None` when none was ever taken.
pub async fn age_secs(pool: &PgPool) -> Result<Option<f64>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT extract(epoch FROM now() - max(taken_at))::float8 FROM backups")
            .fetch_one(pool)
            .await?,
    )
}

/// Whether the database holds no table of ours yet: where a restore may go.
pub async fn is_empty(pool: &PgPool) -> Result<bool, DbError> {
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_tables
          WHERE schemaname = 'public' AND tablename <> 'spatial_ref_sys'",
    )
    .fetch_one(pool)
    .await?;
    Ok(tables == 0)
}
