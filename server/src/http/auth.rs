//! Who is calling: agents and citizens authenticate with `Authorization: Bearer <token>`.
//! The extractors here load the caller once per request (the agent as `crate::auth::Agent`);
//! handlers then check roles and teams.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use guichet_shared::validation::FieldError;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ApiError;
use crate::accounts::Attempt;
use crate::auth::{ActionKey, Agent, token_digest};
use crate::db::{self, accounts::CitizenRow};
use crate::limits::{Key, Limit};
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
#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionView<T> {
    /// Absent when the session came as the back office's cookie (`X-Guichet-Session: cookie`).
    #[schema(required = false)]
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

/// The agent of the session, whatever they may do.
async fn session_agent(parts: &Parts, state: &AppState) -> Result<Agent, ApiError> {
    let token = bearer_token(&parts.headers)
        .ok_or_else(|| unauthenticated("log in with POST /api/v1/agent/login first"))?;
    let idle = state.config.accounts.agent_idle.as_secs_f64();
    let row = db::accounts::agent_by_session(&state.db, &token_digest(token), idle)
        .await?
        .ok_or_else(|| unauthenticated("the session is unknown or has expired"))?;
    // The audit trail names the agent of a traced call.
    if let Some(caller) = parts.extensions.get::<super::audit::Caller>() {
        caller.set(row.id, &row.email);
    }
    // Agents are limited per account: a city hall's agents share one address.
    super::limit::check(state, Limit::Agent, &Key::Agent(row.id))?;
    Ok(Agent::try_from(row)?)
}

/// An agent who may act: one who must enrol a second factor first (admins and supervisors in
/// production) gets 403 `second-factor-enrolment-required` everywhere but at
/// [`EnrollingAgent`]'s routes.
impl FromRequestParts<AppState> for Agent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let mut agent = session_agent(parts, state).await?;
        agent.action_key = action_key(parts)?;
        if agent.needs_second_factor(state.config.environment) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "second-factor-enrolment-required",
                "Enrol a second factor first",
                "admins and supervisors need a second factor: enrol one with POST /api/v1/agent/totp, then confirm it with POST /api/v1/agent/totp/confirm",
            ));
        }
        Ok(agent)
    }
}

/// The `Idempotency-Key` header of a state-changing call, if given.
fn action_key(parts: &Parts) -> Result<Option<ActionKey>, ApiError> {
    let Some(value) = parts.headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    if parts.method == Method::GET || parts.method == Method::HEAD {
        return Ok(None);
    }
    value
        .to_str()
        .ok()
        .and_then(|v| ActionKey::parse(v, parts.method.as_str(), parts.uri.path()))
        .map(Some)
        .ok_or_else(|| {
            ApiError::validation(vec![FieldError::new(
                IDEMPOTENCY_KEY,
                "invalid-idempotency-key",
                format!(
                    "the Idempotency-Key header holds 1 to {} visible ASCII characters, a UUID for example",
                    ActionKey::MAX_LEN
                ),
            )])
        })
}

/// The header that makes an agent's action count once (see `ActionKey`).
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Any agent with a live session, second factor or not: for the routes that let them enrol
/// one (and see who they are, and log out).
#[derive(Debug, Clone)]
pub struct EnrollingAgent(pub Agent);

impl FromRequestParts<AppState> for EnrollingAgent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(EnrollingAgent(session_agent(parts, state).await?))
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
        // The route's limit (set by `limit::guard`) counts for the account too.
        if let Some(limit) = parts.extensions.get::<Limit>().filter(|l| l.per_account()) {
            super::limit::check(state, *limit, &Key::Citizen(row.id))?;
        }
        Ok(MaybeCitizen(Some(row)))
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// The password asked again before a sensitive change (`field` names it in the error): a
/// wrong one counts as a failed login of the account from this address.
pub async fn check_password_again(
    state: &AppState,
    attempt: &Attempt,
    stored: &str,
    given: String,
    field: &str,
) -> Result<(), ApiError> {
    attempt.check(state).await?;
    if state.hasher.verify(given, stored.to_owned()).await {
        return Ok(());
    }
    attempt.failed(state).await?;
    Err(ApiError::field(
        StatusCode::FORBIDDEN,
        "wrong-password",
        "Wrong password",
        field,
        "the password is wrong",
    ))
}

/// The checks of a password change shared by citizens and agents: the current password
/// (a failure counts as a failed login of the account from this address), then the new one.
/// Returns the new hash.
pub async fn new_password_hash(
    state: &AppState,
    attempt: &Attempt,
    stored: &str,
    b: PasswordChange,
) -> Result<String, ApiError> {
    check_password_again(
        state,
        attempt,
        stored,
        b.current_password,
        "current_password",
    )
    .await?;
    let mut errors = Vec::new();
    super::citizen::check_password(&mut errors, &b.new_password);
    for e in &mut errors {
        e.field = "new_password".to_owned();
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    state
        .hasher
        .hash(b.new_password)
        .await
        .map_err(|e| ApiError::internal(&e))
}
