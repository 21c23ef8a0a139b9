//! The candidates of the duplicate decision, read inside the intake transaction under the
//! grid-cell locks that make it race-free (see `crate::dedup`).

use sqlx::{PgConnection, PgExecutor};

use super::DbError;

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
pub async fn candidates(
    tx: &mut PgConnection,
    demarche: &str,
    lat: f64,
    lon: f64,
    radius_m: f64,
    window_days: i32,
) -> Result<Vec<CandidateRow>, DbError> {
    Ok(sqlx::query_as(concat!(
        "WITH p AS (SELECT ST_SetSRID(ST_MakePoint($3, $2), 4326)::geography AS g),
              near AS (
                SELECT r.id, r.demarche_code, r.demarche_revision, r.location <-> p.g AS knn,
                       ST_Distance(r.location, p.g) AS distance_m,
                       extract(epoch FROM now() - r.created_at)::float8 / 86400 AS age_days
                  FROM requests r, p
                 WHERE r.demarche_code = $1
                   AND r.phase IN ",
        open_phases!(),
        "
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
    ))
    .bind(demarche)
    .bind(lat)
    .bind(lon)
    .bind(radius_m)
    .bind(window_days)
    .fetch_all(tx)
    .await?)
}

/// The démarche codes whose reports may merge with `code`'s: itself and the active members
/// of its dedup group. The one answer to "which categories are the same problem", for the
/// decision and for "already reported?" alike.
pub async fn family(db: impl PgExecutor<'_>, code: &str) -> Result<Vec<String>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT d.code FROM demarches d
           JOIN demarche_revisions r
             ON r.demarche_code = d.code AND r.revision = d.current_revision
          WHERE d.code = $1
             OR (d.active AND r.dedup_group = (
                   SELECT r2.dedup_group FROM demarches d2
                     JOIN demarche_revisions r2
                       ON r2.demarche_code = d2.code AND r2.revision = d2.current_revision
                    WHERE d2.code = $1))
          ORDER BY d.code = $1 DESC, d.code",
    )
    .bind(code)
    .fetch_all(db)
    .await?)
}

/// An open request an agent may merge the one they read into.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MergeCandidate {
    pub number: String,
    pub demarche_code: String,
    pub status: String,
    pub workflow: String,
    pub report_count: i32,
    pub description: Option<String>,
    pub distance_m: f64,
    pub created_at: time::OffsetDateTime,
    pub thumb_key: Option<String>,
}

/// Open requests of the same dedup family within `radius_m` of request `id`, among `teams`
/// (`None`: all), nearest first (at most `limit`), the request itself left out.
pub async fn merge_candidates(
    db: impl PgExecutor<'_>,
    id: i64,
    family: &[String],
    radius_m: f64,
    teams: Option<&[i64]>,
    limit: i64,
) -> Result<Vec<MergeCandidate>, DbError> {
    Ok(sqlx::query_as(concat!(
        "SELECT c.number, c.demarche_code, c.status, c.workflow, c.report_count, c.description,
                ST_Distance(c.location, me.location) AS distance_m, c.created_at,
                (SELECT p.thumb_key FROM reports rp JOIN photos p ON p.report_id = rp.id
                  WHERE rp.request_id = c.id ORDER BY rp.id, p.position LIMIT 1) AS thumb_key
           FROM requests me
           JOIN requests c
             ON c.id <> me.id AND c.demarche_code = ANY($2)
            AND ST_DWithin(c.location, me.location, $3)
          WHERE me.id = $1 AND c.phase IN ",
        open_phases!(),
        " AND ($4::bigint[] IS NULL OR c.team_id = ANY($4))
          ORDER BY c.location <-> me.location
          LIMIT $5"
    ))
    .bind(id)
    .bind(family)
    .bind(radius_m)
    .bind(teams)
    .bind(limit)
    .fetch_all(db)
    .await?)
}
