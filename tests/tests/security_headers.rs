#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Browser protections: security headers on every kind of answer, CORS by audience, and who
//! may read `/metrics`.

use guichet_server::config::MapTiles;
use guichet_tests::TestServer;
use guichet_tests::call::Answer;
use reqwest::Method;

fn assert_security_headers(answer: &Answer) {
    let csp = answer
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("no Content-Security-Policy (status {})", answer.status()));
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        answer.header("referrer-policy"),
        Some("strict-origin-when-cross-origin")
    );
    assert_eq!(answer.header("x-frame-options"), Some("DENY"));
}

#[tokio::test]
async fn every_kind_of_answer_carries_the_security_headers() {
    let server = TestServer::start().await;
    let answers = [
        server.get("/").send().await.expect(200),
        server.get("/api/v1/catalogue").send().await.expect(200),
        server.get("/api/v1/nope").send().await,
        server.get("/media/nothing-here.webp").send().await,
        server.get("/healthz").send().await.expect(200),
    ];
    assert_eq!(answers[2].status(), 404);
    assert_eq!(answers[3].status(), 404);
    for answer in &answers {
        assert_security_headers(answer);
        // Plain http: no HSTS, it would be ignored or wrong.
        assert_eq!(answer.header("strict-transport-security"), None);
    }
    // The app's page names no outside host.
    let csp = answers[0].header("content-security-policy").unwrap();
    assert!(csp.contains("img-src 'self' data: blob:;"), "{csp}");
}

#[tokio::test]
async fn https_deployments_send_hsts_and_allow_their_tile_host() {
    let server = TestServer::start_with(|c| {
        c.public_url = "https://guichet.example.org".to_owned();
        c.http.map_tiles =
            MapTiles::parse("https://tiles.example.org/plan/{z}/{x}/{y}.png", None).unwrap();
    })
    .await;
    for path in ["/", "/api/v1/incidents", "/api/v1/nope"] {
        let answer = server.get(path).send().await;
        assert_security_headers(&answer);
        let hsts = answer.header("strict-transport-security").unwrap();
        assert!(hsts.starts_with("max-age=31536000"), "{hsts}");
        let csp = answer.header("content-security-policy").unwrap();
        assert!(
            csp.contains("img-src 'self' data: blob: https://tiles.example.org;"),
            "{csp}"
        );
    }
}

#[tokio::test]
async fn cors_follows_the_audience_of_each_url() {
    let server = TestServer::start().await;

    // The Tauri app may send reports.
    for origin in [
        "tauri://localhost",
        "http://tauri.localhost",
        "https://tauri.localhost",
    ] {
        let preflight = server
            .call(Method::OPTIONS, "/api/v1/reports")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
            .await;
        assert!(preflight.status() < 300, "{}", preflight.status());
        assert_eq!(
            preflight.header("access-control-allow-origin"),
            Some(origin)
        );
        assert!(
            preflight
                .header("access-control-allow-methods")
                .unwrap()
                .contains("POST")
        );
        assert_security_headers(&preflight);
    }

    // Another site may not, nor call the agents' API.
    let foreign = server
        .call(Method::OPTIONS, "/api/v1/reports")
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await;
    assert_eq!(foreign.header("access-control-allow-origin"), None);
    for origin in ["https://evil.example", "tauri://localhost"] {
        let agent = server
            .call(Method::OPTIONS, "/api/v1/agent/requests")
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
            .await;
        assert_eq!(agent.header("access-control-allow-origin"), None);
        let agent = server
            .get("/api/v1/agent/requests")
            .header("origin", origin)
            .send()
            .await;
        assert_eq!(agent.header("access-control-allow-origin"), None);
    }

    // Public read-only data: any origin, reading only.
    for path in [
        "/api/v1/incidents",
        "/api/v1/catalogue",
        "/api/v1/reports/nearby?lat=48.11&lon=-1.68",
    ] {
        let answer = server
            .get(path)
            .header("origin", "https://evil.example")
            .send()
            .await;
        assert_eq!(
            answer.header("access-control-allow-origin"),
            Some("*"),
            "{path}: {}",
            answer.status()
        );
        assert_eq!(answer.header("access-control-allow-credentials"), None);
    }
    let write = server
        .call(Method::OPTIONS, "/api/v1/reports")
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await;
    assert_eq!(write.header("access-control-allow-origin"), None);

    // The web app's page is not for other origins.
    let own = server
        .get("/")
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect(200);
    assert_eq!(own.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn metrics_need_the_token_when_one_is_set() {
    let server = TestServer::start_with(|c| {
        c.http.metrics_token = Some("s3cret-metrics".to_owned());
    })
    .await;
    server
        .get("/metrics")
        .send()
        .await
        .expect_problem(404, "not-found");
    server
        .get("/metrics")
        .bearer("wrong")
        .send()
        .await
        .expect_problem(404, "not-found");
    let metrics = server
        .get("/metrics")
        .bearer("s3cret-metrics")
        .send()
        .await
        .expect(200);
    assert!(metrics.text().contains("guichet_http_requests_total"));
}

#[tokio::test]
async fn metrics_without_a_token_are_for_direct_local_callers_only() {
    let server = TestServer::start().await;
    server.get("/metrics").send().await.expect(200);
    // Relayed by a reverse proxy on the same machine: the caller is elsewhere.
    server
        .get("/metrics")
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .expect_problem(404, "not-found");
    server
        .get("/metrics")
        .header("forwarded", "for=203.0.113.9")
        .send()
        .await
        .expect_problem(404, "not-found");
}
