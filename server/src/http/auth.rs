//! Who is calling: agents and citizens authenticate with `Authorization: Bearer <token>`.
//! The extractors here load the caller once per request; handlers then check roles and teams.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use guichet_shared::workflow::Role;

use super::ApiError;
use crate::auth::token_digest;
use crate::db::{self, accounts::AgentRow, accounts::CitizenRow};
use crate::state::AppState;

/// An authenticated agent (any role).
#[derive(Debug, Clone)]
pub struct AuthAgent {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub team_ids: Vec<i64>,
}

impl AuthAgent {
    /// The actor name recorded in events.
    pub fn actor(&self) -> String {
        format!("agent:{}", self.id)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(forbidden("this needs the admin role"))
        }
    }

    /// Admins see every team; everyone else only the teams they belong to.
    pub fn can_see_team(&self, team_id: Option<i64>) -> bool {
        self.is_admin() || team_id.is_some_and(|t| self.team_ids.contains(&t))
    }

    /// The teams whose queue this agent reads; `None` means all of them.
    pub fn visible_teams(&self) -> Option<&[i64]> {
        if self.is_admin() {
            None
        } else {
            Some(&self.team_ids)
        }
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

pub fn parse_role(role: &str) -> Option<Role> {
    match role {
        "agent" => Some(Role::Agent),
        "field" => Some(Role::Field),
        "supervisor" => Some(Role::Supervisor),
        "admin" => Some(Role::Admin),
        _ => None,
    }
}

impl TryFrom<AgentRow> for AuthAgent {
    type Error = ApiError;

    fn try_from(row: AgentRow) -> Result<Self, ApiError> {
        let role = parse_role(&row.role).ok_or_else(|| {
            ApiError::internal(&format!("agent {} has role {}", row.id, row.role))
        })?;
        Ok(Self {
            id: row.id,
            email: row.email,
            name: row.name,
            role,
            team_ids: row.team_ids,
        })
    }
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

impl FromRequestParts<AppState> for AuthAgent {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers)
            .ok_or_else(|| unauthenticated("log in with POST /api/v1/agent/login first"))?;
        let row = db::accounts::agent_by_session(&state.db, &token_digest(token))
            .await?
            .ok_or_else(|| unauthenticated("the session is unknown or has expired"))?;
        AuthAgent::try_from(row)
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
