//! Requests as citizens and integrators see them:
//! - `POST /api/v1/requests`: file a request of any démarche (JSON, or multipart with the JSON
//!   in a `request` part and files named after their form field); idempotent by `client_id`;
//! - `GET /api/v1/requests/{number}?tracking_code=…`: the public view, for whoever holds the
//!   tracking code (without it, the same 404 as an unknown number, so numbers cannot be probed);
//! - `POST …/{number}/messages`, `…/complement`, `…/withdraw`: the citizen's side of the
//!   conversation, authorised by the tracking code or the citizen's session.

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use guichet_shared::api::PublicRequest;
use serde::Deserialize;

use super::auth::MaybeCitizen;
use super::body::{MAX_FILES, lang_of, submitted};
use super::{ApiError, body};
use crate::db::{self, requests::RequestRow};
use crate::pipeline::admit::Origin;
use crate::pipeline::open::{canonical_tracking_code, tracking_code_matches};
use crate::pipeline::submit::{self, RequestSubmission};
use crate::pipeline::{actions, public_view};
use crate::state::AppState;

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

#[derive(Deserialize)]
pub struct TrackingQuery {
    tracking_code: Option<String>,
}

fn not_found() -> ApiError {
    ApiError::not_found(
        "request-not-found",
        "No request matches this number and tracking code.",
    )
}

/// What the caller wants to do with a request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Follow it: its filer, and anyone who reported or supported the same incident.
    Read,
    /// Act on it (message, complement, withdraw): its filer only.
    Act,
}

/// The request if the caller may use it this way: with the request's tracking code, through
/// the account that filed it, or (to read) with the code of one of its reports. Anything else
/// is the same 404 as an unknown number.
async fn authorised(
    state: &AppState,
    number: &str,
    tracking_code: Option<&str>,
    citizen: &MaybeCitizen,
    access: Access,
) -> Result<RequestRow, ApiError> {
    let given = tracking_code.unwrap_or_default();
    if number.len() > 32 || number.contains('\0') || given.len() > 64 {
        return Err(not_found());
    }
    let row = db::requests::by_number(&state.db, number)
        .await?
        .ok_or_else(not_found)?;
    let by_code = !given.is_empty() && tracking_code_matches(given, &row.tracking_code);
    let by_account = citizen
        .0
        .as_ref()
        .is_some_and(|c| row.citizen_id == Some(c.id));
    if by_code || by_account {
        return Ok(row);
    }
    if access == Access::Read
        && let Some(code) = canonical_tracking_code(given)
        && db::requests::report_code_exists(&state.db, row.id, &code).await?
    {
        return Ok(row);
    }
    Err(not_found())
}

pub async fn public_view(
    State(state): State<AppState>,
    Path(number): Path<String>,
    Query(query): Query<TrackingQuery>,
    citizen: MaybeCitizen,
    headers: HeaderMap,
) -> Result<Json<PublicRequest>, ApiError> {
    let row = authorised(
        &state,
        &number,
        query.tracking_code.as_deref(),
        &citizen,
        Access::Read,
    )
    .await?;
    Ok(Json(public_view::of(&state, row, lang_of(&headers)).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    #[serde(default)]
    tracking_code: Option<String>,
    message: String,
}

pub async fn message(
    State(state): State<AppState>,
    Path(number): Path<String>,
    citizen: MaybeCitizen,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let b: MessageBody = body::json(req, &state).await?;
    authorised(
        &state,
        &number,
        b.tracking_code.as_deref(),
        &citizen,
        Access::Act,
    )
    .await?;
    actions::citizen_message(&state, &number, &b.message).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
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
    authorised(
        &state,
        &number,
        b.tracking_code.as_deref(),
        &citizen,
        Access::Act,
    )
    .await?;
    actions::answer_complement(&state, &number, &b.data, files, b.message.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithdrawBody {
    #[serde(default)]
    tracking_code: Option<String>,
}

pub async fn withdraw(
    State(state): State<AppState>,
    Path(number): Path<String>,
    citizen: MaybeCitizen,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let b: WithdrawBody = body::json(req, &state).await?;
    authorised(
        &state,
        &number,
        b.tracking_code.as_deref(),
        &citizen,
        Access::Act,
    )
    .await?;
    actions::withdraw(&state, &number).await?;
    Ok(StatusCode::NO_CONTENT)
}
