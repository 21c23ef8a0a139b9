#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Dedup across instances: two `guichet serve` processes on one database receive reports of
//! the same incident at the same moment; the grid-cell advisory locks make them agree.

use guichet_shared::geo::{LatLon, destination};
use guichet_tests::{RENNES, ServerProcess, TestDb, multipart, report_at};

async fn submit_all(
    servers: &[ServerProcess],
    reports: &[serde_json::Value],
) -> Vec<serde_json::Value> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let sends = reports.iter().enumerate().map(|(i, report)| {
        let url = servers[i % servers.len()].url("/api/v1/reports");
        let client = client.clone();
        async move {
            // As the apps do: a 503 (the pool's wait ran out on a machine busy with other
            // tests) is sent again after its Retry-After, with the same client id.
            for _ in 0..5 {
                let response = client
                    .post(&url)
                    .multipart(multipart(report, &[]))
                    .send()
                    .await
                    .unwrap();
                if response.status() == 503 {
                    let wait = response.headers()["retry-after"].to_str().unwrap();
                    tokio::time::sleep(std::time::Duration::from_secs(wait.parse().unwrap())).await;
                    continue;
                }
                assert_eq!(response.status(), 201);
                return response.json::<serde_json::Value>().await.unwrap();
            }
            panic!("still 503 after five tries");
        }
    });
    futures::future::join_all(sends).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_incident_reported_100_times_through_two_instances_is_one_request() {
    let db = TestDb::new().await;
    let servers = [
        ServerProcess::start(&db).await,
        ServerProcess::start(&db).await,
    ];
    let origin = LatLon::new(RENNES.0, RENNES.1);
    let reports: Vec<_> = (0..100)
        .map(|i| {
            // Jittered within 10 m, as GPS fixes of one pothole are.
            let p = destination(origin, f64::from(i) * 37.0 % 360.0, f64::from(i % 11));
            report_at("voirie", p.lat, p.lon)
        })
        .collect();
    let receipts = submit_all(&servers, &reports).await;
    let numbers: std::collections::HashSet<_> = receipts
        .iter()
        .map(|r| r["request_number"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(numbers.len(), 1, "{numbers:?}");
    assert_eq!(
        receipts
            .iter()
            .filter(|r| r["deduplicated"] == false)
            .count(),
        1
    );
    let (requests, reports_count): (i64, i32) =
        sqlx::query_as("SELECT count(*), max(report_count) FROM requests")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!((requests, reports_count), (1, 100));
    assert_eq!(db.count("reports").await, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reports_300_m_apart_are_100_requests() {
    let db = TestDb::new().await;
    let servers = [
        ServerProcess::start(&db).await,
        ServerProcess::start(&db).await,
    ];
    // A 10 × 10 grid with 300 m spacing around the centre of Rennes.
    let origin = LatLon::new(48.095, -1.705);
    let reports: Vec<_> = (0..100)
        .map(|i| {
            let row = destination(origin, 0.0, f64::from(i / 10) * 300.0);
            let p = destination(row, 90.0, f64::from(i % 10) * 300.0);
            report_at("voirie", p.lat, p.lon)
        })
        .collect();
    let receipts = submit_all(&servers, &reports).await;
    assert!(receipts.iter().all(|r| r["deduplicated"] == false));
    assert_eq!(db.count("requests").await, 100);
    let flagged: i64 =
        sqlx::query_scalar("SELECT count(*) FROM requests WHERE possible_duplicate_of IS NOT NULL")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(flagged, 0);
}

/// A report whose best candidate is closed by an agent while the report is being decided
/// joins the next candidate: the dedup module decides again rather than starting a request.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_candidate_closed_during_the_decision_gives_way_to_the_next() {
    let db = TestDb::new().await;
    let server = ServerProcess::start(&db).await;
    let client = reqwest::Client::new();
    let send = |report: serde_json::Value| {
        let client = client.clone();
        let url = server.url("/api/v1/reports");
        async move {
            let r = client
                .post(url)
                .multipart(multipart(&report, &[]))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let here = LatLon::new(RENNES.0, RENNES.1);
    let beside = destination(here, 90.0, 8.0);
    // Two open requests a few metres apart: the first is set aside while the second is filed.
    let older = send(report_at("voirie", beside.lat, beside.lon)).await;
    let older_number = older["request_number"].as_str().unwrap().to_owned();
    sqlx::query("UPDATE requests SET phase = 'closed', outcome = 'resolved' WHERE number = $1")
        .bind(&older_number)
        .execute(&db.pool)
        .await
        .unwrap();
    let nearest = send(report_at("voirie", here.lat, here.lon)).await;
    let nearest_number = nearest["request_number"].as_str().unwrap().to_owned();
    assert_ne!(nearest_number, older_number);
    sqlx::query("UPDATE requests SET phase = 'received', outcome = NULL WHERE number = $1")
        .bind(&older_number)
        .execute(&db.pool)
        .await
        .unwrap();

    // An agent closes the nearest one; until they commit, intake still reads it as open.
    let mut agent = db.pool.begin().await.unwrap();
    sqlx::query(
        "UPDATE requests SET phase = 'closed', status = 'resolved', outcome = 'resolved'
          WHERE number = $1",
    )
    .bind(&nearest_number)
    .execute(&mut *agent)
    .await
    .unwrap();
    let report = tokio::spawn(send(report_at("voirie", here.lat, here.lon)));
    // The report waits for the agent's row lock on the request it picked.
    let started = std::time::Instant::now();
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity
              WHERE wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(started.elapsed().as_secs() < 20, "the report never waited");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    agent.commit().await.unwrap();
    let receipt = report.await.unwrap();
    assert_eq!(receipt["deduplicated"], true, "{receipt}");
    assert_eq!(receipt["request_number"], older_number.as_str());
    assert_eq!(receipt["report_count"], 2);
}
