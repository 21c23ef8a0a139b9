#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The supervisor's dashboard against the real server and database: open requests by team,
//! phase and démarche with the overdue, the last 30 days' closings (median time to close,
//! SLA kept) and filings per day.

use guichet_tests::api::{agent_token, get, post};
use guichet_tests::{RENNES, TestServer};
use serde_json::{Value, json};
use uuid::Uuid;

const SUPERVISOR: &str = "superviseur.voirie@guichet.example";

async fn file(server: &TestServer, i: u32) -> String {
    let body = json!({
        "client_id": Uuid::new_v4(),
        "demarche": "voirie",
        "channel": "app",
        "data": {
            "location": { "lat": RENNES.0 + 0.003 * f64::from(i), "lon": RENNES.1, "accuracy_m": 8.0 },
            "description": "Nid-de-poule",
        },
    });
    let (status, filed) = post(server, "/api/v1/requests", None, &body).await;
    assert_eq!(status, 201, "{filed}");
    filed["request_number"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_dashboard_counts_what_is_open_closed_and_filed() {
    let server = TestServer::start().await;
    let supervisor = agent_token(&server, SUPERVISOR).await;
    let numbers = [
        file(&server, 0).await,
        file(&server, 1).await,
        file(&server, 2).await,
    ];
    let pool = &server.db.pool;
    // The first was filed two days ago and is closed now, within its SLA; the second is
    // overdue.
    sqlx::query(
        "UPDATE requests SET created_at = now() - interval '48 hours',
                             due_at = now() + interval '1 day' WHERE number = $1",
    )
    .bind(&numbers[0])
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("UPDATE requests SET due_at = now() - interval '1 hour' WHERE number = $1")
        .bind(&numbers[1])
        .execute(pool)
        .await
        .unwrap();
    for status in ["acknowledged", "resolved"] {
        let (code, answer) = post(
            &server,
            &format!("/api/v1/agent/requests/{}/status", numbers[0]),
            Some(&supervisor),
            &json!({ "status": status }),
        )
        .await;
        assert!(code < 300, "{status}: {answer}");
    }

    let (status, d): (u16, Value) =
        get(&server, "/api/v1/agent/dashboard", Some(&supervisor)).await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["open"]["count"], 2, "{d}");
    assert_eq!(d["open"]["overdue"], 1, "{d}");
    let groups = d["open_groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{d}");
    assert_eq!(
        (
            &groups[0]["team"],
            &groups[0]["phase"],
            &groups[0]["demarche"],
            &groups[0]["count"]
        ),
        (
            &json!("voirie"),
            &json!("received"),
            &json!("voirie"),
            &json!(2)
        )
    );
    assert_eq!(d["closed"]["count"], 1);
    let median = d["closed"]["median_hours_to_close"].as_f64().unwrap();
    assert!((47.9..=48.5).contains(&median), "{median}");
    assert_eq!(d["closed"]["sla_kept_percent"], 100.0);
    let days = d["filed_per_day"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    let total: i64 = days.iter().map(|x| x["count"].as_i64().unwrap()).sum();
    assert_eq!(total, 3);
    assert_eq!(days[29]["count"], 2, "today: {}", days[29]);

    // Agents and field agents have no dashboard; another team's supervisor sees nothing of
    // voirie's.
    for email in [
        "agent.voirie@guichet.example",
        "terrain.voirie@guichet.example",
    ] {
        let token = agent_token(&server, email).await;
        let (status, _) = get(&server, "/api/v1/agent/dashboard", Some(&token)).await;
        assert_eq!(status, 403, "{email}");
    }
    let admin = agent_token(&server, "admin@guichet.example").await;
    let (_, all) = get(&server, "/api/v1/agent/dashboard", Some(&admin)).await;
    assert_eq!(all["open"]["count"], 2);
}
