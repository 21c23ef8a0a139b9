//! The HTTP interface. `router` shows every URL of the service in one place; each handler
//! lives in the file named after its resource.

mod agent;
mod agent_detail;
mod agent_map;
mod agents_admin;
mod audit;
pub mod auth;
mod body;
mod bulk;
mod catalogue;
mod citizen;
mod dashboard;
mod demarches;
mod download;
mod exports;
mod extract;
mod geocode;
mod incidents;
pub mod limit;
mod linger;
mod live;
mod map_settings;
mod media;
mod middleware;
mod nearby;
mod open311;
mod openapi;
mod ops;
mod pages;
mod params;
mod preferences;
pub mod problem;
mod queue;
mod reports;
mod requests;
mod round;
mod routing;
mod second_factor;
mod security;
mod session_cookie;
mod status_page;
mod support;
mod teams;
mod ui;
mod wallet;
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

use crate::limits::Limit;
use crate::state::AppState;
pub use problem::ApiError;

pub fn router(state: AppState) -> Router {
    let report_limit = state.report_body_limit();
    let filing_limit = state.config.photos.max_bytes * body::MAX_FILES + body::MAX_JSON_BYTES;
    let document_limit = state.config.photos.max_bytes + body::MAX_JSON_BYTES;
    let ui = ui::service(&state.config.ui_dir);
    let backoffice = ui::backoffice(&state.config.backoffice_dir);
    let api_docs = ui::service(&state.config.api_docs_dir);
    let cookie = session_cookie::CookieSettings::new(&state.config.public_url);
    let security = security::SecurityHeaders::new(&state.config);
    // Per client address; the citizen and agent extractors add the per-account count.
    let limited =
        |limit: Limit| axum::middleware::from_fn_with_state((state.clone(), limit), limit::guard);
    let api = Router::new()
        // This API described in OpenAPI 3.1 (http/openapi.rs); the page at /api/docs shows it.
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/catalogue", get(catalogue::list))
        .route("/catalogue/{code}", get(catalogue::one))
        .route(
            "/reports",
            post(reports::submit)
                .layer(DefaultBodyLimit::max(report_limit))
                .layer(limited(Limit::Filing)),
        )
        .route(
            "/reports/nearby",
            get(nearby::nearby).layer(limited(Limit::Reads)),
        )
        .route(
            "/requests",
            post(requests::file)
                .layer(DefaultBodyLimit::max(filing_limit))
                .layer(limited(Limit::Filing)),
        )
        .route("/requests/{number}", get(requests::public_view))
        .route(
            "/requests/{number}/support",
            post(support::support).layer(limited(Limit::Support)),
        )
        .route(
            "/requests/{number}/messages",
            post(requests::message).layer(limited(Limit::Messages)),
        )
        .route(
            "/requests/{number}/complement",
            post(requests::complement).layer(DefaultBodyLimit::max(filing_limit)),
        )
        .route("/requests/{number}/withdraw", post(requests::withdraw))
        .route(
            "/requests/{number}/not-fixed",
            post(requests::not_fixed)
                .layer(DefaultBodyLimit::max(report_limit))
                .layer(limited(Limit::Filing)),
        )
        .route(
            "/incidents",
            get(incidents::incidents).layer(limited(Limit::Reads)),
        )
        // The maps' background tiles and their credit.
        .route(
            "/map",
            get(map_settings::settings).layer(limited(Limit::Reads)),
        )
        // Addresses (Base Adresse Nationale): a pin's address, and address search.
        .route(
            "/geocode/reverse",
            get(geocode::reverse).layer(limited(Limit::Reads)),
        )
        .route(
            "/geocode/search",
            get(geocode::search).layer(limited(Limit::Reads)),
        )
        // Administration: webhook subscriptions and their deliveries.
        .route(
            "/admin/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route("/admin/webhooks/{id}", delete(webhooks::deactivate))
        .route("/admin/webhooks/{id}/deliveries", get(webhooks::deliveries))
        // Citizen accounts.
        .route(
            "/citizen/register",
            post(citizen::register).layer(limited(Limit::AccountMail)),
        )
        // The e-mails' links land on GET pages that change nothing; their forms POST.
        .route(
            "/citizen/verify",
            get(citizen::verify_page)
                .post(citizen::verify)
                .layer(limited(Limit::Login)),
        )
        .route(
            "/citizen/verify/resend",
            post(citizen::resend).layer(limited(Limit::AccountMail)),
        )
        .route(
            "/citizen/login",
            post(citizen::login).layer(limited(Limit::Login)),
        )
        .route(
            "/citizen/password/forgot",
            post(citizen::forgot).layer(limited(Limit::AccountMail)),
        )
        .route(
            "/citizen/password/reset",
            get(citizen::reset_page)
                .post(citizen::reset)
                .layer(limited(Limit::Login)),
        )
        .route(
            "/citizen/password",
            post(citizen::change_password).layer(limited(Limit::Login)),
        )
        .route("/citizen/logout", post(citizen::logout))
        .route("/citizen/me", get(citizen::me).delete(citizen::delete_me))
        .route("/citizen/me/data", get(citizen::my_data))
        .route(
            "/citizen/me/documents",
            get(wallet::list)
                .post(wallet::add)
                .layer(DefaultBodyLimit::max(document_limit)),
        )
        .route(
            "/citizen/me/documents/{id}",
            get(wallet::download).delete(wallet::remove),
        )
        .route("/citizen/requests", get(citizen::my_requests))
        .route("/citizen/requests/{number}", get(citizen::my_request))
        // Agents (the back office's API).
        .route(
            "/agent/login",
            post(agent::login).layer(limited(Limit::Login)),
        )
        .route("/agent/logout", post(agent::logout))
        .route("/agent/me", get(agent::me))
        .route("/agent/password", post(agent::change_password))
        .route("/agent/totp", post(second_factor::enrol))
        .route("/agent/totp/confirm", post(second_factor::confirm))
        .route(
            "/agent/requests",
            get(queue::queue)
                .post(agent::enter)
                .layer(DefaultBodyLimit::max(filing_limit)),
        )
        .route("/agent/requests/counts", get(queue::counts))
        .route("/agent/requests/export", get(exports::export))
        .route("/agent/requests/bulk", post(bulk::bulk))
        .route("/agent/search", get(queue::search))
        .route("/agent/events", get(live::stream))
        .route("/agent/dashboard", get(dashboard::dashboard))
        .route("/agent/map", get(agent_map::map))
        .route("/agent/teams", get(teams::agent_teams))
        .route("/agent/round", get(round::round))
        .route(
            "/agent/reports",
            post(reports::field_report).layer(DefaultBodyLimit::max(report_limit)),
        )
        .route(
            "/agent/preferences",
            get(preferences::get).put(preferences::put),
        )
        .route(
            "/agent/reply-templates",
            get(teams::templates).post(teams::create_template),
        )
        .route(
            "/agent/reply-templates/{id}",
            axum::routing::put(teams::update_template).delete(teams::delete_template),
        )
        .route(
            "/agent/requests/{number}",
            get(agent::detail).patch(agent::edit),
        )
        .route("/agent/requests/{number}/files/{id}", get(agent::file))
        .route(
            "/agent/requests/{number}/status",
            post(agent::change_status).layer(DefaultBodyLimit::max(filing_limit)),
        )
        .route(
            "/agent/requests/{number}/could-not-act",
            post(agent::could_not_act),
        )
        .route("/agent/requests/{number}/assign", post(agent::assign))
        .route("/agent/requests/{number}/reply", post(agent::reply))
        .route("/agent/requests/{number}/notes", post(agent::note))
        .route(
            "/agent/requests/{number}/complement",
            post(agent::complement),
        )
        .route("/agent/requests/{number}/merge", post(agent::merge))
        .route(
            "/agent/requests/{number}/candidates",
            get(agent::candidates),
        )
        .route("/agent/requests/{number}/split", post(agent::split))
        .route(
            "/agent/requests/{number}/tracking-code",
            post(agent::tracking_code),
        )
        .route(
            "/admin/routing-rules",
            get(routing::list).post(routing::create),
        )
        .route("/admin/routing-rules/{id}", delete(routing::delete))
        .route("/admin/teams", get(teams::list))
        .route("/admin/teams/{code}", axum::routing::put(teams::put))
        .route(
            "/admin/agents",
            get(agents_admin::list).post(agents_admin::save),
        )
        .route(
            "/admin/agents/{id}/deactivate",
            post(agents_admin::deactivate),
        )
        .route("/admin/agents/{id}/activate", post(agents_admin::activate))
        .route(
            "/admin/agents/{id}/totp/reset",
            post(agents_admin::reset_second_factor),
        )
        .route(
            "/admin/demarches/{code}",
            get(demarches::get).put(demarches::put),
        )
        .route(
            "/admin/demarches/{code}/revisions",
            get(demarches::revisions),
        )
        .route("/admin/audit", get(audit::list))
        .route("/admin/audit/export", get(audit::export))
        // After routing, so that the trace names the route: agents' reads of personal data
        // and every agent and admin change (the rule is `crate::audit::traced`).
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            audit::trace,
        ));

    Router::new()
        .nest("/api/v1", api)
        // Open311 GeoReport v2 (http/open311.rs): each resource in JSON or XML after its
        // suffix; reads are limited per client address, filings per API key.
        .route(
            "/open311/v2/discovery.json",
            get(open311::discovery).layer(limited(Limit::Reads)),
        )
        .route(
            "/open311/v2/discovery.xml",
            get(open311::discovery).layer(limited(Limit::Reads)),
        )
        .route(
            "/open311/v2/services.json",
            get(open311::services).layer(limited(Limit::Reads)),
        )
        .route(
            "/open311/v2/services.xml",
            get(open311::services).layer(limited(Limit::Reads)),
        )
        .route(
            "/open311/v2/services/{code}",
            get(open311::service_definition).layer(limited(Limit::Reads)),
        )
        .route(
            "/open311/v2/requests.json",
            get(open311::requests)
                .layer(limited(Limit::Reads))
                .merge(post(open311::file).layer(DefaultBodyLimit::max(report_limit))),
        )
        .route(
            "/open311/v2/requests.xml",
            get(open311::requests)
                .layer(limited(Limit::Reads))
                .merge(post(open311::file).layer(DefaultBodyLimit::max(report_limit))),
        )
        .route(
            "/open311/v2/requests/{id}",
            get(open311::request).layer(limited(Limit::Reads)),
        )
        .route(
            "/open311/v2/servicerequestupdates.json",
            get(open311::updates).layer(limited(Limit::Reads)),
        )
        .route(
            "/open311/v2/servicerequestupdates.xml",
            get(open311::updates).layer(limited(Limit::Reads)),
        )
        .route("/media/{key}", get(media::photo))
        // The status page of a request for citizens (HTML, no script): where e-mails' links land.
        .route(
            "/suivi",
            get(status_page::lookup_page)
                .merge(post(status_page::lookup).layer(limited(Limit::Login))),
        )
        .route("/suivi/{number}", get(status_page::by_link))
        .route(
            "/suivi/{number}/pas-repare",
            post(status_page::not_fixed)
                .layer(DefaultBodyLimit::max(report_limit))
                .layer(limited(Limit::Filing)),
        )
        .route(
            "/suivi/{number}/arret",
            get(status_page::stop_page).post(status_page::stop),
        )
        .route("/pages.css", get(pages::stylesheet))
        .route("/accessibilite", get(pages::accessibility::statement))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        // The back office (agents' web app).
        .nest_service("/backoffice", backoffice)
        // The page that shows /api/v1/openapi.json (server/api-docs).
        .nest_service("/api/docs", api_docs)
        // The citizen web app (PWA) and its assets; unknown paths get the 404 problem.
        .fallback_service(ui)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .layer(axum::middleware::from_fn(linger::discard_unread_bodies))
        .layer(axum::middleware::from_fn_with_state(
            cookie,
            session_cookie::agent_cookie,
        ))
        // The web apps' files and the answers go compressed to browsers that accept it (a
        // phone on a slow network gets the app about four times sooner); outside the cookie
        // middleware, which reads the login's answer. Images (already compressed) and event
        // streams (which must not wait for a buffer) are left as they are.
        .layer(
            tower_http::compression::CompressionLayer::new()
                .quality(tower_http::compression::CompressionLevel::Precise(4)),
        )
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
