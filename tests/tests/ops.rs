#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Operations endpoints and the router's own answers.

use guichet_tests::TestServer;

#[tokio::test]
async fn health_readiness_and_metrics() {
    let server = TestServer::start().await;
    server.get("/healthz").send().await.expect(200);

    let ready = server.get("/readyz").send().await.expect(200).json();
    assert_eq!(ready["database"], "ok");

    let metrics = server.get("/metrics").send().await.expect(200);
    assert!(
        metrics
            .header("content-type")
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = metrics.text();
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
    // Photos encoded at the quick effort because others waited (none yet).
    assert!(text.contains("guichet_photos_quick_total 0"), "{text}");
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
    let body = server
        .get("/readyz")
        .send()
        .await
        .expect_problem(503, "service-unavailable");
    assert!(body["detail"].as_str().unwrap().contains("database"));
    // Liveness does not depend on the database.
    server.get("/healthz").send().await.expect(200);
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_the_callers() {
    let server = TestServer::start().await;
    let fresh = server.get("/healthz").send().await;
    let id = fresh.header("x-request-id").unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");

    let given = server
        .get("/healthz")
        .header("x-request-id", "trace-me-42")
        .send()
        .await;
    assert_eq!(given.header("x-request-id"), Some("trace-me-42"));
}

#[tokio::test]
async fn unknown_urls_and_methods_are_problems() {
    let server = TestServer::start().await;
    server
        .get("/api/v1/nope")
        .send()
        .await
        .expect_problem(404, "not-found");
    server
        .delete("/api/v1/catalogue")
        .send()
        .await
        .expect_problem(405, "method-not-allowed");
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

    let page = server.get("/").send().await.expect(200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert!(page.text().contains("<title>Guichet</title>"));
    server.get("/assets/app.js").send().await.expect(200);
    server
        .get("/assets/nope.js")
        .send()
        .await
        .expect_problem(404, "not-found");
    // The API keeps its own answers.
    server.get("/api/v1/catalogue").send().await.expect(200);
    let _ = std::fs::remove_dir_all(ui);
}
