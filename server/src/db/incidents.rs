//! Reads for the in-memory index of open incidents and for the public read paths
//! ("already reported?", the map) that complete what the index holds.
//!
//! Every query here reads the `public_incidents` view, the one rule for which requests may
//! show their place in public: those of a démarche flagged as a public incident. A contact
//! request filed with a home address never gets into the index, so no public output can
//! show it.

use guichet_shared::phase::Phase;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::DbError;

/// An open geolocated request, as the index keeps it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IncidentRow {
    pub id: i64,
    pub lat: f64,
    pub lon: f64,
    pub demarche_code: String,
    pub phase: String,
    pub created_at_unix: i64,
}

const SELECT_INCIDENT: &str =
    "SELECT id, ST_Y(location::geometry) AS lat, ST_X(location::geometry) AS lon,
        demarche_code, phase, extract(epoch FROM created_at)::int8 AS created_at_unix
   FROM public_incidents";

/// Every open geolocated request (start-up load and reload after a lost connection), as a
/// stream: a million rows are turned into index entries one by one, never held all at once.
pub fn open_incidents(
    pool: &PgPool,
) -> impl futures::Stream<Item = Result<IncidentRow, sqlx::Error>> + '_ {
    sqlx::query_as(OPEN_INCIDENTS).fetch(pool)
}

const OPEN_INCIDENTS: &str = concat!(
    "SELECT id, ST_Y(location::geometry) AS lat, ST_X(location::geometry) AS lon,
        demarche_code, phase, extract(epoch FROM created_at)::int8 AS created_at_unix
   FROM public_incidents
  WHERE phase IN ",
    open_phases!()
);

/// The request if it is open and geolocated (`None`: drop it from the index).
pub async fn open_incident(pool: &PgPool, id: i64) -> Result<Option<IncidentRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "{SELECT_INCIDENT} WHERE id = $1 AND phase IN {}",
        open_phases!()
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

/// What the public read paths show of a request besides its position.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IncidentDetail {
    pub id: i64,
    pub number: String,
    pub demarche_code: String,
    pub demarche_title: String,
    #[sqlx(try_from = "String")]
    pub phase: Phase,
    pub report_count: i32,
    pub created_at: OffsetDateTime,
    /// Thumbnail of the first photo of its first report with a photo.
    pub thumb_key: Option<String>,
}

pub async fn details(pool: &PgPool, ids: &[i64]) -> Result<Vec<IncidentDetail>, DbError> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.number, r.demarche_code, dr.title AS demarche_title, r.phase,
                r.report_count, r.created_at,
                (SELECT p.thumb_key FROM reports rp JOIN photos p ON p.report_id = rp.id
                  WHERE rp.request_id = r.id ORDER BY rp.id, p.position LIMIT 1) AS thumb_key
           FROM public_incidents r
           JOIN demarche_revisions dr
             ON dr.demarche_code = r.demarche_code AND dr.revision = r.demarche_revision
          WHERE r.id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?)
}

/// Numbers and report counts of requests, for map points.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MapPointInfo {
    pub id: i64,
    pub number: String,
    pub report_count: i32,
}

pub async fn map_points(pool: &PgPool, ids: &[i64]) -> Result<Vec<MapPointInfo>, DbError> {
    Ok(
        sqlx::query_as("SELECT id, number, report_count FROM public_incidents WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(pool)
            .await?,
    )
}
