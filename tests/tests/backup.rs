#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! `guichet backup` and `guichet restore`: a round trip through a backup directory gives a
//! database and a store where the public views, the agents' details and the photos' bytes are
//! those of the original; a restore refuses a database in use and a changed backup.

use guichet_tests::api::{agent_token, contact_request, get, post};
use guichet_tests::fixtures::{encode_jpeg, photo_like_image};
use guichet_tests::{RENNES, TestDb, TestServer, cli_command, report_at, succeed};
use serde_json::Value;

const ADMIN: &str = "admin@guichet.example";

/// Every `/media/…` address in a JSON value.
fn media_urls(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.contains("/media/") => {
            out.push(s[s.find("/media/").unwrap()..].to_owned());
        }
        Value::Array(items) => items.iter().for_each(|i| media_urls(i, out)),
        Value::Object(map) => map.values().for_each(|i| media_urls(i, out)),
        _ => {}
    }
}

/// What the round trip must keep: the public map, each request's agent detail, the photos.
async fn snapshot(server: &TestServer, numbers: &[String]) -> (Value, Vec<Value>, Vec<Vec<u8>>) {
    let admin = agent_token(server, ADMIN).await;
    let (status, map) = get(
        server,
        "/api/v1/incidents?bbox=-1.75,48.05,-1.6,48.15&zoom=18",
        None,
    )
    .await;
    assert_eq!(status, 200, "{map}");
    let mut details = Vec::new();
    let mut photos = Vec::new();
    for number in numbers {
        let (status, mut detail) = get(
            server,
            &format!("/api/v1/agent/requests/{number}"),
            Some(&admin),
        )
        .await;
        assert_eq!(status, 200, "{detail}");
        let mut urls = Vec::new();
        media_urls(&detail, &mut urls);
        for url in urls {
            let r = server.client.get(server.url(&url)).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200, "{url}");
            photos.push(r.bytes().await.unwrap().to_vec());
        }
        // Addresses of the server differ from one server to the other; the rest is the same.
        strip_origin(&mut detail, &server.base);
        details.push(detail);
    }
    (map, details, photos)
}

fn strip_origin(v: &mut Value, base: &str) {
    match v {
        Value::String(s) => *s = s.replace(base, ""),
        Value::Array(items) => items.iter_mut().for_each(|i| strip_origin(i, base)),
        Value::Object(map) => map.values_mut().for_each(|i| strip_origin(i, base)),
        _ => {}
    }
}

#[tokio::test]
async fn a_backup_restored_into_an_empty_database_and_store_gives_the_same_service() {
    let server = TestServer::start().await;
    let mut numbers = Vec::new();
    for (i, size) in [(0, 800), (1, 640)] {
        let photo = encode_jpeg(&photo_like_image(size, size * 3 / 4), 85);
        let report = report_at("voirie", RENNES.0 + 0.004 * f64::from(i), RENNES.1);
        let r = server
            .client
            .post(server.url("/api/v1/reports"))
            .multipart(guichet_tests::multipart(&report, &[("p.jpg", photo)]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let receipt: Value = r.json().await.unwrap();
        numbers.push(receipt["request_number"].as_str().unwrap().to_owned());
    }
    let (status, filed) = post(
        &server,
        "/api/v1/requests",
        None,
        &contact_request(uuid::Uuid::new_v4(), "lea@example.org"),
    )
    .await;
    assert_eq!(status, 201, "{filed}");
    numbers.push(filed["request_number"].as_str().unwrap().to_owned());
    let before = snapshot(&server, &numbers).await;
    assert!(before.2.len() >= 2, "the photos are part of the check");

    let dir = std::env::temp_dir().join(format!("guichet-backup-{}", uuid::Uuid::new_v4()));
    succeed(
        cli_command(&server.db)
            .args(["backup", dir.to_str().unwrap()])
            .env("GUICHET_DATA_DIR", &server.data_dir),
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["objects"].as_u64().unwrap() >= 4, "{manifest}");
    // The backup is a metric: its age, which was infinite before.
    let metrics = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let age: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("guichet_backup_age_seconds "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(age < 600.0, "{age}");
    // Again into the same directory: refused, nothing overwritten.
    let again = cli_command(&server.db)
        .args(["backup", dir.to_str().unwrap()])
        .env("GUICHET_DATA_DIR", &server.data_dir)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));

    // Into an empty database and a new data folder.
    let empty = TestDb::empty().await;
    let data = std::env::temp_dir().join(format!("guichet-restored-{}", uuid::Uuid::new_v4()));
    let restore = |db: &TestDb| {
        cli_command(db)
            .args(["restore", dir.to_str().unwrap()])
            .env("GUICHET_DATA_DIR", &data)
            .output()
            .unwrap()
    };
    let out = restore(&empty);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored = TestServer::start_on(empty.reopen().await, |c| c.data_dir = data.clone()).await;
    let after = snapshot(&restored, &numbers).await;
    assert_eq!(after.0, before.0, "the public map");
    assert_eq!(after.1, before.1, "the agents' details");
    assert_eq!(after.2, before.2, "the photos' bytes");

    // A database in use is never restored over.
    let out = restore(&server.db);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty database"));
    // Nor a backup whose dump was changed.
    let dump = dir.join("database.dump");
    let mut bytes = std::fs::read(&dump).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&dump, bytes).unwrap();
    let other = TestDb::empty().await;
    let out = restore(&other);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SHA-256"));
    let _ = std::fs::remove_dir_all(&dir);
}
