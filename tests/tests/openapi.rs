#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The OpenAPI document of `/api/v1` and the page that shows it, against the real server:
//! every route of the router is in the document, every error is problem+json there, every
//! reference resolves, and the page loads within the security policy from this origin only.

use std::collections::BTreeSet;

use guichet_tests::TestServer;
use guichet_tests::routes::router_routes;
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(server: &TestServer) -> Value {
    let answer = server
        .client
        .get(server.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "application/json");
    answer.json().await.unwrap()
}

fn operations(doc: &Value) -> impl Iterator<Item = (String, String, &Value)> {
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            METHODS.iter().filter_map(move |method| {
                item.get(*method)
                    .map(|op| (method.to_uppercase(), path.clone(), op))
            })
        })
}

#[tokio::test]
async fn every_route_of_the_api_is_in_the_document_and_nothing_else() {
    let server = TestServer::start().await;
    let doc = document(&server).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let routed: BTreeSet<(String, String)> = router_routes()
        .into_iter()
        .filter(|(_, path)| path.starts_with("/api/v1/"))
        .collect();
    let documented: BTreeSet<(String, String)> = operations(&doc).map(|(m, p, _)| (m, p)).collect();
    let missing: Vec<_> = routed.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&routed).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the OpenAPI document (add #[utoipa::path] and list the handler in http/openapi.rs): {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "operations of the document that the router does not have: {unknown:?}"
    );
}

#[tokio::test]
async fn errors_are_problems_and_every_reference_resolves() {
    let server = TestServer::start().await;
    let doc = document(&server).await;
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for (method, path, op) in operations(&doc) {
        let answers = op["responses"].as_object().expect("responses");
        assert!(
            answers.keys().any(|s| s.starts_with('2')),
            "{method} {path} documents no success"
        );
        for (status, answer) in answers {
            if status.starts_with('4') || status.starts_with('5') {
                assert!(
                    answer["content"].get("application/problem+json").is_some(),
                    "{method} {path} {status} is not problem+json: {answer}"
                );
            }
        }
        for required in ["500", "503"] {
            assert!(
                answers.contains_key(required),
                "{method} {path} lacks {required}"
            );
        }
        let secured = op["security"].as_array().is_some_and(|s| {
            s.iter()
                .any(|r| r.as_object().is_some_and(|o| !o.is_empty()))
        });
        if secured {
            assert!(answers.contains_key("401"), "{method} {path} lacks 401");
        }
    }
    // Every `$ref` names a schema of the document.
    let text = doc.to_string();
    let mut refs = BTreeSet::new();
    for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        refs.insert(piece.split('"').next().unwrap().to_owned());
    }
    for name in &refs {
        assert!(schemas.contains_key(name), "dangling reference to {name}");
    }
    let problem = &schemas["Problem"];
    for field in ["type", "title", "status", "detail", "code"] {
        assert!(
            problem["required"]
                .as_array()
                .unwrap()
                .contains(&Value::from(field)),
            "Problem.{field}"
        );
    }
    assert!(problem["properties"]["errors"]["items"].is_object());
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    for scheme in [
        "citizen_token",
        "agent_token",
        "agent_cookie",
        "csrf_header",
    ] {
        assert!(schemes.contains_key(scheme), "security scheme {scheme}");
    }
    assert_eq!(schemes["agent_cookie"]["name"], "guichet_agent");
    assert_eq!(schemes["agent_cookie"]["in"], "cookie");
}

/// The agent routes take the token or the cookie, and a state-changing call with the cookie
/// also needs the header that a cross-site form cannot send.
#[tokio::test]
async fn agent_routes_document_the_token_the_cookie_and_its_header() {
    let server = TestServer::start().await;
    let doc = document(&server).await;
    for (method, path, op) in operations(&doc) {
        let agent = path.starts_with("/api/v1/agent/") || path.starts_with("/api/v1/admin/");
        if !agent || path == "/api/v1/agent/login" {
            continue;
        }
        let security = op["security"].to_string();
        assert!(security.contains("agent_token"), "{method} {path}");
        assert!(security.contains("agent_cookie"), "{method} {path}");
        assert_eq!(
            security.contains("csrf_header"),
            method != "GET",
            "{method} {path}: {security}"
        );
    }
}

/// The documentation page: in French, served from this origin, under the same security
/// policy as every page (no inline script, no other origin).
#[tokio::test]
async fn the_documentation_page_loads_its_own_files_under_the_security_policy() {
    let server = TestServer::start().await;
    for address in ["/api/docs", "/api/docs/"] {
        let answer = server.client.get(server.url(address)).send().await.unwrap();
        assert_eq!(
            answer.status(),
            200,
            "{address} (build the page first: npm run build -w server/api-docs)"
        );
        let csp = answer.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(
            answer.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let page = answer.text().await.unwrap();
        assert!(page.contains("<html lang=\"fr\">"), "{page}");
        assert!(page.contains("<title>Guichet — documentation de l'API</title>"));
        // Every script is a file of this origin: none inline, none from elsewhere.
        for tag in page.split("<script").skip(1) {
            let src = tag
                .split_once("src=\"")
                .map(|(_, rest)| rest.split('"').next().unwrap())
                .unwrap_or_else(|| panic!("an inline script: <script{tag}"));
            assert!(src.starts_with("/api/docs/"), "{src}");
        }
        assert!(!page.contains("http://") && !page.contains("https://"));
    }
    for file in [
        "init.js",
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "page.css",
    ] {
        let answer = server
            .client
            .get(server.url(&format!("/api/docs/{file}")))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{file}");
    }
    let init = server
        .client
        .get(server.url("/api/docs/init.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("\"/api/v1/openapi.json\""));
    let missing = server
        .client
        .get(server.url("/api/docs/nothing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
}
