//! `/api/v1/admin/agents`: admins create agents (or update one by e-mail: name, role, teams,
//! password) and list them.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;

use super::auth::require_admin;
use super::{ApiError, body};
use crate::agents::{self, AgentInput, SaveError};
use crate::auth::Agent;
use crate::db::{self, accounts::AgentSummary};
use crate::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    agent: Agent,
) -> Result<Json<Vec<AgentSummary>>, ApiError> {
    require_admin(&agent)?;
    Ok(Json(db::accounts::list_agents(&state.db).await?))
}

pub async fn save(
    State(state): State<AppState>,
    agent: Agent,
    req: Request,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    require_admin(&agent)?;
    let input: AgentInput = body::json(req, &state).await?;
    match agents::save(&state.db, &input).await {
        Ok(id) => Ok((StatusCode::OK, Json(serde_json::json!({ "id": id })))),
        Err(SaveError::Invalid(errors)) => Err(ApiError::validation(errors)),
        Err(SaveError::Db(e)) => Err(e.into()),
    }
}
