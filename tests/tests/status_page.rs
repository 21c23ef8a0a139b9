#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The status page (`/suivi`): the HTML page an e-mail's follow link opens, and that a
//! receipt's number and code open without an account. It reads in French (English on
//! request), says what the link is for, and offers "not fixed" once the incident is resolved.
//! Real server, database and SMTP listener.

use std::time::Duration;

use guichet_tests::api::{agent_token, post};
use guichet_tests::fixtures::{encode_jpeg, photo_like_image};
use guichet_tests::smtp::SmtpServer;
use guichet_tests::{RENNES, TestServer, multipart, report_at};
use serde_json::json;

const OFFICE: &str = "agent.voirie@guichet.example";
const WAIT: Duration = Duration::from_secs(15);

struct Filed {
    server: TestServer,
    _smtp: SmtpServer,
    number: String,
    code: String,
    link: String,
}

/// An incident reported with an address, and the follow link of its acknowledgement.
async fn filed() -> Filed {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let server = TestServer::start_with(move |c| {
        c.notify.smtp_url = Some(url);
        c.outbox.poll_interval = Duration::from_millis(25);
    })
    .await;
    let (lat, lon) = RENNES;
    let mut report = report_at("voirie", lat, lon);
    report["contact"] = json!({ "email": "habitante@example.org" });
    let receipt = server
        .post("/api/v1/reports")
        .multipart(multipart(&report, &[]))
        .send()
        .await
        .expect(201)
        .json();
    let number = receipt["request_number"].as_str().unwrap().to_owned();
    let code = receipt["tracking_code"].as_str().unwrap().to_owned();
    let mail = smtp
        .wait_for(|m| m.is_to("habitante@example.org"), WAIT)
        .await;
    let link = mail
        .body_text()
        .split_whitespace()
        .find(|w| w.starts_with("http") && w.contains("/suivi/") && !w.contains("/arret"))
        .expect("a follow link")
        .to_owned();
    Filed {
        server,
        _smtp: smtp,
        number,
        code,
        link,
    }
}

async fn page(server: &TestServer, url: &str) -> (u16, String) {
    let answer = server.client.get(url).send().await.unwrap();
    let status = answer.status().as_u16();
    let kind = answer
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(kind.starts_with("text/html"), "{kind}");
    (status, answer.text().await.unwrap())
}

fn photo_form(extra: &[(&str, &str)], with_photo: bool) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in extra {
        form = form.text(k.to_string(), v.to_string());
    }
    let part = if with_photo {
        reqwest::multipart::Part::bytes(encode_jpeg(&photo_like_image(360, 270), 85))
            .file_name("back.jpg")
            .mime_str("image/jpeg")
            .unwrap()
    } else {
        // What a browser sends for a file input left empty.
        reqwest::multipart::Part::bytes(Vec::new())
            .file_name("")
            .mime_str("application/octet-stream")
            .unwrap()
    };
    form.part("photo", part)
}

#[tokio::test]
async fn the_link_of_the_acknowledgement_opens_the_page_in_french_or_english() {
    let f = filed().await;
    assert!(
        f.link
            .starts_with(&f.server.url(&format!("/suivi/{}?follow=", f.number))),
        "{}",
        f.link
    );

    let (status, html) = page(&f.server, &f.link).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<html lang=\"fr\">"), "{html}");
    assert!(html.contains(&f.number));
    assert!(html.contains("Historique"));
    assert!(html.contains("À quoi sert ce lien"));
    assert!(
        html.contains("Nid-de-poule") || html.contains("Accusé"),
        "{html}"
    );
    // Open: nothing to say "not fixed" about.
    assert!(!html.contains("pas-repare"));
    // No script on the page, and the stylesheet is the service's own.
    assert!(!html.contains("<script"));
    assert!(html.contains("href=\"/pages.css\""));
    let css = f.server.get("/pages.css").send().await.expect(200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));

    let (status, html) = page(&f.server, &format!("{}&lang=en", f.link)).await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("History"));
    assert!(html.contains("What is this link or code for?"));

    // A forged token: the same page as an unknown number.
    let forged = format!("{}0", f.link);
    let (status, html) = page(&f.server, &forged).await;
    assert_eq!(status, 404);
    assert!(html.contains("Demande introuvable"));
    let (status, _) = page(
        &f.server,
        &f.server.url("/suivi/2026-SIG-999999?follow=q1.00"),
    )
    .await;
    assert_eq!(status, 404);

    // A browser opening the JSON view's link (older e-mails) is sent to the page.
    let token = f.link.split("follow=").nth(1).unwrap();
    let old = f
        .server
        .client
        .get(
            f.server
                .url(&format!("/api/v1/requests/{}?follow={token}", f.number)),
        )
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(old.status().as_u16(), 200, "redirect followed");
    assert!(old.url().path().starts_with("/suivi/"));
}

