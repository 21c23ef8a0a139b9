//! `/api/v1/admin/agents`: admins create agents (or update one by e-mail: name, role, teams,
//! password), list them, deactivate or reactivate them, and remove a second factor. Each of
//! these but a reactivation ends the agent's sessions at once.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;

use super::auth::require_admin;
use super::body::Created;
use super::extract::Path;
use super::{ApiError, body};
use crate::agents::{self, AgentInput, SaveError};
use crate::auth::Agent;
use crate::db::{self, accounts::AgentSummary};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/v1/admin/agents",
    tag = "administration",
    summary = "Les agents",
    responses(
        (status = 200, description = "Every agent", body = Vec<AgentSummary>),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn list(
    State(state): State<AppState>,
    agent: Agent,
) -> Result<Json<Vec<AgentSummary>>, ApiError> {
    require_admin(&agent)?;
    Ok(Json(db::accounts::list_agents(&state.db).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/agents",
    tag = "administration",
    summary = "Créer un agent, ou modifier celui de cette adresse",
    request_body = AgentInput,
    responses(
        (status = 200, description = "The agent's id", body = Created),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn save(
    State(state): State<AppState>,
    agent: Agent,
    req: Request,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    require_admin(&agent)?;
    let input: AgentInput = body::json(req).await?;
    match agents::save(&state.db, &state.hasher, &input).await {
        Ok(id) => Ok((StatusCode::OK, Json(Created { id }))),
        Err(SaveError::Invalid(errors)) => Err(ApiError::validation(errors)),
        Err(SaveError::Db(e)) => Err(e.into()),
    }
}

/// `POST /admin/agents/{id}/deactivate`: the agent can no longer log in, and their sessions
/// end now. An admin cannot deactivate themselves (someone must stay to reactivate).
#[utoipa::path(
    post,
    path = "/api/v1/admin/agents/{id}/deactivate",
    tag = "administration",
    summary = "Désactiver un agent",
    params(("id" = i64, Path, description = "The agent's id")),
    responses(
        (status = 204, description = "Fait"),
        (status = 404, description = "`agent-not-found`"),
        (status = 409, description = "`cannot-deactivate-self`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn deactivate(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    require_admin(&agent)?;
    let id = parse_id(&id)?;
    if id == agent.id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "cannot-deactivate-self",
            "You cannot deactivate yourself",
            "ask another admin to deactivate your account",
        ));
    }
    set_active(&state, id, false).await
}

/// `POST /admin/agents/{id}/activate`: the agent may log in again.
#[utoipa::path(
    post,
    path = "/api/v1/admin/agents/{id}/activate",
    tag = "administration",
    summary = "Réactiver un agent",
    params(("id" = i64, Path, description = "The agent's id")),
    responses(
        (status = 204, description = "Fait"),
        (status = 404, description = "`agent-not-found`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn activate(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    require_admin(&agent)?;
    set_active(&state, parse_id(&id)?, true).await
}

/// `POST /admin/agents/{id}/totp/reset`: removes an agent's second factor (a lost phone) and
/// ends their sessions; they enrol a new one at their next login.
#[utoipa::path(
    post,
    path = "/api/v1/admin/agents/{id}/totp/reset",
    tag = "administration",
    summary = "Retirer le second facteur d'un agent",
    params(("id" = i64, Path, description = "The agent's id")),
    responses(
        (status = 204, description = "Fait"),
        (status = 404, description = "`agent-not-found`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn reset_second_factor(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    require_admin(&agent)?;
    let id = parse_id(&id)?;
    if db::accounts::reset_totp(&state.db, id).await? {
        tracing::info!(agent = id, admin = agent.id, "second factor removed");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found())
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("agent-not-found", "No agent has this id.")
}

/// Ids are positive integers; anything else names no agent.
fn parse_id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(not_found)
}

async fn set_active(state: &AppState, id: i64, active: bool) -> Result<StatusCode, ApiError> {
    if db::accounts::set_agent_active(&state.db, id, active).await? {
        tracing::info!(agent = id, active, "agent account (de)activated");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found())
    }
}
