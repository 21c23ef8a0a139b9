#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Triage from the back office: merge candidates proposed with their distance, and bulk
//! actions on a selection with a result per request.

use guichet_tests::api::{agent_token, contact_request, get, post};
use guichet_tests::{RENNES, TestServer};
use serde_json::{Value, json};
use uuid::Uuid;

const VOIRIE: &str = "agent.voirie@guichet.example";

async fn file_at(server: &TestServer, lat: f64, lon: f64) -> String {
    let body = json!({
        "client_id": Uuid::new_v4(), "demarche": "voirie", "channel": "app",
        "data": { "location": { "lat": lat, "lon": lon, "accuracy_m": 8.0 },
                  "description": "Nid-de-poule" },
    });
    let (status, filed) = post(server, "/api/v1/requests", None, &body).await;
    assert_eq!(status, 201, "{filed}");
    filed["request_number"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn merge_candidates_are_nearby_open_requests_nearest_first() {
    let server = TestServer::start().await;
    let voirie = agent_token(&server, VOIRIE).await;
    // 0.0004° of latitude ≈ 44 m: beyond the dedup radius, within the candidates'.
    let a = file_at(&server, RENNES.0, RENNES.1).await;
    let b = file_at(&server, RENNES.0 + 0.0004, RENNES.1).await;
    let c = file_at(&server, RENNES.0 + 0.0012, RENNES.1).await;
    let far = file_at(&server, RENNES.0 + 0.01, RENNES.1).await;
    let (status, list) = get(
        &server,
        &format!("/api/v1/agent/requests/{a}/candidates"),
        Some(&voirie),
    )
    .await;
    assert_eq!(status, 200, "{list}");
    let found: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["number"].as_str().unwrap())
        .collect();
    assert_eq!(found, vec![b.as_str(), c.as_str()], "{list}");
    let d = list[0]["distance_m"].as_f64().unwrap();
    assert!((40.0..50.0).contains(&d), "{d}");
    assert!(!found.contains(&far.as_str()));
    assert!(list[0]["created_at"].is_string());
    let (_, wide) = get(
        &server,
        &format!("/api/v1/agent/requests/{a}/candidates?radius_m=2000"),
        Some(&voirie),
    )
    .await;
    assert_eq!(wide.as_array().unwrap().len(), 3);
    let accueil = agent_token(&server, "agent.accueil@guichet.example").await;
    let (status, _) = get(
        &server,
        &format!("/api/v1/agent/requests/{a}/candidates"),
        Some(&accueil),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = get(
        &server,
        &format!("/api/v1/agent/requests/{a}/candidates?radius_m=99999"),
        Some(&voirie),
    )
    .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn a_bulk_action_answers_request_by_request() {
    let server = TestServer::start().await;
    let voirie = agent_token(&server, VOIRIE).await;
    let mine = [
        file_at(&server, RENNES.0, RENNES.1).await,
        file_at(&server, RENNES.0 + 0.01, RENNES.1).await,
    ];
    let (_, other) = post(
        &server,
        "/api/v1/requests",
        None,
        &contact_request(Uuid::new_v4(), "lea@example.org"),
    )
    .await;
    let other = other["request_number"].as_str().unwrap().to_owned();
    let (_, me) = get(&server, "/api/v1/agent/me", Some(&voirie)).await;
    let selection = json!([mine[0], mine[1], other, "2026-XXX-999999"]);
    let (status, answer): (u16, Value) = post(
        &server,
        "/api/v1/agent/requests/bulk",
        Some(&voirie),
        &json!({ "numbers": selection, "assign": { "assignee_id": me["id"] } }),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (answer["done"].as_u64(), answer["failed"].as_u64()),
        (Some(2), Some(2))
    );
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results[0]["ok"], true);
    assert_eq!(results[1]["ok"], true);
    assert_eq!(
        (results[2]["ok"].as_bool(), results[2]["status"].as_u64()),
        (Some(false), Some(403))
    );
    assert_eq!(results[3]["status"], 404);
    let (_, queue) = get(&server, "/api/v1/agent/requests?assignee=me", Some(&voirie)).await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 2);

    // A status change the workflow allows for one and not the other.
    let (_, first) = post(
        &server,
        &format!("/api/v1/agent/requests/{}/status", mine[0]),
        Some(&voirie),
        &json!({ "status": "acknowledged" }),
    )
    .await;
    assert!(first.is_null(), "{first}");
    let (_, answer) = post(
        &server,
        "/api/v1/agent/requests/bulk",
        Some(&voirie),
        &json!({ "numbers": mine, "status": "resolved" }),
    )
    .await;
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results[0]["ok"], true, "{answer}");
    // Only a field team on site closes a request nobody acknowledged yet.
    assert_eq!(
        results[1]["status"], 403,
        "new → resolved is not the office's move: {answer}"
    );
    assert_eq!(results[1]["code"], "transition-forbidden");

    for bad in [
        json!({ "numbers": [], "status": "resolved" }),
        json!({ "numbers": [mine[0]] }),
        json!({ "numbers": [mine[0]], "status": "resolved", "assign": { "team": "voirie" } }),
    ] {
        let (status, _) = post(&server, "/api/v1/agent/requests/bulk", Some(&voirie), &bad).await;
        assert_eq!(status, 422, "{bad}");
    }
}

