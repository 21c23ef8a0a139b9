//! Agents' idempotency keys: a row per action that took effect, written in its transaction.

use sqlx::PgConnection;

use super::DbError;
use crate::auth::ActionKey;

/// What an earlier call with the same key did.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Done {
    pub method: String,
    pub path: String,
    pub status: i16,
    pub result: Option<serde_json::Value>,
}

/// Claims `key` for `agent_id` in the caller's transaction: `None` when the key is new (the
/// action goes on and the claim commits with it), else what the call that took it did. A
/// concurrent call with the same key waits here until the first one commits or rolls back.
pub async fn claim(
    tx: &mut PgConnection,
    agent_id: i64,
    key: &ActionKey,
) -> Result<Option<Done>, DbError> {
    let inserted = sqlx::query(
        "INSERT INTO agent_action_keys (agent_id, key, method, path) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
    )
    .bind(agent_id)
    .bind(&key.key)
    .bind(&key.method)
    .bind(&key.path)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(None);
    }
    Ok(sqlx::query_as(
        "SELECT method, path, status, result FROM agent_action_keys
          WHERE agent_id = $1 AND key = $2",
    )
    .bind(agent_id)
    .bind(&key.key)
    .fetch_optional(&mut *tx)
    .await?)
}

/// Records the answer of the action that claimed `key` (when it is not a bare 204).
pub async fn set_result(
    tx: &mut PgConnection,
    agent_id: i64,
    key: &ActionKey,
    status: u16,
    result: &serde_json::Value,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE agent_action_keys SET status = $3, result = $4 WHERE agent_id = $1 AND key = $2",
    )
    .bind(agent_id)
    .bind(&key.key)
    .bind(status as i16)
    .bind(result)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Forgets the keys older than `days`: an outbox that has not sent in that long has been
/// cleared by its owner.
pub async fn purge(db: &sqlx::PgPool, days: i32) -> Result<u64, DbError> {
    Ok(sqlx::query(
        "DELETE FROM agent_action_keys WHERE created_at < now() - make_interval(days => $1)",
    )
    .bind(days)
    .execute(db)
    .await?
    .rows_affected())
}
