//! Guichet, a city's digital counter: the HTTP service and its command-line operations.
//!
//! Map: `http` (routes, handlers, problem+json) → the domain: `pipeline` (admitting, opening
//! and acting on any request), `intake` (incident reports), `dedup` (is it already reported?),
//! `photos` and `files` (photo pipeline, stored files and their clean-up), `notify` (e-mails,
//! webhooks) → `db` (every SQL statement). The domain never imports `http`.

pub mod agents;
pub mod auth;
pub mod catalogue;
pub mod config;
pub mod db;
pub mod dedup;
pub mod demo;
pub mod files;
pub mod http;
pub mod incidents;
pub mod inflight;
pub mod intake;
pub mod metrics;
pub mod notify;
pub mod outbox;
pub mod photos;
pub mod pipeline;
pub mod setup;
pub mod state;

use tokio::net::TcpListener;

pub use config::Config;
pub use state::AppState;

/// Serves HTTP and runs the outbox worker until `shutdown` resolves, then lets requests in
/// flight finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(outbox::run_worker(state.clone(), stop_rx.clone()));
    let sync = tokio::spawn(incidents::run_sync(
        state.incidents.clone(),
        state.db.clone(),
        stop_rx,
    ));
    let app = http::router(state);
    // The peer address lets `/metrics` tell local callers from the rest.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_tx.send(true);
    let _ = worker.await;
    let _ = sync.await;
    served
}
