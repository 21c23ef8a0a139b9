//! `GET/PUT /api/v1/agent/preferences`: what an agent chose for themself (for now, the morning
//! digest of their "for me" view).

use axum::Json;
use axum::extract::{Request, State};
use serde::{Deserialize, Serialize};

use super::{ApiError, body};
use crate::auth::Agent;
use crate::db;
use crate::state::AppState;

#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"daily_digest": true}))]
pub struct Preferences {
    daily_digest: bool,
}

#[utoipa::path(
    get,
    path = "/api/v1/agent/preferences",
    tag = "agents",
    summary = "Mes préférences",
    responses(
        (status = 200, description = "My choices", body = Preferences),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn get(
    State(state): State<AppState>,
    agent: Agent,
) -> Result<Json<Preferences>, ApiError> {
    Ok(Json(Preferences {
        daily_digest: db::digest::wants_digest(&state.db, agent.id).await?,
    }))
}

#[utoipa::path(
    put,
    path = "/api/v1/agent/preferences",
    tag = "agents",
    summary = "Changer mes préférences",
    request_body = Preferences,
    responses(
        (status = 200, description = "My choices", body = Preferences),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn put(
    State(state): State<AppState>,
    agent: Agent,
    req: Request,
) -> Result<Json<Preferences>, ApiError> {
    let p: Preferences = body::json(req).await?;
    db::digest::set_digest(&state.db, agent.id, p.daily_digest).await?;
    Ok(Json(p))
}
