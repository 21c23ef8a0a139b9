#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! One pipeline for every channel: a contact request filed on the web, a phone request entered
//! by an agent and an anomaly report from the app reach the right teams' queues, move through
//! their workflows, and their citizens are acknowledged and notified by e-mail while webhook
//! subscribers receive signed events. Real database, real SMTP listener, real HTTP receiver.

use std::time::Duration;

use guichet_tests::api::{agent_token, contact_request};
use guichet_tests::smtp::{ReceivedMail, SmtpServer};
use guichet_tests::webhook_receiver::{WebhookReceiver, expected_signature};
use guichet_tests::{RENNES, TestServer, multipart, report_at};
use serde_json::{Value, json};
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(20);

fn numbers(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap())
        .collect()
}

async fn mail_to(smtp: &SmtpServer, to: &str, containing: &str) -> ReceivedMail {
    let containing = containing.to_owned();
    smtp.wait_for(|m| m.is_to(to) && m.body_text().contains(&containing), WAIT)
        .await
}

async fn status(server: &TestServer, token: &str, number: &str, to: &str, message: Option<&str>) {
    let mut body = json!({ "status": to });
    if let Some(m) = message {
        body["message"] = json!(m);
    }
    let answer = server
        .post(&format!("/api/v1/agent/requests/{number}/status"))
        .bearer(token)
        .json(&body)
        .send()
        .await;
    assert_eq!(answer.status(), 204, "{number} → {to}: {}", answer.text());
}

