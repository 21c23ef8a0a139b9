#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! "Not fixed": after an incident is closed as resolved, any of its reporters — a supporter
//! too — says it is back, with a photo; the request reopens, its SLA starts again, it is back
//! on the map and in the team's "for me" view, and reporters are told. Real server, database
//! and SMTP listener.

use std::time::{Duration, Instant};

use guichet_tests::api::{agent_token, get, post};
use guichet_tests::fixtures::{encode_jpeg, photo_like_image};
use guichet_tests::smtp::SmtpServer;
use guichet_tests::{RENNES, TestServer, multipart, report_at};
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

const OFFICE: &str = "agent.voirie@guichet.example";

fn answer(body: &Value, photo: bool) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new().part(
        "answer",
        reqwest::multipart::Part::text(body.to_string())
            .mime_str("application/json")
            .unwrap(),
    );
    if photo {
        form = form.part(
            "photo",
            reqwest::multipart::Part::bytes(encode_jpeg(&photo_like_image(360, 270), 85))
                .file_name("back.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    }
    form
}

async fn on_map(server: &TestServer, number: &str) -> bool {
    let (lat, lon) = RENNES;
    let bbox = format!(
        "{},{},{},{}",
        lon - 0.01,
        lat - 0.01,
        lon + 0.01,
        lat + 0.01
    );
    let (_, map) = get(
        server,
        &format!("/api/v1/incidents?bbox={bbox}&zoom=19"),
        None,
    )
    .await;
    map["features"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["properties"]["request_number"] == number)
}

async fn wait_on_map(server: &TestServer, number: &str, wanted: bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while on_map(server, number).await != wanted {
        assert!(
            Instant::now() < deadline,
            "{number} on the map: not {wanted}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_supporter_reopens_a_resolved_incident_with_a_photo() {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let server = TestServer::start_with(move |c| {
        c.notify.smtp_url = Some(url);
        c.outbox.poll_interval = Duration::from_millis(25);
    })
    .await;
    let office = agent_token(&server, OFFICE).await;
    let (lat, lon) = RENNES;
    let filer = "filer.revient@example.org";
    let mut report = report_at("voirie", lat, lon);
    report["contact"] = json!({ "email": filer });
    let receipt = server
        .post("/api/v1/reports")
        .multipart(multipart(&report, &[]))
        .send()
        .await
        .expect(201)
        .json();
    let n = receipt["request_number"].as_str().unwrap().to_owned();
    let filer_code = receipt["tracking_code"].as_str().unwrap().to_owned();
    let support = server
        .post(&format!("/api/v1/requests/{n}/support"))
        .json(&json!({ "client_id": Uuid::new_v4(), "contact": { "email": "voisin@example.org" } }))
        .send()
        .await
        .expect(201)
        .json();
    let supporter_code = support["tracking_code"].as_str().unwrap().to_owned();

    // Open: nothing to reopen.
    let early = server
        .post(&format!("/api/v1/requests/{n}/not-fixed"))
        .multipart(answer(&json!({ "tracking_code": supporter_code }), false))
        .send()
        .await;
    assert_eq!(early.status(), 409, "{}", early.text());
    assert_eq!(early.value()["code"], "not-reopenable");

    for status in ["acknowledged", "resolved"] {
        let (s, body) = post(
            &server,
            &format!("/api/v1/agent/requests/{n}/status"),
            Some(&office),
            &json!({ "status": status }),
        )
        .await;
        assert_eq!(s, 204, "{body}");
    }
    wait_on_map(&server, &n, false).await;

    // A stranger's code opens nothing.
    let stranger = server
        .post(&format!("/api/v1/requests/{n}/not-fixed"))
        .multipart(answer(&json!({ "tracking_code": "AAAA-BBBB-CCCC" }), true))
        .send()
        .await;
    assert_eq!(stranger.status(), 404);

    let reopened = server
        .post(&format!("/api/v1/requests/{n}/not-fixed"))
        .multipart(answer(
            &json!({ "tracking_code": supporter_code, "message": "Le trou est revenu après la pluie" }),
            true,
        ))
        .send()
        .await;
    assert_eq!(reopened.status(), 204, "{}", reopened.text());

    let (_, d) = get(
        &server,
        &format!("/api/v1/agent/requests/{n}"),
        Some(&office),
    )
    .await;
    assert_eq!(d["phase"], "in_progress", "{d}");
    assert!(d["closed_at"].is_null());
    let due = OffsetDateTime::parse(
        d["due_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(
        due > OffsetDateTime::now_utc(),
        "the SLA starts again: {due}"
    );
    let timeline = d["timeline"].as_array().unwrap();
    let event = timeline.iter().find(|e| e["kind"] == "not_fixed").unwrap();
    assert_eq!(event["data"]["text"], "Le trou est revenu après la pluie");
    assert_eq!(event["data"]["photos"].as_array().unwrap().len(), 1);

    // Back on the map and in the team's "for me" view of reopened requests.
    wait_on_map(&server, &n, true).await;
    let (_, queue) = get(
        &server,
        "/api/v1/agent/requests?reopened=true",
        Some(&office),
    )
    .await;
    assert!(
        queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["number"] == n.as_str()),
        "{queue}"
    );

    // The filer sees it in their timeline with the photo, not the supporter's words, and is told.
    let (_, view) = get(
        &server,
        &format!("/api/v1/requests/{n}?tracking_code={filer_code}"),
        None,
    )
    .await;
    let entry = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "not_fixed")
        .cloned()
        .unwrap_or_else(|| panic!("{view}"));
    assert_eq!(entry["photos"].as_array().unwrap().len(), 1, "{view}");
    assert!(
        !view.to_string().contains("revenu après la pluie"),
        "{view}"
    );
    smtp.wait_for(
        |m| m.is_to(filer) && m.subject().contains("Prise en compte"),
        Duration::from_secs(20),
    )
    .await;
}

#[tokio::test]
async fn only_a_recent_resolution_can_be_said_not_fixed() {
    let server = TestServer::start().await;
    let office = agent_token(&server, OFFICE).await;
    let (lat, lon) = RENNES;
    let receipt = server
        .post("/api/v1/reports")
        .multipart(multipart(&report_at("voirie", lat, lon), &[]))
        .send()
        .await
        .expect(201)
        .json();
    let n = receipt["request_number"].as_str().unwrap().to_owned();
    let code = receipt["tracking_code"].as_str().unwrap().to_owned();
    for status in ["acknowledged", "rejected"] {
        post(
            &server,
            &format!("/api/v1/agent/requests/{n}/status"),
            Some(&office),
            &json!({ "status": status }),
        )
        .await;
    }
    // Rejected is not resolved.
    let rejected = server
        .post(&format!("/api/v1/requests/{n}/not-fixed"))
        .json(&json!({ "tracking_code": code }))
        .send()
        .await;
    assert_eq!(rejected.status(), 409);

    // Resolved 31 days ago: too late, report it anew.
    let receipt = server
        .post("/api/v1/reports")
        .multipart(multipart(&report_at("voirie", lat + 0.01, lon), &[]))
        .send()
        .await
        .expect(201)
        .json();
    let n = receipt["request_number"].as_str().unwrap().to_owned();
    let code = receipt["tracking_code"].as_str().unwrap().to_owned();
    for status in ["acknowledged", "resolved"] {
        post(
            &server,
            &format!("/api/v1/agent/requests/{n}/status"),
            Some(&office),
            &json!({ "status": status }),
        )
        .await;
    }
    sqlx::query("UPDATE requests SET closed_at = now() - interval '31 days' WHERE number = $1")
        .bind(&n)
        .execute(&server.db.pool)
        .await
        .unwrap();
    let late = server
        .post(&format!("/api/v1/requests/{n}/not-fixed"))
        .json(&json!({ "tracking_code": code }))
        .send()
        .await;
    assert_eq!(late.status(), 409, "{}", late.text());
    assert!(late.value()["detail"].as_str().unwrap().contains("30 days"));
}
