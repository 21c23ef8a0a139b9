#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Teams for admins, and the reply templates supervisors keep for every agent to use.

use guichet_tests::TestServer;
use guichet_tests::api::{agent_token, call, get, post};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn admins_create_and_rename_teams() {
    let server = TestServer::start().await;
    let admin = agent_token(&server, "admin@guichet.example").await;
    let body = json!({ "name": "Secteur nord", "email": "nord@ville.example" });
    let (status, created) = call(
        &server,
        Method::PUT,
        "/api/v1/admin/teams/secteur-nord",
        Some(&admin),
        Some(&body),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let (status, _) = call(
        &server,
        Method::PUT,
        "/api/v1/admin/teams/secteur-nord",
        Some(&admin),
        Some(&json!({ "name": "Secteur Nord-Est" })),
    )
    .await;
    assert_eq!(status, 200);
    let (_, teams) = get(&server, "/api/v1/admin/teams", Some(&admin)).await;
    let team = teams
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == "secteur-nord")
        .unwrap();
    assert_eq!(team["name"], "Secteur Nord-Est");
    assert_eq!(team["members"], 0);
    // A routing rule can send work to it at once.
    let (status, rule) = post(
        &server,
        "/api/v1/admin/routing-rules",
        Some(&admin),
        &json!({ "demarche": "voirie", "team": "secteur-nord" }),
    )
    .await;
    assert_eq!(status, 201, "{rule}");
    for (path, body) in [
        ("/api/v1/admin/teams/Nord%20!", json!({ "name": "x" })),
        ("/api/v1/admin/teams/ok", json!({ "name": "" })),
    ] {
        let (status, _) = call(&server, Method::PUT, path, Some(&admin), Some(&body)).await;
        assert_eq!(status, 422, "{path}");
    }
    let supervisor = agent_token(&server, "superviseur.voirie@guichet.example").await;
    let (status, _) = get(&server, "/api/v1/admin/teams", Some(&supervisor)).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn supervisors_keep_reply_templates_that_agents_use() {
    let server = TestServer::start().await;
    let supervisor = agent_token(&server, "superviseur.voirie@guichet.example").await;
    let agent = agent_token(&server, "agent.voirie@guichet.example").await;
    let (status, pothole) = post(
        &server,
        "/api/v1/agent/reply-templates",
        Some(&supervisor),
        &json!({ "demarche": "voirie", "title": "Intervention programmée",
                 "body": "Bonjour, une équipe interviendra sous 10 jours." }),
    )
    .await;
    assert_eq!(status, 201, "{pothole}");
    let (status, _) = post(
        &server,
        "/api/v1/agent/reply-templates",
        Some(&supervisor),
        &json!({ "title": "Merci", "body": "Merci pour votre signalement." }),
    )
    .await;
    assert_eq!(status, 201);
    let (_, lighting) = post(
        &server,
        "/api/v1/agent/reply-templates",
        Some(&supervisor),
        &json!({ "demarche": "eclairage-public", "title": "Lampe", "body": "Ampoule changée." }),
    )
    .await;

    // An agent reads the démarche's templates and the general ones, not another démarche's.
    let (status, list) = get(
        &server,
        "/api/v1/agent/reply-templates?demarche=voirie",
        Some(&agent),
    )
    .await;
    assert_eq!(status, 200);
    let titles: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, vec!["Intervention programmée", "Merci"]);
    // Agents do not write them.
    let (status, _) = post(
        &server,
        "/api/v1/agent/reply-templates",
        Some(&agent),
        &json!({ "title": "x", "body": "y" }),
    )
    .await;
    assert_eq!(status, 403);
    let id = pothole["id"].as_i64().unwrap();
    let (status, edited) = call(
        &server,
        Method::PUT,
        &format!("/api/v1/agent/reply-templates/{id}"),
        Some(&supervisor),
        Some(
            &json!({ "demarche": "voirie", "title": "Intervention programmée",
                      "body": "Bonjour, une équipe interviendra sous 5 jours." }),
        ),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert!(edited["body"].as_str().unwrap().contains("5 jours"));
    let (status, _) = call(
        &server,
        Method::DELETE,
        &format!("/api/v1/agent/reply-templates/{}", lighting["id"]),
        Some(&supervisor),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = call(
        &server,
        Method::DELETE,
        &format!("/api/v1/agent/reply-templates/{}", lighting["id"]),
        Some(&supervisor),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, problem) = post(
        &server,
        "/api/v1/agent/reply-templates",
        Some(&supervisor),
        &json!({ "demarche": "nope", "title": "", "body": "y" }),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"].as_array().unwrap().len(), 2, "{problem}");
}
