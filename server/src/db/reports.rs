//! Reports: each citizen submission about an incident (the first creates its request, later
//! ones are co-reports), with their photos; and how agents move them between requests.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use guichet_shared::channel::Channel;
use guichet_shared::phase::Phase;

use super::DbError;

pub struct NewReport<'a> {
    pub client_id: Uuid,
    pub request_id: i64,
    pub channel: Channel,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    pub description: &'a str,
    pub address: Option<&'a str>,
    pub observed_at: Option<OffsetDateTime>,
    pub contact_email: Option<&'a str>,
    pub contact_name: Option<&'a str>,
    pub deduplicated: bool,
    pub lang: &'a str,
    /// SHA-256 of the reporter's own tracking code (the request's for the first report).
    pub tracking_code_digest: &'a [u8],
    /// The form data the reporter gave.
    pub data: &'a serde_json::Value,
    pub contact_phone: Option<&'a str>,
}

pub async fn insert(
    tx: &mut PgConnection,
    r: &NewReport<'_>,
) -> Result<(i64, OffsetDateTime), DbError> {
    Ok(sqlx::query_as(
        "INSERT INTO reports
            (client_id, request_id, channel, location, accuracy_m, description, address,
             observed_at, contact_email, contact_name, deduplicated, receipt, lang,
             tracking_code_digest, data, contact_phone)
         VALUES ($1, $2, $3, ST_SetSRID(ST_MakePoint($5, $4), 4326)::geography, $6, $7, $8,
                 $9, lower($10), $11, $12, '{}', $13, $14, $15, $16)
         RETURNING id, created_at",
    )
    .bind(r.client_id)
    .bind(r.request_id)
    .bind(r.channel.as_str())
    .bind(r.lat)
    .bind(r.lon)
    .bind(r.accuracy_m)
    .bind(r.description)
    .bind(r.address)
    .bind(r.observed_at)
    .bind(r.contact_email)
    .bind(r.contact_name)
    .bind(r.deduplicated)
    .bind(r.lang)
    .bind(r.tracking_code_digest)
    .bind(r.data)
    .bind(r.contact_phone)
    .fetch_one(tx)
    .await?)
}

/// What is stored of a processed photo.
#[derive(Debug, Clone)]
pub struct PhotoRow {
    pub source_sha256: String,
    pub source_format: &'static str,
    pub source_bytes: i32,
    pub source_width: i32,
    pub source_height: i32,
    pub display_key: String,
    pub display_width: i32,
    pub display_height: i32,
    pub display_bytes: i32,
    pub thumb_key: String,
    pub thumb_width: i32,
    pub thumb_height: i32,
    pub thumb_bytes: i32,
    /// 64-bit perceptual hash, stored as the same bits in a signed column.
    pub phash: i64,
}

pub async fn insert_photo(
    tx: &mut PgConnection,
    report_id: i64,
    position: i16,
    p: &PhotoRow,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO photos
            (report_id, position, source_sha256, source_format, source_bytes, source_width,
             source_height, display_key, display_width, display_height, display_bytes,
             thumb_key, thumb_width, thumb_height, thumb_bytes, phash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(report_id)
    .bind(position)
    .bind(&p.source_sha256)
    .bind(p.source_format)
    .bind(p.source_bytes)
    .bind(p.source_width)
    .bind(p.source_height)
    .bind(&p.display_key)
    .bind(p.display_width)
    .bind(p.display_height)
    .bind(p.display_bytes)
    .bind(&p.thumb_key)
    .bind(p.thumb_width)
    .bind(p.thumb_height)
    .bind(p.thumb_bytes)
    .bind(p.phash)
    .execute(tx)
    .await?;
    Ok(())
}

/// A request that a "me too" may support (a public incident: nobody can join a private
/// request by its number), locked for the rest of the transaction.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SupportTarget {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub phase: Phase,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

pub async fn support_target(
    tx: &mut PgConnection,
    number: &str,
) -> Result<Option<SupportTarget>, DbError> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.phase, ST_Y(r.location::geometry) AS lat, ST_X(r.location::geometry) AS lon
           FROM requests r
           JOIN public_incidents p ON p.id = r.id
          WHERE r.number = $1
            FOR UPDATE OF r",
    )
    .bind(number)
    .fetch_optional(tx)
    .await?)
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
    #[sqlx(try_from = "String")]
    pub channel: Channel,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    pub description: String,
    pub address: Option<String>,
    pub lang: String,
    /// SHA-256 of its reporter's code (none for reports from before reporters had codes).
    pub tracking_code_digest: Option<Vec<u8>>,
}

pub async fn report_of(
    tx: &mut PgConnection,
    request_id: i64,
    report_id: i64,
) -> Result<Option<ReportRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, request_id, channel, ST_Y(location::geometry) AS lat,
                ST_X(location::geometry) AS lon, accuracy_m, description, address, lang,
                tracking_code_digest
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
