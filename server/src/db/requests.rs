//! Reading requests for their public view.

use sqlx::PgPool;
use time::OffsetDateTime;

use super::DbError;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRow {
    pub id: i64,
    pub number: String,
    pub tracking_code: String,
    pub demarche_code: String,
    pub demarche_title: String,
    pub status: String,
    pub phase: String,
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
        "SELECT r.id, r.number, r.tracking_code, r.demarche_code, dr.title AS demarche_title,
                r.status, r.phase, r.outcome,
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
    pub kind: String,
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

/// Whether one of the request's reports holds this tracking code (co-reporters and
/// supporters follow the request with their own).
pub async fn report_code_exists(
    pool: &PgPool,
    request_id: i64,
    code: &str,
) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM reports WHERE request_id = $1 AND tracking_code = $2)",
    )
    .bind(request_id)
    .bind(code)
    .fetch_one(pool)
    .await?)
}
