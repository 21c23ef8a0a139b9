//! How long a démarche's requests take: what a receipt announces as the expected delay.

use sqlx::PgConnection;

use super::DbError;

/// The recent history of a démarche's delays.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DelayHistory {
    /// Median time from filing to closing, in days, of its requests closed in the last 12
    /// months (none when none was).
    pub median_days: Option<f64>,
    /// How many requests that median is taken over.
    pub closed: i64,
    /// The SLA of the démarche's current revision, in days.
    pub sla_days: Option<i32>,
}

/// The delays of démarche `code`. Requests closed as duplicates are left out: they close
/// within minutes because another request carries the work, which says nothing of the wait.
pub async fn history(tx: &mut PgConnection, code: &str) -> Result<DelayHistory, DbError> {
    Ok(sqlx::query_as(
        "SELECT (SELECT percentile_cont(0.5) WITHIN GROUP
                        (ORDER BY extract(epoch FROM r.closed_at - r.created_at))::float8 / 86400
                   FROM requests r
                  WHERE r.demarche_code = $1 AND r.phase = 'closed'
                    AND r.outcome IS DISTINCT FROM 'duplicate'
                    AND r.closed_at >= now() - interval '12 months') AS median_days,
                (SELECT count(*)
                   FROM requests r
                  WHERE r.demarche_code = $1 AND r.phase = 'closed'
                    AND r.outcome IS DISTINCT FROM 'duplicate'
                    AND r.closed_at >= now() - interval '12 months') AS closed,
                (SELECT dr.sla_days
                   FROM demarches d
                   JOIN demarche_revisions dr
                     ON dr.demarche_code = d.code AND dr.revision = d.current_revision
                  WHERE d.code = $1) AS sla_days",
    )
    .bind(code)
    .fetch_one(tx)
    .await?)
}