#[tokio::test]
async fn web_phone_and_app_requests_flow_through_one_pipeline() {
    let smtp = SmtpServer::start().await;
    let receiver = WebhookReceiver::start().await;
    let server = {
        let url = smtp.url();
        TestServer::start_with(move |c| {
            c.notify.smtp_url = Some(url);
            // The webhook receiver is on this machine.
            c.notify.webhook_allow = "127.0.0.1".parse().unwrap();
            c.outbox.poll_interval = Duration::from_millis(25);
            c.outbox.retry_base = Duration::from_millis(100);
        })
        .await
    };
    let admin = agent_token(&server, "admin@guichet.example").await;
    let secret = "whsec_the-city-erp-shares-this-secret";
    server
        .post("/api/v1/admin/webhooks")
        .bearer(&admin)
        .json(&json!({
            "url": receiver.url(),
            "secret": secret,
            "events": ["request.created", "request.status_changed", "request.merged", "request.closed"],
        }))
        .send()
        .await
        .expect(201);

    // 1. On the web, anonymously: a contact request.
    let web = server
        .post("/api/v1/requests")
        .json(&contact_request(Uuid::new_v4(), "lea@example.org"))
        .send()
        .await
        .expect(201)
        .json();
    let web_number = web["request_number"].as_str().unwrap().to_owned();

    // 2. By phone, entered by the desk agent for a citizen who gave an e-mail address.
    let accueil = agent_token(&server, "agent.accueil@guichet.example").await;
    let mut phone_body = contact_request(Uuid::new_v4(), "yves@example.org");
    phone_body["channel"] = json!("phone");
    phone_body["data"]["message"] =
        json!("Monsieur Le Roux demande à être rappelé au sujet des travaux de sa rue.");
    let phone = server
        .post("/api/v1/agent/requests")
        .bearer(&accueil)
        .json(&phone_body)
        .send()
        .await
        .expect(201)
        .json();
    let phone_number = phone["request_number"].as_str().unwrap().to_owned();

    // 3. From the app: an incident report, then a neighbour's "me too".
    let mut report = report_at("voirie", RENNES.0, RENNES.1);
    report["description"] = json!("Nid-de-poule devant l'arrêt de bus");
    report["contact"] = json!({ "email": "tom@example.org", "name": "Tom" });
    let app = server
        .post("/api/v1/reports")
        .multipart(multipart(&report, &[]))
        .send()
        .await
        .expect(201)
        .json();
    let app_number = app["request_number"].as_str().unwrap().to_owned();
    server
        .post(&format!("/api/v1/requests/{app_number}/support"))
        .json(&json!({ "client_id": Uuid::new_v4(), "contact": { "email": "zoe@example.org" } }))
        .send()
        .await
        .expect(201);

    // Each lands in its team's queue, and only there.
    let voirie = agent_token(&server, "agent.voirie@guichet.example").await;
    let desk_queue = server
        .get("/api/v1/agent/requests")
        .bearer(&accueil)
        .send()
        .await
        .expect(200)
        .json();
    let mut desk = numbers(&desk_queue);
    desk.sort_unstable();
    let mut expected = vec![web_number.as_str(), phone_number.as_str()];
    expected.sort_unstable();
    assert_eq!(desk, expected);
    let road_queue = server
        .get("/api/v1/agent/requests")
        .bearer(&voirie)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(numbers(&road_queue), vec![app_number.as_str()]);
    let phone_detail = server
        .get(&format!("/api/v1/agent/requests/{phone_number}"))
        .bearer(&accueil)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(phone_detail["channel"], "phone");
    assert_eq!(phone_detail["entered_by"]["name"], "Maëlle Cadiou");

    // Everyone is acknowledged, with the number, and the service in charge.
    for (to, number, service) in [
        ("lea@example.org", &web_number, "Relations citoyens"),
        ("yves@example.org", &phone_number, "Relations citoyens"),
        ("tom@example.org", &app_number, "Voirie"),
        ("zoe@example.org", &app_number, "Voirie"),
    ] {
        let mail = mail_to(&smtp, to, number).await;
        assert!(
            mail.body_text().contains(service),
            "{to}: {}",
            mail.body_text()
        );
    }

    // The workflows move on.
    status(&server, &accueil, &web_number, "assigned", None).await;
    server
        .post(&format!("/api/v1/agent/requests/{web_number}/reply"))
        .bearer(&accueil)
        .json(&json!({ "message": "La mairie est ouverte le samedi de 9 h à 12 h." }))
        .send()
        .await
        .expect(204);
    status(&server, &accueil, &web_number, "answered", None).await;
    status(&server, &accueil, &phone_number, "assigned", None).await;
    status(
        &server,
        &accueil,
        &phone_number,
        "answered",
        Some("Rappelé le jour même."),
    )
    .await;
    status(&server, &voirie, &app_number, "acknowledged", None).await;
    let terrain = agent_token(&server, "terrain.voirie@guichet.example").await;
    status(&server, &terrain, &app_number, "scheduled", None).await;
    status(
        &server,
        &terrain,
        &app_number,
        "resolved",
        Some("Rebouché ce matin."),
    )
    .await;

    // Every citizen hears of it: the reply, and each public status, in their language.
    mail_to(&smtp, "lea@example.org", "9 h à 12 h").await;
    mail_to(&smtp, "lea@example.org", "Répondue").await;
    mail_to(&smtp, "yves@example.org", "Répondue").await;
    for to in ["tom@example.org", "zoe@example.org"] {
        let mail = mail_to(&smtp, to, "Résolue").await;
        assert!(
            !mail.body_text().contains("resolved"),
            "no internal status name: {}",
            mail.body_text()
        );
    }
    // The timeline the citizen reads has the same story.
    let view = server
        .get(&format!(
            "/api/v1/requests/{app_number}?tracking_code={}",
            app["tracking_code"].as_str().unwrap()
        ))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(view["status_label"], "Résolue");
    assert!(view["timeline"].to_string().contains("Rebouché ce matin."));

    // The city's other systems got signed events: three creations, the moves, three closures.
    let all = receiver.wait_for_count(3 + 7 + 3, WAIT).await;
    let of_type = |t: &str| all.iter().filter(|r| r.json()["type"] == t).count();
    assert_eq!(of_type("request.created"), 3);
    assert_eq!(of_type("request.status_changed"), 7);
    assert_eq!(of_type("request.closed"), 3);
    let mut ids: Vec<String> = all
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), all.len(), "every event has its own id");
    for r in &all {
        let (t, v1) = r.signature_parts().expect("Guichet-Signature");
        assert_eq!(
            v1,
            expected_signature(&server.db.pool, secret, &t, &r.body).await
        );
        let body = r.body_text();
        assert!(
            !body.contains("@example.org"),
            "no personal data in webhooks: {body}"
        );
    }
}
