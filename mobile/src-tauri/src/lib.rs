//! The citizen app's native shell. Everything that matters lives elsewhere: the screens in
//! `mobile/ui` (the same web UI as the PWA) and the outbox, photo preparation and sync in
//! `guichet-mobile-core` (reports, "me too"s and démarche filings alike). This crate exposes the core to the UI as commands and keeps a sync
//! loop running while the app is open.

mod server_address;

use std::sync::Arc;
use std::time::Duration;

use guichet_mobile_core::outbox::{Entry, Outbox, QueuedFile};
use guichet_mobile_core::photo;
use guichet_mobile_core::sync::{SyncClient, SyncReport};
use guichet_shared::api::{Contact, ReportSubmission};
use serde::Serialize;
use server_address::ServerAddress;
use tauri::{AppHandle, Emitter, Manager, WebviewWindowBuilder};

/// The server a store build talks to unless the settings say otherwise (see
/// `server_address`); `build.rs` requires it for release phone builds.
const BUILT_IN_SERVER_URL: Option<&str> = option_env!("GUICHET_SERVER_URL");

/// How long the first-run check waits for the server before telling the citizen.
const CHECK_TIMEOUT: Duration = Duration::from_secs(8);

/// The event the UI listens to: a sync round changed the outbox (payload: its `SyncReport`).
const OUTBOX_CHANGED: &str = "outbox-changed";

struct Core {
    outbox: Arc<Outbox>,
    sync: SyncClient,
    server: ServerAddress,
}

/// Runs blocking work (photo encoding, SQLite commits) on the blocking pool. A command without
/// `async` runs on the main thread, where a second or two of WebP encoding would freeze the UI.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| e.to_string())?
}

/// Shrinks a camera photo on the phone: upright, no metadata, at most 2048 px, WebP.
#[tauri::command]
async fn prepare_photo(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    blocking(move || {
        photo::prepare(&bytes)
            .map(|p| p.bytes)
            .map_err(|e| e.to_string())
    })
    .await
}

/// Saves a report and its photos in the outbox before anything is sent; returns its client id.
/// The photos come as picked (JPEG, PNG or WebP) and are prepared here.
#[tauri::command]
async fn enqueue_report(
    core: tauri::State<'_, Core>,
    report: ReportSubmission,
    photos: Vec<Vec<u8>>,
) -> Result<String, String> {
    let outbox = core.outbox.clone();
    blocking(move || {
        let prepared = photos
            .iter()
            .enumerate()
            .map(|(i, bytes)| {
                photo::prepare(bytes)
                    .map(|p| p.bytes)
                    .map_err(|e| format!("photo {}: {e}", i + 1))
            })
            .collect::<Result<Vec<_>, _>>()?;
        outbox
            .enqueue(report, prepared)
            .map(|id| id.to_string())
            .map_err(|e| e.to_string())
    })
    .await
}

/// Queues a "me too" on an open request, with the e-mail to notify if the citizen gave one.
#[tauri::command]
async fn enqueue_support(
    core: tauri::State<'_, Core>,
    number: String,
    client_id: String,
    email: Option<String>,
) -> Result<String, String> {
    let client_id = client_id.parse().map_err(|e| format!("client_id: {e}"))?;
    let contact = email.filter(|e| !e.trim().is_empty()).map(|email| Contact {
        email: Some(email),
        name: None,
    });
    let outbox = core.outbox.clone();
    blocking(move || {
        outbox
            .enqueue_support(&number, client_id, contact)
            .map(|id| id.to_string())
            .map_err(|e| e.to_string())
    })
    .await
}

/// Saves a démarche filing (the JSON of `POST /api/v1/requests`) and its files in the
/// outbox before anything is sent; returns its client id. `token` is the citizen's session,
/// sent with it for a démarche that needs an account.
#[tauri::command]
async fn enqueue_request(
    core: tauri::State<'_, Core>,
    request: serde_json::Value,
    files: Vec<QueuedFile>,
    title: String,
    token: Option<String>,
) -> Result<String, String> {
    let outbox = core.outbox.clone();
    blocking(move || {
        outbox
            .enqueue_request(request, files, &title, token)
            .map(|id| id.to_string())
            .map_err(|e| e.to_string())
    })
    .await
}

/// Removes an entry the server refused, on the citizen's request ("Delete" in "my reports").
#[tauri::command]
fn discard_entry(core: tauri::State<'_, Core>, client_id: String) -> Result<(), String> {
    let client_id = client_id.parse().map_err(|e| format!("client_id: {e}"))?;
    core.outbox.discard(client_id).map_err(|e| e.to_string())
}

/// Everything in the outbox (pending, sent, refused), for the "my reports" screen.
#[tauri::command]
fn outbox_entries(core: tauri::State<'_, Core>) -> Result<Vec<Entry>, String> {
    core.outbox.entries().map_err(|e| e.to_string())
}

/// What the UI shows when the server cannot be reached: which address, where it came from,
/// where to change it, and why it failed.
#[derive(Serialize)]
struct ServerStatus {
    #[serde(flatten)]
    address: ServerAddress,
    /// `None` when the server answered its health check.
    problem: Option<String>,
}

