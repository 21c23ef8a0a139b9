#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The store of photos and attached files, the same tests on local disk and on a real
//! S3-compatible server (`guichet_tests::s3`, one for this whole file): the store's own
//! contract, photos served through `/media` with the stored bytes, attached files kept private,
//! the clean-up of orphans, a backup restored into another store, `guichet migrate-store` both
//! ways, an unreachable store, and three `guichet serve` processes on one bucket.

use std::time::Duration;

use bytes::Bytes;
use guichet_server::photos::{StoreError, hex_sha256};
use guichet_tests::api::{agent_token, verified_citizen};
use guichet_tests::fixtures::{encode_jpeg, photo_like_image};
use guichet_tests::store::{Backend, TestStore};
use guichet_tests::{
    RENNES, ServerProcess, TestDb, TestServer, binary, cli_command, expect_problem, multipart,
    report_at, succeed,
};
use serde_json::{Value, json};

const ADMIN: &str = "admin@guichet.example";

/// Each listed test, once on local disk and once on the S3 server.
macro_rules! on_both_stores {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test]
            async fn on_local_disk() {
                super::$test(super::Backend::LocalDisk).await;
            }
            #[tokio::test]
            async fn on_s3() {
                super::$test(super::Backend::S3).await;
            }
        }
    )*};
}

on_both_stores!(
    the_store_keeps_lists_and_deletes_objects_by_key,
    photos_are_served_through_media_with_the_stored_bytes,
    attached_files_are_read_by_agents_only_and_never_redirected,
    orphans_are_cleaned_up_and_used_objects_kept,
    a_backup_restores_into_another_store_of_the_same_kind,
);

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

fn key_of(bytes: &[u8], ext: &str) -> String {
    format!("{}.{ext}", hex_sha256(bytes))
}

async fn the_store_keeps_lists_and_deletes_objects_by_key(backend: Backend) {
    let test_store = TestStore::new(backend);
    let store = test_store.open();
    let (a, b) = (b"RIFF-a-WEBP".as_slice(), b"%PDF-1.4 b".as_slice());
    let (ka, kb) = (key_of(a, "webp"), key_of(b, "pdf"));
    assert_eq!(store.get(&ka).await.unwrap(), None);
    assert_eq!(store.size(&ka).await.unwrap(), None);
    assert!(store.put(&ka, Bytes::from_static(a)).await.unwrap());
    assert!(
        !store.put(&ka, Bytes::from_static(a)).await.unwrap(),
        "the same key again is already there"
    );
    assert!(store.put(&kb, Bytes::from_static(b)).await.unwrap());
    assert_eq!(store.get(&ka).await.unwrap().as_deref(), Some(a));
    assert_eq!(store.size(&kb).await.unwrap(), Some(b.len() as u64));
    let mut expected = vec![ka.clone(), kb.clone()];
    expected.sort();
    assert_eq!(test_store.keys().await, expected);
    // Nothing a write left behind: the object stays whole.
    store.discard_partial(&ka).await.unwrap();
    assert_eq!(store.get(&ka).await.unwrap().as_deref(), Some(a));
    store.delete(&ka).await.unwrap();
    store.delete(&ka).await.unwrap();
    assert_eq!(store.get(&ka).await.unwrap(), None);
    assert_eq!(test_store.keys().await, vec![kb]);
    for bad in ["../../etc/passwd", "photo.webp", "AB.webp"] {
        assert!(
            matches!(store.get(bad).await, Err(StoreError::InvalidKey(_))),
            "{bad}"
        );
    }
}

