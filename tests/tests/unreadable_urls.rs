#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! URLs the router matches but whose path segment or query string cannot be read: each gets
//! a problem (never axum's plain-text 400), found by fuzzing the API against its document.

use guichet_tests::TestServer;
use guichet_tests::api::agent_token;

#[tokio::test]
async fn an_id_that_is_not_a_number_is_a_404_problem() {
    let server = TestServer::start().await;
    let admin = agent_token(&server, "admin@guichet.example").await;
    for path in [
        "/api/v1/admin/routing-rules/not-a-number",
        "/api/v1/agent/reply-templates/9223372036854775808",
    ] {
        server
            .delete(path)
            .bearer(&admin)
            .send()
            .await
            .expect_problem(404, "not-found");
    }
    server
        .get("/api/v1/agent/requests/2026-SIG-000001/files/9223372036854775808")
        .bearer(&admin)
        .send()
        .await
        .expect_problem(404, "not-found");
}

#[tokio::test]
async fn a_path_segment_that_is_not_utf8_is_a_404_problem() {
    let server = TestServer::start().await;
    server
        .get("/api/v1/catalogue/%FF")
        .send()
        .await
        .expect_problem(404, "not-found");
    server
        .get("/api/v1/requests/%C3%28?tracking_code=ABCD")
        .send()
        .await
        .expect_problem(404, "not-found");
}

#[tokio::test]
async fn a_parameter_given_twice_is_a_400_problem() {
    let server = TestServer::start().await;
    server
        .get("/api/v1/reports/nearby?lat=48.1&lat=48.2&lon=-1.6&category=voirie")
        .send()
        .await
        .expect_problem(400, "malformed-query");
    server
        .get("/api/v1/incidents?bbox=-1.7,48.1,-1.6,48.2&zoom=12&zoom=13")
        .send()
        .await
        .expect_problem(400, "malformed-query");
}
