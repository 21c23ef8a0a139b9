//! The candidates of a field agent's round: the open, geolocated requests of their teams that
//! are theirs or nobody's, nearest first (the order of the visit is decided in `shared`).

use sqlx::{PgPool, Postgres, QueryBuilder};
use time::OffsetDateTime;

use super::DbError;
use super::queue::{QueueFilter, push_filters};

/// How long a "could not act" keeps a request out of the agent's round: a working day.
const COULD_NOT_ACT_HOURS: i32 = 12;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stop {
    pub number: String,
    pub demarche_code: String,
    pub demarche_title: String,
    pub workflow: String,
    pub status: String,
    pub phase: String,
    pub address: Option<String>,
    pub description: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub assignee_id: Option<i64>,
    pub due_at: Option<OffsetDateTime>,
    pub overdue: bool,
    pub created_at: OffsetDateTime,
    /// The first photo's thumbnail, if the request has photos.
    pub thumb_key: Option<String>,
}

/// At most `f.limit + 1` stops nearest to (`lat`, `lon`) for agent `agent_id` (one more than
/// asked tells the caller that some were left out). `f.teams: None` is every team (admins).
pub async fn candidates(
    pool: &PgPool,
    agent_id: i64,
    lat: f64,
    lon: f64,
    f: &QueueFilter,
) -> Result<Vec<Stop>, DbError> {
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(concat!(
        "SELECT r.number, r.demarche_code, dr.title AS demarche_title, r.workflow, r.status,
                r.phase, r.address, r.description,
                ST_Y(r.location::geometry) AS lat, ST_X(r.location::geometry) AS lon,
                r.assignee_id, r.due_at, (",
        overdue!(),
        ") AS overdue, r.created_at,
                (SELECT p.thumb_key FROM reports rp JOIN photos p ON p.report_id = rp.id
                  WHERE rp.request_id = r.id ORDER BY rp.id, p.position LIMIT 1) AS thumb_key
           FROM requests r
           JOIN demarche_revisions dr
             ON dr.demarche_code = r.demarche_code AND dr.revision = r.demarche_revision
          WHERE r.location IS NOT NULL"
    ));
    if let Some(teams) = &f.teams {
        q.push(" AND r.team_id = ANY(")
            .push_bind(teams.clone())
            .push(")");
    }
    q.push(" AND (r.assignee_id IS NULL OR r.assignee_id = ")
        .push_bind(agent_id)
        .push(")");
    push_filters(&mut q, f);
    q.push(
        " AND NOT EXISTS (SELECT 1 FROM events e WHERE e.request_id = r.id
             AND e.kind = 'could_not_act' AND e.actor = 'agent:' || ",
    )
    .push_bind(agent_id)
    .push("::text AND e.created_at > now() - make_interval(hours => ")
    .push_bind(COULD_NOT_ACT_HOURS)
    .push("))");
    q.push(" ORDER BY r.location <-> ST_SetSRID(ST_MakePoint(")
        .push_bind(lon)
        .push(", ")
        .push_bind(lat)
        .push("), 4326)::geography, r.id LIMIT ")
        .push_bind(f.limit + 1);
    Ok(q.build_query_as().fetch_all(pool).await?)
}
