#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The crash drill: `kill -9` of an instance during 500 concurrent uploads with a photo each.
//! Every report that got a 201 is stored with its photo; clients that send their unanswered
//! reports again with the same client id get one request each, never two; once the clean-up
//! job has run, no file is left that nothing refers to.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use guichet_tests::fixtures::{encode_jpeg, photo_like_image};
use guichet_tests::{RENNES, ServerProcess, TestDb, multipart};
use serde_json::{Value, json};

const CLIENTS: usize = 500;

/// A report of its own for client `i`: on a grid 250 m apart around Rennes, so that no two are
/// duplicates, with a photo of its own.
fn report(i: usize) -> (Value, Vec<u8>) {
    let (row, col) = ((i / 25) as f64, (i % 25) as f64);
    let lat = RENNES.0 - 0.0225 + row * 0.00225;
    let lon = RENNES.1 - 0.042 + col * 0.0034;
    let mut image = photo_like_image(96, 72);
    // A few pixels set from the index make every photo's bytes different.
    for (k, px) in image.pixels_mut().take(24).enumerate() {
        px.0 = [(i >> (k % 9)) as u8, (i * 7 + k) as u8, (i * 13) as u8];
    }
    let body = json!({
        "client_id": uuid::Uuid::from_u128(0x00c0_ffee_0000_0000_0000_0000_0000_0000 + i as u128),
        "category": "voirie",
        "lat": lat,
        "lon": lon,
        "accuracy_m": 5.0,
        "description": format!("Nid-de-poule n° {i}"),
    });
    (body, encode_jpeg(&image, 80))
}

#[derive(Debug)]
enum Outcome {
    Stored(String),
    /// No answer, or another status (with the answer's text).
    NotStored(String),
}

async fn send(client: &reqwest::Client, base: &str, i: usize) -> Outcome {
    let (body, photo) = report(i);
    let answer = client
        .post(format!("{base}/api/v1/reports"))
        .multipart(multipart(&body, &[("photo.jpg", photo)]))
        .send()
        .await;
    match answer {
        // 201 when stored now, 200 when it was stored by an earlier try (the same receipt).
        Ok(r) if matches!(r.status().as_u16(), 200 | 201) => match r.json::<Value>().await {
            Ok(v) => Outcome::Stored(v["request_number"].as_str().unwrap().to_owned()),
            // The answer was cut by the kill: the client cannot tell.
            Err(e) => Outcome::NotStored(e.to_string()),
        },
        Ok(r) => Outcome::NotStored(format!(
            "{} {}",
            r.status(),
            r.text().await.unwrap_or_default()
        )),
        Err(e) => Outcome::NotStored(e.to_string()),
    }
}

