#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The agents' morning digest: an agent who asked for it gets one e-mail of their "for me"
//! view (assigned, overdue, reopened) with links to the back office; one who did not, or who
//! has nothing to follow, gets none; the next morning's run is planned once.

use std::time::Duration;

use guichet_tests::api::{agent_token, call, get, post};
use guichet_tests::smtp::SmtpServer;
use guichet_tests::{RENNES, TestServer};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

const VOIRIE: &str = "agent.voirie@guichet.example";
const SUPERVISOR: &str = "superviseur.voirie@guichet.example";

#[tokio::test]
async fn an_agent_who_asked_gets_the_morning_digest_of_their_for_me_view() {
    let smtp = SmtpServer::start().await;
    let server = {
        let url = smtp.url();
        TestServer::start_with(move |c| {
            c.notify.smtp_url = Some(url);
            c.outbox.poll_interval = Duration::from_millis(50);
        })
        .await
    };
    let voirie = agent_token(&server, VOIRIE).await;
    let (status, prefs) = get(&server, "/api/v1/agent/preferences", Some(&voirie)).await;
    assert_eq!(
        (status, prefs["daily_digest"].as_bool()),
        (200, Some(false))
    );
    let (status, _) = call(
        &server,
        Method::PUT,
        "/api/v1/agent/preferences",
        Some(&voirie),
        Some(&json!({ "daily_digest": true })),
    )
    .await;
    assert_eq!(status, 200);
    // The supervisor did not ask: no digest for them.

    let mut numbers = Vec::new();
    for i in 0..2 {
        let body = json!({
            "client_id": Uuid::new_v4(), "demarche": "voirie", "channel": "app",
            "data": { "location": { "lat": RENNES.0 + 0.01 * f64::from(i), "lon": RENNES.1,
                                    "accuracy_m": 8.0 },
                      "description": "Nid-de-poule" },
        });
        let (_, filed) = post(&server, "/api/v1/requests", None, &body).await;
        numbers.push(filed["request_number"].as_str().unwrap().to_owned());
    }
    let (_, me) = get(&server, "/api/v1/agent/me", Some(&voirie)).await;
    let (status, _) = post(
        &server,
        &format!("/api/v1/agent/requests/{}/assign", numbers[0]),
        Some(&voirie),
        &json!({ "assignee_id": me["id"] }),
    )
    .await;
    assert_eq!(status, 204);
    sqlx::query("UPDATE requests SET due_at = now() - interval '1 day' WHERE number = $1")
        .bind(&numbers[1])
        .execute(&server.db.pool)
        .await
        .unwrap();

    // The next morning's run is planned once, whatever the number of instances.
    let planned: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox_jobs WHERE kind = 'digest.daily' AND done_at IS NULL",
    )
    .fetch_one(&server.db.pool)
    .await
    .unwrap();
    assert_eq!(planned, 1);
    // Morning comes.
    sqlx::query("UPDATE outbox_jobs SET run_at = now() WHERE kind = 'digest.daily'")
        .execute(&server.db.pool)
        .await
        .unwrap();
    let mail = smtp
        .wait_for(|m| m.is_to(VOIRIE), Duration::from_secs(20))
        .await;
    let text = mail.body_text();
    assert!(text.contains("Qui me sont assignées (1)"), "{text}");
    assert!(text.contains("En retard (1)"), "{text}");
    for n in &numbers {
        assert!(
            text.contains(&format!("/backoffice/requests/{n}")),
            "{text}"
        );
    }
    // Only the agent who asked; and tomorrow is planned.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(smtp.messages_to(SUPERVISOR).is_empty());
    let next: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox_jobs
          WHERE kind = 'digest.daily' AND done_at IS NULL AND run_at > now()",
    )
    .fetch_one(&server.db.pool)
    .await
    .unwrap();
    assert_eq!(next, 1);
}
