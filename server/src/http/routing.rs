//! `/api/v1/admin/routing-rules`: which team gets which démarche in which zone. The first
//! rule matching démarche × zone wins (lowest priority value, then the most specific); a rule
//! without démarche or zone matches any. Admins only.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use guichet_shared::validation::FieldError;
use serde::Deserialize;

use super::auth::require_admin;
use super::body::Created;
use super::extract::Path;
use super::{ApiError, body};
use crate::auth::Agent;
use crate::db::{self, routing::RuleRow};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/v1/admin/routing-rules",
    tag = "administration",
    summary = "Les règles de routage",
    responses(
        (status = 200, description = "Every rule", body = Vec<RuleRow>),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn list(
    State(state): State<AppState>,
    agent: Agent,
) -> Result<Json<Vec<RuleRow>>, ApiError> {
    require_admin(&agent)?;
    Ok(Json(db::routing::list(&state.db).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"demarche": "voirie", "zone": "commune:35238", "team": "voirie", "priority": 10}))]
pub struct NewRule {
    #[serde(default)]
    demarche: Option<String>,
    #[serde(default)]
    zone: Option<String>,
    team: String,
    #[serde(default = "default_priority")]
    priority: i32,
}

fn default_priority() -> i32 {
    100
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/routing-rules",
    tag = "administration",
    summary = "Ajouter ou remplacer une règle de routage",
    request_body = NewRule,
    responses(
        (status = 201, description = "The rule's id", body = Created),
        (status = 422, description = "`unknown-demarche`, `unknown-zone`, `unknown-team`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn create(
    State(state): State<AppState>,
    agent: Agent,
    req: Request,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    require_admin(&agent)?;
    let b: NewRule = body::json(req).await?;
    let r =
        db::routing::resolve(&state.db, b.demarche.as_deref(), b.zone.as_deref(), &b.team).await?;
    let mut errors = Vec::new();
    if !r.demarche_ok {
        errors.push(FieldError::new(
            "demarche",
            "unknown-demarche",
            "no démarche has this code",
        ));
    }
    if b.zone.is_some() && r.zone_id.is_none() {
        errors.push(FieldError::new(
            "zone",
            "unknown-zone",
            "no zone has this code",
        ));
    }
    if r.team_id.is_none() {
        errors.push(FieldError::new(
            "team",
            "unknown-team",
            "no team has this code",
        ));
    }
    if !(0..=10_000).contains(&b.priority) {
        errors.push(FieldError::new(
            "priority",
            "out-of-range",
            "priority is between 0 and 10000",
        ));
    }
    let Some(team_id) = r.team_id.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let id = db::routing::upsert(
        &state.db,
        b.demarche.as_deref(),
        r.zone_id,
        team_id,
        b.priority,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(
    delete,
    path = "/api/v1/admin/routing-rules/{id}",
    tag = "administration",
    summary = "Supprimer une règle de routage",
    params(("id" = i64, Path, description = "The rule's id")),
    responses(
        (status = 204, description = "Fait"),
        (status = 404, description = "`rule-not-found`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn delete(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    require_admin(&agent)?;
    if db::routing::delete(&state.db, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(
            "rule-not-found",
            "No routing rule has this id.",
        ))
    }
}
