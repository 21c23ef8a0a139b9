//! Statements of the report intake transaction. The transaction itself is driven by
//! `crate::intake`, which decides; these functions only read and write.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::DbError;

/// The receipt of an earlier submission with this client id, a report's or a request's,
/// returned as is when the same client id comes again (whichever route it comes through).
const STORED_RECEIPT: &str = "SELECT receipt FROM reports WHERE client_id = $1
     UNION ALL
     SELECT receipt FROM requests WHERE client_id = $1 AND receipt IS NOT NULL
     LIMIT 1";

pub async fn stored_receipt(
    pool: &PgPool,
    client_id: Uuid,
) -> Result<Option<serde_json::Value>, DbError> {
    Ok(sqlx::query_scalar(STORED_RECEIPT)
        .bind(client_id)
        .fetch_optional(pool)
        .await?)
}

pub async fn stored_receipt_in_tx(
    tx: &mut PgConnection,
    client_id: Uuid,
) -> Result<Option<serde_json::Value>, DbError> {
    Ok(sqlx::query_scalar(STORED_RECEIPT)
        .bind(client_id)
        .fetch_optional(tx)
        .await?)
}

pub async fn lock_client_id(tx: &mut PgConnection, client_id: Uuid) -> Result<(), DbError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('report:' || $1::text, 0))")
        .bind(client_id)
        .execute(tx)
        .await?;
    Ok(())
}

/// Transaction-scoped advisory locks (released at commit or rollback), taken one after the
/// other in the order given — callers pass them sorted so that no two transactions wait on each
/// other in a cycle. One round trip: a function scan yields the array's elements in order.
pub async fn advisory_xact_locks(tx: &mut PgConnection, keys: &[i64]) -> Result<(), DbError> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock(k) FROM unnest($1::int8[]) WITH ORDINALITY AS t(k, i)",
    )
    .bind(keys)
    .execute(tx)
    .await?;
    Ok(())
}

/// An open request that a new report might duplicate.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CandidateRow {
    pub id: i64,
    pub demarche_code: String,
    pub dedup_group: Option<String>,
    pub distance_m: f64,
    pub age_days: f64,
    /// Perceptual hashes of the photos of all its reports.
    pub photo_hashes: Vec<i64>,
}

/// Open requests of one démarche within `radius_m` metres on the sphere, created in the last
/// `window_days` days, nearest first (at most 20).
pub async fn dedup_candidates(
    tx: &mut PgConnection,
    demarche: &str,
    lat: f64,
    lon: f64,
    radius_m: f64,
    window_days: i32,
) -> Result<Vec<CandidateRow>, DbError> {
    Ok(sqlx::query_as(
        "WITH p AS (SELECT ST_SetSRID(ST_MakePoint($3, $2), 4326)::geography AS g),
              near AS (
                SELECT r.id, r.demarche_code, r.demarche_revision, r.location <-> p.g AS knn,
                       ST_Distance(r.location, p.g) AS distance_m,
                       extract(epoch FROM now() - r.created_at)::float8 / 86400 AS age_days
                  FROM requests r, p
                 WHERE r.demarche_code = $1
                   AND r.phase IN ('received', 'in_progress', 'waiting_for_citizen')
                   AND ST_DWithin(r.location, p.g, $4)
                   AND r.created_at > now() - make_interval(days => $5)
                 ORDER BY r.location <-> p.g
                 LIMIT 20)
         SELECT n.id, n.demarche_code, dr.dedup_group, n.distance_m, n.age_days,
                ARRAY(SELECT ph.phash FROM photos ph JOIN reports rp ON rp.id = ph.report_id
                       WHERE rp.request_id = n.id AND ph.phash IS NOT NULL) AS photo_hashes
           FROM near n
           JOIN demarche_revisions dr
             ON dr.demarche_code = n.demarche_code AND dr.revision = n.demarche_revision
          ORDER BY n.knn",
    )
    .bind(demarche)
    .bind(lat)
    .bind(lon)
    .bind(radius_m)
    .bind(window_days)
    .fetch_all(tx)
    .await?)
}

/// The démarche codes of a dedup group.
pub async fn dedup_group_members(
    tx: &mut PgConnection,
    group: &str,
) -> Result<Vec<String>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT d.code FROM demarches d
           JOIN demarche_revisions r ON r.demarche_code = d.code AND r.revision = d.current_revision
          WHERE r.dedup_group = $1 AND d.active
          ORDER BY d.code",
    )
    .bind(group)
    .fetch_all(tx)
    .await?)
}

