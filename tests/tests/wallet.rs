#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The document wallet: an account keeps its documents and attaches them to a démarche's file
//! fields without sending them again; they are its own (never another account's, never on
//! `/media`), within a quota, and they go with the account.

use std::time::{Duration, Instant};

use guichet_tests::api::{
    CITIZEN_PASSWORD, agent_token, citizen_login, get, post, verified_citizen,
};
use guichet_tests::call::Answer;
use guichet_tests::{TestServer, fixtures};
use serde_json::{Value, json};
use uuid::Uuid;

const ADMIN: &str = "admin@guichet.example";
const CV: &[u8] = b"%PDF-1.4\n% curriculum vitae de Nina Perrin\n%%EOF\n";
const LETTER: &[u8] = b"%PDF-1.4\n% lettre de motivation\n%%EOF\n";

async fn keep(
    server: &TestServer,
    token: &str,
    label: &str,
    kind: &str,
    name: &str,
    bytes: &[u8],
) -> Answer {
    let form = reqwest::multipart::Form::new()
        .part(
            "document",
            reqwest::multipart::Part::text(json!({"label": label, "kind": kind}).to_string())
                .mime_str("application/json")
                .unwrap(),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned()),
        );
    server
        .post("/api/v1/citizen/me/documents")
        .bearer(token)
        .multipart(form)
        .send()
        .await
}

async fn kept(server: &TestServer, token: &str, label: &str, name: &str, bytes: &[u8]) -> i64 {
    keep(server, token, label, "other", name, bytes)
        .await
        .expect(201)
        .json()["id"]
        .as_i64()
        .unwrap()
}

fn application(documents: Value) -> Value {
    json!({
        "client_id": Uuid::new_v4(),
        "demarche": "candidature-spontanee",
        "channel": "web",
        "data": {
            "contract_type": "permanent",
            "work_fields": ["green_spaces"],
            "last_name": "Perrin",
            "first_name": "Nina",
            "contact_email": "nina@example.org",
            "contact_phone": "06 12 34 56 78",
        },
        "documents": documents,
    })
}

fn storage_key(bytes: &[u8], mime: &str) -> String {
    guichet_server::files::key_for(bytes, mime)
}