#[tokio::test]
async fn the_number_and_code_of_a_receipt_open_the_page_without_putting_the_code_in_an_address() {
    let f = filed().await;
    let (status, html) = page(&f.server, &f.server.url("/suivi")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Code de suivi"));

    let answer = f
        .server
        .client
        .post(f.server.url("/suivi"))
        .form(&[
            ("number", f.number.to_lowercase().as_str()),
            ("tracking_code", &f.code.replace('-', " ").to_lowercase()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let html = answer.text().await.unwrap();
    assert!(html.contains(&f.number), "{html}");
    assert!(
        html.contains("Votre description"),
        "the filer reads their own words"
    );
    assert!(html.contains("Le code de suivi vous a été remis"));
    // The other language is asked for with a form: the code stays out of addresses.
    assert!(!html.contains("?tracking_code="));

    let wrong = f
        .server
        .client
        .post(f.server.url("/suivi"))
        .form(&[
            ("number", f.number.as_str()),
            ("tracking_code", "AAAA-BBBB-CCCC"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 404);
    let html = wrong.text().await.unwrap();
    assert!(html.contains("role=\"alert\""));
    assert!(html.contains("Aucune demande ne correspond"));
}

#[tokio::test]
async fn not_fixed_is_offered_once_resolved_and_reopens_with_a_photo() {
    let f = filed().await;
    let office = agent_token(&f.server, OFFICE).await;
    for status in ["acknowledged", "resolved"] {
        let (s, body) = post(
            &f.server,
            &format!("/api/v1/agent/requests/{}/status", f.number),
            Some(&office),
            &json!({ "status": status }),
        )
        .await;
        assert_eq!(s, 204, "{body}");
    }
    let (_, html) = page(&f.server, &f.link).await;
    assert!(
        html.contains(&format!("action=\"/suivi/{}/pas-repare\"", f.number)),
        "{html}"
    );
    assert!(html.contains("enctype=\"multipart/form-data\""));
    let token = f.link.split("follow=").nth(1).unwrap().to_owned();
    let to = f.server.url(&format!("/suivi/{}/pas-repare", f.number));

    // Without a photo: said on the page, at the form, and nothing reopens.
    let answer = f
        .server
        .client
        .post(&to)
        .multipart(photo_form(&[("follow", &token), ("lang", "fr")], false))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 422);
    let html = answer.text().await.unwrap();
    assert!(
        html.contains("id=\"not-fixed-error\" role=\"alert\""),
        "{html}"
    );

    // A stranger's token opens nothing.
    let answer = f
        .server
        .client
        .post(&to)
        .multipart(photo_form(
            &[("follow", "q1.00000000000000000000000000000000")],
            true,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 404);

    let answer = f
        .server
        .client
        .post(&to)
        .multipart(photo_form(
            &[
                ("follow", &token),
                ("lang", "fr"),
                ("message", "Toujours là"),
            ],
            true,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let html = answer.text().await.unwrap();
    assert!(html.contains("la demande est rouverte"), "{html}");
    assert!(
        !html.contains("pas-repare"),
        "reopened: nothing to say again"
    );
    // The reporter's photo is in the timeline.
    assert!(html.contains("/media/"), "{html}");

    let view = f
        .server
        .get(&format!(
            "/api/v1/requests/{}?tracking_code={}",
            f.number, f.code
        ))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(view["phase"], "in_progress", "{view}");
}
