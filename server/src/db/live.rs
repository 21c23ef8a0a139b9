//! Reads of the back office's live feed: one event with its request's facts, and the events
//! after a given id for a stream that resumes.

use serde::Serialize;
use sqlx::PgPool;

use super::DbError;

/// What a stream tells the back office: which request changed, how, and where it stands.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct LiveEvent {
    pub id: i64,
    pub number: String,
    pub kind: String,
    pub phase: String,
    pub status: String,
    pub team_id: Option<i64>,
    pub assignee_id: Option<i64>,
}

const SELECT: &str = "SELECT e.id, r.number, e.kind, r.phase, r.status, r.team_id, r.assignee_id
   FROM events e JOIN requests r ON r.id = e.request_id";

pub async fn event(pool: &PgPool, id: i64) -> Result<Option<LiveEvent>, DbError> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE e.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?)
}

/// Events after `after` of the given teams (`None`: all), oldest first, at most `limit`.
pub async fn since(
    pool: &PgPool,
    after: i64,
    teams: Option<&[i64]>,
    limit: i64,
) -> Result<Vec<LiveEvent>, DbError> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE e.id > $1 AND ($2::bigint[] IS NULL OR r.team_id = ANY($2))
          ORDER BY e.id LIMIT $3"
    ))
    .bind(after)
    .bind(teams)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
