//! The agents' view: a queue of requests with filters and keyset pagination, and the full
//! detail of one request (internal events and contacts included).

use guichet_shared::channel::Channel;
use guichet_shared::phase::Phase;
use guichet_shared::timeline::EventKind;
use sqlx::{PgPool, Postgres, QueryBuilder};
use time::OffsetDateTime;

use super::DbError;

/// Filters of a queue. `teams: None` means every team (admins).
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub teams: Option<Vec<i64>>,
    pub demarche: Option<String>,
    pub status: Option<String>,
    /// Empty: the open phases.
    pub phases: Vec<Phase>,
    pub zone_id: Option<i64>,
    pub overdue: bool,
    pub possible_duplicate: bool,
    pub channel: Option<Channel>,
    pub assignee_id: Option<i64>,
    pub unassigned: bool,
    /// Open again after it was closed (a pothole that is back).
    pub reopened: bool,
    /// Filed on or after this day, and on or before that one (days in the city's time zone).
    pub filed_from: Option<time::Date>,
    pub filed_to: Option<time::Date>,
    pub sort: Sort,
    /// Keyset: rows strictly after this (sort key, id) in the sort's order.
    pub after: Option<(OffsetDateTime, i64)>,
    pub limit: i64,
}

/// The order of a queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Newest filed first.
    #[default]
    Newest,
    /// Oldest filed first: who has waited longest.
    Oldest,
    /// Soonest due first; requests without a due date last.
    Due,
}

impl Sort {
    /// The key of a row in this order, as its cursor carries it.
    pub fn key_of(self, r: &QueueRow) -> OffsetDateTime {
        match self {
            Sort::Newest | Sort::Oldest => r.created_at,
            Sort::Due => r.due_at.unwrap_or(NO_DUE_DATE),
        }
    }

    fn key(self) -> &'static str {
        match self {
            Sort::Newest | Sort::Oldest => "r.created_at",
            Sort::Due => "coalesce(r.due_at, '2999-12-31T00:00:00Z'::timestamptz)",
        }
    }

    fn descending(self) -> bool {
        self == Sort::Newest
    }

    fn push_order(self, q: &mut QueryBuilder<'_, Postgres>) {
        let dir = if self.descending() { "DESC" } else { "ASC" };
        q.push(format!(" ORDER BY {} {dir}, r.id {dir}", self.key()));
    }
}

