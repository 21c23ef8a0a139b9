//! Open311 GeoReport v2: integrators' API keys, the services offered to them, and the public
//! reads of requests and of their updates.
//!
//! Every read of a request goes through the `public_incidents` view: only requests of a
//! démarche flagged as a public incident are ever listed or shown, and nothing here selects a
//! contact, a tracking code or the form's data.

use sqlx::PgPool;
use time::OffsetDateTime;

use super::DbError;

/// An integrator's key, as `guichet api-key list` shows it (never the key itself).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: i64,
    pub name: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// Stores a new key by its digest; `false` when the name is taken.
pub async fn create_key(pool: &PgPool, name: &str, digest: &[u8]) -> Result<bool, DbError> {
    let done = sqlx::query(
        "INSERT INTO api_keys (name, key_digest) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(digest)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn list_keys(pool: &PgPool) -> Result<Vec<ApiKeyRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, name, created_at, last_used_at, revoked_at FROM api_keys ORDER BY name",
    )
    .fetch_all(pool)
    .await?)
}

/// Revokes the key named `name`; `false` when there is no such active key.
pub async fn revoke_key(pool: &PgPool, name: &str) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE api_keys SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL",
    )
    .bind(name)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The active key with this digest, marked as used now.
pub async fn use_key(pool: &PgPool, digest: &[u8]) -> Result<Option<(i64, String)>, DbError> {
    Ok(sqlx::query_as(
        "UPDATE api_keys SET last_used_at = now()
          WHERE key_digest = $1 AND revoked_at IS NULL
      RETURNING id, name",
    )
    .bind(digest)
    .fetch_optional(pool)
    .await?)
}

/// A démarche open to integrators: active, offered through the `api` channel, and filed
/// without an account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServiceRow {
    pub code: String,
    pub title: String,
    pub title_en: String,
    pub description: String,
    pub description_en: String,
    pub keywords: Vec<String>,
    pub keywords_en: Vec<String>,
    pub group_title: String,
    pub group_title_en: String,
    pub geolocated: bool,
    /// The form definition of the current revision.
    pub form: Option<serde_json::Value>,
}

const SERVICES: &str = "SELECT d.code, r.title, r.title_en, r.description, r.description_en,
        r.keywords, r.keywords_en, g.title AS group_title, g.title_en AS group_title_en,
        r.geolocated, r.definition->'form' AS form
   FROM demarches d
   JOIN demarche_revisions r
     ON r.demarche_code = d.code AND r.revision = d.current_revision
   JOIN demarche_groups g ON g.code = d.group_code
  WHERE d.active AND 'api' = ANY (r.channels) AND r.auth = 'anonymous'";

pub async fn services(pool: &PgPool) -> Result<Vec<ServiceRow>, DbError> {
    let sql = format!("{SERVICES} ORDER BY g.position, d.position, d.code");
    Ok(sqlx::query_as(&sql).fetch_all(pool).await?)
}

pub async fn service(pool: &PgPool, code: &str) -> Result<Option<ServiceRow>, DbError> {
    let sql = format!("{SERVICES} AND d.code = $1");
    Ok(sqlx::query_as(&sql).bind(code).fetch_optional(pool).await?)
}

/// What Open311 shows of a public incident.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRow {
    pub id: i64,
    pub number: String,
    pub service_code: String,
    pub service_name: String,
    pub phase: String,
    pub status: String,
    pub workflow: String,
    pub description: Option<String>,
    pub agency: Option<String>,
    pub requested_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub due_at: Option<OffsetDateTime>,
    pub address: Option<String>,
    pub zipcode: Option<String>,
    pub lat: f64,
    pub lon: f64,
    /// The 1600 px variant of the first photo of its first report with one.
    pub photo_key: Option<String>,
}

/// What a request's answer reads, from `p` (the public incident) and `r` (its request).
macro_rules! request_columns {
    () => {
        "SELECT p.id, p.number, p.demarche_code AS service_code,
        dr.title AS service_name, p.phase, r.status, r.workflow, r.description,
        t.name AS agency, p.created_at AS requested_at, r.updated_at, r.due_at, r.address,
        substring(r.address FROM '\\m\\d{5}\\M') AS zipcode,
        ST_Y(p.location::geometry) AS lat, ST_X(p.location::geometry) AS lon,
        (SELECT ph.display_key FROM reports rp JOIN photos ph ON ph.report_id = rp.id
          WHERE rp.request_id = p.id ORDER BY rp.id, ph.position LIMIT 1) AS photo_key"
    };
}

/// The démarche's title and the team, for the columns above.
macro_rules! request_details {
    () => {
        " JOIN demarche_revisions dr
     ON dr.demarche_code = p.demarche_code AND dr.revision = p.demarche_revision
   LEFT JOIN teams t ON t.id = r.team_id"
    };
}

const REQUESTS: &str = concat!(
    request_columns!(),
    " FROM public_incidents p JOIN requests r ON r.id = p.id",
    request_details!()
);

