//! The citizen space: accounts (e-mail + password, e-mail verification), sessions, and
//! "my requests" with their public timeline. Filing without an account stays possible for
//! démarches that allow it, with the tracking code instead.

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use guichet_shared::api::PublicRequest;
use guichet_shared::phase::{Lang, Phase};
use guichet_shared::validation::{FieldError, is_plausible_email};
use guichet_shared::workflow::template;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::auth::{AuthCitizen, SessionView, bad_credentials, bearer_token};
use super::body::lang_of;
use super::{ApiError, body};
use crate::auth::{self, CITIZEN_SESSION, VERIFICATION_VALIDITY};
use crate::db::{self, DbError};
use crate::notify;
use crate::pipeline::public_view;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Register {
    email: String,
    password: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    lang: Option<String>,
}

#[derive(Serialize)]
pub struct CitizenView {
    id: i64,
    email: String,
    name: String,
    lang: String,
    email_verified: bool,
}

impl From<db::accounts::CitizenRow> for CitizenView {
    fn from(c: db::accounts::CitizenRow) -> Self {
        Self {
            id: c.id,
            email: c.email,
            name: c.name,
            lang: c.lang,
            email_verified: c.email_verified_at.is_some(),
        }
    }
}

pub fn check_password(errors: &mut Vec<FieldError>, password: &str) {
    let n = password.chars().count();
    if n < auth::MIN_PASSWORD_CHARS {
        errors.push(FieldError::new(
            "password",
            "too-short",
            format!(
                "a password has at least {} characters",
                auth::MIN_PASSWORD_CHARS
            ),
        ));
    } else if n > auth::MAX_PASSWORD_CHARS {
        errors.push(FieldError::new(
            "password",
            "too-long",
            format!(
                "a password has at most {} characters",
                auth::MAX_PASSWORD_CHARS
            ),
        ));
    }
}

/// Creates an account and e-mails a verification link. An address that already has an
/// account gets the same answer (and no second account), so addresses cannot be probed.
pub async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: Request,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let b: Register = body::json(req, &state).await?;
    let mut errors = Vec::new();
    let email = b.email.trim().to_lowercase();
    if !is_plausible_email(&email) {
        errors.push(FieldError::new(
            "email",
            "invalid-email",
            "this is not an e-mail address",
        ));
    }
    check_password(&mut errors, &b.password);
    if b.name.chars().count() > 200 {
        errors.push(FieldError::new(
            "name",
            "too-long",
            "a name has at most 200 characters",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let lang = b
        .lang
        .as_deref()
        .map_or_else(|| lang_of(&headers), Lang::parse);
    let hash = auth::hash_password(&b.password).map_err(|e| ApiError::internal(&e))?;
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    if let Some(id) =
        db::accounts::insert_citizen(&mut tx, &email, b.name.trim(), lang.as_str(), &hash).await?
    {
        send_verification(&mut tx, &state, id, &email, lang).await?;
    }
    tx.commit().await.map_err(DbError::from)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({
            "email": email,
            "detail": "a verification link was sent to this address",
        })),
    ))
}

#[derive(Deserialize)]
pub struct VerifyQuery {
    token: Option<String>,
}

pub async fn verify(
    State(state): State<AppState>,
    Query(q): Query<VerifyQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let token = q.token.unwrap_or_default();
    let invalid = || {
        ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-token",
            "Invalid or expired link",
            "token",
            "this verification link is unknown, already used or expired; ask for a new one with POST /api/v1/citizen/verify/resend",
        )
    };
    if token.is_empty() || token.len() > 128 {
        return Err(invalid());
    }
    db::accounts::use_verification(&state.db, &auth::token_digest(&token))
        .await?
        .ok_or_else(invalid)?;
    Ok(Json(serde_json::json!({ "email_verified": true })))
}

