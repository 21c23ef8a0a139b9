#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! "Stop the e-mails about this request": every notice carries its recipient's own link; the
//! GET shows a page that stops nothing (mail scanners open links), its button's POST stops
//! that recipient's e-mails and nobody else's. Real server, database and SMTP listener.

use std::time::Duration;

use guichet_tests::api::{agent_token, post};
use guichet_tests::smtp::SmtpServer;
use guichet_tests::{RENNES, TestServer, multipart, report_at};
use serde_json::json;
use uuid::Uuid;

const OFFICE: &str = "agent.voirie@guichet.example";
const WAIT: Duration = Duration::from_secs(15);
const FILER: &str = "filer.stop@example.org";
const SUPPORTER: &str = "voisin.stop@example.org";

fn stop_link(text: &str) -> String {
    text.split_whitespace()
        .find(|w| w.starts_with("http") && w.contains("/arret?follow="))
        .unwrap_or_else(|| panic!("no stop link in {text}"))
        .to_owned()
}

async fn email_jobs_to(server: &TestServer, address: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM outbox_jobs WHERE kind = 'email.send' AND payload->>'to' = $1",
    )
    .bind(address)
    .fetch_one(&server.db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_supporter_stops_their_own_emails_with_one_click_and_a_confirmation() {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let server = TestServer::start_with(move |c| {
        c.notify.smtp_url = Some(url);
        c.outbox.poll_interval = Duration::from_millis(25);
    })
    .await;
    let (lat, lon) = RENNES;
    let mut report = report_at("voirie", lat, lon);
    report["contact"] = json!({ "email": FILER });
    let receipt = server
        .post("/api/v1/reports")
        .multipart(multipart(&report, &[]))
        .send()
        .await
        .expect(201)
        .json();
    let n = receipt["request_number"].as_str().unwrap().to_owned();
    server
        .post(&format!("/api/v1/requests/{n}/support"))
        .header("accept-language", "en")
        .json(&json!({ "client_id": Uuid::new_v4(), "contact": { "email": SUPPORTER } }))
        .send()
        .await
        .expect(201);
    let filer_ack = smtp.wait_for(|m| m.is_to(FILER), WAIT).await.body_text();
    let supporter_ack = smtp
        .wait_for(|m| m.is_to(SUPPORTER), WAIT)
        .await
        .body_text();
    assert!(
        filer_ack.contains("Pour ne plus recevoir d'e-mails sur cette demande"),
        "{filer_ack}"
    );
    let link = stop_link(&supporter_ack);
    assert_ne!(
        link,
        stop_link(&filer_ack),
        "each recipient has a link of their own"
    );
    assert!(
        link.starts_with(&server.url(&format!("/suivi/{n}/arret?follow=r"))),
        "{link}"
    );

    // Opening the link stops nothing: it shows a button.
    let page = server.client.get(&link).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("action=\"/suivi/{n}/arret\" "))
            || html.contains(&format!("action=\"/suivi/{n}/arret\"")),
        "{html}"
    );
    assert!(
        html.contains("Stop the e-mails"),
        "in the supporter's language: {html}"
    );
    let token = link
        .split("follow=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();

    // A forged token stops nothing.
    let forged = server
        .client
        .post(server.url(&format!("/suivi/{n}/arret")))
        .form(&[("follow", format!("{token}0"))])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 404);

    let stopped = server
        .client
        .post(server.url(&format!("/suivi/{n}/arret")))
        .form(&[("follow", token.as_str()), ("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.status().as_u16(), 200);
    assert!(stopped.text().await.unwrap().contains("no more e-mails"));
    // Twice is the same.
    let again = server
        .client
        .post(server.url(&format!("/suivi/{n}/arret")))
        .form(&[("follow", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 200);

    let supporter_jobs = email_jobs_to(&server, SUPPORTER).await;
    let office = agent_token(&server, OFFICE).await;
    let (s, body) = post(
        &server,
        &format!("/api/v1/agent/requests/{n}/status"),
        Some(&office),
        &json!({ "status": "acknowledged" }),
    )
    .await;
    assert_eq!(s, 204, "{body}");
    // The filer still hears of it; the supporter does not (the notices of one change are
    // written in one transaction, so the filer's e-mail means the supporter's would exist).
    smtp.wait_for(
        |m| m.is_to(FILER) && !m.body_text().contains("Accusé"),
        WAIT,
    )
    .await;
    assert_eq!(email_jobs_to(&server, SUPPORTER).await, supporter_jobs);

    // The supporter can still follow the request.
    let follow = supporter_ack
        .split_whitespace()
        .find(|w| w.contains("/suivi/") && !w.contains("/arret"))
        .unwrap()
        .to_owned();
    let page = server.client.get(&follow).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
}
