#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The outbox and the sync client against the real server (its own PostgreSQL database per
//! test): nothing is lost across a restart, nothing arrives twice through a flaky network,
//! and a refusal is kept visible rather than retried.

mod proxy;

use std::path::PathBuf;
use std::time::Duration;

use guichet_mobile_core::outbox::{EntryKind, EntryState, Outbox, QueuedFile};
use guichet_mobile_core::photo;
use guichet_mobile_core::sync::{RetryPolicy, SyncClient, SyncReport};
use guichet_shared::api::ReportSubmission;
use guichet_shared::geo::{LatLon, destination};
use guichet_tests::api::verified_citizen;
use guichet_tests::fixtures::{camera_jpeg, photo_like_image};
use guichet_tests::{RENNES, TestServer, report_at};
use proxy::{Fault, FlakyProxy};
use uuid::Uuid;

/// An outbox file in the temp folder, removed (with its WAL files) at the end of the test.
struct TempOutbox(PathBuf);

impl TempOutbox {
    fn new() -> TempOutbox {
        TempOutbox(std::env::temp_dir().join(format!("guichet-outbox-{}.sqlite", Uuid::new_v4())))
    }

    fn open(&self) -> Outbox {
        Outbox::open(&self.0).unwrap()
    }
}

impl Drop for TempOutbox {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A valid report `metres` east of the town hall, so that reports of one test are separate
/// incidents.
fn report(category: &str, metres: f64) -> ReportSubmission {
    let p = destination(LatLon::new(RENNES.0, RENNES.1), 90.0, metres);
    serde_json::from_value(report_at(category, p.lat, p.lon)).unwrap()
}

fn prepared_photo(width: u32, height: u32) -> Vec<u8> {
    photo::prepare(&camera_jpeg(&photo_like_image(width, height), 6))
        .unwrap()
        .bytes
}

/// One connection per request, so that the flaky proxy's script maps onto requests.
fn client_without_pool(base: &str) -> SyncClient {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut client = SyncClient::with_client(base, http);
    // The real back-off starts at 5 s (docs/sync.md); a test needs the same doubling, faster.
    client.retry = RetryPolicy {
        first: Duration::from_millis(20),
        max: Duration::from_secs(2),
    };
    client
}

/// Syncs until nothing is pending, waiting for each next attempt as the app would. Returns
/// the rounds and the error recorded for each retry.
async fn sync_until_empty(client: &SyncClient, outbox: &Outbox) -> (Vec<SyncReport>, Vec<String>) {
    let mut rounds = Vec::new();
    let mut errors = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let report = client.sync_once(outbox).await.unwrap();
        for id in &report.retrying {
            let entry = outbox.get(*id).unwrap().unwrap();
            errors.push(entry.last_error.unwrap_or_default());
        }
        let next = report.next_attempt_at;
        let done = report.pending == 0;
        rounds.push(report);
        if done {
            return (rounds, errors);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still pending after {} rounds: {:#?}",
            rounds.len(),
            outbox.pending().unwrap()
        );
        let wait = next
            .map(|at| at - time::OffsetDateTime::now_utc())
            .and_then(|d| Duration::try_from(d).ok())
            .unwrap_or_default();
        tokio::time::sleep(wait.max(Duration::from_millis(5))).await;
    }
}

/// The client ids the server stored, with the request number of the receipt it gave each.
async fn stored_reports(server: &TestServer) -> Vec<(Uuid, String)> {
    sqlx::query_as("SELECT client_id, receipt->>'request_number' FROM reports ORDER BY id")
        .fetch_all(&server.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_outbox_survives_a_restart_and_its_report_arrives_once() {
    let server = TestServer::start().await;
    let file = TempOutbox::new();
    let photo = prepared_photo(1200, 900);

    let queued = report("voirie", 0.0);
    let client_id = {
        let outbox = file.open();
        outbox.enqueue(queued.clone(), vec![photo.clone()]).unwrap()
        // The app is killed here: the outbox is dropped before anything was sent.
    };
    assert_eq!(client_id, queued.client_id);

    let outbox = file.open();
    let pending = outbox.pending().unwrap();
    assert_eq!(pending.len(), 1);
    let entry = &pending[0];
    assert_eq!(entry.client_id, client_id);
    assert_eq!(entry.kind, EntryKind::Report);
    assert_eq!(entry.attempts, 0);
    assert_eq!(entry.photo_count, 1);
    assert!(entry.last_error.is_none());
    assert!(entry.next_attempt_at.is_some());
    assert_eq!(
        entry.report.as_ref().unwrap().description,
        queued.description
    );
    assert_eq!(
        server.db.count("reports").await,
        0,
        "nothing sent before sync"
    );

    let client = SyncClient::new(&server.base).unwrap();
    let round = client.sync_once(&outbox).await.unwrap();
    assert_eq!(round.sent.len(), 1, "{round:#?}");
    assert_eq!(round.pending, 0);
    assert!(round.next_attempt_at.is_none());
    assert_eq!(server.db.count("reports").await, 1);
    assert_eq!(server.db.count("photos").await, 1);

    // A second round, or a restart after sending, sends nothing again.
    drop(outbox);
    let outbox = file.open();
    let again = client.sync_once(&outbox).await.unwrap();
    assert!(again.sent.is_empty() && again.failed.is_empty());
    assert_eq!(server.db.count("reports").await, 1);

    let entry = outbox.get(client_id).unwrap().unwrap();
    assert_eq!(entry.state, EntryState::Sent);
    assert_eq!(entry.attempts, 1);
    // Once the server has the photos, the phone no longer keeps them.
    assert_eq!(entry.photo_count, 0);
    let receipt = entry.receipt.unwrap();
    assert_eq!(receipt, round.sent[0].receipt);
    assert_eq!(receipt.photos.len(), 1);
    assert_eq!(
        stored_reports(&server).await,
        [(client_id, receipt.request_number.clone())]
    );
}

#[tokio::test]
async fn a_server_that_fails_then_recovers_gets_each_report_exactly_once() {
    let server = TestServer::start().await;
    let proxy = FlakyProxy::start(
        &server.base,
        vec![
            Fault::Refuse,
            Fault::CutRequest,
            Fault::Busy,
            Fault::LoseAnswer,
            Fault::Refuse,
            Fault::LoseAnswer,
            Fault::CutRequest,
        ],
    )
    .await;
    let file = TempOutbox::new();
    let outbox = file.open();
    let queued = [
        (report("voirie", 0.0), vec![prepared_photo(1600, 1200)]),
        (report("voirie", 600.0), vec![]),
        (
            report("eclairage-public", 1200.0),
            vec![prepared_photo(800, 600), prepared_photo(640, 480)],
        ),
    ];
    let mut ids = Vec::new();
    for (r, photos) in &queued {
        ids.push(outbox.enqueue(r.clone(), photos.clone()).unwrap());
    }
    assert_eq!(outbox.pending().unwrap().len(), 3);

    let client = client_without_pool(&proxy.base);
    let (rounds, errors) = sync_until_empty(&client, &outbox).await;
    for e in &errors {
        println!("retried after: {e}");
    }

    // Every fault of the script was played, and survived.
    assert_eq!(
        proxy.faults_played(),
        [
            Fault::Refuse,
            Fault::CutRequest,
            Fault::Busy,
            Fault::LoseAnswer,
            Fault::Refuse,
            Fault::LoseAnswer,
            Fault::CutRequest,
        ]
    );
    let retried: usize = rounds.iter().map(|r| r.retrying.len()).sum();
    assert_eq!(retried, 7, "one retry per fault");
    assert_eq!(errors.len(), 7);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("503") && e.contains("saturated")),
        "{errors:#?}"
    );

    // Each report arrived once, photos included, and the outbox holds the receipt the server
    // keeps for it (the lost answers were recovered by a retry answered 200).
    let stored = stored_reports(&server).await;
    assert_eq!(server.db.count("reports").await, 3);
    assert_eq!(server.db.count("photos").await, 3);
    let mut stored_ids: Vec<Uuid> = stored.iter().map(|(id, _)| *id).collect();
    stored_ids.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(stored_ids, expected, "no duplicates, no losses");

    assert!(outbox.pending().unwrap().is_empty());
    let entries = outbox.entries().unwrap();
    assert_eq!(entries.len(), 3);
    for entry in &entries {
        assert_eq!(entry.state, EntryState::Sent, "{entry:#?}");
        let number = &entry.receipt.as_ref().unwrap().request_number;
        assert!(stored.contains(&(entry.client_id, number.clone())));
    }
    // One attempt per connection: a failed one per fault, then one success per report.
    let attempts: u32 = entries.iter().map(|e| e.attempts).sum();
    assert_eq!(attempts, 7 + 3, "{entries:#?}");
    assert_eq!(proxy.log.lock().unwrap().len(), 7 + 3);
    assert!(entries.iter().all(|e| e.last_error.is_none()));
}

#[tokio::test]
async fn a_busy_servers_retry_after_holds_the_round_within_the_cap() {
    // The proxy answers 503 `server-busy` with `Retry-After: 1` and forwards nothing: no
    // server is needed behind it.
    for (max, expected) in [
        (Duration::from_secs(2), Duration::from_secs(1)),
        (Duration::from_millis(300), Duration::from_millis(300)),
    ] {
        let proxy = FlakyProxy::start("http://127.0.0.1:9", vec![Fault::Busy]).await;
        let file = TempOutbox::new();
        let outbox = file.open();
        let first = outbox.enqueue(report("voirie", 0.0), vec![]).unwrap();
        outbox.enqueue(report("voirie", 600.0), vec![]).unwrap();
        let mut client = client_without_pool(&proxy.base);
        client.retry.max = max;

        let before = time::OffsetDateTime::now_utc();
        let round = client.sync_once(&outbox).await.unwrap();
        let after = time::OffsetDateTime::now_utc();
        assert_eq!(round.retrying, [first], "{round:#?}");
        assert!(round.sent.is_empty() && round.failed.is_empty());
        // The second entry was not tried: the busy server is left alone until then.
        assert_eq!(proxy.log.lock().unwrap().len(), 1);
        assert_eq!(round.pending, 2);

        let entry = outbox.get(first).unwrap().unwrap();
        assert!(
            entry
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("503"))
        );
        let at = entry.next_attempt_at.unwrap();
        // The outbox keeps milliseconds.
        let slack = Duration::from_millis(1);
        assert!(
            at + slack >= before + expected && at <= after + expected,
            "{max:?}: retry at {at}, round from {before} to {after}"
        );
        // The next round is due then, not before, though the second entry is due now.
        let next = round.next_attempt_at.unwrap();
        assert!((next - at).abs() < slack, "{next} vs {at}");
    }
}

