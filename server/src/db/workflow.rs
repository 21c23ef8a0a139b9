//! A filed request as the workflow handles it: locked for one action, moved between
//! statuses, assigned, recategorised, merged. Every function takes the caller's transaction,
//! in which the caller also records the matching events and notifications.

use guichet_shared::phase::Phase;
use sqlx::{PgConnection, PgPool};

use super::DbError;

pub async fn team_name(
    conn: &mut PgConnection,
    team_id: Option<i64>,
) -> Result<Option<String>, DbError> {
    let Some(id) = team_id else {
        return Ok(None);
    };
    Ok(sqlx::query_scalar("SELECT name FROM teams WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

pub async fn team_by_code(pool: &PgPool, code: &str) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar("SELECT id FROM teams WHERE code = $1")
        .bind(code)
        .fetch_optional(pool)
        .await?)
}

/// A request as the workflow sees it, locked until the transaction ends.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WorkRow {
    pub id: i64,
    pub number: String,
    pub demarche_code: String,
    pub demarche_revision: i32,
    pub workflow: String,
    pub status: String,
    #[sqlx(try_from = "String")]
    pub phase: Phase,
    pub team_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub zone_id: Option<i64>,
    pub citizen_id: Option<i64>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub data: serde_json::Value,
    pub complement: Option<serde_json::Value>,
    pub report_count: i32,
    pub merged_into: Option<i64>,
}

const WORK_COLUMNS: &str = "id, number, demarche_code, demarche_revision, workflow, \
     status, phase, team_id, assignee_id, zone_id, citizen_id, \
     ST_Y(location::geometry) AS lat, ST_X(location::geometry) AS lon, data, complement, \
     report_count, merged_into";

pub async fn lock_by_number(
    tx: &mut PgConnection,
    number: &str,
) -> Result<Option<WorkRow>, DbError> {
    let sql = format!("SELECT {WORK_COLUMNS} FROM requests WHERE number = $1 FOR UPDATE");
    Ok(sqlx::query_as(&sql).bind(number).fetch_optional(tx).await?)
}

pub async fn lock_by_id(tx: &mut PgConnection, id: i64) -> Result<Option<WorkRow>, DbError> {
    let sql = format!("SELECT {WORK_COLUMNS} FROM requests WHERE id = $1 FOR UPDATE");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(tx).await?)
}

/// Moves a request to a status. The SLA clock stops when the request starts waiting for the
/// citizen and restarts when it stops waiting: the due date moves back by the time waited.
pub async fn set_status(
    tx: &mut PgConnection,
    id: i64,
    status: &str,
    phase: &str,
    outcome: Option<&str>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE requests SET
            due_at = CASE WHEN sla_paused_at IS NOT NULL AND $3 <> 'waiting_for_citizen'
                          THEN due_at + (now() - sla_paused_at) ELSE due_at END,
            sla_paused_at = CASE WHEN $3 = 'waiting_for_citizen'
                                 THEN coalesce(sla_paused_at, now()) ELSE NULL END,
            status = $2, phase = $3, outcome = $4,
            closed_at = CASE WHEN $3 IN ('closed', 'withdrawn') THEN now() ELSE NULL END,
            complement = CASE WHEN $3 = 'waiting_for_citizen' THEN complement ELSE NULL END,
            updated_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(phase)
    .bind(outcome)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn set_complement(
    tx: &mut PgConnection,
    id: i64,
    complement: &serde_json::Value,
) -> Result<(), DbError> {
    sqlx::query("UPDATE requests SET complement = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(complement)
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn set_data(
    tx: &mut PgConnection,
    id: i64,
    data: &serde_json::Value,
) -> Result<(), DbError> {
    sqlx::query("UPDATE requests SET data = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(data)
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn assign(
    tx: &mut PgConnection,
    id: i64,
    team_id: Option<i64>,
    assignee_id: Option<i64>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE requests SET team_id = $2, assignee_id = $3, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(team_id)
    .bind(assignee_id)
    .execute(tx)
    .await?;
    Ok(())
}

/// Whether the agent belongs to the team (assignment within a team).
pub async fn agent_in_team(
    conn: &mut PgConnection,
    agent_id: i64,
    team_id: i64,
) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM agent_teams a JOIN agents g ON g.id = a.agent_id
                         WHERE a.agent_id = $1 AND a.team_id = $2 AND g.active)",
    )
    .bind(agent_id)
    .bind(team_id)
    .fetch_one(conn)
    .await?)
}

pub struct Recategorise<'a> {
    pub id: i64,
    pub demarche: &'a str,
    pub revision: i32,
    pub workflow: &'a str,
    pub status: &'a str,
    pub location: Option<(f64, f64)>,
    pub zone_id: Option<i64>,
    pub team_id: Option<i64>,
    pub sla_days: Option<i32>,
}