fn stored_files(dir: &std::path::Path) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if let Some(name) = p.file_name().and_then(|n| n.to_str()) {
                out.insert(name.to_owned());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kill_during_500_uploads_loses_no_answered_report_and_leaves_no_orphan() {
    let started = Instant::now();
    let db = TestDb::new().await;
    let data_dir = std::env::temp_dir().join(format!("guichet-crash-{}", uuid::Uuid::new_v4()));
    let mut server = ServerProcess::start_in(&db, &data_dir, &[]).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();

    let stored = Arc::new(AtomicUsize::new(0));
    let mut uploads = Vec::new();
    for i in 0..CLIENTS {
        let (client, base, stored) = (client.clone(), server.base.clone(), stored.clone());
        uploads.push(tokio::spawn(async move {
            let outcome = send(&client, &base, i).await;
            if matches!(outcome, Outcome::Stored(_)) {
                stored.fetch_add(1, Ordering::SeqCst);
            }
            outcome
        }));
    }
    // Killed in the thick of it: once a few dozen reports are in.
    let wait = Instant::now();
    while stored.load(Ordering::SeqCst) < 40 && wait.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill_hard();
    let mut answered = Vec::new();
    for (i, upload) in uploads.into_iter().enumerate() {
        if let Outcome::Stored(number) = upload.await.unwrap() {
            answered.push((i, number));
        }
    }
    assert!(
        answered.len() >= 40,
        "{} answered before the kill",
        answered.len()
    );
    assert!(
        answered.len() < CLIENTS,
        "the kill came after every upload: nothing was tested"
    );

    // Each report answered 201 is there with its photo, in the database and the store.
    let files_after_kill = stored_files(&data_dir);
    for (i, number) in &answered {
        let keys: Vec<(String, String)> = sqlx::query_as(
            "SELECT p.display_key, p.thumb_key FROM photos p JOIN reports r ON r.id = p.report_id
              JOIN requests q ON q.id = r.request_id
             WHERE q.number = $1 AND r.client_id = $2",
        )
        .bind(number)
        .bind(
            report(*i).0["client_id"]
                .as_str()
                .unwrap()
                .parse::<uuid::Uuid>()
                .unwrap(),
        )
        .fetch_all(&db.pool)
        .await
        .unwrap();
        assert_eq!(keys.len(), 1, "{number}: its photo");
        for (display, thumb) in keys {
            assert!(files_after_kill.contains(&display), "{number}: {display}");
            assert!(files_after_kill.contains(&thumb), "{number}: {thumb}");
        }
    }

    // The clients send what was not answered again, with the same ids, to a new instance.
    let mut server = ServerProcess::start_in(&db, &data_dir, &[]).await;
    let done: HashSet<usize> = answered.iter().map(|(i, _)| *i).collect();
    for i in (0..CLIENTS).filter(|i| !done.contains(i)) {
        let mut tries = 0;
        while let Outcome::NotStored(why) = send(&client, &server.base, i).await {
            tries += 1;
            assert!(tries < 20, "report {i} never went through: {why}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // Answered before the kill and sent again anyway (a client that missed the answer): the
    // same request comes back.
    for (i, number) in answered.iter().take(5) {
        match send(&client, &server.base, *i).await {
            Outcome::Stored(again) => assert_eq!(&again, number),
            Outcome::NotStored(why) => panic!("report {i} sent again was refused: {why}"),
        }
    }
    let reports: i64 = sqlx::query_scalar("SELECT count(*) FROM reports")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(reports, CLIENTS as i64, "one report per client, none twice");
    let requests: i64 = sqlx::query_scalar("SELECT count(*) FROM requests")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        requests, CLIENTS as i64,
        "one request per report: no duplicate"
    );

    // The clean-up job, brought forward instead of waiting its 10 minutes, removes what the
    // kill left without a reference; every file left is referenced.
    sqlx::query("UPDATE outbox_jobs SET run_at = now(), locked_until = NULL WHERE kind = 'photos.cleanup' AND done_at IS NULL")
        .execute(&db.pool)
        .await
        .unwrap();
    let wait = Instant::now();
    loop {
        let pending: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM outbox_jobs WHERE kind = 'photos.cleanup' AND done_at IS NULL AND failed_at IS NULL",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        if pending == 0 {
            break;
        }
        assert!(
            wait.elapsed() < Duration::from_secs(60),
            "{pending} clean-ups still pending"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let referenced: HashSet<String> = sqlx::query_scalar(
        "SELECT display_key FROM photos UNION SELECT thumb_key FROM photos
         UNION SELECT storage_key FROM request_files
         UNION SELECT display_key FROM event_photos UNION SELECT thumb_key FROM event_photos",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    let left = stored_files(&data_dir);
    let orphans: Vec<&String> = left.difference(&referenced).collect();
    assert!(orphans.is_empty(), "files nothing refers to: {orphans:?}");
    assert_eq!(left.len(), referenced.len());
    server.kill_hard();
    let _ = std::fs::remove_dir_all(&data_dir);
    eprintln!(
        "crash drill: {} of {CLIENTS} answered before the kill, the rest sent again; {:?} in all",
        answered.len(),
        started.elapsed()
    );
}