#[tokio::test]
async fn a_refused_report_is_kept_as_failed_with_its_code_and_not_retried() {
    let server = TestServer::start().await;
    let file = TempOutbox::new();
    let outbox = file.open();
    let bad = outbox
        .enqueue(report("no-such-category", 0.0), vec![])
        .unwrap();
    let good = outbox.enqueue(report("voirie", 0.0), vec![]).unwrap();

    let client = SyncClient::new(&server.base).unwrap();
    let round = client.sync_once(&outbox).await.unwrap();
    // A refusal does not hold up the reports queued after it.
    assert_eq!(round.failed.len(), 1);
    assert_eq!(round.failed[0].client_id, bad);
    assert_eq!(round.failed[0].code, "unknown-category");
    assert_eq!(round.sent.len(), 1);
    assert_eq!(round.sent[0].client_id, good);
    assert_eq!(round.pending, 0);

    // Not retried: another round sends nothing, and the server stored only the good one.
    let again = client.sync_once(&outbox).await.unwrap();
    assert!(again.sent.is_empty() && again.failed.is_empty() && again.retrying.is_empty());
    assert_eq!(server.db.count("reports").await, 1);

    // Kept visible, with the code to explain it.
    let failed = outbox.failed().unwrap();
    assert_eq!(failed.len(), 1);
    let entry = &failed[0];
    assert_eq!(entry.client_id, bad);
    assert_eq!(entry.state, EntryState::Failed);
    assert_eq!(entry.error_code.as_deref(), Some("unknown-category"));
    assert!(entry.last_error.as_deref().is_some_and(|e| !e.is_empty()));
    assert_eq!(entry.attempts, 1);
    assert!(entry.next_attempt_at.is_none());
    assert_eq!(outbox.entries().unwrap().len(), 2);
}