/// Files a report with one photo; returns the receipt.
async fn report_with_photo(server: &TestServer, lat: f64, size: u32) -> Value {
    let photo = encode_jpeg(&photo_like_image(size, size * 3 / 4), 85);
    let report = report_at("voirie", lat, RENNES.1);
    let r = server
        .client
        .post(server.url("/api/v1/reports"))
        .multipart(multipart(&report, &[("p.jpg", photo)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

async fn photos_are_served_through_media_with_the_stored_bytes(backend: Backend) {
    let store = TestStore::new(backend);
    let server = TestServer::start_with(|c| store.configure(c)).await;
    let receipt = report_with_photo(&server, RENNES.0, 900).await;
    let (display, thumb): (String, String) =
        sqlx::query_as("SELECT display_key, thumb_key FROM photos")
            .fetch_one(&server.db.pool)
            .await
            .unwrap();
    let mut expected = vec![display.clone(), thumb.clone()];
    expected.sort();
    assert_eq!(store.keys().await, expected, "display and thumbnail");

    let client = no_redirects();
    for (url, key) in [
        (receipt["photos"][0]["url"].as_str().unwrap(), &display),
        (
            receipt["photos"][0]["thumbnail_url"].as_str().unwrap(),
            &thumb,
        ),
    ] {
        assert!(
            url.starts_with(&server.base),
            "{url}: served by the service"
        );
        let r = client.get(url).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}: proxied, not redirected");
        assert_eq!(r.headers()["content-type"], "image/webp");
        assert_eq!(
            r.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        let served = r.bytes().await.unwrap();
        let stored = store.open().get(key).await.unwrap().unwrap();
        assert_eq!(served, stored);
        assert!(
            image::load_from_memory_with_format(&served, image::ImageFormat::WebP).is_ok(),
            "a whole picture"
        );
    }

    // Content addressing: the same photo again adds no object.
    let again = report_with_photo(&server, RENNES.0 + 0.01, 900).await;
    assert_eq!(again["photos"][0]["url"], receipt["photos"][0]["url"]);
    assert_eq!(store.keys().await.len(), 2);
    let missing = format!("/media/{}.webp", "ab".repeat(32));
    let r = client.get(server.url(&missing)).send().await.unwrap();
    expect_problem(r, 404, "photo-not-found").await;
}

/// A spontaneous application (two PDF files), entered by an agent.
fn application() -> Value {
    json!({
        "client_id": uuid::Uuid::new_v4(),
        "demarche": "candidature-spontanee",
        "channel": "mail",
        "data": {
            "contract_type": "permanent",
            "work_fields": ["green_spaces"],
            "last_name": "Le Gall",
            "first_name": "Iwan",
            "contact_email": "iwan@example.org",
            "contact_phone": "06 12 34 56 78",
        },
    })
}

async fn attached_files_are_read_by_agents_only_and_never_redirected(backend: Backend) {
    let store = TestStore::new(backend);
    let server = TestServer::start_with(|c| store.configure(c)).await;
    let admin = agent_token(&server, ADMIN).await;
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
        .to_vec();
    let mut form = reqwest::multipart::Form::new().part(
        "request",
        reqwest::multipart::Part::text(application().to_string())
            .mime_str("application/json")
            .unwrap(),
    );
    for field in ["cv", "cover_letter"] {
        form = form.part(
            field,
            reqwest::multipart::Part::bytes(pdf.clone()).file_name("cv.pdf"),
        );
    }
    let r = server
        .client
        .post(server.url("/api/v1/agent/requests"))
        .bearer_auth(&admin)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let number = r.json::<Value>().await.unwrap()["request_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let key: String = sqlx::query_scalar("SELECT storage_key FROM request_files LIMIT 1")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(key, key_of(&pdf, "pdf"));
    assert_eq!(store.keys().await, vec![key.clone()], "one object, shared");
    assert_eq!(
        store.open().get(&key).await.unwrap().as_deref(),
        Some(pdf.as_slice())
    );

    let client = no_redirects();
    let detail: Value = client
        .get(server.url(&format!("/api/v1/agent/requests/{number}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = detail["files"][0]["url"].as_str().unwrap().to_owned();
    let r = client
        .get(server.url(&url))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "read through the service, never redirected"
    );
    assert_eq!(r.headers()["cache-control"], "private, no-store");
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf);
    // Nobody else: not without a session, not through the public photo address.
    let r = client.get(server.url(&url)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = client
        .get(server.url(&format!("/media/{key}")))
        .send()
        .await
        .unwrap();
    expect_problem(r, 404, "photo-not-found").await;
}

/// Waits until no clean-up job is left to run.
async fn cleanups_done(server: &TestServer) {
    let started = std::time::Instant::now();
    loop {
        let pending: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM outbox_jobs WHERE done_at IS NULL AND kind = 'photos.cleanup'",
        )
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
        if pending == 0 {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "jobs not run");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn orphans_are_cleaned_up_and_used_objects_kept(backend: Backend) {
    let store = TestStore::new(backend);
    let server = TestServer::start_with(|c| {
        store.configure(c);
        c.outbox.poll_interval = Duration::from_millis(100);
    })
    .await;
    let receipt = report_with_photo(&server, RENNES.0, 640).await;
    let used: String = sqlx::query_scalar("SELECT display_key FROM photos")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    // What a crash between writing and committing leaves: an object nobody refers to.
    let orphan_bytes = b"RIFF-orphan-WEBP";
    let orphan = key_of(orphan_bytes, "webp");
    store
        .open()
        .put(&orphan, Bytes::from_static(orphan_bytes))
        .await
        .unwrap();
    assert_eq!(store.keys().await.len(), 3);

    // Every clean-up due now, the submission's own and one naming both objects.
    sqlx::query("INSERT INTO outbox_jobs (kind, payload) VALUES ('photos.cleanup', $1)")
        .bind(json!({ "keys": [orphan, used] }))
        .execute(&server.db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE outbox_jobs SET run_at = now() WHERE kind = 'photos.cleanup'")
        .execute(&server.db.pool)
        .await
        .unwrap();
    cleanups_done(&server).await;
    let keys = store.keys().await;
    assert!(!keys.contains(&orphan), "the orphan is gone");
    assert_eq!(keys.len(), 2, "display and thumbnail kept");
    let r = server
        .client
        .get(receipt["photos"][0]["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Every `/media/…` path of a JSON value.
fn media_paths(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.contains("/media/") => {
            out.push(s[s.find("/media/").unwrap()..].to_owned());
        }
        Value::Array(items) => items.iter().for_each(|i| media_paths(i, out)),
        Value::Object(map) => map.values().for_each(|i| media_paths(i, out)),
        _ => {}
    }
}

async fn a_backup_restores_into_another_store_of_the_same_kind(backend: Backend) {
    let store = TestStore::new(backend);
    let server = TestServer::start_with(|c| store.configure(c)).await;
    let receipt = report_with_photo(&server, RENNES.0, 800).await;
    let mut paths = Vec::new();
    media_paths(&receipt, &mut paths);
    assert_eq!(paths.len(), 2, "{receipt}");
    let mut before = Vec::new();
    for path in &paths {
        before.push(
            server
                .client
                .get(server.url(path))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap(),
        );
    }

    let dir = std::env::temp_dir().join(format!("guichet-backup-{}", uuid::Uuid::new_v4()));
    succeed(
        cli_command(&server.db)
            .args(["backup", dir.to_str().unwrap()])
            .envs(store.env()),
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["objects"], 2, "{manifest}");

    // Into an empty database and an empty store of the same kind.
    let empty = TestDb::empty().await;
    let other = TestStore::new(backend);
    succeed(
        cli_command(&empty)
            .args(["restore", dir.to_str().unwrap()])
            .envs(other.env()),
    );
    assert_eq!(other.keys().await, store.keys().await);
    let restored = TestServer::start_on(empty.reopen().await, |c| other.configure(c)).await;
    for (path, bytes) in paths.iter().zip(&before) {
        let r = restored
            .client
            .get(restored.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(&r.bytes().await.unwrap(), bytes, "{path}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `guichet migrate-store`; it needs no database, only a configuration that names one.
fn migrate_store(from: &TestStore, to: &TestStore, s3: &TestStore) -> String {
    let out = succeed(
        std::process::Command::new(binary())
            .args(["migrate-store", "--from", &from.spec(), "--to", &to.spec()])
            .env("DATABASE_URL", "postgres://unused.invalid/none")
            .env("RUST_LOG", "warn")
            .env_remove("GUICHET_CONFIG")
            .envs(
                s3.env()
                    .into_iter()
                    .filter(|(k, _)| k.starts_with("GUICHET_S3_")),
            ),
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn migrate_store_copies_local_disk_into_a_bucket_and_back_and_skips_what_is_there() {
    let local = TestStore::new(Backend::LocalDisk);
    let bucket = TestStore::new(Backend::S3);
    let back = TestStore::new(Backend::LocalDisk);
    let objects: Vec<Vec<u8>> = (0..5)
        .map(|i| format!("RIFF-photo-{i}-WEBP").repeat(i + 1).into_bytes())
        .collect();
    let total: usize = objects.iter().map(Vec::len).sum();
    for bytes in &objects {
        local
            .open()
            .put(&key_of(bytes, "webp"), Bytes::from(bytes.clone()))
            .await
            .unwrap();
    }

    let first = migrate_store(&local, &bucket, &bucket);
    assert!(
        first.contains(&format!(
            "5 objects copied ({total} bytes), 0 already there"
        )),
        "{first}"
    );
    assert_eq!(bucket.keys().await, local.keys().await);
    let again = migrate_store(&local, &bucket, &bucket);
    assert!(
        again.contains("0 objects copied (0 bytes), 5 already there"),
        "{again}"
    );

    // One object more in the bucket, then everything back to another folder.
    let extra = b"%PDF-1.4 added later".to_vec();
    bucket
        .open()
        .put(&key_of(&extra, "pdf"), Bytes::from(extra.clone()))
        .await
        .unwrap();
    let out = migrate_store(&bucket, &back, &bucket);
    assert!(out.contains("6 objects copied"), "{out}");
    assert_eq!(back.keys().await, bucket.keys().await);
    let (from, to) = (bucket.open(), back.open());
    for key in back.keys().await {
        assert_eq!(from.get(&key).await.unwrap(), to.get(&key).await.unwrap());
    }

    // Unknown or identical stores are refused with a word on what is expected.
    for (from, to) in [("gs://photos", "configured"), ("configured", "configured")] {
        let out = std::process::Command::new(binary())
            .args(["migrate-store", "--from", from, "--to", to])
            .env("DATABASE_URL", "postgres://unused.invalid/none")
            .env_remove("GUICHET_CONFIG")
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("local:DIR") || err.contains("same store"),
            "{err}"
        );
    }
}

/// A verified citizen's session, and a document of their wallet whose bytes the store was
/// never given (only its row is written).
async fn wallet_document_without_bytes(server: &TestServer) -> (String, i64) {
    let token = verified_citizen(server, "nina@example.org").await;
    let document: i64 = sqlx::query_scalar(
        "INSERT INTO wallet_documents (citizen_id, label, kind, filename, mime, bytes, storage_key)
         SELECT id, 'CV', 'other', 'cv.pdf', 'application/pdf', 10, $1 FROM citizens
          WHERE email = 'nina@example.org' RETURNING id",
    )
    .bind(format!("{}.pdf", "ab".repeat(32)))
    .fetch_one(&server.db.pool)
    .await
    .unwrap();
    (token, document)
}

/// A store that cannot be reached makes the calls that need it answer 503, within the
/// configured wait, and nothing is recorded.
#[tokio::test]
async fn an_unreachable_or_silent_store_answers_503_and_records_nothing() {
    // A port nobody listens on: connections are refused.
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    // A server that accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let bucket = TestStore::new(Backend::S3);
    for address in [refused, silent_addr] {
        let server = TestServer::start_with(|c| {
            bucket.configure(c);
            c.store.s3.endpoint = Some(format!("http://{address}"));
            c.store.s3.timeout = Duration::from_secs(2);
        })
        .await;
        // A read of a stored file (a wallet document, whose row is all the database knows).
        let (token, document) = wallet_document_without_bytes(&server).await;
        let r = server
            .client
            .get(server.url(&format!("/api/v1/citizen/me/documents/{document}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["retry-after"], "5");
        expect_problem(r, 503, "store-unavailable").await;

        let jpeg = encode_jpeg(&photo_like_image(320, 240), 80);
        let report = report_at("voirie", RENNES.0, RENNES.1);
        let r = server
            .client
            .post(server.url("/api/v1/reports"))
            .multipart(multipart(&report, &[("p.jpg", jpeg)]))
            .send()
            .await
            .unwrap();
        expect_problem(r, 503, "store-unavailable").await;
        for table in ["requests", "reports", "photos"] {
            assert_eq!(server.db.count(table).await, 0, "{table}");
        }
        // The rest of the service is unaffected.
        let r = server
            .client
            .get(server.url("/readyz"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
}

/// Three `guichet serve` processes, each with a data folder of its own, on one database and
/// one bucket: each serves the photos the others received.
#[tokio::test]
async fn three_instances_on_one_database_and_one_bucket_serve_each_other_s_photos() {
    let db = TestDb::new().await;
    let bucket = TestStore::new(Backend::S3);
    let mut instances = Vec::new();
    let mut folders = Vec::new();
    for _ in 0..3 {
        let folder = std::env::temp_dir().join(format!("guichet-inst-{}", uuid::Uuid::new_v4()));
        instances.push(ServerProcess::start_in(&db, &folder, &bucket.env()).await);
        folders.push(folder);
    }
    let client = no_redirects();
    let mut photos = Vec::new();
    for (i, instance) in instances.iter().enumerate() {
        // Far enough apart, and different pictures, to be three requests.
        let photo = encode_jpeg(&photo_like_image(500 + 100 * i as u32, 400), 85);
        let report = report_at("voirie", RENNES.0 + 0.01 * i as f64, RENNES.1);
        let r = client
            .post(instance.url("/api/v1/reports"))
            .multipart(multipart(&report, &[("p.jpg", photo)]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let receipt: Value = r.json().await.unwrap();
        let mut paths = Vec::new();
        media_paths(&receipt, &mut paths);
        photos.extend(paths);
    }
    assert_eq!(photos.len(), 6);
    assert_eq!(
        bucket.keys().await.len(),
        6,
        "every photo in the one bucket"
    );
    for path in &photos {
        let key = path.trim_start_matches("/media/");
        let stored = bucket.open().get(key).await.unwrap().unwrap();
        for instance in &instances {
            let r = client.get(instance.url(path)).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path} from {}", instance.base);
            assert_eq!(r.bytes().await.unwrap(), stored);
        }
    }
    for folder in folders {
        assert!(
            !folder.join("photos").exists(),
            "nothing written to the local folder"
        );
        let _ = std::fs::remove_dir_all(folder);
    }
}
