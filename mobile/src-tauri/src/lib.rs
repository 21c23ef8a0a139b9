//! The citizen app's native shell. Everything that matters lives elsewhere: the screens in
//! `mobile/ui` (the same web UI as the PWA) and the outbox, photo preparation and sync in
//! `guichet-mobile-core` (reports, "me too"s and démarche filings alike). This crate exposes the core to the UI as commands and keeps a sync
//! loop running while the app is open.

use std::sync::Arc;
use std::time::Duration;

use guichet_mobile_core::outbox::{Entry, Outbox, QueuedFile};
use guichet_mobile_core::photo;
use guichet_mobile_core::sync::{SyncClient, SyncReport};
use guichet_shared::api::{Contact, ReportSubmission};
use tauri::{AppHandle, Emitter, Manager};

/// The server the app talks to, fixed at build time (`GUICHET_SERVER_URL`).
const SERVER_URL: &str = match option_env!("GUICHET_SERVER_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8080",
};

/// The event the UI listens to: a sync round changed the outbox (payload: its `SyncReport`).
const OUTBOX_CHANGED: &str = "outbox-changed";

struct Core {
    outbox: Arc<Outbox>,
    sync: SyncClient,
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
            let dir = app.path().app_data_dir()?;
            std::fs::create_dir_all(&dir)?;
            let outbox = Arc::new(Outbox::open(dir.join("outbox.sqlite"))?);
            tauri::async_runtime::spawn(sync_loop(
                app.handle().clone(),
                outbox.clone(),
                SyncClient::new(SERVER_URL)?,
            ));
            app.manage(Core {
                outbox,
                sync: SyncClient::new(SERVER_URL)?,
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            prepare_photo,
            enqueue_report,
            enqueue_support,
            enqueue_request,
            discard_entry,
            outbox_entries,
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
