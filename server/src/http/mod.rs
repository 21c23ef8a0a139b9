//! The HTTP interface. `router` shows every URL of the service in one place; each handler
//! lives in the file named after its resource.

mod agent;
mod agent_detail;
mod agents_admin;
pub mod auth;
mod body;
mod catalogue;
mod citizen;
mod demarches;
mod incidents;
mod media;
mod middleware;
mod nearby;
mod ops;
mod params;
pub mod problem;
mod reports;
mod requests;
mod routing;
mod security;
mod support;
mod ui;
mod webhooks;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::state::AppState;
pub use problem::ApiError;

pub fn router(state: AppState) -> Router {
    let report_limit = state.report_body_limit();
    let filing_limit = state.config.photos.max_bytes * body::MAX_FILES + body::MAX_JSON_BYTES;
    let ui = ui::service(&state.config.ui_dir);
    let security = security::SecurityHeaders::new(&state.config);
    let api = Router::new()
        .route("/catalogue", get(catalogue::list))
        .route("/catalogue/{code}", get(catalogue::one))
        .route(
            "/reports",
            post(reports::submit).layer(DefaultBodyLimit::max(report_limit)),
        )
        .route("/reports/nearby", get(nearby::nearby))
        .route(
            "/requests",
            post(requests::file).layer(DefaultBodyLimit::max(filing_limit)),
        )
        .route("/requests/{number}", get(requests::public_view))
        .route("/requests/{number}/support", post(support::support))
        .route("/requests/{number}/messages", post(requests::message))
        .route(
            "/requests/{number}/complement",
            post(requests::complement).layer(DefaultBodyLimit::max(filing_limit)),
        )
        .route("/requests/{number}/withdraw", post(requests::withdraw))
        .route("/incidents", get(incidents::incidents))
        // Administration: webhook subscriptions and their deliveries.
        .route(
            "/admin/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route("/admin/webhooks/{id}", delete(webhooks::deactivate))
        .route("/admin/webhooks/{id}/deliveries", get(webhooks::deliveries))
        // Citizen accounts.
        .route("/citizen/register", post(citizen::register))
        .route(
            "/citizen/verify",
            get(citizen::verify).post(citizen::verify),
        )
        .route("/citizen/verify/resend", post(citizen::resend))
        .route("/citizen/login", post(citizen::login))
        .route("/citizen/logout", post(citizen::logout))
        .route("/citizen/me", get(citizen::me))
        .route("/citizen/requests", get(citizen::my_requests))
        .route("/citizen/requests/{number}", get(citizen::my_request))
        // Agents (the back office's API).
        .route("/agent/login", post(agent::login))
        .route("/agent/logout", post(agent::logout))
        .route("/agent/me", get(agent::me))
        .route(
            "/agent/requests",
            get(agent::queue)
                .post(agent::enter)
                .layer(DefaultBodyLimit::max(filing_limit)),
        )
        .route(
            "/agent/requests/{number}",
            get(agent::detail).patch(agent::edit),
        )
        .route("/agent/requests/{number}/files/{id}", get(agent::file))
        .route(
            "/agent/requests/{number}/status",
            post(agent::change_status),
        )
        .route("/agent/requests/{number}/assign", post(agent::assign))
        .route("/agent/requests/{number}/reply", post(agent::reply))
        .route("/agent/requests/{number}/notes", post(agent::note))
        .route(
            "/agent/requests/{number}/complement",
            post(agent::complement),
        )
        .route("/agent/requests/{number}/merge", post(agent::merge))
        .route("/agent/requests/{number}/split", post(agent::split))
        .route(
            "/admin/routing-rules",
            get(routing::list).post(routing::create),
        )
        .route("/admin/routing-rules/{id}", delete(routing::delete))
        .route(
            "/admin/agents",
            get(agents_admin::list).post(agents_admin::save),
        )
        .route(
            "/admin/demarches/{code}",
            axum::routing::put(demarches::put),
        )
        .route(
            "/admin/demarches/{code}/revisions",
            get(demarches::revisions),
        );

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
        .layer(axum::middleware::from_fn(security::cors))
        // Outermost, so that the router's own answers (timeouts, panics) carry them too.
        .layer(axum::middleware::from_fn_with_state(
            security,
            security::add_headers,
        ))
        .with_state(state)
}