/// Asks the server's `/healthz`: called by the UI at start-up and by "Try again".
#[tauri::command]
async fn server_status(core: tauri::State<'_, Core>) -> Result<ServerStatus, String> {
    let address = core.server.clone();
    let problem = match server_address::problem_with(&address.url) {
        Some(problem) => Some(problem),
        None => core
            .sync
            .http
            .get(format!("{}/healthz", address.url))
            .timeout(CHECK_TIMEOUT)
            .send()
            .await
            .and_then(|answer| answer.error_for_status())
            .err()
            .map(|e| {
                // reqwest's own text for a refused connection is "error sending request":
                // the cause underneath is what the citizen (or their IT) can act on.
                let mut text = e.to_string();
                let mut cause = std::error::Error::source(&e);
                while let Some(c) = cause {
                    text = format!("{text}: {c}");
                    cause = c.source();
                }
                text
            }),
    };
    Ok(ServerStatus { address, problem })
}

/// The settings the page reads before its own scripts run (`window.GUICHET_CONFIG`, see
/// mobile/ui/public/config.js): the server's address for what the UI fetches itself.
fn page_settings(server: &ServerAddress) -> Result<String, serde_json::Error> {
    let settings = serde_json::json!({ "apiBase": server.url });
    Ok(format!(
        "window.GUICHET_CONFIG = Object.assign({{}}, window.GUICHET_CONFIG, {});",
        serde_json::to_string(&settings)?
    ))
}

/// Sends what is due now; with `force` (the default: the network came back, the citizen asked),
/// entries waiting out a back-off too.
#[tauri::command]
async fn sync_now(
    app: AppHandle,
    core: tauri::State<'_, Core>,
    force: Option<bool>,
) -> Result<SyncReport, String> {
    if force.unwrap_or(true) {
        core.outbox.retry_now().map_err(|e| e.to_string())?;
    }
    sync_round(&app, &core.outbox, &core.sync)
        .await
        .map_err(|e| e.to_string())
}

/// One sync round; tells the UI when an entry was sent, refused or rescheduled, so that its
/// lists follow sends made in the background.
async fn sync_round(
    app: &AppHandle,
    outbox: &Outbox,
    sync: &SyncClient,
) -> Result<SyncReport, guichet_mobile_core::sync::SyncError> {
    let report = sync.sync_once(outbox).await?;
    if !(report.sent.is_empty() && report.failed.is_empty() && report.retrying.is_empty()) {
        // No window to tell (it is closing) is no reason to fail the round.
        let _ = app.emit(OUTBOX_CHANGED, &report);
    }
    Ok(report)
}

/// Sends due entries while the app runs, sleeping until the next one is due.
async fn sync_loop(app: AppHandle, outbox: Arc<Outbox>, sync: SyncClient) {
    loop {
        let wait = match sync_round(&app, &outbox, &sync).await {
            // A due time already past means "now"; never sleep more than 5 minutes.
            Ok(report) => report.next_attempt_at.map(|at| {
                Duration::try_from(at - time_now())
                    .unwrap_or(Duration::ZERO)
                    .min(Duration::from_secs(300))
            }),
            Err(_) => None,
        };
        tokio::time::sleep(
            wait.unwrap_or(Duration::from_secs(30))
                .max(Duration::from_secs(1)),
        )
        .await;
    }
}

fn time_now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let builder = tauri::Builder::default();
    #[cfg(mobile)]
    let builder = builder.plugin(tauri_plugin_geolocation::init());
    let result = builder
        .setup(|app| {
            let server = server_address::resolve(
                std::env::var("GUICHET_SERVER_URL").ok().as_deref(),
                &app.path().app_config_dir()?,
                BUILT_IN_SERVER_URL,
            );
            let dir = app.path().app_data_dir()?;
            std::fs::create_dir_all(&dir)?;
            let outbox = Arc::new(Outbox::open(dir.join("outbox.sqlite"))?);
            tauri::async_runtime::spawn(sync_loop(
                app.handle().clone(),
                outbox.clone(),
                SyncClient::new(&server.url)?,
            ));
            let script = page_settings(&server)?;
            app.manage(Core {
                outbox,
                sync: SyncClient::new(&server.url)?,
                server,
            });
            // The window is declared in tauri.conf.json with `"create": false` and opened here,
            // once the server's address is known, so that the page gets it before its scripts.
            for window in app.config().app.windows.clone() {
                WebviewWindowBuilder::from_config(app.handle(), &window)?
                    .initialization_script(&script)
                    .build()?;
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            prepare_photo,
            enqueue_report,
            enqueue_support,
            enqueue_request,
            discard_entry,
            outbox_entries,
            server_status,
            sync_now
        ])
        .run(tauri::generate_context!());
    if let Err(error) = result {
        // No window is left to show it in.
        #[allow(clippy::print_stderr)]
        {
            eprintln!("Guichet could not start: {error}");
        }
        std::process::exit(1);
    }
}