#[tokio::test]
async fn the_queue_sorts_by_due_date_or_age_and_pages_in_that_order() {
    let server = TestServer::start().await;
    let voirie = agent_token(&server, VOIRIE).await;
    let mut filed = Vec::new();
    for i in 0..3 {
        filed.push(file_at(&server, RENNES.0 + 0.01 * f64::from(i), RENNES.1).await);
    }
    // Due dates in another order than filing: the second is due first, the first has none
    // (a démarche without a deadline: never overdue).
    for (number, due) in [
        (&filed[0], None),
        (&filed[1], Some("1 day")),
        (&filed[2], Some("3 days")),
    ] {
        sqlx::query("UPDATE requests SET due_at = now() + $2::interval WHERE number = $1")
            .bind(number)
            .bind(due)
            .execute(&server.db.pool)
            .await
            .unwrap();
    }
    let order = |query: &'static str| {
        let server = &server;
        let voirie = &voirie;
        async move {
            let mut numbers = Vec::new();
            let mut cursor = String::new();
            loop {
                let (status, page) = get(
                    server,
                    &format!("/api/v1/agent/requests?{query}&limit=1&cursor={cursor}"),
                    Some(voirie),
                )
                .await;
                assert_eq!(status, 200, "{query} {cursor}: {page}");
                for item in page["items"].as_array().unwrap() {
                    numbers.push(item["number"].as_str().unwrap().to_owned());
                }
                match page["next_cursor"].as_str() {
                    Some(c) => cursor = c.to_owned(),
                    None => break numbers,
                }
            }
        }
    };
    let (newest, oldest, due) = (
        order("sort=newest").await,
        order("sort=oldest").await,
        order("sort=due").await,
    );
    assert_eq!(oldest, filed);
    assert_eq!(newest, filed.iter().rev().cloned().collect::<Vec<_>>());
    assert_eq!(
        due,
        vec![filed[1].clone(), filed[2].clone(), filed[0].clone()]
    );
    let (status, problem) = get(&server, "/api/v1/agent/requests?sort=random", Some(&voirie)).await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("sort"))
    );
}

#[tokio::test]
async fn a_reopened_request_shows_in_the_reopened_view() {
    let server = TestServer::start().await;
    let supervisor = agent_token(&server, "superviseur.voirie@guichet.example").await;
    let back = file_at(&server, RENNES.0, RENNES.1).await;
    let _other = file_at(&server, RENNES.0 + 0.01, RENNES.1).await;
    for status in ["acknowledged", "resolved", "acknowledged"] {
        let (code, answer) = post(
            &server,
            &format!("/api/v1/agent/requests/{back}/status"),
            Some(&supervisor),
            &json!({ "status": status }),
        )
        .await;
        assert_eq!(code, 204, "{status}: {answer}");
    }
    let (status, page) = get(
        &server,
        "/api/v1/agent/requests?reopened=true",
        Some(&supervisor),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let numbers: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, vec![back.as_str()]);
}

#[tokio::test]
async fn the_agent_detail_shows_each_report_s_photos_and_the_form_it_was_filed_with() {
    let server = TestServer::start().await;
    let voirie = agent_token(&server, VOIRIE).await;
    let jpeg = guichet_tests::fixtures::encode_jpeg(
        &guichet_tests::fixtures::photo_like_image(800, 600),
        85,
    );
    let report = guichet_tests::report_at("voirie", RENNES.0, RENNES.1);
    let answer = server
        .client
        .post(server.url("/api/v1/reports"))
        .multipart(guichet_tests::multipart(&report, &[("photo", jpeg)]))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    let filed: Value = answer.json().await.unwrap();
    let number = filed["request_number"].as_str().unwrap();
    let (status, detail) = get(
        &server,
        &format!("/api/v1/agent/requests/{number}"),
        Some(&voirie),
    )
    .await;
    assert_eq!(status, 200, "{detail}");
    let photos = detail["reports"][0]["photos"].as_array().unwrap();
    assert_eq!(photos.len(), 1, "{detail}");
    let url = photos[0]["url"].as_str().unwrap();
    let image = server.client.get(url).send().await.unwrap();
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/webp");
    // The labels the citizen read: the form of the revision filed under.
    let fields = detail["demarche"]["form"]["fields"].as_array().unwrap();
    assert!(fields.iter().any(|f| f["id"] == "description"));
    // The office may ask the citizen for a complement; a field agent may not.
    assert_eq!(detail["can_request_complement"], true);
    let field = agent_token(&server, "terrain.voirie@guichet.example").await;
    let (_, seen_by_field) = get(
        &server,
        &format!("/api/v1/agent/requests/{number}"),
        Some(&field),
    )
    .await;
    assert_eq!(seen_by_field["can_request_complement"], false);
}

#[tokio::test]
async fn agents_list_every_team_and_the_members_of_their_own() {
    let server = TestServer::start().await;
    let voirie = agent_token(&server, VOIRIE).await;
    let (status, teams) = get(&server, "/api/v1/agent/teams", Some(&voirie)).await;
    assert_eq!(status, 200, "{teams}");
    let teams = teams.as_array().unwrap();
    let find = |code: &str| teams.iter().find(|t| t["code"] == code).unwrap().clone();
    let own = find("voirie");
    assert_eq!(own["mine"], true);
    assert!(
        own["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["role"] == "field"),
        "{own}"
    );
    let other = find("etat-civil");
    assert_eq!(other["mine"], false);
    assert!(
        other.get("members").is_none(),
        "no names of other teams: {other}"
    );
    assert!(
        !teams.iter().any(|t| t.to_string().contains("@")),
        "no e-mail"
    );
}
