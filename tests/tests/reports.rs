#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! `POST /api/v1/reports` and `GET /api/v1/requests/{number}`: intake, idempotency, the first
//! dedup policy and the public view.

use guichet_shared::geo::{LatLon, destination};
use guichet_tests::{RENNES, TestServer, expect_problem, multipart, report_at};

async fn submit(server: &TestServer, report: &serde_json::Value) -> (u16, serde_json::Value) {
    let response = server
        .client
        .post(server.url("/api/v1/reports"))
        .multipart(multipart(report, &[]))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn offset(from: (f64, f64), bearing: f64, metres: f64) -> (f64, f64) {
    let p = destination(LatLon::new(from.0, from.1), bearing, metres);
    (p.lat, p.lon)
}

#[tokio::test]
async fn a_report_creates_a_numbered_request_that_its_reporter_can_follow() {
    let server = TestServer::start().await;
    let mut report = report_at("voirie", RENNES.0, RENNES.1);
    report["address"] = "Place de la Mairie, Rennes".into();
    report["observed_at"] = "2026-01-15T08:30:00+01:00".into();
    report["contact"] = serde_json::json!({ "email": "ana@example.org", "name": "Ana" });
    let (status, receipt) = submit(&server, &report).await;
    assert_eq!(status, 201, "{receipt}");

    let number = receipt["request_number"].as_str().unwrap();
    let year = time::OffsetDateTime::now_utc().year();
    assert!(number.starts_with(&format!("{year}-SIG-")), "{number}");
    assert_eq!(number.len(), "2026-SIG-000001".len());
    let code = receipt["tracking_code"].as_str().unwrap();
    assert_eq!(code.len(), 14);
    assert_eq!(receipt["deduplicated"], false);
    assert_eq!(receipt["phase"], "received");
    assert_eq!(receipt["status"], "Reçue");
    assert_eq!(receipt["report_count"], 1);
    assert_eq!(receipt["photos"], serde_json::json!([]));

    // The request is routed to the team of the démarche and located in its commune.
    let (team, zone): (String, String) = sqlx::query_as(
        "SELECT t.code, z.name FROM requests r JOIN teams t ON t.id = r.team_id
           JOIN zones z ON z.id = r.zone_id WHERE r.number = $1",
    )
    .bind(number)
    .fetch_one(&server.db.pool)
    .await
    .unwrap();
    assert_eq!((team.as_str(), zone.as_str()), ("voirie", "Rennes"));

    let view: serde_json::Value = server
        .client
        .get(receipt["status_url"].as_str().unwrap())
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["number"], number);
    assert_eq!(view["demarche"]["code"], "voirie");
    assert_eq!(view["status"], "Received");
    assert_eq!(view["status_label"], "Received");
    assert_eq!(view["phase"], "received");
    assert_eq!(view["zone"], "Rennes");
    assert_eq!(view["address"], "Place de la Mairie, Rennes");
    assert_eq!(view["report_count"], 1);
    assert!((view["location"]["lat"].as_f64().unwrap() - RENNES.0).abs() < 1e-9);
    assert!((view["location"]["lon"].as_f64().unwrap() - RENNES.1).abs() < 1e-9);
    assert_eq!(view["timeline"][0]["kind"], "created");
    assert_eq!(view["timeline"][0]["label"], "Request received");
    // Personal data never appears in the public view.
    let text = view.to_string();
    assert!(
        !text.contains("ana@example.org") && !text.contains("Ana\""),
        "{text}"
    );
}

