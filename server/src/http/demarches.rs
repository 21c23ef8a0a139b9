//! `/api/v1/admin/demarches/{code}`: admins read and edit a démarche (title, channels, auth,
//! SLA, dedup, workflow, form…). A change makes a new revision; requests keep the revision
//! they were filed under, so their form and labels never change behind them. What `GET` gives
//! is what `PUT` takes: an edit starts from the whole stored entry, so that nothing the
//! public catalogue leaves out (a dedup window or group) is lost by saving.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use guichet_shared::validation::FieldError;
use serde::Serialize;

use super::auth::require_admin;
use super::extract::Path;
use super::{ApiError, body};
use crate::auth::Agent;
use crate::db::{self, DbError, catalogue::RevisionRow};
use crate::state::AppState;

/// Takes the whole entry, as in `assets/catalogue.json` (its `form` inline).
#[derive(Serialize, utoipa::ToSchema)]
pub struct DemarcheSaved {
    code: String,
    revision: i32,
    /// False when the entry was the same as its current revision.
    changed: bool,
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/demarches/{code}",
    tag = "administration",
    summary = "Une démarche telle qu'elle est enregistrée (ce que PUT reprend)",
    params(("code" = String, Path, description = "The démarche's code")),
    responses(
        (status = 200, description = "The current revision's entry, as in `assets/catalogue.json` with its `form` and `privacy` inline", body = Object),
        (status = 404, description = "`demarche-not-found`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn get(
    State(state): State<AppState>,
    agent: Agent,
    Path(code): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_admin(&agent)?;
    db::catalogue::current_definition(&state.db, &code)
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::not_found(
                "demarche-not-found",
                format!("no démarche has the code {code:?}"),
            )
        })
}

#[utoipa::path(
    put,
    path = "/api/v1/admin/demarches/{code}",
    tag = "administration",
    summary = "Créer ou modifier une démarche (nouvelle révision)",
    params(("code" = String, Path, description = "The démarche's code")),
    request_body(content = Object, description = "The whole entry, as in `assets/catalogue.json`"),
    responses(
        (status = 201, description = "A new démarche", body = DemarcheSaved),
        (status = 200, description = "A new revision, or nothing changed", body = DemarcheSaved),
        (status = 422, description = "`unknown-workflow`, `invalid-form`, `unknown-channel`, `unknown-group`, `unknown-team`, `code-mismatch`…"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn put(
    State(state): State<AppState>,
    agent: Agent,
    Path(code): Path<String>,
    req: Request,
) -> Result<(StatusCode, Json<DemarcheSaved>), ApiError> {
    require_admin(&agent)?;
    let mut definition: serde_json::Value = body::json(req).await?;
    let Some(object) = definition.as_object_mut() else {
        return Err(ApiError::validation(vec![FieldError::new(
            "body",
            "invalid-type",
            "a démarche is a JSON object",
        )]));
    };
    match object.get("code") {
        None => {
            object.insert("code".to_owned(), code.clone().into());
        }
        Some(c) if c.as_str() == Some(code.as_str()) => {}
        Some(_) => {
            return Err(ApiError::validation(vec![FieldError::new(
                "code",
                "code-mismatch",
                "the body's code differs from the URL's",
            )]));
        }
    }
    let (entry, definition) = crate::catalogue::prepare(
        &serde_json::Map::new(),
        &serde_json::Map::new(),
        &definition,
    )
    .map_err(ApiError::validation)?;
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    let target =
        db::catalogue::edit_target(&mut tx, &entry.code, &entry.group, &entry.team).await?;
    let mut errors = Vec::new();
    if !target.group_exists {
        errors.push(FieldError::new(
            "group",
            "unknown-group",
            "no démarche group has this code",
        ));
    }
    let Some(team_id) = target.team_id else {
        errors.push(FieldError::new(
            "team",
            "unknown-team",
            "no team has this code",
        ));
        return Err(ApiError::validation(errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let revision =
        crate::catalogue::store(&mut tx, &entry, &definition, target.position, team_id).await?;
    tx.commit().await.map_err(DbError::from)?;
    let status = match target.current_revision {
        None => StatusCode::CREATED,
        Some(_) => StatusCode::OK,
    };
    Ok((
        status,
        Json(DemarcheSaved {
            changed: target.current_revision != Some(revision),
            code: entry.code,
            revision,
        }),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/demarches/{code}/revisions",
    tag = "administration",
    summary = "Les révisions d'une démarche",
    params(("code" = String, Path, description = "The démarche's code")),
    responses(
        (status = 200, description = "Every revision", body = Vec<RevisionRow>),
        (status = 404, description = "`demarche-not-found`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn revisions(
    State(state): State<AppState>,
    agent: Agent,
    Path(code): Path<String>,
) -> Result<Json<Vec<RevisionRow>>, ApiError> {
    require_admin(&agent)?;
    let rows = db::catalogue::revisions(&state.db, &code).await?;
    if rows.is_empty() {
        return Err(ApiError::not_found(
            "demarche-not-found",
            format!("no démarche has the code {code:?}"),
        ));
    }
    Ok(Json(rows))
}