/// Runs the file clean-up jobs now and waits until they are done.
async fn run_clean_up(server: &TestServer) {
    sqlx::query(
        "UPDATE outbox_jobs SET run_at = now() WHERE kind = 'photos.cleanup' AND done_at IS NULL",
    )
    .execute(&server.db.pool)
    .await
    .unwrap();
    let started = Instant::now();
    loop {
        let left: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM outbox_jobs WHERE kind = 'photos.cleanup' AND done_at IS NULL AND failed_at IS NULL",
        )
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
        if left == 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "clean-up not done"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn is_stored(server: &TestServer, key: &str) -> bool {
    server
        .stored_files()
        .iter()
        .any(|p| p.file_name().is_some_and(|n| n == key))
}

#[tokio::test]
async fn a_citizen_files_an_application_with_the_documents_of_the_wallet() {
    let server = TestServer::start().await;
    let token = verified_citizen(&server, "nina@example.org").await;
    let answer = keep(&server, &token, "Mon CV 2026", "other", "CV Nina.pdf", CV)
        .await
        .expect(201);
    let cv = answer.json();
    assert_eq!(answer.header("location"), cv["download_url"].as_str());
    assert_eq!(cv["mime"], "application/pdf");
    assert_eq!(cv["bytes"], CV.len());
    assert_eq!(cv["filename"], "CV Nina.pdf");
    let letter = kept(&server, &token, "Lettre", "lettre.pdf", LETTER).await;

    let (status, wallet) = get(&server, "/api/v1/citizen/me/documents", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(wallet["documents"].as_array().unwrap().len(), 2);
    assert_eq!(wallet["documents"][0]["label"], "Lettre", "newest first");
    assert_eq!(wallet["used_bytes"], CV.len() + LETTER.len());
    assert_eq!(wallet["quota_bytes"], 50 * 1024 * 1024);

    let download = server
        .get(cv["download_url"].as_str().unwrap())
        .bearer(&token)
        .send()
        .await
        .expect(200);
    assert_eq!(download.bytes(), CV);
    assert_eq!(download.header("content-type"), Some("application/pdf"));
    assert_eq!(download.header("cache-control"), Some("private, no-store"));
    assert!(
        download
            .header("content-disposition")
            .unwrap()
            .starts_with("attachment;")
    );

    // Filed with the wallet's documents: nothing uploaded again.
    let (status, receipt) = post(
        &server,
        "/api/v1/requests",
        Some(&token),
        &application(json!([
            {"field": "cv", "document_id": cv["id"]},
            {"field": "cover_letter", "document_id": letter},
        ])),
    )
    .await;
    assert_eq!(status, 201, "{receipt}");
    let number = receipt["request_number"].as_str().unwrap();

    // The service gets them as the request's files.
    let admin = agent_token(&server, ADMIN).await;
    let (_, detail) = get(
        &server,
        &format!("/api/v1/agent/requests/{number}"),
        Some(&admin),
    )
    .await;
    let files = detail["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{detail}");
    let cv_file = files.iter().find(|f| f["field"] == "cv").unwrap();
    assert_eq!(cv_file["filename"], "CV Nina.pdf");

    // Let go from the wallet: the request keeps its copy.
    server
        .delete(cv["download_url"].as_str().unwrap())
        .bearer(&token)
        .send()
        .await
        .expect(204);
    run_clean_up(&server).await;
    let (_, wallet) = get(&server, "/api/v1/citizen/me/documents", Some(&token)).await;
    assert_eq!(wallet["documents"].as_array().unwrap().len(), 1);
    let kept_by_request = server
        .get(cv_file["url"].as_str().unwrap())
        .bearer(&admin)
        .send()
        .await
        .expect(200);
    assert_eq!(kept_by_request.bytes(), CV);
    server
        .get(cv["download_url"].as_str().unwrap())
        .bearer(&token)
        .send()
        .await
        .expect_problem(404, "document-not-found");
}

#[tokio::test]
async fn documents_are_their_account_s_own_and_never_public() {
    let server = TestServer::start().await;
    let nina = verified_citizen(&server, "nina@example.org").await;
    let theo = verified_citizen(&server, "theo@example.org").await;
    let scan = fixtures::encode_webp(&fixtures::two_colour_image(64, 48));
    let id = kept(&server, &nina, "Carte d'identité", "cni.webp", &scan).await;
    let url = format!("/api/v1/citizen/me/documents/{id}");

    // Another account, nobody, an agent: the same 404 or 401 as for nothing.
    server
        .get(&url)
        .bearer(&theo)
        .send()
        .await
        .expect_problem(404, "document-not-found");
    server
        .delete(&url)
        .bearer(&theo)
        .send()
        .await
        .expect_problem(404, "document-not-found");
    server.get(&url).send().await.expect(401);
    let admin = agent_token(&server, ADMIN).await;
    server.get(&url).bearer(&admin).send().await.expect(401);
    let (_, theirs) = get(&server, "/api/v1/citizen/me/documents", Some(&theo)).await;
    assert_eq!(theirs["documents"], json!([]));

    // Nor can another account attach it, or a filing without an account.
    let refs = json!([{"field": "cv", "document_id": id}]);
    let (status, problem) = post(
        &server,
        "/api/v1/requests",
        Some(&theo),
        &application(refs.clone()),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "documents[0].document_id");
    assert_eq!(problem["errors"][0]["code"], "document-not-found");
    let (status, problem) = post(&server, "/api/v1/requests", None, &application(refs)).await;
    assert_eq!(
        status, 401,
        "the démarche needs an account first: {problem}"
    );
    let anonymous = json!({
        "client_id": Uuid::new_v4(), "demarche": "demande-contact", "channel": "web",
        "data": {"subject": "information", "message": "Bonjour", "last_name": "Perrin",
                 "first_name": "Nina", "contact_email": "nina@example.org", "reply_channel": "email"},
        "documents": [{"field": "cv", "document_id": id}],
    });
    let (status, problem) = post(&server, "/api/v1/requests", None, &anonymous).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "documents");
    assert_eq!(problem["errors"][0]["code"], "account-required");

    // A WebP document shares the store with photos, and `/media` still does not serve it.
    let key = storage_key(&scan, "image/webp");
    assert!(is_stored(&server, &key));
    server
        .get(&format!("/media/{key}"))
        .send()
        .await
        .expect_problem(404, "photo-not-found");

    // Nor may it become an incident's public photo.
    let tag = json!({
        "client_id": Uuid::new_v4(), "demarche": "enlevement-tags", "channel": "web",
        "data": {"location": {"lat": 48.1113, "lon": -1.6800}, "address": "1 place de la Mairie, Rennes",
                 "surface": "render", "area_m2": 2, "applicant_role": "owner", "owner_consent": true,
                 "last_name": "Perrin", "first_name": "Nina", "contact_email": "nina@example.org"},
        "documents": [{"field": "photos", "document_id": id}],
    });
    let (status, problem) = post(&server, "/api/v1/requests", Some(&nina), &tag).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "documents[0].field");
    assert_eq!(
        problem["errors"][0]["code"],
        "document-not-for-public-field"
    );

    // The form's own rules hold for wallet documents: the CV field takes PDF only.
    let (status, problem) = post(
        &server,
        "/api/v1/requests",
        Some(&nina),
        &application(json!([{"field": "cv", "document_id": id}])),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "files.cv", "{problem}");
    assert_eq!(problem["errors"][0]["code"], "file-type-not-allowed");
}

