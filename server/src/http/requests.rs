//! Requests as citizens and integrators see them:
//! - `POST /api/v1/requests`: file a request of any démarche (JSON, or multipart with the JSON
//!   in a `request` part and files named after their form field); idempotent by `client_id`;
//! - `GET /api/v1/requests/{number}?tracking_code=…` (or `?follow=…`, a notice's follow link):
//!   the public view, the filer's or a follower's, for whoever holds a code or a follow token
//!   of it (without one, the same 404 as an unknown number, so numbers cannot be probed);
//! - `POST …/{number}/messages`, `…/complement`, `…/withdraw`: the citizen's side of the
//!   conversation, authorised by the filer's tracking code or the filer's session only.
//!
//! Who may do what is `pipeline::access`.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use guichet_shared::api::PublicRequest;
use serde::Deserialize;

use super::auth::MaybeCitizen;
use super::body::{MAX_FILES, Upload, lang_of, submitted};
use super::extract::{Path, Query};
use super::{ApiError, body, pages};
use crate::db::requests::RequestRow;
use crate::pipeline::access::{self, Credentials, Grant};
use crate::pipeline::admit::Origin;
use crate::pipeline::submit::{self, RequestSubmission};
use crate::pipeline::{Receipt, actions, public_view};
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/api/v1/requests",
    tag = "signalements",
    summary = "Déposer une demande (toute démarche)",
    request_body(content((RequestSubmission = "application/json"), (RequestForm = "multipart/form-data"))),
    responses(
        (status = 201, description = "Filed: the acknowledgement", body = Receipt, headers(("Location" = String, description = "Where the filer follows the request"))),
        (status = 200, description = "The same `client_id` again: the first answer unchanged, whichever filing route gave it", body = Receipt),
        (status = 401, description = "`account-required`, or an unknown or expired citizen token"),
        (status = 403, description = "`email-not-verified`"),
        (status = 422, description = "`validation-failed` (form rules in `errors`, with paths such as `data.items[1].quantity`), `unknown-demarche`, `unknown-channel`, `channel-not-offered`, `channel-reserved-for-agents`…"),
    ),
    security((), ("citizen_token" = [])),
)]
pub async fn file(
    State(state): State<AppState>,
    MaybeCitizen(citizen): MaybeCitizen,
    req: Request,
) -> Result<Response, ApiError> {
    let lang = lang_of(req.headers());
    let max_bytes = state.config.photos.max_bytes;
    let (sub, files) =
        body::json_with_files::<RequestSubmission>(req, &state, "request", max_bytes, MAX_FILES)
            .await?;
    let result = submit::submit(&state, sub, files, Origin::SelfService { citizen }, lang).await?;
    Ok(submitted(result))
}

/// A filing with files, as the OpenAPI document describes it: the JSON in a `request` part,
/// and one part per file, named after its form field (`cv`, `photos`…).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // the parts are read from the stream (`body::json_with_files`)
pub struct RequestForm {
    request: RequestSubmission,
}

/// An answer to a complement request with files: the JSON in an `answer` part, and one part
/// per file, named after its form field.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ComplementForm {
    answer: ComplementBody,
}

/// "Not fixed" with photos: the JSON in an `answer` part and up to
/// `GUICHET_PHOTO_MAX_COUNT` `photo` parts.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct NotFixedForm {
    answer: NotFixedBody,
    photo: Vec<Upload>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrackingQuery {
    tracking_code: Option<String>,
    follow: Option<String>,
}

fn not_found() -> ApiError {
    ApiError::not_found(
        "request-not-found",
        "No request matches this number and tracking code.",
    )
}

/// Refuses at once what cannot be a number, a code or a token.
fn plausible(number: &str, held: &[Option<&str>]) -> Result<(), ApiError> {
    let too_long = |s: &str| s.len() > 64 || s.contains('\0');
    if number.len() > 32 || number.contains('\0') || held.iter().flatten().any(|s| too_long(s)) {
        return Err(not_found());
    }
    Ok(())
}

