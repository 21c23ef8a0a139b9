#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Bounded bodies: every JSON body is capped (256 KiB, less where a route says so) and a
//! larger one gets 413 problem+json before anything is parsed, so that a 20 MB body costs the
//! server neither time nor memory. Run against the real binary, whose resident memory is read
//! from `/proc`.

use std::time::{Duration, Instant};

use guichet_tests::api::{DEMO_PASSWORD, contact_request};
use guichet_tests::{ServerProcess, TestDb};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

const TWENTY_MB: usize = 20 * 1024 * 1024;

async fn login(client: &reqwest::Client, server: &ServerProcess, email: &str) -> String {
    let answer: Value = client
        .post(server.url("/api/v1/agent/login"))
        .json(&json!({ "email": email, "password": DEMO_PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["token"].as_str().expect("token").to_owned()
}

/// A JSON document of `size` bytes (a long string in an object), valid all the way through.
fn big_json(size: usize) -> bytes::Bytes {
    let mut text = String::with_capacity(size);
    text.push_str("{\"description\": \"");
    text.extend(std::iter::repeat_n('a', size - text.len() - 2));
    text.push_str("\"}");
    bytes::Bytes::from(text)
}

#[tokio::test]
async fn a_twenty_megabyte_json_body_gets_413_at_once_on_every_json_route() {
    let db = TestDb::new().await;
    let server = ServerProcess::start(&db).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let admin = login(&client, &server, "admin@guichet.example").await;
    let accueil = login(&client, &server, "agent.accueil@guichet.example").await;
    let filed: Value = client
        .post(server.url("/api/v1/requests"))
        .json(&contact_request(Uuid::new_v4(), "lea@example.org"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let n = filed["request_number"].as_str().expect("filed").to_owned();

    let routes: Vec<(Method, String, Option<&str>)> = vec![
        (Method::POST, "/api/v1/requests".into(), None),
        (Method::POST, format!("/api/v1/requests/{n}/support"), None),
        (Method::POST, format!("/api/v1/requests/{n}/messages"), None),
        (
            Method::POST,
            format!("/api/v1/requests/{n}/complement"),
            None,
        ),
        (Method::POST, format!("/api/v1/requests/{n}/withdraw"), None),
        (Method::POST, "/api/v1/citizen/register".into(), None),
        (Method::POST, "/api/v1/citizen/verify/resend".into(), None),
        (Method::POST, "/api/v1/citizen/login".into(), None),
        (Method::POST, "/api/v1/agent/login".into(), None),
        (
            Method::POST,
            "/api/v1/agent/requests".into(),
            Some(&accueil),
        ),
        (
            Method::PATCH,
            format!("/api/v1/agent/requests/{n}"),
            Some(&accueil),
        ),
        (
            Method::POST,
            format!("/api/v1/agent/requests/{n}/status"),
            Some(&accueil),
        ),
        (
            Method::POST,
            format!("/api/v1/agent/requests/{n}/assign"),
            Some(&accueil),
        ),
        (
            Method::POST,
            format!("/api/v1/agent/requests/{n}/reply"),
            Some(&accueil),
        ),
        (
            Method::POST,
            format!("/api/v1/agent/requests/{n}/notes"),
            Some(&accueil),
        ),
        (
            Method::POST,
            format!("/api/v1/agent/requests/{n}/complement"),
            Some(&accueil),
        ),
        (
            Method::POST,
            format!("/api/v1/agent/requests/{n}/merge"),
            Some(&accueil),
        ),
        (
            Method::POST,
            format!("/api/v1/agent/requests/{n}/split"),
            Some(&accueil),
        ),
        (Method::POST, "/api/v1/admin/webhooks".into(), Some(&admin)),
        (
            Method::POST,
            "/api/v1/admin/routing-rules".into(),
            Some(&admin),
        ),
        (Method::POST, "/api/v1/admin/agents".into(), Some(&admin)),
        (
            Method::PUT,
            "/api/v1/admin/demarches/demande-contact".into(),
            Some(&admin),
        ),
    ];
    let body = big_json(TWENTY_MB);
    let send = |method: Method, path: &str, token: Option<&str>, body: reqwest::Body| {
        let mut call = client
            .request(method, server.url(path))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            call = call.bearer_auth(t);
        }
        call.send()
    };
    // Once round before measuring, so that pools and caches are in place.
    for (method, path, token) in &routes {
        let answer = send(method.clone(), path, *token, body.clone().into())
            .await
            .unwrap();
        assert_eq!(answer.status(), 413, "{method} {path}");
    }
    let before = server.resident_kib();
    for (method, path, token) in &routes {
        let started = Instant::now();
        let answer = send(method.clone(), path, *token, body.clone().into())
            .await
            .unwrap();
        let took = started.elapsed();
        assert_eq!(answer.status(), 413, "{method} {path}");
        assert_eq!(
            answer.headers()["content-type"],
            "application/problem+json",
            "{method} {path}"
        );
        let problem: Value = answer.json().await.unwrap();
        assert_eq!(problem["code"], "json-too-large", "{method} {path}");
        assert!(
            took < Duration::from_secs(1),
            "{method} {path} took {took:?}"
        );
    }
    // A body without a declared length is cut off as soon as it passes the cap.
    let chunks = futures::stream::iter(
        (0..TWENTY_MB / (64 * 1024))
            .map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b' '; 64 * 1024]))),
    );
    let answer = send(
        Method::POST,
        "/api/v1/requests",
        None,
        reqwest::Body::wrap_stream(chunks),
    )
    .await
    .unwrap();
    assert_eq!(answer.status(), 413);
    let grown = server.resident_kib().saturating_sub(before);
    assert!(
        grown < 8 * 1024,
        "the server's resident memory grew by {grown} KiB"
    );

    // The caps leave room for real documents: a "me too" takes 4 KiB, others 256 KiB.
    let answer = send(
        Method::POST,
        &format!("/api/v1/requests/{n}/support"),
        None,
        big_json(5 * 1024).into(),
    )
    .await
    .unwrap();
    assert_eq!(answer.status(), 413);
    let answer = send(
        Method::POST,
        "/api/v1/agent/login",
        None,
        big_json(200 * 1024).into(),
    )
    .await
    .unwrap();
    assert_eq!(answer.status(), 422, "parsed, then refused for its content");
}

#[tokio::test]
async fn an_unauthorised_caller_is_refused_without_the_body_being_read() {
    let db = TestDb::new().await;
    let server = ServerProcess::start(&db).await;
    let client = reqwest::Client::new();
    let answer = client
        .post(server.url("/api/v1/admin/webhooks"))
        .header("content-type", "application/json")
        .body(big_json(TWENTY_MB))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
}
