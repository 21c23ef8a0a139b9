//! Requests: opening one (its number, its row) and reading it for its public view and for
//! the citizen's space.

use guichet_shared::channel::Channel;
use guichet_shared::phase::Phase;
use guichet_shared::timeline::EventKind;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::DbError;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRow {
    pub id: i64,
    pub number: String,
    /// SHA-256 of the filer's tracking code.
    pub tracking_code_digest: Vec<u8>,
    pub demarche_code: String,
    pub demarche_title: String,
    /// Whether its place is public (a public incident: see the `public_incidents` view).
    pub public_incident: bool,
    pub status: String,
    #[sqlx(try_from = "String")]
    pub phase: Phase,
    pub outcome: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: Option<String>,
    pub zone_name: Option<String>,
    pub description: Option<String>,
    pub report_count: i32,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub workflow: String,
    pub citizen_id: Option<i64>,
    pub complement: Option<serde_json::Value>,
    pub merged_into: Option<String>,
}

pub async fn by_number(pool: &PgPool, number: &str) -> Result<Option<RequestRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.number, r.tracking_code_digest, r.demarche_code,
                dr.title AS demarche_title, dr.public_incident, r.status, r.phase, r.outcome,
                ST_Y(r.location::geometry) AS lat, ST_X(r.location::geometry) AS lon,
                r.address, z.name AS zone_name, r.description, r.report_count,
                r.created_at, r.updated_at, r.workflow, r.citizen_id, r.complement,
                m.number AS merged_into
           FROM requests r
           LEFT JOIN requests m ON m.id = r.merged_into
           JOIN demarche_revisions dr
             ON dr.demarche_code = r.demarche_code AND dr.revision = r.demarche_revision
           LEFT JOIN zones z ON z.id = r.zone_id
          WHERE r.number = $1",
    )
    .bind(number)
    .fetch_optional(pool)
    .await?)
}

/// Next number in the year's series of a prefix: `2026-SIG-000123`. Gap-free: the counter
/// row is locked until the transaction ends, and rolled back with it.
pub async fn next_number(tx: &mut PgConnection, prefix: &str) -> Result<String, DbError> {
    let (year, last): (i32, i64) = sqlx::query_as(
        "INSERT INTO request_counters (year, prefix, last)
         VALUES (extract(year FROM now() AT TIME ZONE 'Europe/Paris')::int, $1, 1)
         ON CONFLICT (year, prefix) DO UPDATE SET last = request_counters.last + 1
         RETURNING year, last",
    )
    .bind(prefix)
    .fetch_one(tx)
    .await?;
    Ok(format!("{year}-{prefix}-{last:06}"))
}

pub struct NewRequest<'a> {
    pub number: &'a str,
    /// SHA-256 of the filer's tracking code.
    pub tracking_code_digest: &'a [u8],
    pub demarche: &'a str,
    pub revision: i32,
    pub workflow: &'a str,
    pub channel: Channel,
    pub status: &'a str,
    pub phase: Phase,
    pub team_id: Option<i64>,
    pub zone_id: Option<i64>,
    /// (lat, lon) when the request has a place.
    pub location: Option<(f64, f64)>,
    pub accuracy_m: Option<f64>,
    pub location_source: Option<&'a str>,
    pub address: Option<&'a str>,
    pub description: &'a str,
    pub data: &'a serde_json::Value,
    pub sla_days: Option<i32>,
    /// Grey-band dedup result: the request it may duplicate, and the score.
    pub possible_duplicate_of: Option<(i64, f64)>,
    /// Generic intake's idempotency key (reports keep theirs on the report).
    pub client_id: Option<Uuid>,
    pub citizen_id: Option<i64>,
    pub entered_by: Option<i64>,
    pub contact_name: Option<&'a str>,
    pub contact_email: Option<&'a str>,
    pub contact_phone: Option<&'a str>,
    pub lang: &'a str,
}