/// The request if the caller may act on it (its filer's code or account); otherwise the same
/// 404 as an unknown number.
async fn filer_only(
    state: &AppState,
    number: &str,
    tracking_code: Option<&str>,
    citizen: &MaybeCitizen,
) -> Result<(), ApiError> {
    plausible(number, &[tracking_code])?;
    let creds = Credentials {
        tracking_code,
        follow: None,
        citizen_id: citizen.0.as_ref().map(|c| c.id),
    };
    access::to_act(&state.db, number, creds)
        .await?
        .map(|_| ())
        .ok_or_else(not_found)
}

/// The request and what the caller may read of it (its filer or a follower, by code, follow
/// token or account); otherwise the same 404 as an unknown number.
async fn reader(
    state: &AppState,
    number: &str,
    code: Option<&str>,
    follow: Option<&str>,
    citizen: &MaybeCitizen,
) -> Result<(RequestRow, Grant), ApiError> {
    plausible(number, &[code, follow])?;
    let creds = Credentials {
        tracking_code: code,
        follow,
        citizen_id: citizen.0.as_ref().map(|c| c.id),
    };
    let key = state.config.notify.follow_key.as_ref();
    access::to_read(&state.db, key, number, creds)
        .await?
        .ok_or_else(not_found)
}

#[utoipa::path(
    get,
    path = "/api/v1/requests/{number}",
    tag = "signalements",
    summary = "Suivre une demande",
    description = "Opens with the filer's or a follower's `tracking_code`, a `follow` token, or the filer's account.",
    params(("number" = String, Path, description = "Le numéro de la demande, `2026-SIG-000123`"), TrackingQuery),
    responses(
        (status = 200, description = "The filer's or a follower's view (`Cache-Control: no-store`)", body = PublicRequest),
        (status = 404, description = "`request-not-found`: unknown number, or no code, token or account of it"),
    ),
    security((), ("citizen_token" = [])),
)]
pub async fn public_view(
    State(state): State<AppState>,
    Path(number): Path<String>,
    Query(query): Query<TrackingQuery>,
    citizen: MaybeCitizen,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // A browser opening a follow link of an older e-mail gets the status page.
    if let Some(token) = query
        .follow
        .as_deref()
        .filter(|_| pages::wants_html(&headers))
    {
        let page = format!(
            "/suivi/{}?follow={}",
            crate::notify::encode_component(&number),
            crate::notify::encode_component(token)
        );
        let mut answer = StatusCode::SEE_OTHER.into_response();
        if let Ok(location) = HeaderValue::from_str(&page) {
            answer.headers_mut().insert(header::LOCATION, location);
        }
        return Ok(answer);
    }
    let (row, grant) = reader(
        &state,
        &number,
        query.tracking_code.as_deref(),
        query.follow.as_deref(),
        &citizen,
    )
    .await?;
    let view: PublicRequest = public_view::of(&state, row, lang_of(&headers), grant.reader).await?;
    // The address carried a code or a token: no cache keeps the answer.
    let mut answer = Json(view).into_response();
    answer
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(answer)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    #[serde(default)]
    tracking_code: Option<String>,
    message: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/requests/{number}/messages",
    tag = "signalements",
    summary = "Écrire au service",
    params(("number" = String, Path, description = "Le numéro de la demande, `2026-SIG-000123`")),
    request_body = MessageBody,
    responses(
        (status = 204, description = "Fait"),
        (status = 404, description = "`request-not-found`: anything but the filer's code or account"),
    ),
    security((), ("citizen_token" = [])),
)]
pub async fn message(
    State(state): State<AppState>,
    Path(number): Path<String>,
    citizen: MaybeCitizen,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let b: MessageBody = body::json(req).await?;
    filer_only(&state, &number, b.tracking_code.as_deref(), &citizen).await?;
    actions::citizen_message(&state, &number, &b.message).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ComplementAnswer)]
