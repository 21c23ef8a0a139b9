#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The map of an agent's queue: private requests of the agent's teams included (from PostGIS,
//! not the public index), other teams' left out, clustered far out, points close up.

use guichet_tests::api::{agent_token, contact_request, get, post};
use guichet_tests::{RENNES, TestServer};
use serde_json::{Value, json};
use uuid::Uuid;

const ACCUEIL: &str = "agent.accueil@guichet.example";
const VOIRIE: &str = "agent.voirie@guichet.example";

fn numbers(map: &Value) -> Vec<String> {
    let mut n: Vec<String> = map["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| {
            f["properties"]["request_number"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    n.sort();
    n
}

fn total(map: &Value) -> i64 {
    map["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["count"].as_i64().unwrap_or(1))
        .sum()
}

#[tokio::test]
async fn an_agent_s_map_shows_the_private_requests_of_their_teams_only() {
    let server = TestServer::start().await;
    let mut home = contact_request(Uuid::new_v4(), "lea@example.org");
    home["data"]["reply_channel"] = json!("post");
    home["data"]["postal_address"] =
        json!({ "text": "1 place de la Mairie, Rennes", "lat": RENNES.0, "lon": RENNES.1 });
    let (status, filed) = post(&server, "/api/v1/requests", None, &home).await;
    assert_eq!(status, 201, "{filed}");
    let private = filed["request_number"].as_str().unwrap().to_owned();
    let mut incidents = Vec::new();
    for i in 0..3 {
        let body = json!({
            "client_id": Uuid::new_v4(), "demarche": "voirie", "channel": "app",
            "data": { "location": { "lat": RENNES.0 + 0.001 * f64::from(i + 1), "lon": RENNES.1,
                                    "accuracy_m": 8.0 },
                      "description": "Nid-de-poule" },
        });
        let (status, filed) = post(&server, "/api/v1/requests", None, &body).await;
        assert_eq!(status, 201, "{filed}");
        incidents.push(filed["request_number"].as_str().unwrap().to_owned());
    }
    incidents.sort();
    let accueil = agent_token(&server, ACCUEIL).await;
    let voirie = agent_token(&server, VOIRIE).await;
    let close = format!(
        "bbox={},{},{},{}&zoom=17",
        RENNES.1 - 0.005,
        RENNES.0 - 0.005,
        RENNES.1 + 0.005,
        RENNES.0 + 0.005
    );

    let (status, mine) = get(
        &server,
        &format!("/api/v1/agent/map?{close}"),
        Some(&accueil),
    )
    .await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(numbers(&mine), vec![private.clone()]);
    let (_, theirs) = get(
        &server,
        &format!("/api/v1/agent/map?{close}"),
        Some(&voirie),
    )
    .await;
    assert_eq!(numbers(&theirs), incidents);
    let point = &theirs["features"][0];
    assert_eq!(point["geometry"]["type"], "Point");
    assert!(
        point["geometry"]["coordinates"][0].as_f64().unwrap() < 0.0,
        "[lon, lat]"
    );

    // Far out: one cluster holding the three incidents.
    let (_, far) = get(
        &server,
        "/api/v1/agent/map?bbox=-1.80,48.05,-1.55,48.17&zoom=11",
        Some(&voirie),
    )
    .await;
    assert_eq!(total(&far), 3, "{far}");
    assert!(
        far["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["properties"]["kind"] == "cluster")
    );
    // The queue's filters apply.
    let (_, none) = get(
        &server,
        &format!("/api/v1/agent/map?{close}&phase=closed"),
        Some(&voirie),
    )
    .await;
    assert!(numbers(&none).is_empty());
    let (status, problem) = get(&server, "/api/v1/agent/map?zoom=12", Some(&voirie)).await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("bbox"))
    );
    let (status, _) = get(&server, &format!("/api/v1/agent/map?{close}"), None).await;
    assert_eq!(status, 401);
}
