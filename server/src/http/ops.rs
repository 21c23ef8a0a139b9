//! Operations endpoints: liveness, readiness (database reachable), Prometheus metrics.

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
        }))),
        Ok(Err(e)) => Err(ApiError::unavailable(&e)),
        Err(_) => Err(ApiError::unavailable(&"database ping timed out")),
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