/// The filters of `GET requests`; every one is optional.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub numbers: Option<Vec<String>>,
    pub service_codes: Option<Vec<String>>,
    pub start: Option<OffsetDateTime>,
    pub end: Option<OffsetDateTime>,
    /// `Some(true)`: open phases only; `Some(false)`: closed and withdrawn only.
    pub open: Option<bool>,
    /// Within `radius_m` metres of (`lat`, `lon`).
    pub near: Option<(f64, f64, f64)>,
    pub limit: i64,
    pub offset: i64,
}

/// Public incidents matching `filter`, newest first. The page is chosen first on the view
/// alone (narrow rows, so that the filters and the offset walk an index cheaply), then only
/// its rows are joined for the answer.
pub async fn requests(pool: &PgPool, filter: &RequestFilter) -> Result<Vec<RequestRow>, DbError> {
    let sql = format!(
        "WITH picked AS MATERIALIZED (
             SELECT p.id, p.created_at FROM public_incidents p
              WHERE ($1::text[] IS NULL OR p.number = ANY ($1))
                AND ($2::text[] IS NULL OR p.demarche_code = ANY ($2))
                AND ($3::timestamptz IS NULL OR p.created_at >= $3)
                AND ($4::timestamptz IS NULL OR p.created_at <= $4)
                AND ($5::boolean IS NULL OR (p.phase IN {open}) = $5)
                AND ($6::float8 IS NULL OR ST_DWithin(p.location,
                         ST_SetSRID(ST_MakePoint($7, $6), 4326)::geography, $8))
              ORDER BY p.created_at DESC, p.id DESC
              LIMIT $9 OFFSET $10
         )
         {columns}
           FROM picked
           JOIN requests r ON r.id = picked.id
          CROSS JOIN LATERAL (SELECT r.id, r.number, r.demarche_code, r.demarche_revision,
                                     r.phase, r.location, r.created_at) p
          {details}
          ORDER BY picked.created_at DESC, picked.id DESC",
        open = open_phases!(),
        columns = request_columns!(),
        details = request_details!()
    );
    let (lat, lon, radius) = match filter.near {
        Some((lat, lon, r)) => (Some(lat), Some(lon), Some(r)),
        None => (None, None, None),
    };
    Ok(sqlx::query_as(&sql)
        .bind(filter.numbers.as_deref())
        .bind(filter.service_codes.as_deref())
        .bind(filter.start)
        .bind(filter.end)
        .bind(filter.open)
        .bind(lat)
        .bind(lon)
        .bind(radius)
        .bind(filter.limit)
        .bind(filter.offset)
        .fetch_all(pool)
        .await?)
}

/// The public incident numbered `number`, if it is one.
pub async fn request(pool: &PgPool, number: &str) -> Result<Option<RequestRow>, DbError> {
    let sql = format!("{REQUESTS} WHERE p.number = $1");
    Ok(sqlx::query_as(&sql)
        .bind(number)
        .fetch_optional(pool)
        .await?)
}

/// A status change of a public incident, for `GET servicerequestupdates`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UpdateRow {
    pub id: i64,
    pub number: String,
    /// The phase the change led to.
    pub phase: Option<String>,
    pub label_fr: Option<String>,
    pub created_at: OffsetDateTime,
    /// The first "after" photo that came with the change, if any.
    pub photo_key: Option<String>,
}

/// Status changes of public incidents between `start` and `end`, oldest first, `limit` of them
/// after skipping `offset`.
pub async fn updates(
    pool: &PgPool,
    start: Option<OffsetDateTime>,
    end: Option<OffsetDateTime>,
    limit: i64,
    offset: i64,
) -> Result<Vec<UpdateRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT e.id, p.number, e.data->>'phase' AS phase, e.data->>'label_fr' AS label_fr,
                e.created_at, e.data->'photos'->0->>'display_key' AS photo_key
           FROM events e
           JOIN public_incidents p ON p.id = e.request_id
          WHERE e.kind = 'status_changed' AND e.public
            AND ($1::timestamptz IS NULL OR e.created_at >= $1)
            AND ($2::timestamptz IS NULL OR e.created_at <= $2)
          ORDER BY e.created_at, e.id
          LIMIT $3 OFFSET $4",
    )
    .bind(start)
    .bind(end)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?)
}

/// Records, for the agents, which key filed a report or a request (an internal note).
pub async fn record_filing(
    pool: &PgPool,
    number: &str,
    key_name: &str,
    media_url: Option<&str>,
) -> Result<(), DbError> {
    let text = match media_url {
        Some(url) => format!("Filed through Open311 with the key {key_name:?}; media: {url}"),
        None => format!("Filed through Open311 with the key {key_name:?}"),
    };
    let data = serde_json::json!({ "text": text, "api_key": key_name, "media_url": media_url });
    sqlx::query(
        "INSERT INTO events (request_id, kind, public, actor, data)
         SELECT id, 'note', false, 'system', $2 FROM requests WHERE number = $1",
    )
    .bind(number)
    .bind(data)
    .execute(pool)
    .await?;
    Ok(())
}