#[tokio::test]
async fn me_too_is_queued_and_sent_once_like_a_report() {
    let server = TestServer::start().await;
    let file = TempOutbox::new();
    let outbox = file.open();
    let client = SyncClient::new(&server.base).unwrap();

    outbox.enqueue(report("voirie", 0.0), vec![]).unwrap();
    let first = client.sync_once(&outbox).await.unwrap();
    let number = first.sent[0].receipt.request_number.clone();

    let support = outbox
        .enqueue_support(&number, Uuid::new_v4(), None)
        .unwrap();
    let unknown = outbox
        .enqueue_support("2020-SIG-999999", Uuid::new_v4(), None)
        .unwrap();
    let round = client.sync_once(&outbox).await.unwrap();
    assert_eq!(round.sent.len(), 1, "{round:#?}");
    let receipt = &round.sent[0].receipt;
    assert_eq!(round.sent[0].client_id, support);
    assert_eq!(receipt.request_number, number);
    assert!(receipt.deduplicated);
    assert_eq!(receipt.report_count, 2);
    assert_eq!(round.failed.len(), 1);
    assert_eq!(round.failed[0].client_id, unknown);
    assert_eq!(round.failed[0].code, "request-not-found");

    client.sync_once(&outbox).await.unwrap();
    assert_eq!(server.db.count("reports").await, 2);
}

