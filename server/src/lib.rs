//! Guichet, a city's digital counter: the HTTP service and its command-line operations.
//!
//! Map: `http` (routes, handlers, problem+json) → the domain: `pipeline` (admitting, opening
//! and acting on any request), `intake` (incident reports), `dedup` (is it already reported?),
//! `photos` and `files` (photo pipeline, stored files and their clean-up), `notify` (e-mails,
//! webhooks) → `db` (every SQL statement). The domain never imports `http`.

pub mod accounts;
pub mod addresses;
pub mod agents;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod catalogue;
pub mod codes;
pub mod config;
pub mod db;
pub mod dedup;
pub mod demo;
pub mod digest;
pub mod exports;
pub mod files;
pub mod http;
pub mod incidents;
pub mod inflight;
pub mod intake;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod notify;
pub mod open311;
pub mod outbox;
pub mod photos;
pub mod pipeline;
pub mod retention;
pub mod setup;
pub mod state;
pub mod wallet;

use tokio::net::TcpListener;

pub use config::Config;
pub use state::AppState;

/// Serves HTTP and runs the outbox worker until `shutdown` resolves, then lets requests in
/// flight finish. Without a configured secret key, follow links are signed with the
/// database's own (see `codes`).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = state
        .with_follow_key()
        .await
        .map_err(|e| std::io::Error::other(format!("cannot read the follow key: {e}")))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(outbox::run_worker(state.clone(), stop_rx.clone()));
    let sync = tokio::spawn(incidents::run_sync(
        state.incidents.clone(),
        state.db.clone(),
        stop_rx.clone(),
    ));
    let live = tokio::spawn(live::run(
        state.live.clone(),
        state.db.clone(),
        stop_rx.clone(),
    ));
    // Open event streams never end by themselves: they are closed first, so that the
    // graceful shutdown does not wait for them.
    let feed = state.live.clone();
    let shutdown = async move {
        shutdown.await;
        feed.close();
    };
    let housekeeping = tokio::spawn(accounts::run_housekeeping(state.clone(), stop_rx));
    let app = http::router(state);
    // The peer address lets `/metrics` tell local callers from the rest.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_tx.send(true);
    let _ = worker.await;
    let _ = sync.await;
    let _ = live.await;
    let _ = housekeeping.await;
    served
}
