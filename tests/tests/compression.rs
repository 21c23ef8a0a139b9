#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Answers go compressed to clients that accept it (browsers always do): the web app's files,
//! the API's JSON, and the back office's login, whose token still becomes the session cookie.

use std::io::Read;

use guichet_tests::TestServer;
use guichet_tests::api::DEMO_PASSWORD;
use serde_json::{Value, json};

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a gzip body");
    out
}

#[tokio::test]
async fn the_app_the_api_and_the_cookie_login_answer_compressed() {
    let server = TestServer::start().await;

    let page = server
        .client
        .get(server.url("/"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-encoding"], "gzip");
    let html = String::from_utf8(gunzip(&page.bytes().await.unwrap())).unwrap();
    assert!(html.contains("<html"), "{html}");

    let catalogue = server
        .client
        .get(server.url("/api/v1/catalogue"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(catalogue.headers()["content-encoding"], "gzip");
    let list: Value = serde_json::from_slice(&gunzip(&catalogue.bytes().await.unwrap())).unwrap();
    assert!(list.to_string().contains("\"code\""), "{list}");

    // Without the header, the same bytes as ever.
    let plain = server
        .client
        .get(server.url("/api/v1/catalogue"))
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get("content-encoding").is_none());

    // The back office logs in as a browser does: the token leaves the answer for the cookie.
    let login = server
        .client
        .post(server.url("/api/v1/agent/login"))
        .header("x-guichet-session", "cookie")
        .header("accept-encoding", "gzip")
        .json(&json!({ "email": "agent.voirie@guichet.example", "password": DEMO_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let set = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.starts_with("guichet_agent="), "{set}");
    assert_eq!(login.headers()["content-encoding"], "gzip");
    let body: Value = serde_json::from_slice(&gunzip(&login.bytes().await.unwrap())).unwrap();
    assert_eq!(body["email"], "agent.voirie@guichet.example");
    assert!(body.get("token").is_none(), "{body}");
}