fn application(client_id: Uuid, contract: &str) -> serde_json::Value {
    serde_json::json!({
        "client_id": client_id, "demarche": "candidature-spontanee", "channel": "app",
        "data": {"contract_type": contract, "work_fields": ["green_spaces"],
                 "last_name": "Le Gall", "first_name": "Iwan",
                 "contact_email": "iwan@example.org", "contact_phone": "06 12 34 56 78"},
    })
}

#[tokio::test]
async fn a_demarche_filed_offline_leaves_with_its_files_and_account_once() {
    let server = TestServer::start().await;
    let token = verified_citizen(&server, "iwan@example.org").await;
    let file = TempOutbox::new();
    let outbox = file.open();
    let cv = b"%PDF-1.4\n% CV d'Iwan\n%%EOF\n".to_vec();
    let letter = b"%PDF-1.4\n% lettre\n%%EOF\n".to_vec();
    let files = vec![
        QueuedFile {
            field: "cv".into(),
            name: "cv.pdf".into(),
            bytes: cv.clone(),
        },
        QueuedFile {
            field: "cover_letter".into(),
            name: "lettre.pdf".into(),
            bytes: letter.clone(),
        },
    ];
    let filed = Uuid::new_v4();
    outbox
        .enqueue_request(
            application(filed, "permanent"),
            files.clone(),
            "Candidature spontanée",
            Some(token.clone()),
        )
        .unwrap();
    // The internship needs its school and dates: refused, with the fields named.
    let refused = Uuid::new_v4();
    outbox
        .enqueue_request(
            application(refused, "internship"),
            files,
            "Candidature spontanée",
            Some(token),
        )
        .unwrap();

    // First through a server that drops the connection after storing it: retried, stored once.
    let proxy = FlakyProxy::start(&server.base, vec![Fault::LoseAnswer]).await;
    let (rounds, _) = sync_until_empty(&client_without_pool(&proxy.base), &outbox).await;
    let filed_round: Vec<_> = rounds.iter().flat_map(|r| r.filed.iter()).collect();
    assert_eq!(filed_round.len(), 1, "{rounds:#?}");
    assert_eq!(filed_round[0].client_id, filed);
    let number = filed_round[0].receipt["request_number"]
        .as_str()
        .unwrap()
        .to_owned();

    let stored: Vec<(String, Option<i64>)> = sqlx::query_as(
        "SELECT number, citizen_id FROM requests WHERE demarche_code = 'candidature-spontanee'",
    )
    .fetch_all(&server.db.pool)
    .await
    .unwrap();
    assert_eq!(stored.len(), 1, "stored once");
    assert_eq!(stored[0].0, number);
    assert!(stored[0].1.is_some(), "filed on the account");
    let files: Vec<(String, String, i32)> = sqlx::query_as(
        "SELECT f.field_id, f.filename, f.bytes FROM request_files f JOIN requests r ON r.id = f.request_id
          WHERE r.number = $1 ORDER BY f.field_id",
    )
    .bind(&number)
    .fetch_all(&server.db.pool)
    .await
    .unwrap();
    assert_eq!(
        files,
        [
            (
                "cover_letter".to_owned(),
                "lettre.pdf".to_owned(),
                i32::try_from(letter.len()).unwrap()
            ),
            (
                "cv".to_owned(),
                "cv.pdf".to_owned(),
                i32::try_from(cv.len()).unwrap()
            ),
        ]
    );

    let sent = outbox.get(filed).unwrap().unwrap();
    assert_eq!(sent.state, EntryState::Sent);
    assert_eq!(
        sent.request_receipt.unwrap()["request_number"],
        number.as_str()
    );
    let failed = outbox.get(refused).unwrap().unwrap();
    assert_eq!(
        (failed.state, failed.kind),
        (EntryState::Failed, EntryKind::Request)
    );
    assert_eq!(failed.error_code.as_deref(), Some("validation-failed"));
    assert!(
        failed.field_errors.iter().any(|e| e.field == "data.school"),
        "{:?}",
        failed.field_errors
    );
}