pub async fn insert(tx: &mut PgConnection, r: &NewRequest<'_>) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO requests
            (number, tracking_code_digest, demarche_code, demarche_revision, channel, status, phase,
             team_id, zone_id, location, location_accuracy_m, location_source, address,
             description, report_count, due_at, possible_duplicate_of, dedup_score,
             workflow, data, client_id, citizen_id, entered_by, contact_name, contact_email,
             contact_phone, lang)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
                 CASE WHEN $10::float8 IS NULL THEN NULL
                      ELSE ST_SetSRID(ST_MakePoint($11, $10), 4326)::geography END,
                 $12, $13, $14, $15, 0,
                 CASE WHEN $16::int IS NULL THEN NULL ELSE now() + make_interval(days => $16) END,
                 $17, $18, $19, $20, $21, $22, $23, $24, lower($25), $26, $27)
         RETURNING id",
    )
    .bind(r.number)
    .bind(r.tracking_code_digest)
    .bind(r.demarche)
    .bind(r.revision)
    .bind(r.channel.as_str())
    .bind(r.status)
    .bind(r.phase.as_str())
    .bind(r.team_id)
    .bind(r.zone_id)
    .bind(r.location.map(|(lat, _)| lat))
    .bind(r.location.map(|(_, lon)| lon))
    .bind(r.accuracy_m)
    .bind(r.location_source)
    .bind(r.address)
    .bind(r.description)
    .bind(r.sla_days)
    .bind(r.possible_duplicate_of.map(|(id, _)| id))
    .bind(r.possible_duplicate_of.map(|(_, score)| score as f32))
    .bind(r.workflow)
    .bind(r.data)
    .bind(r.client_id)
    .bind(r.citizen_id)
    .bind(r.entered_by)
    .bind(r.contact_name)
    .bind(r.contact_email)
    .bind(r.contact_phone)
    .bind(r.lang)
    .fetch_one(tx)
    .await?)
}

/// Locks a request for the rest of the transaction; false when it is no longer open.
pub async fn lock_if_open(tx: &mut PgConnection, request_id: i64) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar::<_, i64>(concat!(
        "SELECT id FROM requests WHERE id = $1 AND phase IN ",
        open_phases!(),
        " FOR UPDATE"
    ))
    .bind(request_id)
    .fetch_optional(tx)
    .await?
    .is_some())
}

/// The request a new report is attached to, after counting the report.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttachedRequest {
    pub number: String,
    #[sqlx(try_from = "String")]
    pub phase: Phase,
    pub report_count: i32,
}

pub async fn count_report(
    tx: &mut PgConnection,
    request_id: i64,
) -> Result<AttachedRequest, DbError> {
    Ok(sqlx::query_as(
        "UPDATE requests SET report_count = report_count + 1, updated_at = now()
          WHERE id = $1
          RETURNING number, phase, report_count",
    )
    .bind(request_id)
    .fetch_one(tx)
    .await?)
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

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PhotoVariants {
    pub display_key: String,
    pub display_width: i32,
    pub display_height: i32,
    pub thumb_key: String,
}

/// Photos of every report of the request, in order of arrival.
pub async fn photos(pool: &PgPool, request_id: i64) -> Result<Vec<PhotoVariants>, DbError> {
    Ok(sqlx::query_as(
        "SELECT p.display_key, p.display_width, p.display_height, p.thumb_key
           FROM photos p
           JOIN reports rp ON rp.id = p.report_id
          WHERE rp.request_id = $1
          ORDER BY rp.id, p.position",
    )
    .bind(request_id)
    .fetch_all(pool)
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    #[sqlx(try_from = "String")]
    pub kind: EventKind,
    pub data: serde_json::Value,
    pub created_at: OffsetDateTime,
}

pub async fn public_events(pool: &PgPool, request_id: i64) -> Result<Vec<EventRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT kind, data, created_at FROM events
          WHERE request_id = $1 AND public
          ORDER BY id",
    )
    .bind(request_id)
    .fetch_all(pool)
    .await?)
}

/// Public requests of a citizen account, newest first.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CitizenRequestRow {
    pub number: String,
    pub demarche_code: String,
    pub demarche_title: String,
    pub workflow: String,
    pub status: String,
    #[sqlx(try_from = "String")]
    pub phase: Phase,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

pub async fn of_citizen(pool: &PgPool, citizen_id: i64) -> Result<Vec<CitizenRequestRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT r.number, r.demarche_code, dr.title AS demarche_title, r.workflow, r.status, r.phase, r.created_at, r.updated_at
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

/// Who a request belongs to: enough to decide whether an agent may read it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Scope {
    pub id: i64,
    pub team_id: Option<i64>,
    pub demarche_code: String,
}

pub async fn scope(pool: &PgPool, number: &str) -> Result<Option<Scope>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, team_id, demarche_code FROM requests WHERE number = $1")
            .bind(number)
            .fetch_optional(pool)
            .await?,
    )
}
