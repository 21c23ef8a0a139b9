//! `GET /api/v1/catalogue`: every active démarche at its current revision.
//! `GET /api/v1/catalogue/{code}`: one démarche with everything a client needs to render and
//! check its form: fields, the statuses of its workflow, channels, auth policy and SLA.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use guichet_shared::api::Catalogue;
use guichet_shared::workflow::template;

use super::ApiError;
use crate::db;
use crate::pipeline::form;
use crate::state::AppState;

pub async fn list(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let demarches = db::catalogue::list(&state.db).await?;
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=60")],
        Json(Catalogue { demarches }),
    ))
}

pub async fn one(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let entry = db::catalogue::entry(&state.db, &code)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "demarche-not-found",
                format!("no démarche has the code {code:?}"),
            )
        })?;
    let d = db::catalogue::find_for_intake(&state.db, &code)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "demarche-not-found",
                format!("no démarche has the code {code:?}"),
            )
        })?;
    let form = form::parse(&d.code, d.form.as_ref())?;
    let workflow = template(&d.workflow).map(|t| {
        serde_json::json!({
            "code": t.code,
            "initial": t.initial,
            "statuses": t.statuses.iter().map(|s| serde_json::json!({
                "status": s.name, "phase": s.phase, "outcome": s.outcome,
                "label": s.label_fr, "label_en": s.label_en,
            })).collect::<Vec<_>>(),
        })
    });
    let mut body = serde_json::to_value(&entry).map_err(|e| ApiError::internal(&e))?;
    body["title_en"] = serde_json::json!(d.title_en);
    body["sla_days"] = serde_json::json!(d.sla_days);
    body["workflow"] = serde_json::json!(workflow);
    body["form"] = serde_json::to_value(&form).map_err(|e| ApiError::internal(&e))?;
    body["submit"] = serde_json::json!({
        "url": "/api/v1/requests",
        "json": { "client_id": "uuid", "demarche": d.code, "data": {}, "contact": {}, "channel": "web" },
        "multipart": "the same JSON in a part named `request`, one part per file named after its field",
    });
    Ok(([(header::CACHE_CONTROL, "public, max-age=60")], Json(body)))
}
