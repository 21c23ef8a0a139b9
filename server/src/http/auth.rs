//! Who is calling: agents and citizens authenticate with `Authorization: Bearer <token>`.
//! The extractors here load the caller once per request (the agent as `crate::auth::Agent`);
//! handlers then check roles and teams.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::Serialize;
use time::OffsetDateTime;

use super::ApiError;
use crate::auth::{Agent, token_digest};
use crate::db::{self, accounts::CitizenRow};
use crate::state::AppState;

/// An admin's action: anyone else gets 403.
pub fn require_admin(agent: &Agent) -> Result<(), ApiError> {
    if agent.is_admin() {
        Ok(())
    } else {
        Err(forbidden("this needs the admin role"))
    }
}

pub fn forbidden(detail: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
}

fn unauthenticated(detail: &str) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "Authentication required",
        detail,
    );
    e.www_authenticate = true;
    e
}

/// The answer to a login: the bearer token and who it belongs to.
#[derive(Serialize)]
pub struct SessionView<T> {
    pub token: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(flatten)]
    pub who: T,
}

pub fn bad_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid-credentials",
        "Wrong e-mail or password",
        "the e-mail address or the password is wrong",
    )
}

/// The bearer token of the request, if any.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for Agent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers)
            .ok_or_else(|| unauthenticated("log in with POST /api/v1/agent/login first"))?;
        let row = db::accounts::agent_by_session(&state.db, &token_digest(token))
            .await?
            .ok_or_else(|| unauthenticated("the session is unknown or has expired"))?;
        Ok(Agent::try_from(row)?)
    }
}

/// An authenticated citizen.
#[derive(Debug, Clone)]
pub struct AuthCitizen(pub CitizenRow);

impl FromRequestParts<AppState> for AuthCitizen {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match MaybeCitizen::from_request_parts(parts, state).await? {
            MaybeCitizen(Some(c)) => Ok(AuthCitizen(c)),
            MaybeCitizen(None) => Err(unauthenticated(
                "log in with POST /api/v1/citizen/login first",
            )),
        }
    }
}

/// A citizen when a token is given, nobody otherwise (anonymous filing). A token that is
/// given but unknown is refused rather than silently ignored.
#[derive(Debug, Clone)]
pub struct MaybeCitizen(pub Option<CitizenRow>);

impl FromRequestParts<AppState> for MaybeCitizen {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(token) = bearer_token(&parts.headers) else {
            return Ok(MaybeCitizen(None));
        };
        let row = db::accounts::citizen_by_session(&state.db, &token_digest(token))
            .await?
            .ok_or_else(|| unauthenticated("the session is unknown or has expired"))?;
        Ok(MaybeCitizen(Some(row)))
    }
}
