//! `GET /api/v1/agent/dashboard`: the supervisor's view of their teams (admins: every team):
//! what is open, by team, phase and démarche, with the overdue; the last 30 days' closings
//! (median time to close, SLA kept in %) and filings per day.

use axum::Json;
use axum::extract::State;
use guichet_shared::workflow::Role;
use serde::Serialize;

use super::ApiError;
use super::auth::forbidden;
use crate::auth::Agent;
use crate::db;
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    window_days: i32,
    open: OpenTotals,
    open_groups: Vec<OpenGroup>,
    closed: ClosedStats,
    filed_per_day: Vec<DayCount>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct OpenTotals {
    count: i64,
    overdue: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
struct OpenGroup {
    team: Option<String>,
    phase: String,
    demarche: String,
    count: i64,
    overdue: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ClosedStats {
    count: i64,
    median_hours_to_close: Option<f64>,
    /// Share of the closed requests that had a due date and were closed by it.
    sla_kept_percent: Option<f64>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct DayCount {
    date: String,
    count: i64,
}

#[utoipa::path(
    get,
    path = "/api/v1/agent/dashboard",
    tag = "agents",
    summary = "Tableau de bord (superviseurs)",
    responses(
        (status = 200, description = "The last 30 days of my teams", body = Dashboard),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn dashboard(
    State(state): State<AppState>,
    agent: Agent,
) -> Result<Json<Dashboard>, ApiError> {
    if !matches!(agent.role, Role::Supervisor | Role::Admin) {
        return Err(forbidden("the dashboard is for supervisors and admins"));
    }
    let teams = agent.visible_teams();
    let groups = db::stats::open_groups(&state.db, teams).await?;
    let closings = db::stats::closings(&state.db, teams).await?;
    let days = db::stats::filed_per_day(&state.db, teams).await?;
    let open = OpenTotals {
        count: groups.iter().map(|g| g.count).sum(),
        overdue: groups.iter().map(|g| g.overdue).sum(),
    };
    Ok(Json(Dashboard {
        window_days: db::stats::WINDOW_DAYS,
        open,
        open_groups: groups
            .into_iter()
            .map(|g| OpenGroup {
                team: g.team,
                phase: g.phase,
                demarche: g.demarche,
                count: g.count,
                overdue: g.overdue,
            })
            .collect(),
        closed: ClosedStats {
            count: closings.closed,
            median_hours_to_close: closings.median_hours.map(|h| (h * 10.0).round() / 10.0),
            sla_kept_percent: (closings.with_sla > 0).then(|| {
                (closings.within_sla as f64 * 1000.0 / closings.with_sla as f64).round() / 10.0
            }),
        },
        filed_per_day: days
            .into_iter()
            .map(|d| DayCount {
                date: d.day.to_string(),
                count: d.count,
            })
            .collect(),
    }))
}
