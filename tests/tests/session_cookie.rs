#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The back office's session cookie: unreadable by page scripts, accepted on the agent API
//! beside bearer tokens, and useless to a cross-site form.

use guichet_tests::TestServer;
use guichet_tests::api::DEMO_PASSWORD;
use serde_json::{Value, json};

const VOIRIE: &str = "agent.voirie@guichet.example";

/// Logs in for a cookie; returns the `name=value` pair to send back.
async fn cookie_login(server: &TestServer) -> String {
    let answer = server
        .client
        .post(server.url("/api/v1/agent/login"))
        .header("x-guichet-session", "cookie")
        .json(&json!({ "email": VOIRIE, "password": DEMO_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let set = answer.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/api/v1"] {
        assert!(set.contains(attribute), "{set}");
    }
    assert!(!set.contains("Secure"), "plain http in tests: {set}");
    let body: Value = answer.json().await.unwrap();
    assert!(
        body.get("token").is_none(),
        "no token for page scripts: {body}"
    );
    assert_eq!(body["email"], VOIRIE);
    set.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_cookie_session_works_for_the_back_office_and_not_for_a_cross_site_form() {
    let server = TestServer::start().await;
    let cookie = cookie_login(&server).await;
    let me = server
        .client
        .get(server.url("/api/v1/agent/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["email"], VOIRIE);

    // A state-changing call with the cookie alone is what a cross-site form sends: refused
    // before anything happens.
    let queue_before: Value = server
        .client
        .get(server.url("/api/v1/agent/requests"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let forged = server
        .client
        .post(server.url("/api/v1/agent/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let problem: Value = forged.json().await.unwrap();
    assert_eq!(problem["code"], "csrf-header-missing");
    // The session still works: the forged logout did nothing.
    let still = server
        .client
        .get(server.url("/api/v1/agent/requests"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 200);
    assert_eq!(
        still.json::<Value>().await.unwrap()["items"],
        queue_before["items"]
    );

    // The agent cookie means nothing on citizen routes.
    let catalogue = server
        .client
        .get(server.url("/api/v1/citizen/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(catalogue.status(), 401);

    // The app's own logout sends the header, ends the session and clears the cookie.
    let out = server
        .client
        .post(server.url("/api/v1/agent/logout"))
        .header("cookie", &cookie)
        .header("x-requested-with", "guichet")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let cleared = out.headers()["set-cookie"].to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let after = server
        .client
        .get(server.url("/api/v1/agent/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
}

#[tokio::test]
async fn a_login_without_the_cookie_header_still_answers_a_bearer_token() {
    let server = TestServer::start().await;
    let answer = server
        .client
        .post(server.url("/api/v1/agent/login"))
        .json(&json!({ "email": VOIRIE, "password": DEMO_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert!(answer.headers().get("set-cookie").is_none());
    let body: Value = answer.json().await.unwrap();
    assert!(body["token"].as_str().is_some_and(|t| t.len() >= 32));
}
