//! The request pipeline: generic intake, workflow moves, assignment, routing changes, merges
//! and splits, complements. Every function that changes a request takes the transaction in
//! which the caller also records the matching events and notifications.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::DbError;

/// The receipt of an earlier submission with this client id, a report's or a request's.
pub async fn stored_receipt(
    conn: &mut PgConnection,
    client_id: Uuid,
) -> Result<Option<serde_json::Value>, DbError> {
    super::intake::stored_receipt_in_tx(conn, client_id).await
}

pub async fn set_receipt(
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

/// When a request was received and when it is due.
pub async fn filed_at(
    conn: &mut PgConnection,
    id: i64,
) -> Result<(OffsetDateTime, Option<OffsetDateTime>), DbError> {
    Ok(
        sqlx::query_as("SELECT created_at, due_at FROM requests WHERE id = $1")
            .bind(id)
            .fetch_one(conn)
            .await?,
    )
}

pub struct NewFile<'a> {
    pub request_id: i64,
    pub field_id: &'a str,
    pub position: i16,
    pub storage_key: &'a str,
    pub filename: &'a str,
    pub mime: &'a str,
    pub bytes: i32,
}

pub async fn insert_file(tx: &mut PgConnection, f: &NewFile<'_>) -> Result<(), DbError> {
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
pub async fn delete_files_of(
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

pub async fn files(pool: &PgPool, request_id: i64) -> Result<Vec<FileRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, field_id, storage_key, filename, mime, bytes FROM request_files
          WHERE request_id = $1 ORDER BY field_id, position",
    )
    .bind(request_id)
    .fetch_all(pool)
    .await?)
}

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
    pub tracking_code: String,
    pub demarche_code: String,
    pub demarche_revision: i32,
    pub workflow: String,
    pub status: String,
    pub phase: String,
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

const WORK_COLUMNS: &str = "id, number, tracking_code, demarche_code, demarche_revision, workflow, \
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

/// Moves every report of `source` (with its photos and contact) to `target`. Returns the
/// target's new report count.
pub async fn move_reports(tx: &mut PgConnection, source: i64, target: i64) -> Result<i32, DbError> {
    let moved = sqlx::query("UPDATE reports SET request_id = $2 WHERE request_id = $1")
        .bind(source)
        .bind(target)
        .execute(&mut *tx)
        .await?
        .rows_affected() as i32;
    sqlx::query("UPDATE requests SET report_count = 0 WHERE id = $1")
        .bind(source)
        .execute(&mut *tx)
        .await?;
    Ok(sqlx::query_scalar(
        "UPDATE requests SET report_count = report_count + $2, updated_at = now()
          WHERE id = $1 RETURNING report_count",
    )
    .bind(target)
    .bind(moved)
    .fetch_one(&mut *tx)
    .await?)
}

/// A report of a request, for splitting it out.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRow {
    pub id: i64,
    pub request_id: i64,
    pub channel: String,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    pub description: String,
    pub address: Option<String>,
    pub lang: String,
}

pub async fn report_of(
    tx: &mut PgConnection,
    request_id: i64,
    report_id: i64,
) -> Result<Option<ReportRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, request_id, channel, ST_Y(location::geometry) AS lat,
                ST_X(location::geometry) AS lon, accuracy_m, description, address, lang
           FROM reports WHERE id = $2 AND request_id = $1 FOR UPDATE",
    )
    .bind(request_id)
    .bind(report_id)
    .fetch_optional(tx)
    .await?)
}

pub async fn move_report(
    tx: &mut PgConnection,
    report_id: i64,
    from: i64,
    to: i64,
) -> Result<(), DbError> {
    sqlx::query("UPDATE reports SET request_id = $2, deduplicated = false WHERE id = $1")
        .bind(report_id)
        .bind(to)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE requests SET report_count = report_count - 1, updated_at = now() WHERE id = $1",
    )
    .bind(from)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE requests SET report_count = report_count + 1, updated_at = now() WHERE id = $1",
    )
    .bind(to)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Public requests of a citizen account, newest first.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CitizenRequestRow {
    pub number: String,
    pub tracking_code: String,
    pub demarche_code: String,
    pub demarche_title: String,
    pub workflow: String,
    pub status: String,
    pub phase: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

pub async fn of_citizen(pool: &PgPool, citizen_id: i64) -> Result<Vec<CitizenRequestRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT r.number, r.tracking_code, r.demarche_code, dr.title AS demarche_title,
                r.workflow, r.status, r.phase, r.created_at, r.updated_at
           FROM requests r
           JOIN demarche_revisions dr
             ON dr.demarche_code = r.demarche_code AND dr.revision = r.demarche_revision
          WHERE r.citizen_id = $1
          ORDER BY r.created_at DESC
          LIMIT 500",
    )
    .bind(citizen_id)
    .fetch_all(pool)
    .await?)
}