#[tokio::test]
async fn the_wallet_holds_documents_within_its_quota() {
    let server = TestServer::start_with(|c| c.wallet_quota_bytes = 200).await;
    let token = verified_citizen(&server, "nina@example.org").await;
    let first = [b"%PDF-1.4\n".as_slice(), &[b'a'; 111]].concat();
    kept(&server, &token, "Avis d'imposition", "avis.pdf", &first).await;
    let problem = keep(
        &server,
        &token,
        "Quittance",
        "income",
        "quittance.pdf",
        &first,
    )
    .await
    .expect_problem(422, "wallet-quota-exceeded");
    assert_eq!(problem["errors"][0]["field"], "file");
    let (_, wallet) = get(&server, "/api/v1/citizen/me/documents", Some(&token)).await;
    assert_eq!(
        wallet["documents"].as_array().unwrap().len(),
        1,
        "nothing half kept"
    );

    // Documents only, described.
    let problem = keep(
        &server,
        &token,
        "Script",
        "other",
        "a.sh",
        b"#!/bin/sh\nrm -rf /\n",
    )
    .await
    .expect_problem(422, "validation-failed");
    assert_eq!(problem["errors"][0]["field"], "file");
    assert_eq!(problem["errors"][0]["code"], "file-type-not-accepted");
    let problem = keep(&server, &token, "", "passport", "p.pdf", b"%PDF-1.4\n")
        .await
        .expect_problem(422, "validation-failed");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["document.label", "document.kind"]);

    // An account whose address is not verified keeps nothing.
    post(
        &server,
        "/api/v1/citizen/register",
        None,
        &json!({"email": "new@example.org", "name": "Nouveau", "password": CITIZEN_PASSWORD}),
    )
    .await;
    let unverified = citizen_login(&server, "new@example.org").await;
    keep(&server, &unverified, "CV", "other", "cv.pdf", CV)
        .await
        .expect_problem(403, "email-not-verified");
}

#[tokio::test]
async fn the_wallet_is_in_the_data_download_and_goes_with_the_account() {
    let server = TestServer::start().await;
    let token = verified_citizen(&server, "nina@example.org").await;
    kept(&server, &token, "Mon CV", "cv.pdf", CV).await;
    let (status, data) = get(&server, "/api/v1/citizen/me/data", Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(data["documents"][0]["label"], "Mon CV");
    assert_eq!(data["documents"][0]["filename"], "cv.pdf");

    let key = storage_key(CV, "application/pdf");
    assert!(is_stored(&server, &key));
    let answer = server
        .delete("/api/v1/citizen/me")
        .bearer(&token)
        .json(&json!({"password": CITIZEN_PASSWORD, "open_requests": "withdraw"}))
        .send()
        .await
        .expect(200);
    assert_eq!(answer.json()["withdrawn"], json!([]));
    assert_eq!(server.db.count("wallet_documents").await, 0);
    run_clean_up(&server).await;
    assert!(!is_stored(&server, &key), "the document's file is gone too");
}
