#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! "Already reported?" (`GET /api/v1/reports/nearby`), "me too"
//! (`POST /api/v1/requests/{number}/support`) and the in-memory index kept in sync across
//! instances.

use std::time::{Duration, Instant};

use guichet_shared::geo::{LatLon, destination};
use guichet_tests::{
    RENNES, ServerProcess, TestDb, TestServer, expect_problem, multipart, report_at,
};

async fn report(client: &reqwest::Client, base: &str, r: &serde_json::Value) -> serde_json::Value {
    let response = client
        .post(format!("{base}/api/v1/reports"))
        .multipart(multipart(r, &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn nearby(client: &reqwest::Client, base: &str, query: &str) -> reqwest::Response {
    client
        .get(format!("{base}/api/v1/reports/nearby?{query}"))
        .send()
        .await
        .unwrap()
}

fn at(bearing: f64, metres: f64) -> (f64, f64) {
    let p = destination(LatLon::new(RENNES.0, RENNES.1), bearing, metres);
    (p.lat, p.lon)
}

#[tokio::test]
async fn nearby_lists_open_incidents_of_the_category_nearest_first() {
    let server = TestServer::start().await;
    let c = &server.client;
    let far = at(0.0, 150.0);
    let near = at(90.0, 60.0);
    let other = at(180.0, 10.0);
    let a = report(
        c,
        &server.base,
        &report_at("eclairage-public", far.0, far.1),
    )
    .await;
    let b = report(
        c,
        &server.base,
        &report_at("eclairage-public", near.0, near.1),
    )
    .await;
    report(c, &server.base, &report_at("voirie", other.0, other.1)).await;
    let closed = report(
        c,
        &server.base,
        &report_at("eclairage-public", RENNES.0 + 0.0002, RENNES.1),
    )
    .await;
    sqlx::query("UPDATE requests SET phase = 'closed', outcome = 'resolved' WHERE number = $1")
        .bind(closed["request_number"].as_str().unwrap())
        .execute(&server.db.pool)
        .await
        .unwrap();

    let query = format!(
        "lat={}&lon={}&category=eclairage-public",
        RENNES.0, RENNES.1
    );
    let wide = format!("{query}&radius_m=200");
    let started = Instant::now();
    let body = loop {
        let body: serde_json::Value = nearby(c, &server.base, &wide).await.json().await.unwrap();
        if body["items"].as_array().unwrap().len() == 2
            || started.elapsed() > Duration::from_secs(5)
        {
            break body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{body}");
    assert_eq!(items[0]["request_number"], b["request_number"]);
    assert_eq!(items[1]["request_number"], a["request_number"]);
    assert!((items[0]["distance_m"].as_f64().unwrap() - 60.0).abs() < 1.0);
    assert!((items[1]["distance_m"].as_f64().unwrap() - 150.0).abs() < 1.0);
    for item in items {
        assert_eq!(item["demarche"]["code"], "eclairage-public");
        assert_eq!(item["status"], "Reçue");
        assert_eq!(item["report_count"], 1);
        assert!(item["age_days"].as_f64().unwrap() >= 0.0);
        assert!(item["created_at"].is_string());
        assert!(item.get("thumbnail_url").is_some());
    }
    // A smaller radius keeps only the nearest.
    let small: serde_json::Value = nearby(c, &server.base, &format!("{query}&radius_m=100"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(small["items"].as_array().unwrap().len(), 1);
    // By default, the démarche's own dedup radius (40 m for street lighting): what a report
    // made here would be compared with. Neither request is that close.
    let own: serde_json::Value = nearby(c, &server.base, &query).await.json().await.unwrap();
    assert_eq!(own["radius_m"], 40.0);
    assert!(own["items"].as_array().unwrap().is_empty(), "{own}");
    // A position known to 25 m widens it as the decision does: the request 60 m away is in.
    let widened: serde_json::Value = nearby(c, &server.base, &format!("{query}&accuracy_m=25"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(widened["radius_m"], 65.0);
    let items = widened["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{widened}");
    assert_eq!(items[0]["request_number"], b["request_number"]);
}

#[tokio::test]
async fn me_too_adds_a_co_report_once_per_client_id() {
    let server = TestServer::start().await;
    let c = &server.client;
    let first = report(
        c,
        &server.base,
        &report_at("mobilier-urbain", RENNES.0, RENNES.1),
    )
    .await;
    let number = first["request_number"].as_str().unwrap();
    let url = server.url(&format!("/api/v1/requests/{number}/support"));
    let body = serde_json::json!({
        "client_id": uuid::Uuid::new_v4(),
        "contact": { "email": "voisin@example.org" },
    });
    let r = c.post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let receipt: serde_json::Value = r.json().await.unwrap();
    assert_eq!(receipt["request_number"], number);
    assert_eq!(receipt["deduplicated"], true);
    assert_eq!(receipt["report_count"], 2);
    let again = c.post(&url).json(&body).send().await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<serde_json::Value>().await.unwrap(), receipt);
    let other = serde_json::json!({ "client_id": uuid::Uuid::new_v4() });
    let third: serde_json::Value = c
        .post(&url)
        .json(&other)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(third["report_count"], 3);
    assert_eq!(server.db.count("reports").await, 3);
    let email: Option<String> =
        sqlx::query_scalar("SELECT contact_email FROM reports WHERE contact_email IS NOT NULL")
            .fetch_optional(&server.db.pool)
            .await
            .unwrap();
    assert_eq!(email.as_deref(), Some("voisin@example.org"));

    // Errors: unknown number, closed request, bad body.
    let missing = c
        .post(server.url("/api/v1/requests/2026-SIG-999999/support"))
        .json(&serde_json::json!({ "client_id": uuid::Uuid::new_v4() }))
        .send()
        .await
        .unwrap();
    expect_problem(missing, 404, "request-not-found").await;
    sqlx::query("UPDATE requests SET phase = 'closed', outcome = 'resolved'")
        .execute(&server.db.pool)
        .await
        .unwrap();
    let late = serde_json::json!({ "client_id": uuid::Uuid::new_v4() });
    expect_problem(
        c.post(&url).json(&late).send().await.unwrap(),
        409,
        "request-closed",
    )
    .await;
    let bad = c
        .post(&url)
        .json(&serde_json::json!({ "client_id": "nope" }))
        .send()
        .await
        .unwrap();
    let bad = expect_problem(bad, 422, "validation-failed").await;
    assert_eq!(bad["field"], "client_id");
    let text = c.post(&url).body("client_id=1").send().await.unwrap();
    expect_problem(text, 415, "unsupported-media-type").await;
}

#[tokio::test]
async fn nearby_bad_input_is_explained() {
    let server = TestServer::start().await;
    let c = &server.client;
    let q = |s: &'static str| nearby(c, &server.base, s);
    let body = expect_problem(
        q("lat=91&lon=-1.68&category=voirie").await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(body["field"], "lat");
    let body = expect_problem(
        q("lat=NaN&lon=-1.68&category=voirie").await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(body["field"], "lat");
    let body = expect_problem(
        q("lat=48.1&lon=east&category=voirie").await,
        422,
        "validation-failed",
    )
    .await;
    assert_eq!(body["field"], "lon");
    let body = expect_problem(q("lat=48.1&lon=-1.68").await, 422, "validation-failed").await;
    assert_eq!(body["field"], "category");
    let body = expect_problem(
        q("lat=48.1&lon=-1.68&category=nope").await,
        422,
        "unknown-category",
    )
    .await;
    assert_eq!(body["field"], "category");
    let body = expect_problem(
        q("lat=48.1&lon=-1.68&category=voirie&radius_m=5000").await,
        422,
        "radius-too-large",
    )
    .await;
    assert_eq!(body["field"], "radius_m");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_incident_created_on_one_instance_appears_on_the_other_within_a_second() {
    let db = TestDb::new().await;
    let a = ServerProcess::start(&db).await;
    let b = ServerProcess::start(&db).await;
    let client = reqwest::Client::new();
    let query = format!("lat={}&lon={}&category=espaces-verts", RENNES.0, RENNES.1);
    let count = |body: serde_json::Value| body["items"].as_array().map_or(0, Vec::len);

    let created = report(
        &client,
        &a.base,
        &report_at("espaces-verts", RENNES.0, RENNES.1),
    )
    .await;
    let started = Instant::now();
    loop {
        let body: serde_json::Value = nearby(&client, &b.base, &query).await.json().await.unwrap();
        if count(body.clone()) == 1 {
            assert_eq!(
                body["items"][0]["request_number"],
                created["request_number"]
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "not on B after 1 s: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Closing it removes it everywhere.
    sqlx::query("UPDATE requests SET phase = 'closed', outcome = 'resolved'")
        .execute(&db.pool)
        .await
        .unwrap();
    let started = Instant::now();
    while count(nearby(&client, &b.base, &query).await.json().await.unwrap()) != 0 {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "still listed after closing"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A change made without notification (triggers off) leaves the indexes stale ...
    let mut tx = db.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE requests SET phase = 'received', outcome = NULL")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        count(nearby(&client, &b.base, &query).await.json().await.unwrap()),
        0
    );
    // ... until the listening connections are cut: each instance reconnects and reloads.
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let started = Instant::now();
    while count(nearby(&client, &b.base, &query).await.json().await.unwrap()) != 1 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "index not reloaded after reconnect"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
