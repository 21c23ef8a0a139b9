//! Operations endpoints: liveness, readiness (database reachable), Prometheus metrics.
//! Readiness also says whether a demo account still has the published password: a fact for
//! whoever watches, not a reason for a load balancer to drop the instance.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::json;

use super::ApiError;
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

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let p = &state.config.photos;
    let body = state.metrics.render(
        state.photo_gate.in_flight(p.workers + p.queue),
        state.db.size(),
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}
