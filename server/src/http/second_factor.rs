//! Agents' second factor (TOTP): `POST /agent/totp` starts an enrolment (with the password,
//! so that a stolen session cannot tie the account to someone else's phone) and returns the
//! secret and its `otpauth://` URL; `POST /agent/totp/confirm` turns it on with a first code.
//! From then on, `POST /agent/login` needs `totp`, the current code, and each code works once.
//! Admins and supervisors must enrol one in production (`Agent::needs_second_factor`).
//!
//! Wrong codes count as failed logins of the account, whatever the address: only the password's
//! holder gets that far, so nobody else can use that count to lock the agent out.

use std::net::{IpAddr, Ipv4Addr};

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::auth::EnrollingAgent;
use super::limit::ClientIp;
use super::{ApiError, body};
use crate::accounts::{Attempt, Realm};
use crate::auth::totp;
use crate::db;
use crate::state::AppState;

fn invalid_code() -> ApiError {
    let mut e = ApiError::field(
        StatusCode::UNAUTHORIZED,
        "invalid-second-factor",
        "Wrong code",
        "totp",
        "the code is wrong, expired or already used; enter the one your app shows now",
    );
    e.www_authenticate = true;
    e
}

/// The second-factor failures of an account, counted whatever the client address.
fn second_factor_attempt(account: &str) -> Attempt {
    Attempt::new(
        Realm::AgentSecondFactor,
        account,
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    )
}

/// The login's second step, for an agent with a second factor whose password was right:
/// `code` must be a current code of theirs, not used before.
pub async fn check_login_code(
    state: &AppState,
    agent_id: i64,
    account: &str,
    code: Option<&str>,
) -> Result<(), ApiError> {
    let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
        let mut e = ApiError::field(
            StatusCode::UNAUTHORIZED,
            "second-factor-required",
            "Code required",
            "totp",
            "this account has a second factor: send the code of your app as `totp`",
        );
        e.www_authenticate = true;
        return Err(e);
    };
    let attempt = second_factor_attempt(account);
    attempt.check(state).await?;
    let secret = db::accounts::agent_totp(&state.db, agent_id)
        .await?
        .and_then(|t| t.totp_secret)
        .unwrap_or_default();
    let used = match totp::matching_step(&secret, code, totp::now_secs()) {
        Some(step) => db::accounts::use_totp_step(&state.db, agent_id, step).await?,
        None => false,
    };
    if !used {
        attempt.failed(state).await?;
        return Err(invalid_code());
    }
    attempt.succeeded(state).await?;
    Ok(())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Enrol {
    password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    /// The secret in base32, to type into an authenticator app.
    secret: String,
    /// The same as an `otpauth://totp/…` URL, for a QR code.
    otpauth_url: String,
    digits: usize,
    period: u64,
    algorithm: &'static str,
}

/// `POST /agent/totp` `{password}`: a new secret to enrol (not active until confirmed).
#[utoipa::path(
    post,
    path = "/api/v1/agent/totp",
    tag = "agents",
    summary = "Commencer l'enrôlement d'un second facteur (TOTP)",
    request_body = Enrol,
    responses(
        (status = 200, description = "The secret to give the authenticator app", body = Enrolment),
        (status = 403, description = "`wrong-password`"),
        (status = 409, description = "`second-factor-enrolled`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn enrol(
    State(state): State<AppState>,
    EnrollingAgent(agent): EnrollingAgent,
    ClientIp(ip): ClientIp,
    req: Request,
) -> Result<Json<Enrolment>, ApiError> {
    let b: Enrol = body::json(req).await?;
    if agent.totp_enrolled {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "second-factor-enrolled",
            "A second factor is already enrolled",
            "an admin removes it (POST /api/v1/admin/agents/{id}/totp/reset) before another is enrolled",
        ));
    }
    let attempt = Attempt::new(Realm::Agent, &agent.email, ip);
    attempt.check(&state).await?;
    let stored = db::accounts::agent_by_id(&state.db, agent.id)
        .await?
        .map(|a| a.password_hash)
        .unwrap_or_default();
    if !state.hasher.verify(b.password, stored).await {
        attempt.failed(&state).await?;
        return Err(ApiError::field(
            StatusCode::FORBIDDEN,
            "wrong-password",
            "Wrong password",
            "password",
            "the password is wrong",
        ));
    }
    let secret = totp::new_secret();
    db::accounts::set_totp_pending(&state.db, agent.id, &secret).await?;
    Ok(Json(Enrolment {
        secret: totp::secret_base32(&secret),
        otpauth_url: totp::otpauth_url(&secret, &agent.email),
        digits: totp::DIGITS,
        period: totp::STEP_SECS,
        algorithm: "SHA1",
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    totp: String,
}

/// `POST /agent/totp/confirm` `{totp}`: the first code of the app turns the second factor on.
#[utoipa::path(
    post,
    path = "/api/v1/agent/totp/confirm",
    tag = "agents",
    summary = "Confirmer le second facteur",
    request_body = Confirm,
    responses(
        (status = 204, description = "Fait"),
        (status = 409, description = "`no-enrolment-pending`"),
        (status = 422, description = "`invalid-second-factor`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn confirm(
    State(state): State<AppState>,
    EnrollingAgent(agent): EnrollingAgent,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let b: Confirm = body::json(req).await?;
    let attempt = second_factor_attempt(&agent.email);
    attempt.check(&state).await?;
    let pending = db::accounts::agent_totp(&state.db, agent.id)
        .await?
        .and_then(|t| t.totp_pending.filter(|_| t.totp_secret.is_none()))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "no-enrolment-pending",
                "Nothing to confirm",
                "start an enrolment with POST /api/v1/agent/totp first",
            )
        })?;
    let confirmed = match totp::matching_step(&pending, &b.totp, totp::now_secs()) {
        Some(step) => db::accounts::confirm_totp(&state.db, agent.id, step).await?,
        None => false,
    };
    if !confirmed {
        attempt.failed(&state).await?;
        let mut e = invalid_code();
        e.status = StatusCode::UNPROCESSABLE_ENTITY;
        e.www_authenticate = false;
        return Err(e);
    }
    attempt.succeeded(&state).await?;
    tracing::info!(agent = agent.id, "second factor enrolled");
    Ok(StatusCode::NO_CONTENT)
}
