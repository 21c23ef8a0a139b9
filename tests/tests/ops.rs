#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Operations endpoints and the router's own answers.

use guichet_tests::{TestServer, expect_problem};

#[tokio::test]
async fn health_readiness_and_metrics() {
    let server = TestServer::start().await;
    let health = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let ready = server
        .client
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "ok");

    let metrics = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = metrics.text().await.unwrap();
    // Requests are counted under their route templates.
    assert!(
        text.contains(
            r#"guichet_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
        ),
        "{text}"
    );
    // The test kit polls readiness before handing the server over: at least once more.
    assert!(
        text.contains(r#"guichet_http_requests_total{method="GET",route="/readyz",status="200"}"#),
        "{text}"
    );
    assert!(text.contains("guichet_photos_in_flight 0"), "{text}");
}

#[tokio::test]
async fn readiness_fails_when_the_database_goes_away() {
    let server = TestServer::start().await;
    let admin = sqlx::PgPool::connect(&guichet_tests::admin_url())
        .await
        .unwrap();
    sqlx::query(&format!(
        "DROP DATABASE \"{}\" WITH (FORCE)",
        server.db.name
    ))
    .execute(&admin)
    .await
    .unwrap();
    let ready = server
        .client
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap();
    let body = expect_problem(ready, 503, "service-unavailable").await;
    assert!(body["detail"].as_str().unwrap().contains("database"));
    // Liveness does not depend on the database.
    let health = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_the_callers() {
    let server = TestServer::start().await;
    let fresh = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    let id = fresh.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");

    let given = server
        .client
        .get(server.url("/healthz"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn unknown_urls_and_methods_are_problems() {
    let server = TestServer::start().await;
    let missing = server
        .client
        .get(server.url("/api/v1/nope"))
        .send()
        .await
        .unwrap();
    expect_problem(missing, 404, "not-found").await;
    let wrong = server
        .client
        .delete(server.url("/api/v1/catalogue"))
        .send()
        .await
        .unwrap();
    expect_problem(wrong, 405, "method-not-allowed").await;
}

#[tokio::test]
async fn the_citizen_web_app_is_served_at_the_root() {
    let ui = std::env::temp_dir().join(format!("guichet-ui-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(ui.join("assets")).unwrap();
    std::fs::write(
        ui.join("index.html"),
        "<!doctype html><html lang=\"fr\"><title>Guichet</title></html>",
    )
    .unwrap();
    std::fs::write(ui.join("assets/app.js"), "console.log('hi')").unwrap();
    let dir = ui.clone();
    let server = TestServer::start_with(move |c| c.ui_dir = dir).await;

    let page = server.client.get(server.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(page.headers()["cache-control"], "no-cache");
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("<title>Guichet</title>")
    );
    let script = server
        .client
        .get(server.url("/assets/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    let missing = server
        .client
        .get(server.url("/assets/nope.js"))
        .send()
        .await
        .unwrap();
    expect_problem(missing, 404, "not-found").await;
    // The API keeps its own answers.
    let api = server
        .client
        .get(server.url("/api/v1/catalogue"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);
    let _ = std::fs::remove_dir_all(ui);
}