/// Changes the démarche and/or the place, with the team routing gives for them. The due
/// date moves by the difference between the two démarches' SLAs, so time already waited for
/// the citizen stays counted.
pub async fn recategorise(tx: &mut PgConnection, r: &Recategorise<'_>) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE requests SET
            due_at = CASE
                WHEN $9::int IS NULL THEN NULL
                WHEN due_at IS NULL THEN created_at + make_interval(days => $9)
                ELSE due_at + make_interval(days => $9 - coalesce(
                    (SELECT sla_days FROM demarche_revisions d
                      WHERE d.demarche_code = requests.demarche_code
                        AND d.revision = requests.demarche_revision), $9)) END,
            demarche_code = $2, demarche_revision = $3, status = $4, workflow = $10,
            location = CASE WHEN $5::float8 IS NULL THEN location
                            ELSE ST_SetSRID(ST_MakePoint($6, $5), 4326)::geography END,
            location_source = CASE WHEN $5::float8 IS NULL THEN location_source ELSE 'map' END,
            zone_id = $7, team_id = $8,
            assignee_id = CASE WHEN team_id IS DISTINCT FROM $8 THEN NULL ELSE assignee_id END,
            updated_at = now()
          WHERE id = $1",
    )
    .bind(r.id)
    .bind(r.demarche)
    .bind(r.revision)
    .bind(r.status)
    .bind(r.location.map(|(lat, _)| lat))
    .bind(r.location.map(|(_, lon)| lon))
    .bind(r.zone_id)
    .bind(r.team_id)
    .bind(r.sla_days)
    .bind(r.workflow)
    .execute(tx)
    .await?;
    Ok(())
}

/// When the request was closed as resolved, if that is what it is now.
pub async fn resolved_at(
    tx: &mut PgConnection,
    id: i64,
) -> Result<Option<time::OffsetDateTime>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT closed_at FROM requests
          WHERE id = $1 AND phase = 'closed' AND outcome = 'resolved'",
    )
    .bind(id)
    .fetch_optional(tx)
    .await?
    .flatten())
}

/// Starts the SLA clock again from now, with the SLA of the revision the request is filed
/// under (none: no due date).
pub async fn restart_sla(tx: &mut PgConnection, id: i64) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE requests r SET due_at = now() + make_interval(days => d.sla_days), sla_paused_at = NULL
           FROM demarche_revisions d
          WHERE r.id = $1 AND d.demarche_code = r.demarche_code AND d.revision = r.demarche_revision",
    )
    .bind(id)
    .execute(tx)
    .await?;
    Ok(())
}

/// Closes `source` as merged into `target` (its reports move with `move_reports`).
pub async fn close_as_merged(
    tx: &mut PgConnection,
    source: i64,
    target: i64,
    status: &str,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE requests SET merged_into = $2, status = $3, phase = 'closed',
                outcome = 'duplicate', closed_at = now(),
                sla_paused_at = NULL, complement = NULL, updated_at = now()
          WHERE id = $1",
    )
    .bind(source)
    .bind(target)
    .bind(status)
    .execute(tx)
    .await?;
    Ok(())
}
