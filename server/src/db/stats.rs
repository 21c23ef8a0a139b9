//! The supervisor's dashboard: open requests by team, phase and démarche, the last 30 days'
//! closings (median time to close, SLA kept) and filings per day, among the given teams.

use sqlx::PgPool;
use time::Date;

use super::DbError;

/// Days in the dashboard's window, today included.
pub const WINDOW_DAYS: i32 = 30;
const CITY_TIME_ZONE: &str = "Europe/Paris";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenGroup {
    pub team: Option<String>,
    pub phase: String,
    pub demarche: String,
    pub count: i64,
    pub overdue: i64,
}

pub async fn open_groups(pool: &PgPool, teams: Option<&[i64]>) -> Result<Vec<OpenGroup>, DbError> {
    Ok(sqlx::query_as(concat!(
        "SELECT t.code AS team, r.phase, r.demarche_code AS demarche, count(*) AS count,
                count(*) FILTER (WHERE ",
        overdue!(),
        ") AS overdue
           FROM requests r LEFT JOIN teams t ON t.id = r.team_id
          WHERE r.phase IN ",
        open_phases!(),
        " AND ($1::bigint[] IS NULL OR r.team_id = ANY($1))
          GROUP BY 1, 2, 3
          ORDER BY 4 DESC, 1, 2, 3"
    ))
    .bind(teams)
    .fetch_all(pool)
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Closings {
    pub closed: i64,
    /// Median hours from filing to closing.
    pub median_hours: Option<f64>,
    /// Closed with a due date, and among them by that date.
    pub with_sla: i64,
    pub within_sla: i64,
}

pub async fn closings(pool: &PgPool, teams: Option<&[i64]>) -> Result<Closings, DbError> {
    Ok(sqlx::query_as(
        "SELECT count(*) AS closed,
                percentile_cont(0.5) WITHIN GROUP
                    (ORDER BY extract(epoch FROM closed_at - created_at) / 3600) AS median_hours,
                count(*) FILTER (WHERE due_at IS NOT NULL) AS with_sla,
                count(*) FILTER (WHERE closed_at <= due_at) AS within_sla
           FROM requests r
          WHERE r.phase = 'closed' AND r.merged_into IS NULL
            AND r.closed_at >= now() - make_interval(days => $2)
            AND ($1::bigint[] IS NULL OR r.team_id = ANY($1))",
    )
    .bind(teams)
    .bind(WINDOW_DAYS)
    .fetch_one(pool)
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayCount {
    pub day: Date,
    pub count: i64,
}

/// Requests filed on each of the window's days (city time), zeros included, oldest first.
pub async fn filed_per_day(pool: &PgPool, teams: Option<&[i64]>) -> Result<Vec<DayCount>, DbError> {
    Ok(sqlx::query_as(
        "WITH days AS (
             SELECT d::date AS day
               FROM generate_series((now() AT TIME ZONE $2)::date - ($3 - 1),
                                    (now() AT TIME ZONE $2)::date, interval '1 day') d
         )
         SELECT days.day, count(r.id) AS count
           FROM days
           LEFT JOIN requests r
             ON (r.created_at AT TIME ZONE $2)::date = days.day
            AND ($1::bigint[] IS NULL OR r.team_id = ANY($1))
            AND r.created_at >= now() - make_interval(days => $3 + 1)
          GROUP BY days.day
          ORDER BY days.day",
    )
    .bind(teams)
    .bind(CITY_TIME_ZONE)
    .bind(WINDOW_DAYS)
    .fetch_all(pool)
    .await?)
}