/// Next number in the year's series of a prefix: `2026-SIG-000123`. Gap-free: the counter
/// row is locked until the transaction ends, and rolled back with it.
pub async fn next_request_number(tx: &mut PgConnection, prefix: &str) -> Result<String, DbError> {
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

/// The team of the first routing rule matching démarche × zone (specific rules first).
pub async fn route(
    tx: &mut PgConnection,
    demarche: &str,
    zone_id: Option<i64>,
) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT team_id FROM routing_rules
          WHERE (demarche_code = $1 OR demarche_code IS NULL)
            AND (zone_id = $2 OR zone_id IS NULL)
          ORDER BY priority, demarche_code IS NULL, zone_id IS NULL
          LIMIT 1",
    )
    .bind(demarche)
    .bind(zone_id)
    .fetch_optional(tx)
    .await?)
}

pub struct NewRequest<'a> {
    pub number: &'a str,
    pub tracking_code: &'a str,
    pub demarche: &'a str,
    pub revision: i32,
    pub workflow: &'a str,
    pub channel: &'a str,
    pub status: &'a str,
    pub phase: &'a str,
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

pub async fn insert_request(tx: &mut PgConnection, r: &NewRequest<'_>) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO requests
            (number, tracking_code, demarche_code, demarche_revision, channel, status, phase,
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
    .bind(r.tracking_code)
    .bind(r.demarche)
    .bind(r.revision)
    .bind(r.channel)
    .bind(r.status)
    .bind(r.phase)
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
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT id FROM requests
          WHERE id = $1 AND phase IN ('received', 'in_progress', 'waiting_for_citizen')
          FOR UPDATE",
    )
    .bind(request_id)
    .fetch_optional(tx)
    .await?
    .is_some())
}

/// The request a new report is attached to, after counting the report.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttachedRequest {
    pub number: String,
    pub tracking_code: String,
    pub phase: String,
    pub report_count: i32,
}

pub async fn count_report(
    tx: &mut PgConnection,
    request_id: i64,
) -> Result<AttachedRequest, DbError> {
    Ok(sqlx::query_as(
        "UPDATE requests SET report_count = report_count + 1, updated_at = now()
          WHERE id = $1
          RETURNING number, tracking_code, phase, report_count",
    )
    .bind(request_id)
    .fetch_one(tx)
    .await?)
}

pub struct NewReportRow<'a> {
    pub client_id: Uuid,
    pub request_id: i64,
    pub channel: &'a str,
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
    /// The reporter's own tracking code (the request's for the first report).
    pub tracking_code: &'a str,
    /// The form data the reporter gave.
    pub data: &'a serde_json::Value,
    pub contact_phone: Option<&'a str>,
}

pub async fn insert_report(
    tx: &mut PgConnection,
    r: &NewReportRow<'_>,
) -> Result<(i64, OffsetDateTime), DbError> {
    Ok(sqlx::query_as(
        "INSERT INTO reports
            (client_id, request_id, channel, location, accuracy_m, description, address,
             observed_at, contact_email, contact_name, deduplicated, receipt, lang,
             tracking_code, data, contact_phone)
         VALUES ($1, $2, $3, ST_SetSRID(ST_MakePoint($5, $4), 4326)::geography, $6, $7, $8,
                 $9, lower($10), $11, $12, '{}', $13, $14, $15, $16)
         RETURNING id, created_at",
    )
    .bind(r.client_id)
    .bind(r.request_id)
    .bind(r.channel)
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
    .bind(r.tracking_code)
    .bind(r.data)
    .bind(r.contact_phone)
    .fetch_one(tx)
    .await?)
}

pub async fn set_receipt(
    tx: &mut PgConnection,
    report_id: i64,
    receipt: &serde_json::Value,
) -> Result<(), DbError> {
    sqlx::query("UPDATE reports SET receipt = $2 WHERE id = $1")
        .bind(report_id)
        .bind(receipt)
        .execute(tx)
        .await?;
    Ok(())
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

pub async fn insert_event(
    tx: &mut PgConnection,
    request_id: i64,
    kind: &str,
    public: bool,
    actor: &str,
    data: &serde_json::Value,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO events (request_id, kind, public, actor, data) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(request_id)
    .bind(kind)
    .bind(public)
    .bind(actor)
    .bind(data)
    .execute(tx)
    .await?;
    Ok(())
}

/// True when some stored photo still refers to the file `key`: such files are never
/// removed by a failed submission's clean-up.
pub async fn photo_key_in_use(pool: &PgPool, key: &str) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM photos WHERE display_key = $1 OR thumb_key = $1)
             OR EXISTS (SELECT 1 FROM request_files WHERE storage_key = $1)",
    )
    .bind(key)
    .fetch_one(pool)
    .await?)
}

/// A request that a "me too" may support, locked for the rest of the transaction.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SupportTarget {
    pub id: i64,
    pub phase: String,
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
           JOIN demarche_revisions d
             ON d.demarche_code = r.demarche_code AND d.revision = r.demarche_revision
          WHERE r.number = $1 AND d.geolocated
            FOR UPDATE OF r",
    )
    .bind(number)
    .fetch_optional(tx)
    .await?)
}