/// Where requests without a due date sort (and what their cursor says).
const NO_DUE_DATE: OffsetDateTime = time::macros::datetime!(2999-12-31 0:00 UTC);

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueueRow {
    pub id: i64,
    pub number: String,
    pub demarche_code: String,
    pub demarche_title: String,
    pub workflow: String,
    pub status: String,
    pub phase: String,
    pub channel: String,
    pub team_id: Option<i64>,
    pub team_code: Option<String>,
    pub assignee_id: Option<i64>,
    pub zone_name: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub report_count: i32,
    pub possible_duplicate_of: Option<String>,
    pub due_at: Option<OffsetDateTime>,
    pub overdue: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

const OPEN: &str = concat!("r.phase IN ", open_phases!());
/// Overdue: past its due date while the SLA clock runs.
const OVERDUE: &str = overdue!();

/// The filters of `f` on `requests r`, after a first condition.
pub(super) fn push_filters(q: &mut QueryBuilder<'_, Postgres>, f: &QueueFilter) {
    if f.phases.is_empty() {
        q.push(" AND ").push(OPEN);
    } else {
        q.push(" AND r.phase = ANY(")
            .push_bind(f.phases.iter().map(|p| p.as_str()).collect::<Vec<_>>())
            .push(")");
    }
    if let Some(d) = &f.demarche {
        q.push(" AND r.demarche_code = ").push_bind(d.clone());
    }
    if let Some(s) = &f.status {
        q.push(" AND r.status = ").push_bind(s.clone());
    }
    if let Some(z) = f.zone_id {
        q.push(" AND r.zone_id = ").push_bind(z);
    }
    if f.overdue {
        q.push(" AND ").push(OVERDUE);
    }
    if f.possible_duplicate {
        q.push(" AND r.possible_duplicate_of IS NOT NULL");
    }
    if let Some(c) = &f.channel {
        q.push(" AND r.channel = ").push_bind(c.as_str());
    }
    if let Some(a) = f.assignee_id {
        q.push(" AND r.assignee_id = ").push_bind(a);
    }
    if f.unassigned {
        q.push(" AND r.assignee_id IS NULL");
    }
    if let Some(day) = f.filed_from {
        q.push(" AND r.created_at >= (")
            .push_bind(day)
            .push("::timestamp AT TIME ZONE 'Europe/Paris')");
    }
    if let Some(day) = f.filed_to {
        q.push(" AND r.created_at < ((")
            .push_bind(day)
            .push(" + 1)::timestamp AT TIME ZONE 'Europe/Paris')");
    }
    if f.reopened {
        q.push(
            " AND EXISTS (SELECT 1 FROM events e WHERE e.request_id = r.id
                 AND e.kind = 'status_changed' AND e.data->>'from_phase' = 'closed')",
        );
    }
    if let Some((at, id)) = f.after {
        let cmp = if f.sort.descending() { "<" } else { ">" };
        q.push(format!(" AND ({}, r.id) {cmp} (", f.sort.key()))
            .push_bind(at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
}

/// One page of a queue, newest first; details are joined on the page only.
///
/// For an agent, each of their teams' requests are read in date order from the index on
/// (team, created_at, id), at most one page per team, and the pages merged: the cost follows
/// the page size and the number of teams, not the size of the table, even when a filter is
/// rare in a small team. Admins see every team: one walk down the date index, which stops as
/// soon as the page is full.
pub async fn queue(pool: &PgPool, f: &QueueFilter) -> Result<Vec<QueueRow>, DbError> {
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new("WITH picked AS (");
    match &f.teams {
        Some(teams) => {
            q.push("SELECT p.id FROM unnest(")
                .push_bind(teams.clone())
                .push(
                    "::bigint[]) AS tm(id) CROSS JOIN LATERAL \
                     (SELECT r.id FROM requests r WHERE r.team_id = tm.id",
                );
            push_filters(&mut q, f);
            f.sort.push_order(&mut q);
            q.push(" LIMIT ").push_bind(f.limit).push(") p");
        }
        None => {
            q.push("SELECT r.id FROM requests r WHERE TRUE");
            push_filters(&mut q, f);
            f.sort.push_order(&mut q);
            q.push(" LIMIT ").push_bind(f.limit);
        }
    }
    q.push(")");
    push_rows_in_order(&mut q, f.sort, f.limit);
    Ok(q.build_query_as().fetch_all(pool).await?)
}

/// How many requests of a queue are in each phase (every phase, whatever the filter's own),
/// and how many of them are overdue.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PhaseCount {
    pub phase: String,
    pub count: i64,
    pub overdue: i64,
}

pub async fn counts(pool: &PgPool, f: &QueueFilter) -> Result<Vec<PhaseCount>, DbError> {
    let every_phase = QueueFilter {
        phases: Phase::ALL.to_vec(),
        after: None,
        ..f.clone()
    };
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(concat!(
        "SELECT r.phase, count(*) AS count, count(*) FILTER (WHERE ",
        overdue!(),
        ") AS overdue FROM requests r WHERE TRUE"
    ));
    if let Some(teams) = &f.teams {
        q.push(" AND r.team_id = ANY(")
            .push_bind(teams.clone())
            .push(")");
    }
    push_filters(&mut q, &every_phase);
    q.push(" GROUP BY r.phase");
    Ok(q.build_query_as().fetch_all(pool).await?)
}

/// The queue rows of the ids in the CTE `picked`, newest first, at most `limit`.
pub(super) fn push_rows_of_picked(q: &mut QueryBuilder<'_, Postgres>, limit: i64) {
    push_rows_in_order(q, Sort::Newest, limit);
}

fn push_rows_in_order(q: &mut QueryBuilder<'_, Postgres>, sort: Sort, limit: i64) {
    q.push(concat!(
        "
         SELECT r.id, r.number, r.demarche_code, dr.title AS demarche_title, r.workflow,
                r.status, r.phase, r.channel, r.team_id, t.code AS team_code, r.assignee_id,
                z.name AS zone_name, r.address,
                ST_Y(r.location::geometry) AS lat, ST_X(r.location::geometry) AS lon,
                r.report_count, pd.number AS possible_duplicate_of, r.due_at,
                (",
        overdue!(),
        ") AS overdue,
                r.created_at, r.updated_at
           FROM picked
           JOIN requests r ON r.id = picked.id
           JOIN demarche_revisions dr
             ON dr.demarche_code = r.demarche_code AND dr.revision = r.demarche_revision
           LEFT JOIN teams t ON t.id = r.team_id
           LEFT JOIN zones z ON z.id = r.zone_id
           LEFT JOIN requests pd ON pd.id = r.possible_duplicate_of"
    ));
    sort.push_order(q);
    q.push(" LIMIT ").push_bind(limit);
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DetailRow {
    pub id: i64,
    pub number: String,
    pub demarche_code: String,
    pub demarche_revision: i32,
    pub demarche_title: String,
    pub workflow: String,
    pub status: String,
    #[sqlx(try_from = "String")]
    pub phase: Phase,
    pub outcome: Option<String>,
    #[sqlx(try_from = "String")]
    pub channel: Channel,
    pub team_id: Option<i64>,
    pub team_code: Option<String>,
    pub team_name: Option<String>,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub entered_by: Option<i64>,
    pub entered_by_name: Option<String>,
    pub citizen_email: Option<String>,
    pub zone_name: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub accuracy_m: Option<f64>,
    pub address: Option<String>,
    pub description: Option<String>,
    pub data: serde_json::Value,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub lang: String,
    pub report_count: i32,
    pub possible_duplicate_of: Option<String>,
    pub merged_into: Option<String>,
    pub complement: Option<serde_json::Value>,
    pub due_at: Option<OffsetDateTime>,
    pub sla_paused_at: Option<OffsetDateTime>,
    pub overdue: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub closed_at: Option<OffsetDateTime>,
}

pub async fn detail(pool: &PgPool, number: &str) -> Result<Option<DetailRow>, DbError> {
    Ok(sqlx::query_as(concat!(
        "SELECT r.id, r.number, r.demarche_code, r.demarche_revision,
                dr.title AS demarche_title, r.workflow, r.status, r.phase, r.outcome, r.channel,
                r.team_id, t.code AS team_code, t.name AS team_name,
                r.assignee_id, a.name AS assignee_name, r.entered_by, e.name AS entered_by_name,
                c.email AS citizen_email, z.name AS zone_name,
                ST_Y(r.location::geometry) AS lat, ST_X(r.location::geometry) AS lon,
                r.location_accuracy_m AS accuracy_m, r.address, r.description, r.data,
                r.contact_name, r.contact_email, r.contact_phone, r.lang, r.report_count,
                pd.number AS possible_duplicate_of, m.number AS merged_into, r.complement,
                r.due_at, r.sla_paused_at,
                (",
        overdue!(),
        ") AS overdue,
                r.created_at, r.updated_at, r.closed_at
           FROM requests r
           JOIN demarche_revisions dr
             ON dr.demarche_code = r.demarche_code AND dr.revision = r.demarche_revision
           LEFT JOIN teams t ON t.id = r.team_id
           LEFT JOIN agents a ON a.id = r.assignee_id
           LEFT JOIN agents e ON e.id = r.entered_by
           LEFT JOIN citizens c ON c.id = r.citizen_id
           LEFT JOIN zones z ON z.id = r.zone_id
           LEFT JOIN requests pd ON pd.id = r.possible_duplicate_of
           LEFT JOIN requests m ON m.id = r.merged_into
          WHERE r.number = $1"
    ))
    .bind(number)
    .fetch_optional(pool)
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub kind: EventKind,
    pub public: bool,
    pub actor: String,
    pub data: serde_json::Value,
    pub created_at: OffsetDateTime,
}

pub async fn all_events(pool: &PgPool, request_id: i64) -> Result<Vec<EventRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, kind, public, actor, data, created_at FROM events
          WHERE request_id = $1 ORDER BY id",
    )
    .bind(request_id)
    .fetch_all(pool)
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportSummary {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub channel: Channel,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
    pub description: String,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub deduplicated: bool,
    pub created_at: OffsetDateTime,
}

pub async fn reports(pool: &PgPool, request_id: i64) -> Result<Vec<ReportSummary>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, channel, ST_Y(location::geometry) AS lat,
                ST_X(location::geometry) AS lon, accuracy_m, description, contact_name,
                contact_email, deduplicated, created_at
           FROM reports WHERE request_id = $1 ORDER BY id",
    )
    .bind(request_id)
    .fetch_all(pool)
    .await?)
}

/// A photo of one of a request's reports.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportPhoto {
    pub report_id: i64,
    pub display_key: String,
    pub display_width: i32,
    pub display_height: i32,
    pub thumb_key: String,
}

pub async fn photos(pool: &PgPool, request_id: i64) -> Result<Vec<ReportPhoto>, DbError> {
    Ok(sqlx::query_as(
        "SELECT p.report_id, p.display_key, p.display_width, p.display_height, p.thumb_key
           FROM photos p JOIN reports rp ON rp.id = p.report_id
          WHERE rp.request_id = $1
          ORDER BY rp.id, p.position",
    )
    .bind(request_id)
    .fetch_all(pool)
    .await?)
}