#[serde(deny_unknown_fields)]
pub struct ComplementBody {
    #[serde(default)]
    tracking_code: Option<String>,
    #[serde(default = "submit::empty_object")]
    data: serde_json::Value,
    #[serde(default)]
    message: Option<String>,
}

/// The citizen's answer to a complement request (JSON, or multipart with an `answer` part).
#[utoipa::path(
    post,
    path = "/api/v1/requests/{number}/complement",
    tag = "signalements",
    summary = "Compléter sa demande",
    params(("number" = String, Path, description = "Le numéro de la demande, `2026-SIG-000123`")),
    request_body(content((ComplementBody = "application/json"), (ComplementForm = "multipart/form-data"))),
    responses(
        (status = 204, description = "Fait"),
        (status = 404, description = "`request-not-found`"),
        (status = 409, description = "`no-complement-requested`"),
        (status = 422, description = "`field-not-editable` and the form's rules"),
    ),
    security((), ("citizen_token" = [])),
)]
pub async fn complement(
    State(state): State<AppState>,
    Path(number): Path<String>,
    citizen: MaybeCitizen,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let max_bytes = state.config.photos.max_bytes;
    let (b, files) =
        body::json_with_files::<ComplementBody>(req, &state, "answer", max_bytes, MAX_FILES)
            .await?;
    filer_only(&state, &number, b.tracking_code.as_deref(), &citizen).await?;
    actions::answer_complement(&state, &number, &b.data, files, b.message.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawBody {
    #[serde(default)]
    tracking_code: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/requests/{number}/withdraw",
    tag = "signalements",
    summary = "Retirer sa demande",
    params(("number" = String, Path, description = "Le numéro de la demande, `2026-SIG-000123`")),
    request_body = WithdrawBody,
    responses(
        (status = 204, description = "Fait"),
        (status = 404, description = "`request-not-found`"),
        (status = 409, description = "`invalid-transition`: the workflow does not allow it now"),
    ),
    security((), ("citizen_token" = [])),
)]
pub async fn withdraw(
    State(state): State<AppState>,
    Path(number): Path<String>,
    citizen: MaybeCitizen,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let b: WithdrawBody = body::json(req).await?;
    filer_only(&state, &number, b.tracking_code.as_deref(), &citizen).await?;
    actions::withdraw(&state, &number).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotFixedBody {
    #[serde(default)]
    tracking_code: Option<String>,
    #[serde(default)]
    follow: Option<String>,
    /// What the reporter sees now, for the agents.
    #[serde(default)]
    message: Option<String>,
}

/// "Not fixed": any reporter of a request closed as resolved (filer, co-reporter or supporter,
/// by code, follow link or account) reopens it within 30 days; JSON, or multipart with the JSON
/// in an `answer` part and `photo` parts.
#[utoipa::path(
    post,
    path = "/api/v1/requests/{number}/not-fixed",
    tag = "signalements",
    summary = "Pas réparé : rouvrir une demande résolue",
    params(("number" = String, Path, description = "Le numéro de la demande, `2026-SIG-000123`")),
    request_body(content((NotFixedBody = "application/json"), (NotFixedForm = "multipart/form-data"))),
    responses(
        (status = 204, description = "Fait"),
        (status = 404, description = "`request-not-found`"),
        (status = 409, description = "`not-reopenable`"),
        (status = 415, description = "`unsupported-media-type`, `photo-unsupported-format`"),
    ),
    security((), ("citizen_token" = [])),
)]
pub async fn not_fixed(
    State(state): State<AppState>,
    Path(number): Path<String>,
    citizen: MaybeCitizen,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let (b, photos): (NotFixedBody, _) = body::json_with_photos(req, &state, "answer").await?;
    reader(
        &state,
        &number,
        b.tracking_code.as_deref(),
        b.follow.as_deref(),
        &citizen,
    )
    .await?;
    actions::not_fixed(&state, &number, b.message.as_deref(), photos).await?;
    Ok(StatusCode::NO_CONTENT)
}