#[tokio::test]
async fn the_public_view_needs_the_tracking_code_and_does_not_reveal_numbers() {
    let server = TestServer::start().await;
    let (_, receipt) = submit(&server, &report_at("voirie", RENNES.0, RENNES.1)).await;
    let number = receipt["request_number"].as_str().unwrap();
    let code = receipt["tracking_code"].as_str().unwrap();

    let url = |n: &str, c: Option<&str>| match c {
        Some(c) => server.url(&format!("/api/v1/requests/{n}?tracking_code={c}")),
        None => server.url(&format!("/api/v1/requests/{n}")),
    };
    let wrong = server
        .client
        .get(url(number, Some("AAAA-BBBB-CCCC")))
        .send()
        .await
        .unwrap();
    let wrong = expect_problem(wrong, 404, "request-not-found").await;
    let missing = server.client.get(url(number, None)).send().await.unwrap();
    let missing = expect_problem(missing, 404, "request-not-found").await;
    let unknown = server
        .client
        .get(url("2026-SIG-999999", Some(code)))
        .send()
        .await
        .unwrap();
    let unknown = expect_problem(unknown, 404, "request-not-found").await;
    assert_eq!(
        wrong, unknown,
        "same answer whether the number exists or not"
    );
    assert_eq!(missing, unknown);

    // Typed by hand: lower case, no dashes.
    let relaxed = code.replace('-', "").to_lowercase();
    let ok = server
        .client
        .get(url(number, Some(&relaxed)))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn a_retry_with_the_same_client_id_returns_the_first_answer_and_creates_nothing() {
    let server = TestServer::start().await;
    let report = report_at("tags-graffitis", RENNES.0, RENNES.1);
    let (first_status, first) = submit(&server, &report).await;
    assert_eq!(first_status, 201);
    let (again_status, again) = submit(&server, &report).await;
    assert_eq!(again_status, 200);
    assert_eq!(first, again);
    assert_eq!(server.db.count("reports").await, 1);
    assert_eq!(server.db.count("requests").await, 1);
}

#[tokio::test]
async fn ten_concurrent_retries_store_one_report() {
    let server = TestServer::start().await;
    let report = report_at("voirie", RENNES.0, RENNES.1);
    let attempts = (0..10).map(|_| submit(&server, &report));
    let answers = futures::future::join_all(attempts).await;
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    let replayed = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!((created, replayed), (1, 9), "{answers:?}");
    let first = &answers[0].1;
    assert!(answers.iter().all(|(_, body)| body == first));
    assert_eq!(server.db.count("reports").await, 1);
    assert_eq!(server.db.count("requests").await, 1);
    // Its creation and its acknowledgement.
    assert_eq!(server.db.count("events").await, 2);
}

#[tokio::test]
async fn a_report_near_an_open_request_of_the_same_category_becomes_a_co_report() {
    let server = TestServer::start().await;
    // voirie has a 30 m radius in the catalogue.
    let (_, first) = submit(&server, &report_at("voirie", RENNES.0, RENNES.1)).await;
    let near = offset(RENNES, 60.0, 20.0);
    let (status, second) = submit(&server, &report_at("voirie", near.0, near.1)).await;
    assert_eq!(status, 201);
    assert_eq!(second["deduplicated"], true);
    assert_eq!(second["request_number"], first["request_number"]);
    // The co-reporter gets a code of their own: it follows the request but cannot act on it.
    assert_ne!(second["tracking_code"], first["tracking_code"]);
    assert_eq!(second["report_count"], 2);
    let number = second["request_number"].as_str().unwrap();
    let own = second["tracking_code"].as_str().unwrap();
    let follow = server
        .client
        .get(second["status_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(follow.status(), 200);
    let withdraw = server
        .client
        .post(server.url(&format!("/api/v1/requests/{number}/withdraw")))
        .json(&serde_json::json!({ "tracking_code": own }))
        .send()
        .await
        .unwrap();
    assert_eq!(withdraw.status(), 404, "only the filer may withdraw");

    // Beyond the radius: a new request.
    let far = offset(RENNES, 60.0, 45.0);
    let (_, third) = submit(&server, &report_at("voirie", far.0, far.1)).await;
    assert_eq!(third["deduplicated"], false);
    assert_ne!(third["request_number"], first["request_number"]);

    // Same place, another category: a new request.
    let (_, other) = submit(&server, &report_at("eclairage-public", RENNES.0, RENNES.1)).await;
    assert_eq!(other["deduplicated"], false);
    assert!(other["request_number"].as_str().unwrap().contains("-SIG-"));
    assert_ne!(other["request_number"], first["request_number"]);

    let view: serde_json::Value = server
        .client
        .get(first["status_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["report_count"], 2);
    let kinds: Vec<_> = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].clone())
        .collect();
    // Each report is acknowledged: the first when it creates the request, the co-report after
    // it joins.
    assert_eq!(
        kinds,
        vec!["created", "acknowledgement", "co_report", "acknowledgement"]
    );
    assert_eq!(server.db.count("requests").await, 3);
    assert_eq!(server.db.count("reports").await, 4);
}

#[tokio::test]
async fn closed_requests_receive_no_co_reports() {
    let server = TestServer::start().await;
    let (_, first) = submit(&server, &report_at("depot-sauvage", RENNES.0, RENNES.1)).await;
    sqlx::query("UPDATE requests SET phase = 'closed', outcome = 'resolved', status = 'resolved' WHERE number = $1")
        .bind(first["request_number"].as_str().unwrap())
        .execute(&server.db.pool)
        .await
        .unwrap();
    let (_, again) = submit(&server, &report_at("depot-sauvage", RENNES.0, RENNES.1)).await;
    assert_eq!(again["deduplicated"], false);
    assert_ne!(again["request_number"], first["request_number"]);
}

#[tokio::test]
async fn simultaneous_reports_of_one_incident_make_one_request() {
    let server = TestServer::start().await;
    let reports: Vec<_> = (0..12)
        .map(|i| {
            let p = offset(RENNES, f64::from(i) * 30.0, 5.0);
            report_at("espaces-verts", p.0, p.1)
        })
        .collect();
    let answers = futures::future::join_all(reports.iter().map(|r| submit(&server, r))).await;
    assert!(answers.iter().all(|(s, _)| *s == 201), "{answers:?}");
    let numbers: std::collections::HashSet<_> = answers
        .iter()
        .map(|(_, b)| b["request_number"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(numbers.len(), 1, "{numbers:?}");
    assert_eq!(
        answers
            .iter()
            .filter(|(_, b)| b["deduplicated"] == false)
            .count(),
        1
    );
    let count: i32 = sqlx::query_scalar("SELECT report_count FROM requests")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(count, 12);
}

#[tokio::test]
async fn numbers_follow_each_other_per_series() {
    let server = TestServer::start().await;
    let mut numbers = Vec::new();
    for i in 0..3 {
        let p = offset(RENNES, 0.0, 200.0 * f64::from(i));
        let (_, r) = submit(&server, &report_at("voirie", p.0, p.1)).await;
        numbers.push(r["request_number"].as_str().unwrap().to_owned());
    }
    let seq: Vec<u32> = numbers.iter().map(|n| n[9..].parse().unwrap()).collect();
    assert_eq!(seq, vec![1, 2, 3], "{numbers:?}");
}

#[tokio::test]
async fn a_doubtful_match_becomes_a_new_request_flagged_for_agents() {
    let server = TestServer::start().await;
    let (_, first) = submit(&server, &report_at("voirie", RENNES.0, RENNES.1)).await;
    // 45 m away with a poor GPS fix (80 m): beyond voirie's 30 m radius, within the widening.
    let p = offset(RENNES, 180.0, 45.0);
    let mut report = report_at("voirie", p.0, p.1);
    report["accuracy_m"] = 80.0.into();
    let (status, second) = submit(&server, &report).await;
    assert_eq!(status, 201);
    assert_eq!(second["deduplicated"], false);
    assert_ne!(second["request_number"], first["request_number"]);
    let (flag, score): (Option<String>, Option<f32>) = sqlx::query_as(
        "SELECT d.number, r.dedup_score FROM requests r LEFT JOIN requests d ON d.id = r.possible_duplicate_of
          WHERE r.number = $1",
    )
    .bind(second["request_number"].as_str().unwrap())
    .fetch_one(&server.db.pool)
    .await
    .unwrap();
    assert_eq!(flag.as_deref(), first["request_number"].as_str());
    let score = score.unwrap();
    assert!((0.45..0.75).contains(&score), "{score}");
    // Agents see it; the citizen's timeline does not.
    let view: serde_json::Value = server
        .client
        .get(second["status_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kinds: Vec<_> = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].clone())
        .collect();
    assert_eq!(kinds, vec!["created", "acknowledgement"]);
}

#[tokio::test]
async fn the_same_photo_taken_across_the_street_joins_the_request() {
    use guichet_tests::fixtures;
    let server = TestServer::start().await;
    let photo = fixtures::encode_jpeg(&fixtures::photo_like_image(800, 600), 85);
    let send = |report: serde_json::Value, photos: Vec<(&'static str, Vec<u8>)>| {
        let server = &server;
        async move {
            let r = server
                .client
                .post(server.url("/api/v1/reports"))
                .multipart(guichet_tests::multipart(&report, &photos))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let first = send(
        report_at("voirie", RENNES.0, RENNES.1),
        vec![("a.jpg", photo.clone())],
    )
    .await;
    // 40 m: beyond voirie's radius (30 m + 8 m of GPS accuracy) ...
    let p = offset(RENNES, 90.0, 40.0);
    // ... so without a photo it is another incident,
    let without = send(report_at("voirie", p.0, p.1), vec![]).await;
    assert_eq!(without["deduplicated"], false);
    // but with a near-identical photo it is the same one.
    let q = offset(RENNES, 270.0, 40.0);
    let with = send(report_at("voirie", q.0, q.1), vec![("b.jpg", photo)]).await;
    assert_eq!(with["deduplicated"], true, "{with}");
    assert_eq!(with["request_number"], first["request_number"]);
}
