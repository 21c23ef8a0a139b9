//! The HTTP interface. `router` shows every URL of the service in one place; each handler
//! lives in the file named after its resource.

mod catalogue;
mod incidents;
mod media;
mod middleware;
mod nearby;
mod ops;
mod params;
pub mod problem;
mod reports;
mod requests;
mod support;
mod ui;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::state::AppState;
pub use problem::ApiError;

pub fn router(state: AppState) -> Router {
    let report_limit = state.report_body_limit();
    let ui = ui::service(&state.config.ui_dir);
    let api = Router::new()
        .route("/catalogue", get(catalogue::list))
        .route(
            "/reports",
            post(reports::submit).layer(DefaultBodyLimit::max(report_limit)),
        )
        .route("/reports/nearby", get(nearby::nearby))
        .route("/requests/{number}", get(requests::public_view))
        .route("/requests/{number}/support", post(support::support))
        .route("/incidents", get(incidents::incidents));

    Router::new()
        .nest("/api/v1", api)
        .route("/media/{key}", get(media::photo))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        // The citizen web app (PWA) and its assets; unknown paths get the 404 problem.
        .fallback_service(ui)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::record_metrics,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(middleware::span_with_request_id)
                        // A 503 under load is an expected answer, not an error of the service.
                        .on_failure(DefaultOnFailure::new().level(Level::WARN)),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CatchPanicLayer::custom(middleware::panic_to_problem))
                .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                    axum::http::StatusCode::REQUEST_TIMEOUT,
                    Duration::from_secs(120),
                )),
        )
        .with_state(state)
}
