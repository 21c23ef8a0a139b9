//! The citizen app's native shell. Everything that matters lives elsewhere: the screens in
//! `mobile/ui` (the same web UI as the PWA) and the outbox, photo preparation and sync in
//! `guichet-mobile-core`. This crate exposes the core to the UI as commands and keeps a sync
//! loop running while the app is open.

use std::sync::Arc;
use std::time::Duration;

use guichet_mobile_core::outbox::{Entry, Outbox};
use guichet_mobile_core::photo;
use guichet_mobile_core::sync::{SyncClient, SyncReport};
use guichet_shared::api::ReportSubmission;
use tauri::Manager;

/// The server the app talks to, fixed at build time (`GUICHET_SERVER_URL`).
const SERVER_URL: &str = match option_env!("GUICHET_SERVER_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8080",
};

struct Core {
    outbox: Arc<Outbox>,
    sync: SyncClient,
}

/// Shrinks a camera photo on the phone: upright, no metadata, at most 2048 px, WebP.
#[tauri::command]
fn prepare_photo(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    photo::prepare(&bytes)
        .map(|p| p.bytes)
        .map_err(|e| e.to_string())
}

/// Saves a report and its photos in the outbox before anything is sent; returns its client id.
#[tauri::command]
fn enqueue_report(
    core: tauri::State<'_, Core>,
    report: ReportSubmission,
    photos: Vec<Vec<u8>>,
) -> Result<String, String> {
    let prepared = photos
        .iter()
        .map(|bytes| photo::prepare(bytes).map(|p| p.bytes))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    core.outbox
        .enqueue(report, prepared)
        .map(|id| id.to_string())
        .map_err(|e| e.to_string())
}

/// Queues a "me too" on an open request.
#[tauri::command]
fn enqueue_support(
    core: tauri::State<'_, Core>,
    number: String,
    client_id: String,
) -> Result<String, String> {
    let client_id = client_id.parse().map_err(|e| format!("client_id: {e}"))?;
    core.outbox
        .enqueue_support(&number, client_id, None)
        .map(|id| id.to_string())
        .map_err(|e| e.to_string())
}

/// Everything in the outbox (pending, sent, refused), for the "my reports" screen.
#[tauri::command]
fn outbox_entries(core: tauri::State<'_, Core>) -> Result<Vec<Entry>, String> {
    core.outbox.entries().map_err(|e| e.to_string())
}

/// Sends what is due now (the UI calls it when the network comes back).
#[tauri::command]
async fn sync_now(core: tauri::State<'_, Core>) -> Result<SyncReport, String> {
    core.outbox.retry_now().map_err(|e| e.to_string())?;
    core.sync
        .sync_once(&core.outbox)
        .await
        .map_err(|e| e.to_string())
}

/// Sends due entries while the app runs, sleeping until the next one is due.
async fn sync_loop(outbox: Arc<Outbox>, sync: SyncClient) {
    loop {
        let wait = match sync.sync_once(&outbox).await {
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
            tauri::async_runtime::spawn(sync_loop(outbox.clone(), SyncClient::new(SERVER_URL)?));
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
