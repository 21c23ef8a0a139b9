//! `GET /api/v1/catalogue`: every active démarche at its current revision.
//! `GET /api/v1/catalogue/{code}`: one démarche with everything a client needs to render and
//! check its form: fields, the statuses of its workflow, channels, auth policy, SLA and the
//! privacy notice of the processing.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use guichet_shared::api::{Catalogue, CatalogueEntry};
use guichet_shared::phase::{Outcome, Phase};
use guichet_shared::workflow::template;
use serde::Serialize;

use super::ApiError;
use super::extract::Path;
use crate::db;
use crate::pipeline::form;
use crate::state::AppState;

/// One démarche as a client renders and checks its form.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DemarcheDetail {
    /// The catalogue's fields (`title_en` among them).
    #[serde(flatten)]
    entry: CatalogueEntry,
    sla_days: Option<i32>,
    /// Absent for a workflow this version does not know.
    workflow: Option<WorkflowView>,
    /// `{"fields": [...]}`: see docs/api.md for the kinds and rules of a field.
    #[schema(value_type = Object)]
    form: serde_json::Value,
    /// What the citizen is told before filing (GDPR art. 13): `controller`, `legal_basis`,
    /// `retention`, `recipients`, `rights` (each with its `_en`), and the periods behind
    /// `retention` in days (`retention_days`, `files_retention_days`); the purpose is
    /// `description`.
    #[schema(value_type = Option<Object>)]
    privacy: Option<serde_json::Value>,
    submit: SubmitHint,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WorkflowView {
    code: &'static str,
    initial: &'static str,
    statuses: Vec<StatusView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StatusView {
    status: &'static str,
    phase: Phase,
    outcome: Option<Outcome>,
    label: &'static str,
    label_en: &'static str,
}

/// How to file a request of this démarche.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SubmitHint {
    url: &'static str,
    /// The shape of the JSON body.
    #[schema(value_type = Object)]
    json: serde_json::Value,
    multipart: &'static str,
}

#[utoipa::path(
    get,
    path = "/api/v1/catalogue",
    tag = "catalogue",
    summary = "Les démarches actives",
    responses(
        (status = 200, description = "Every active démarche at its current revision (cached 60 s)", body = Catalogue),
    ),
    security(()),
)]
pub async fn list(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let demarches = db::catalogue::list(&state.db).await?;
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=60")],
        Json(Catalogue { demarches }),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/catalogue/{code}",
    tag = "catalogue",
    summary = "Une démarche et son formulaire",
    params(("code" = String, Path, description = "The démarche's code, `voirie`")),
    responses(
        (status = 200, description = "The catalogue entry with its form, workflow and SLA", body = DemarcheDetail),
        (status = 404, description = "`demarche-not-found`"),
    ),
    security(()),
)]
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
    let workflow = template(&d.workflow).map(|t| WorkflowView {
        code: t.code,
        initial: t.initial,
        statuses: t
            .statuses
            .iter()
            .map(|s| StatusView {
                status: s.name,
                phase: s.phase,
                outcome: s.outcome,
                label: s.label_fr,
                label_en: s.label_en,
            })
            .collect(),
    });
    let body = DemarcheDetail {
        entry,
        sla_days: d.sla_days,
        workflow,
        form: serde_json::to_value(&form).map_err(|e| ApiError::internal(&e))?,
        privacy: d.privacy.clone(),
        submit: SubmitHint {
            url: "/api/v1/requests",
            json: serde_json::json!({
                "client_id": "uuid", "demarche": d.code, "data": {}, "contact": {}, "channel": "web",
            }),
            multipart: "the same JSON in a part named `request`, one part per file named after its field",
        },
    };
    Ok(([(header::CACHE_CONTROL, "public, max-age=60")], Json(body)))
}