/// A new single-use verification link, e-mailed in the caller's transaction.
async fn send_verification(
    tx: &mut sqlx::PgConnection,
    state: &AppState,
    citizen_id: i64,
    email: &str,
    lang: Lang,
) -> Result<(), DbError> {
    let (token, digest) = auth::new_token();
    let expires = OffsetDateTime::now_utc() + VERIFICATION_VALIDITY;
    db::accounts::insert_verification(tx, citizen_id, &digest, expires).await?;
    notify::verification_email(tx, &state.config.notify, email, lang, &token).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resend {
    email: String,
}

/// A new verification link for an account not verified yet. The answer is the same whether
/// or not the address has such an account.
pub async fn resend(
    State(state): State<AppState>,
    req: Request,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let b: Resend = body::json(req, &state).await?;
    let email = b.email.trim().to_lowercase();
    if !is_plausible_email(&email) {
        return Err(ApiError::validation(vec![FieldError::new(
            "email",
            "invalid-email",
            "this is not an e-mail address",
        )]));
    }
    if let Some(c) = db::accounts::citizen_by_email(&state.db, &email)
        .await?
        .filter(|c| c.email_verified_at.is_none())
    {
        let mut tx = state.db.begin().await.map_err(DbError::from)?;
        send_verification(&mut tx, &state, c.id, &email, Lang::parse(&c.lang)).await?;
        tx.commit().await.map_err(DbError::from)?;
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({
            "email": email,
            "detail": "if this address has an account waiting for verification, a new link was sent",
        })),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    email: String,
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    req: Request,
) -> Result<Json<SessionView<CitizenView>>, ApiError> {
    let b: Login = body::json(req, &state).await?;
    let citizen = db::accounts::citizen_by_email(&state.db, b.email.trim()).await?;
    let stored = citizen
        .as_ref()
        .map_or(auth::dummy_hash(), |c| c.password_hash.as_str())
        .to_owned();
    let password = b.password;
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &stored))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let citizen = citizen.filter(|_| ok).ok_or_else(bad_credentials)?;
    let (token, digest) = auth::new_token();
    let expires_at = OffsetDateTime::now_utc() + CITIZEN_SESSION;
    db::accounts::create_citizen_session(&state.db, citizen.id, &digest, expires_at).await?;
    Ok(Json(SessionView {
        token,
        expires_at,
        who: citizen.into(),
    }))
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    if let Some(token) = bearer_token(&headers) {
        db::accounts::delete_session(&state.db, &auth::token_digest(token)).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

pub async fn me(AuthCitizen(c): AuthCitizen) -> Json<CitizenView> {
    Json(c.into())
}

#[derive(Serialize)]
pub struct MyRequest {
    number: String,
    tracking_code: String,
    demarche: String,
    demarche_title: String,
    status_label: String,
    phase: Phase,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

pub async fn my_requests(
    State(state): State<AppState>,
    AuthCitizen(c): AuthCitizen,
    headers: HeaderMap,
) -> Result<Json<Vec<MyRequest>>, ApiError> {
    let lang = lang_of(&headers);
    let rows = db::requests::of_citizen(&state.db, c.id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| {
                let phase = r.phase;
                let status_label = template(&r.workflow)
                    .and_then(|t| t.status(&r.status))
                    .map_or_else(|| phase.label(lang), |s| s.label(lang))
                    .to_owned();
                MyRequest {
                    number: r.number,
                    tracking_code: r.tracking_code,
                    demarche: r.demarche_code,
                    demarche_title: r.demarche_title,
                    status_label,
                    phase,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                }
            })
            .collect(),
    ))
}

pub async fn my_request(
    State(state): State<AppState>,
    AuthCitizen(c): AuthCitizen,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> Result<Json<PublicRequest>, ApiError> {
    let row = db::requests::by_number(&state.db, &number)
        .await?
        .filter(|r| r.citizen_id == Some(c.id))
        .ok_or_else(|| {
            ApiError::not_found("request-not-found", "You have no request with this number.")
        })?;
    Ok(Json(public_view::of(&state, row, lang_of(&headers)).await?))
}
