//! Reads of the back office's live feed: one event with its request's facts, and the events
//! a stream that resumes may have missed.

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

/// How far before the last event a stream sent its resumption looks again for events committed
/// late (see [`missed_since`]).
const COMMIT_OVERLAP_SECS: f64 = 5.0;

/// Events of the given teams (`None`: all) that a stream which last sent event `after` may
/// have missed, oldest first, at most `limit`: those after it, then those before it whose
/// transaction had not committed yet. Event ids are taken when a transaction inserts them,
/// not when it commits, so a transaction that started before the `after` event's one may
/// commit after it with a smaller id. Those are looked for among the events created up to
/// [`COMMIT_OVERLAP_SECS`] before `after` and sent again, whether or not the stream had them:
/// events are hints to refresh, so one told twice costs a refresh and one lost costs a stale
/// screen. `after` itself is not sent again.
pub async fn missed_since(
    pool: &PgPool,
    after: i64,
    teams: Option<&[i64]>,
    limit: i64,
) -> Result<Vec<LiveEvent>, DbError> {
    // The id range bounds the scan of the overlap to the primary key's last few thousand rows.
    Ok(sqlx::query_as(&format!(
        "{SELECT}
          WHERE ($2::bigint[] IS NULL OR r.team_id = ANY($2))
            AND (e.id > $1
                 OR (e.id < $1 AND e.id > $1 - 10000
                     AND e.created_at >= (SELECT created_at FROM events WHERE id = $1)
                                         - make_interval(secs => $4)))
          ORDER BY e.id LIMIT $3"
    ))
    .bind(after)
    .bind(teams)
    .bind(limit)
    .bind(COMMIT_OVERLAP_SECS)
    .fetch_all(pool)
    .await?)
}
