//! Operations endpoints: liveness, readiness (database reachable), Prometheus metrics.
//! Readiness also says whether a demo account still has the published password: a fact for
//! whoever watches, not a reason for a load balancer to drop the instance.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde_json::json;

use super::{ApiError, auth};
use crate::db;
use crate::state::AppState;

pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    match tokio::time::timeout(Duration::from_secs(2), db::ping(&state.db)).await {
        Ok(Ok(())) if !state.incidents.is_loaded() => Err(ApiError::unavailable(
            &"the incident index is still loading",
        )),
        Ok(Ok(())) => Ok(Json(json!({
            "status": "ready",
            "database": "ok",
            "incidents_indexed": state.incidents.len(),
            "demo_accounts": demo_accounts(&state).await,
        }))),
        Ok(Err(e)) => Err(ApiError::unavailable(&e)),
        Err(_) => Err(ApiError::unavailable(&"database ping timed out")),
    }
}

/// Whether an active demo account still opens with the published password; `null` when that
/// could not be told in time.
async fn demo_accounts(state: &AppState) -> Option<bool> {
    let check = state.demo_passwords.accounts(&state.db);
    match tokio::time::timeout(Duration::from_secs(2), check).await {
        Ok(Ok(accounts)) => Some(!accounts.is_empty()),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cannot check the demo accounts");
            None
        }
        Err(_) => {
            tracing::warn!("checking the demo accounts timed out");
            None
        }
    }
}

/// Prometheus metrics. With `GUICHET_METRICS_TOKEN` set, only callers presenting it as a
/// bearer token get them; without, only direct callers on the loopback interface do (not a
/// request relayed by a reverse proxy). Everyone else is told there is nothing here.
pub async fn metrics(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let allowed = match &state.config.http.metrics_token {
        Some(token) => auth::bearer_token(&headers)
            .is_some_and(|given| same_secret(given.as_bytes(), token.as_bytes())),
        None => {
            let local = peer.is_some_and(|Extension(ConnectInfo(addr))| addr.ip().is_loopback());
            let relayed = headers.contains_key(header::FORWARDED)
                || headers.contains_key("x-forwarded-for")
                || headers.contains_key("x-real-ip");
            local && !relayed
        }
    };
    if !allowed {
        return Err(ApiError::not_found(
            "not-found",
            "There is nothing at this address.",
        ));
    }
    let mut body = state
        .metrics
        .render(state.photo_gate.in_flight(), state.db.size());
    body.push_str(&crate::metrics::render_sampled(&crate::metrics::Sampled {
        backlog: crate::db::outbox::backlog(&state.db).await?,
        backup_age_secs: crate::db::backups::age_secs(&state.db).await?,
        index_size: state.incidents.len(),
        index_listening: state.incidents.is_listening(),
        index_reloads: state.incidents.reloads(),
        db_idle: state.db.num_idle(),
    }));
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    ))
}

/// Compares two secrets in a time that does not depend on where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
