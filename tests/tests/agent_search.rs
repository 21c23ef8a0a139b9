#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The phone desk's search and the queue's counts per phase, against the real server and
//! database: a caller is found by number, name, e-mail, phone however it is read out,
//! address or words of the description, among the teams the agent may see only.

use guichet_tests::api::{agent_token, contact_request, get, post};
use guichet_tests::{RENNES, TestServer};
use serde_json::{Value, json};
use uuid::Uuid;

const ACCUEIL: &str = "agent.accueil@guichet.example";
const VOIRIE: &str = "agent.voirie@guichet.example";
const ADMIN: &str = "admin@guichet.example";

fn numbers(answer: &Value) -> Vec<String> {
    answer["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items in {answer}"))
        .iter()
        .map(|i| i["number"].as_str().unwrap().to_owned())
        .collect()
}

async fn search(server: &TestServer, token: &str, q: &str) -> Vec<String> {
    let path = format!("/api/v1/agent/search?q={}", urlencode(q));
    let (status, answer) = get(server, &path, Some(token)).await;
    assert_eq!(status, 200, "{q}: {answer}");
    numbers(&answer)
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn the_phone_desk_finds_a_caller_s_requests_among_its_teams_only() {
    let server = TestServer::start().await;
    let accueil = agent_token(&server, ACCUEIL).await;
    let voirie = agent_token(&server, VOIRIE).await;
    let admin = agent_token(&server, ADMIN).await;

    let mut contact = contact_request(Uuid::new_v4(), "lea.martin@example.org");
    contact["data"]["last_name"] = json!("Lefèvre");
    contact["data"]["first_name"] = json!("Héloïse");
    contact["data"]["reply_channel"] = json!("phone");
    contact["data"]["contact_phone"] = json!("06 12 34 56 78");
    contact["data"]["message"] = json!("Les horaires de la médiathèque des Champs-Manceaux");
    let (status, filed) = post(&server, "/api/v1/requests", None, &contact).await;
    assert_eq!(status, 201, "{filed}");
    let contact_number = filed["request_number"].as_str().unwrap().to_owned();

    let anomaly = json!({
        "client_id": Uuid::new_v4(),
        "demarche": "voirie",
        "channel": "app",
        "data": {
            "location": { "lat": RENNES.0, "lon": RENNES.1, "accuracy_m": 8.0 },
            "landmark": "12 rue de Saint-Malo, Rennes",
            "description": "Trottoirs abîmés devant l'école maternelle",
        },
    });
    let (status, filed) = post(&server, "/api/v1/requests", None, &anomaly).await;
    assert_eq!(status, 201, "{filed}");
    let anomaly_number = filed["request_number"].as_str().unwrap().to_owned();
    // A neighbour says "me too" with their address: a caller of that request too.
    let (status, _) = post(
        &server,
        &format!("/api/v1/requests/{anomaly_number}/support"),
        None,
        &json!({ "client_id": Uuid::new_v4(),
                 "contact": { "email": "voisin.durand@example.org", "name": "Paul Durand" } }),
    )
    .await;
    assert_eq!(status, 201);

    // Name (accents folded, any case), e-mail, phone as read out, words of the message.
    for q in [
        "lefevre",
        "HELOISE Lefèvre",
        "lea.martin@example.org",
        "06 12 34 56 78",
        "+33 6 12 34 56 78",
        "mediatheque",
    ] {
        assert_eq!(
            search(&server, &accueil, q).await,
            vec![contact_number.clone()],
            "{q}"
        );
    }
    // Words of the description, stemmed in French, and the address.
    for q in [
        "trottoir abime",
        "ecoles",
        "rue de Saint-Malo",
        "Durand",
        "voisin.durand@example.org",
    ] {
        assert_eq!(
            search(&server, &voirie, q).await,
            vec![anomaly_number.clone()],
            "{q}"
        );
    }
    // The number, whole or as the digits a caller reads.
    assert_eq!(
        search(&server, &voirie, &anomaly_number.to_lowercase()).await,
        vec![anomaly_number.clone()]
    );
    let digits = anomaly_number
        .rsplit('-')
        .next()
        .unwrap()
        .trim_start_matches('0');
    assert!(
        search(&server, &voirie, digits)
            .await
            .contains(&anomaly_number)
    );

    // Another team's caller is not found: not even that the request exists.
    assert!(search(&server, &voirie, "Lefèvre").await.is_empty());
    assert!(search(&server, &accueil, "trottoir").await.is_empty());
    assert!(search(&server, &voirie, &contact_number).await.is_empty());
    // Admins see every team.
    assert_eq!(
        search(&server, &admin, "lefevre").await,
        vec![contact_number]
    );
    // Nothing found is an empty list, not an error; bad queries are field errors.
    assert!(search(&server, &voirie, "zzyzx").await.is_empty());
    for (q, code) in [("a", "too-short"), (&"x".repeat(201)[..], "too-long")] {
        let (status, problem) = get(
            &server,
            &format!("/api/v1/agent/search?q={q}"),
            Some(&voirie),
        )
        .await;
        assert_eq!(
            (status, problem["errors"][0]["code"].as_str()),
            (422, Some(code))
        );
        assert_eq!(problem["errors"][0]["field"], "q");
    }
    let (status, _) = get(&server, "/api/v1/agent/search?q=Durand", None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_queue_counts_its_requests_per_phase() {
    let server = TestServer::start().await;
    let voirie = agent_token(&server, VOIRIE).await;
    for i in 0..3 {
        let anomaly = json!({
            "client_id": Uuid::new_v4(),
            "demarche": "voirie",
            "channel": "app",
            "data": {
                "location": { "lat": RENNES.0 + 0.003 * f64::from(i), "lon": RENNES.1, "accuracy_m": 8.0 },
                "description": "Nid-de-poule",
            },
        });
        let (status, _) = post(&server, "/api/v1/requests", None, &anomaly).await;
        assert_eq!(status, 201);
    }
    let (_, queue) = get(&server, "/api/v1/agent/requests", Some(&voirie)).await;
    let first = numbers(&queue)[0].clone();
    let (status, moved) = post(
        &server,
        &format!("/api/v1/agent/requests/{first}/status"),
        Some(&voirie),
        &json!({ "status": "acknowledged" }),
    )
    .await;
    assert_eq!(status, 204, "{moved}");
    let (status, counts) = get(&server, "/api/v1/agent/requests/counts", Some(&voirie)).await;
    assert_eq!(status, 200, "{counts}");
    assert_eq!(counts["phases"]["received"], 2, "{counts}");
    assert_eq!(counts["phases"]["in_progress"], 1, "{counts}");
    assert_eq!(counts["phases"]["closed"], 0, "{counts}");
    assert_eq!(counts["total"], 3);
    assert_eq!(counts["overdue"], 0);
    // The queue's filters apply; another team counts nothing of voirie's.
    let (_, mine) = get(
        &server,
        "/api/v1/agent/requests/counts?assignee=me",
        Some(&voirie),
    )
    .await;
    assert_eq!(mine["total"], 0, "{mine}");
    let accueil = agent_token(&server, ACCUEIL).await;
    let (_, other) = get(&server, "/api/v1/agent/requests/counts", Some(&accueil)).await;
    assert_eq!(other["total"], 0, "{other}");
    let (status, problem) = get(
        &server,
        "/api/v1/agent/requests/counts?phase=nope",
        Some(&voirie),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("phase"))
    );
}
