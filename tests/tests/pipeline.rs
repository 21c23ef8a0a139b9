#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The request pipeline over HTTP against the real database: generic intake with forms,
//! agent entry, the agents' queue and actions, workflows and their 409s, complements that
//! pause the SLA, routing again after a change, merge and split, citizen accounts.

use std::time::Duration;

use guichet_tests::api::{agent_token, contact_request, get, patch, post, shipped_entry};
use guichet_tests::smtp::SmtpServer;
use guichet_tests::{RENNES, TestServer};
use serde_json::{Value, json};
use uuid::Uuid;

const ACCUEIL: &str = "agent.accueil@guichet.example";
const VOIRIE: &str = "agent.voirie@guichet.example";
const TERRAIN_VOIRIE: &str = "terrain.voirie@guichet.example";
const ADMIN: &str = "admin@guichet.example";

fn numbers(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap().to_owned())
        .collect()
}

async fn file_contact_request(server: &TestServer, email: &str) -> Value {
    let (status, receipt) = post(
        server,
        "/api/v1/requests",
        None,
        &contact_request(Uuid::new_v4(), email),
    )
    .await;
    assert_eq!(status, 201, "{receipt}");
    receipt
}

#[tokio::test]
async fn a_form_is_served_with_its_fields_and_workflow() {
    let server = TestServer::start().await;
    let (status, d) = get(&server, "/api/v1/catalogue/demande-contact", None).await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["code"], "demande-contact");
    assert_eq!(d["workflow"]["code"], "answer");
    let ids: Vec<&str> = d["form"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"subject") && ids.contains(&"message"),
        "{ids:?}"
    );
    let (status, problem) = get(&server, "/api/v1/catalogue/no-such-thing", None).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (404, Some("demarche-not-found"))
    );
}

#[tokio::test]
async fn a_contact_request_is_acknowledged_routed_and_idempotent() {
    let server = TestServer::start().await;
    let body = contact_request(Uuid::new_v4(), "lea@example.org");
    let (status, receipt) = post(&server, "/api/v1/requests", None, &body).await;
    assert_eq!(status, 201, "{receipt}");
    assert_eq!(receipt["service"], "Service Relations citoyens");
    assert_eq!(receipt["status_label"], "Reçue");
    assert_eq!(receipt["channel"], "web");
    assert!(receipt["due_at"].is_string());
    // A retry returns the first receipt, and nothing new is stored.
    let (status, again) = post(&server, "/api/v1/requests", None, &body).await;
    assert_eq!(status, 200);
    assert_eq!(again, receipt);
    assert_eq!(server.db.count("requests").await, 1);

    // The acknowledgement is part of the public timeline.
    let (status, view) = get(
        &server,
        &receipt["status_url"]
            .as_str()
            .unwrap()
            .replace(&server.base, ""),
        None,
    )
    .await;
    assert_eq!(status, 200, "{view}");
    let kinds: Vec<&str> = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"created") && kinds.contains(&"acknowledgement"),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn form_errors_name_each_field() {
    let server = TestServer::start().await;
    let mut body = contact_request(Uuid::new_v4(), "lea@example.org");
    body["data"]["subject"] = json!("gossip");
    body["data"].as_object_mut().unwrap().remove("message");
    body["data"]["shoe_size"] = json!(42);
    let (status, problem) = post(&server, "/api/v1/requests", None, &body).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["code"], "validation-failed");
    let fields: Vec<(&str, &str)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert!(
        fields.contains(&("data.subject", "not-an-option")),
        "{fields:?}"
    );
    assert!(fields.contains(&("data.message", "required")), "{fields:?}");
    assert!(
        fields.contains(&("data.shoe_size", "unknown-field")),
        "{fields:?}"
    );

    let mut body = contact_request(Uuid::new_v4(), "lea@example.org");
    body["demarche"] = json!("nope");
    let (status, problem) = post(&server, "/api/v1/requests", None, &body).await;
    assert_eq!((status, problem["field"].as_str()), (422, Some("demarche")));

    let mut body = contact_request(Uuid::new_v4(), "lea@example.org");
    body["channel"] = json!("phone");
    let (status, problem) = post(&server, "/api/v1/requests", None, &body).await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["code"], "channel-reserved-for-agents");

    let (status, problem) = post(
        &server,
        "/api/v1/requests",
        None,
        &json!({ "demarche": "demande-contact" }),
    )
    .await;
    assert_eq!(
        (status, problem["field"].as_str()),
        (422, Some("client_id")),
        "{problem}"
    );
    assert_eq!(server.db.count("requests").await, 0);
}

#[tokio::test]
async fn agents_see_their_teams_queue_and_move_requests_through_the_workflow() {
    let server = TestServer::start().await;
    let receipt = file_contact_request(&server, "lea@example.org").await;
    let number = receipt["request_number"].as_str().unwrap();
    let accueil = agent_token(&server, ACCUEIL).await;
    let voirie = agent_token(&server, VOIRIE).await;

    let (status, page) = get(&server, "/api/v1/agent/requests", Some(&accueil)).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(numbers(&page), vec![number.to_owned()]);
    let (_, page) = get(&server, "/api/v1/agent/requests", Some(&voirie)).await;
    assert!(numbers(&page).is_empty(), "another team's queue");
    let (status, problem) = get(
        &server,
        &format!("/api/v1/agent/requests/{number}"),
        Some(&voirie),
    )
    .await;
    assert_eq!((status, problem["code"].as_str()), (403, Some("forbidden")));
    let (status, _) = get(&server, "/api/v1/agent/requests", None).await;
    assert_eq!(status, 401);

    let path = format!("/api/v1/agent/requests/{number}");
    let (status, detail) = get(&server, &path, Some(&accueil)).await;
    assert_eq!(status, 200);
    assert_eq!(detail["status"], "received");
    assert_eq!(detail["requester"]["email"], "lea@example.org");
    let next: Vec<&str> = detail["next_statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert!(next.contains(&"assigned"), "{next:?}");

    let (status, _) = post(
        &server,
        &format!("{path}/status"),
        Some(&accueil),
        &json!({ "status": "assigned" }),
    )
    .await;
    assert_eq!(status, 204);
    // A move the workflow does not have is a conflict with a code.
    let (status, problem) = post(
        &server,
        &format!("{path}/status"),
        Some(&accueil),
        &json!({ "status": "received" }),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("invalid-transition")),
        "{problem}"
    );
    let (status, problem) = post(
        &server,
        &format!("{path}/status"),
        Some(&accueil),
        &json!({ "status": "flying" }),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("unknown-status"))
    );

    // Internal notes stay internal; public replies reach the timeline.
    let (status, _) = post(
        &server,
        &format!("{path}/notes"),
        Some(&accueil),
        &json!({ "text": "Citoyenne déjà appelée hier" }),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = post(
        &server,
        &format!("{path}/reply"),
        Some(&accueil),
        &json!({ "message": "La mairie ouvre le samedi de 9 h à 12 h." }),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = post(
        &server,
        &format!("{path}/status"),
        Some(&accueil),
        &json!({ "status": "answered" }),
    )
    .await;
    assert_eq!(status, 204);

    let view_path = format!(
        "/api/v1/requests/{number}?tracking_code={}",
        receipt["tracking_code"].as_str().unwrap()
    );
    let (_, view) = get(&server, &view_path, None).await;
    assert_eq!(view["phase"], "closed");
    assert_eq!(view["status_label"], "Répondue");
    let text = view["timeline"].to_string();
    assert!(text.contains("9 h à 12 h"), "{text}");
    assert!(
        !text.contains("déjà appelée"),
        "an internal note leaked: {text}"
    );
    let (_, detail) = get(&server, &path, Some(&accueil)).await;
    assert!(detail["timeline"].to_string().contains("déjà appelée"));
    // Closed: no more moves from there.
    let (status, _) = post(
        &server,
        &format!("{path}/status"),
        Some(&accueil),
        &json!({ "status": "assigned" }),
    )
    .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn a_complement_request_pauses_the_sla_until_the_citizen_answers() {
    let server = TestServer::start().await;
    let receipt = file_contact_request(&server, "lea@example.org").await;
    let number = receipt["request_number"].as_str().unwrap();
    let code = receipt["tracking_code"].as_str().unwrap();
    let accueil = agent_token(&server, ACCUEIL).await;
    let path = format!("/api/v1/agent/requests/{number}");
    post(
        &server,
        &format!("{path}/status"),
        Some(&accueil),
        &json!({ "status": "assigned" }),
    )
    .await;
    let due_before: time::OffsetDateTime =
        sqlx::query_scalar("SELECT due_at FROM requests WHERE number = $1")
            .bind(number)
            .fetch_one(&server.db.pool)
            .await
            .unwrap();

    let (status, problem) = post(
        &server,
        &format!("{path}/complement"),
        Some(&accueil),
        &json!({ "fields": ["colour"], "message": "?" }),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["code"].as_str()),
        (422, Some("unknown-field")),
        "{problem}"
    );
    let (status, problem) = post(
        &server,
        &format!("{path}/status"),
        Some(&accueil),
        &json!({ "status": "waiting_citizen" }),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["code"].as_str()),
        (422, Some("use-complement-request"))
    );
    let (status, _) = post(
        &server,
        &format!("{path}/complement"),
        Some(&accueil),
        &json!({ "fields": ["message"], "message": "Précisez de quelle mairie de quartier il s'agit." }),
    )
    .await;
    assert_eq!(status, 204);
    let (_, detail) = get(&server, &path, Some(&accueil)).await;
    assert_eq!(detail["phase"], "waiting_for_citizen");
    assert!(detail["sla_paused_at"].is_string());
    let (_, page) = get(
        &server,
        "/api/v1/agent/requests?phase=waiting_for_citizen",
        Some(&accueil),
    )
    .await;
    assert_eq!(numbers(&page), vec![number.to_owned()]);

    // The citizen sees what is asked and may only change that.
    let view_path = format!("/api/v1/requests/{number}?tracking_code={code}");
    let (_, view) = get(&server, &view_path, None).await;
    assert_eq!(view["complement"]["fields"], json!(["message"]));
    let answer_path = format!("/api/v1/requests/{number}/complement");
    let (status, problem) = post(
        &server,
        &answer_path,
        None,
        &json!({ "tracking_code": code, "data": { "subject": "complaint" } }),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["code"].as_str()),
        (422, Some("field-not-editable")),
        "{problem}"
    );
    let (status, _) = post(
        &server,
        &answer_path,
        None,
        &json!({ "tracking_code": "0000-0000-0000", "data": {} }),
    )
    .await;
    assert_eq!(status, 404, "a wrong tracking code");
    let (status, problem) = post(
        &server,
        &answer_path,
        None,
        &json!({ "tracking_code": code, "data": { "message": "court" } }),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("data.message")),
        "the whole is checked again"
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, problem) = post(
        &server,
        &answer_path,
        None,
        &json!({ "tracking_code": code, "data": { "message": "La mairie de quartier de Maurepas, s'il vous plaît." } }),
    )
    .await;
    assert_eq!(status, 204, "{problem}");
    let (_, detail) = get(&server, &path, Some(&accueil)).await;
    assert_eq!(detail["status"], "assigned");
    assert!(detail["sla_paused_at"].is_null());
    assert_eq!(
        detail["data"]["message"],
        "La mairie de quartier de Maurepas, s'il vous plaît."
    );
    let due_after: time::OffsetDateTime =
        sqlx::query_scalar("SELECT due_at FROM requests WHERE number = $1")
            .bind(number)
            .fetch_one(&server.db.pool)
            .await
            .unwrap();
    assert!(
        due_after - due_before >= time::Duration::seconds(1),
        "the due date moves back by the pause: {due_before} → {due_after}"
    );
    let (status, problem) = post(
        &server,
        &answer_path,
        None,
        &json!({ "tracking_code": code, "data": {} }),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("no-complement-requested"))
    );
}

#[tokio::test]
async fn an_agent_enters_a_phone_request_for_a_citizen() {
    let server = TestServer::start().await;
    let accueil = agent_token(&server, ACCUEIL).await;
    let mut body = contact_request(Uuid::new_v4(), "yves@example.org");
    body["channel"] = json!("phone");
    // The caller's number as the agent types it: kept in E.164 form, as form phone fields are.
    body["contact"] = json!({ "name": "Yves Le Goff", "phone": "02.99.12.34.56" });
    let (status, receipt) = post(&server, "/api/v1/agent/requests", Some(&accueil), &body).await;
    assert_eq!(status, 201, "{receipt}");
    assert_eq!(receipt["channel"], "phone");
    let number = receipt["request_number"].as_str().unwrap();
    let (_, detail) = get(
        &server,
        &format!("/api/v1/agent/requests/{number}"),
        Some(&accueil),
    )
    .await;
    assert_eq!(detail["channel"], "phone");
    assert_eq!(detail["requester"]["phone"], "+33299123456");
    let mut bad = body.clone();
    bad["client_id"] = json!(Uuid::new_v4());
    bad["contact"]["phone"] = json!("12 34");
    let (status, problem) = post(&server, "/api/v1/agent/requests", Some(&accueil), &bad).await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("contact.phone"))
    );
    assert_eq!(detail["entered_by"]["name"], "Maëlle Cadiou");
    let (_, page) = get(
        &server,
        "/api/v1/agent/requests?channel=phone",
        Some(&accueil),
    )
    .await;
    assert_eq!(numbers(&page), vec![number.to_owned()]);
    let (_, page) = get(
        &server,
        "/api/v1/agent/requests?channel=web",
        Some(&accueil),
    )
    .await;
    assert!(numbers(&page).is_empty());

    // An agent entry says how it came in; field agents do not enter requests.
    body["client_id"] = json!(Uuid::new_v4());
    body["channel"] = json!("web");
    let (status, problem) = post(&server, "/api/v1/agent/requests", Some(&accueil), &body).await;
    assert_eq!((status, problem["field"].as_str()), (422, Some("channel")));
    let terrain = agent_token(&server, TERRAIN_VOIRIE).await;
    body["channel"] = json!("desk");
    let (status, _) = post(&server, "/api/v1/agent/requests", Some(&terrain), &body).await;
    assert_eq!(status, 403);
}

fn anomaly(lat: f64, lon: f64, text: &str) -> Value {
    json!({
        "client_id": Uuid::new_v4(),
        "demarche": "voirie",
        "channel": "app",
        "data": {
            "location": { "lat": lat, "lon": lon, "accuracy_m": 8.0 },
            "description": text,
            "contact_email": "tom@example.org",
        },
    })
}

#[tokio::test]
async fn an_anomaly_report_is_a_request_of_the_same_pipeline() {
    let server = TestServer::start().await;
    let (status, receipt) = post(
        &server,
        "/api/v1/requests",
        None,
        &anomaly(RENNES.0, RENNES.1, "Nid-de-poule profond"),
    )
    .await;
    assert_eq!(status, 201, "{receipt}");
    let number = receipt["request_number"].as_str().unwrap();
    assert!(number.contains("-SIG-"));
    let voirie = agent_token(&server, VOIRIE).await;
    let (_, page) = get(
        &server,
        "/api/v1/agent/requests?demarche=voirie",
        Some(&voirie),
    )
    .await;
    assert_eq!(numbers(&page), vec![number.to_owned()]);
    assert_eq!(page["items"][0]["zone"], "Rennes");

    // Field agents may close on site but not triage.
    let path = format!("/api/v1/agent/requests/{number}");
    let terrain = agent_token(&server, TERRAIN_VOIRIE).await;
    let (status, problem) = post(
        &server,
        &format!("{path}/status"),
        Some(&terrain),
        &json!({ "status": "acknowledged" }),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (403, Some("transition-forbidden"))
    );
    let (status, _) = post(
        &server,
        &format!("{path}/status"),
        Some(&voirie),
        &json!({ "status": "acknowledged" }),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = post(
        &server,
        &format!("{path}/status"),
        Some(&terrain),
        &json!({ "status": "resolved", "message": "Rebouché ce matin." }),
    )
    .await;
    assert_eq!(status, 204);
    let (_, detail) = get(&server, &path, Some(&voirie)).await;
    assert_eq!(
        (detail["phase"].as_str(), detail["outcome"].as_str()),
        (Some("closed"), Some("resolved"))
    );
}

#[tokio::test]
async fn changing_the_demarche_or_place_routes_again_and_is_recorded() {
    let server = TestServer::start().await;
    let (_, receipt) = post(
        &server,
        "/api/v1/requests",
        None,
        &anomaly(RENNES.0, RENNES.1, "Lampadaire éteint"),
    )
    .await;
    let number = receipt["request_number"].as_str().unwrap();
    let voirie = agent_token(&server, VOIRIE).await;
    let path = format!("/api/v1/agent/requests/{number}");
    let (status, problem) = patch(
        &server,
        &path,
        Some(&voirie),
        &json!({ "demarche": "eclairage-public" }),
    )
    .await;
    assert_eq!(status, 204, "{problem}");
    let admin = agent_token(&server, ADMIN).await;
    let (_, detail) = get(&server, &path, Some(&admin)).await;
    assert_eq!(detail["demarche"]["code"], "eclairage-public");
    assert_eq!(detail["team"]["code"], "eclairage");
    let routed = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "routed")
        .expect("a routing event");
    assert_eq!(routed["public"], false);
    assert_eq!(routed["data"]["from_demarche"], "voirie");
    // It left the voirie queue.
    let (status, _) = get(&server, &path, Some(&voirie)).await;
    assert_eq!(status, 403);
    let (status, problem) = patch(
        &server,
        &path,
        Some(&admin),
        &json!({ "location": { "lat": 43.3, "lon": 5.4 } }),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["code"].as_str()),
        (422, Some("outside-service-area"))
    );
    let (status, problem) =
        patch(&server, &path, Some(&admin), &json!({ "demarche": "nope" })).await;
    assert_eq!((status, problem["field"].as_str()), (422, Some("demarche")));
}

/// Found by fuzzing: merging into a "number" with a NUL byte answered 500, the second lock
/// running in the transaction the refused text had aborted. Now the text's own 400, and a
/// number that does not exist stays a 422 on `into`.
#[tokio::test]
async fn merging_into_a_number_that_cannot_be_one_is_refused_not_a_500() {
    let server = TestServer::start().await;
    let (_, filed) = post(
        &server,
        "/api/v1/requests",
        None,
        &anomaly(48.1105, -1.6800, "Trou devant la poste"),
    )
    .await;
    let number = filed["request_number"].as_str().unwrap();
    let voirie = agent_token(&server, VOIRIE).await;
    let merge = format!("/api/v1/agent/requests/{number}/merge");
    for into in ["\u{0}", "\u{13}\u{0}x", "zz\u{0}"] {
        server
            .post(&merge)
            .bearer(&voirie)
            .json(&json!({ "into": into }))
            .send()
            .await
            .expect_problem(400, "invalid-characters");
    }
    let body = server
        .post(&merge)
        .bearer(&voirie)
        .json(&json!({ "into": "\u{13}x" }))
        .send()
        .await
        .expect_problem(422, "validation-failed");
    assert_eq!(body["field"], "into", "{body}");
    // Nothing changed: the request is still open and still takes a note.
    let (status, _) = post(
        &server,
        &format!("/api/v1/agent/requests/{number}/notes"),
        Some(&voirie),
        &json!({ "text": "vu" }),
    )
    .await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn merge_moves_reports_and_split_takes_one_out() {
    let server = TestServer::start().await;
    // Two reports far enough apart to be two requests.
    let (_, a) = post(
        &server,
        "/api/v1/requests",
        None,
        &anomaly(48.1105, -1.6800, "Trou devant la poste"),
    )
    .await;
    let (_, b) = post(
        &server,
        "/api/v1/requests",
        None,
        &anomaly(48.1150, -1.6700, "Trou"),
    )
    .await;
    let (a, b) = (
        a["request_number"].as_str().unwrap(),
        b["request_number"].as_str().unwrap(),
    );
    assert_ne!(a, b);
    let voirie = agent_token(&server, VOIRIE).await;
    let (status, _) = post(
        &server,
        &format!("/api/v1/agent/requests/{b}/merge"),
        Some(&voirie),
        &json!({ "into": a }),
    )
    .await;
    assert_eq!(status, 204);
    let (_, source) = get(
        &server,
        &format!("/api/v1/agent/requests/{b}"),
        Some(&voirie),
    )
    .await;
    assert_eq!(
        (source["outcome"].as_str(), source["merged_into"].as_str()),
        (Some("duplicate"), Some(a))
    );
    let (_, target) = get(
        &server,
        &format!("/api/v1/agent/requests/{a}"),
        Some(&voirie),
    )
    .await;
    assert_eq!(target["report_count"], 2);
    let (status, problem) = post(
        &server,
        &format!("/api/v1/agent/requests/{b}/merge"),
        Some(&voirie),
        &json!({ "into": a }),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("request-closed"))
    );

    let moved = target["reports"][1]["id"].as_i64().unwrap();
    let (status, split) = post(
        &server,
        &format!("/api/v1/agent/requests/{a}/split"),
        Some(&voirie),
        &json!({ "report_id": moved }),
    )
    .await;
    assert_eq!(status, 201, "{split}");
    let c = split["request_number"].as_str().unwrap();
    let (_, target) = get(
        &server,
        &format!("/api/v1/agent/requests/{a}"),
        Some(&voirie),
    )
    .await;
    assert_eq!(target["report_count"], 1);
    let (_, new) = get(
        &server,
        &format!("/api/v1/agent/requests/{c}"),
        Some(&voirie),
    )
    .await;
    assert_eq!(
        (new["report_count"].as_i64(), new["status"].as_str()),
        (Some(1), Some("new"))
    );
    let (status, problem) = post(
        &server,
        &format!("/api/v1/agent/requests/{c}/split"),
        Some(&voirie),
        &json!({ "report_id": moved }),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("single-report"))
    );
}

#[tokio::test]
async fn the_queue_filters_overdue_and_pages_without_overlap() {
    let server = TestServer::start().await;
    let mut filed = Vec::new();
    for _ in 0..5 {
        filed.push(
            file_contact_request(&server, "lea@example.org").await["request_number"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    sqlx::query("UPDATE requests SET due_at = now() - interval '1 day' WHERE number = $1")
        .bind(&filed[1])
        .execute(&server.db.pool)
        .await
        .unwrap();
    let accueil = agent_token(&server, ACCUEIL).await;
    let (_, page) = get(
        &server,
        "/api/v1/agent/requests?overdue=true",
        Some(&accueil),
    )
    .await;
    assert_eq!(numbers(&page), vec![filed[1].clone()]);
    assert_eq!(page["items"][0]["overdue"], true);

    let (_, first) = get(&server, "/api/v1/agent/requests?limit=2", Some(&accueil)).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = get(
        &server,
        &format!("/api/v1/agent/requests?limit=2&cursor={cursor}"),
        Some(&accueil),
    )
    .await;
    let cursor = second["next_cursor"].as_str().unwrap();
    let (_, third) = get(
        &server,
        &format!("/api/v1/agent/requests?limit=2&cursor={cursor}"),
        Some(&accueil),
    )
    .await;
    let mut all: Vec<String> = [numbers(&first), numbers(&second), numbers(&third)].concat();
    assert!(third["next_cursor"].is_null());
    all.sort();
    let mut expected = filed.clone();
    expected.sort();
    assert_eq!(all, expected);

    for bad in [
        "limit=0",
        "overdue=maybe",
        "phase=asleep",
        "cursor=xyz",
        "team=nope",
        "channel=pigeon",
    ] {
        let (status, problem) = get(
            &server,
            &format!("/api/v1/agent/requests?{bad}"),
            Some(&accueil),
        )
        .await;
        assert_eq!(status, 422, "{bad}: {problem}");
        assert!(problem["field"].is_string(), "{bad}");
    }
    let (status, _) = get(
        &server,
        "/api/v1/agent/requests?team=voirie",
        Some(&accueil),
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn citizens_register_verify_and_follow_their_requests() {
    let smtp = SmtpServer::start().await;
    let server = {
        let url = smtp.url();
        TestServer::start_with(move |c| {
            c.notify.smtp_url = Some(url);
            c.outbox.poll_interval = Duration::from_millis(50);
        })
        .await
    };
    let email = "nina@example.org";
    let (status, body) = post(
        &server,
        "/api/v1/citizen/register",
        None,
        &json!({ "email": email, "password": "short" }),
    )
    .await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("password"))
    );
    let (status, _) = post(
        &server,
        "/api/v1/citizen/register",
        None,
        &json!({ "email": email, "password": "un mot de passe solide", "name": "Nina" }),
    )
    .await;
    assert_eq!(status, 202);
    let mail = smtp
        .wait_for(|m| m.is_to(email), Duration::from_secs(20))
        .await;
    let text = mail.body_text();
    let token = text
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|w| w.len() == 64)
        .unwrap_or_else(|| panic!("no token in {text}"))
        .to_owned();

    // Once sent, the e-mail (and its token) leaves the outbox.
    let started = std::time::Instant::now();
    loop {
        let left: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM outbox_jobs WHERE strpos(payload::text, $1) > 0",
        )
        .bind(&token)
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
        if left == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the token stays in the outbox"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (status, login) = post(
        &server,
        "/api/v1/citizen/login",
        None,
        &json!({ "email": email, "password": "un mot de passe solide" }),
    )
    .await;
    assert_eq!(status, 200, "{login}");
    let session = login["token"].as_str().unwrap().to_owned();
    let (status, _) = post(
        &server,
        "/api/v1/citizen/login",
        None,
        &json!({ "email": email, "password": "wrong password!" }),
    )
    .await;
    assert_eq!(status, 401);

    // A birth certificate needs an account whose e-mail is verified.
    let (_, form) = get(&server, "/api/v1/catalogue/acte-naissance", None).await;
    assert_eq!(form["auth"], "account");
    let mut body = contact_request(Uuid::new_v4(), email);
    body["demarche"] = json!("acte-naissance");
    let (status, problem) = post(&server, "/api/v1/requests", None, &body).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (401, Some("account-required"))
    );
    let (status, problem) = post(&server, "/api/v1/requests", Some(&session), &body).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (403, Some("email-not-verified"))
    );
    // A new link can be asked for (the same answer for unknown addresses).
    let (status, _) = post(
        &server,
        "/api/v1/citizen/verify/resend",
        None,
        &json!({ "email": email }),
    )
    .await;
    assert_eq!(status, 202);
    let (status, _) = post(
        &server,
        "/api/v1/citizen/verify/resend",
        None,
        &json!({ "email": "nobody@example.org" }),
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(
        smtp.wait_for_count(2, Duration::from_secs(20)).await.len(),
        2
    );
    let (status, _) = post(
        &server,
        "/api/v1/citizen/verify",
        None,
        &json!({ "token": token }),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = post(
        &server,
        "/api/v1/citizen/verify",
        None,
        &json!({ "token": token }),
    )
    .await;
    assert_eq!(status, 422, "a link works once");
    let (_, me) = get(&server, "/api/v1/citizen/me", Some(&session)).await;
    assert_eq!(me["email_verified"], true);

    // Filed while logged in: in "my requests", readable without the tracking code.
    let (status, receipt) = post(
        &server,
        "/api/v1/requests",
        Some(&session),
        &contact_request(Uuid::new_v4(), email),
    )
    .await;
    assert_eq!(status, 201);
    let number = receipt["request_number"].as_str().unwrap();
    let (_, mine) = get(&server, "/api/v1/citizen/requests", Some(&session)).await;
    assert_eq!(mine[0]["number"], number);
    // The account is the key: the list hands out no code.
    assert!(mine[0].get("tracking_code").is_none(), "{mine}");
    let code = receipt["tracking_code"].as_str().unwrap();
    assert!(!mine.to_string().contains(code), "{mine}");
    let (status, view) = get(
        &server,
        &format!("/api/v1/citizen/requests/{number}"),
        Some(&session),
    )
    .await;
    assert_eq!(status, 200);
    assert!(view["timeline"].as_array().unwrap().len() >= 2);
    // Messages both ways.
    let (status, _) = post(
        &server,
        &format!("/api/v1/requests/{number}/messages"),
        Some(&session),
        &json!({ "message": "J'ajoute une précision." }),
    )
    .await;
    assert_eq!(status, 204);
    let accueil = agent_token(&server, ACCUEIL).await;
    let (_, detail) = get(
        &server,
        &format!("/api/v1/agent/requests/{number}"),
        Some(&accueil),
    )
    .await;
    assert!(
        detail["timeline"]
            .to_string()
            .contains("J'ajoute une précision.")
    );
    let (status, _) = post(
        &server,
        &format!("/api/v1/requests/{number}/messages"),
        None,
        &json!({ "message": "sans code" }),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn routing_rules_send_a_demarche_in_a_zone_to_its_team() {
    let server = TestServer::start().await;
    let admin = agent_token(&server, ADMIN).await;
    let voirie = agent_token(&server, VOIRIE).await;
    let rule = json!({ "demarche": "voirie", "zone": "commune:35051", "team": "espaces-verts", "priority": 10 });
    let (status, _) = post(&server, "/api/v1/admin/routing-rules", Some(&voirie), &rule).await;
    assert_eq!(status, 403, "admins only");
    let (status, created) = post(&server, "/api/v1/admin/routing-rules", Some(&admin), &rule).await;
    assert_eq!(status, 201, "{created}");
    let (status, problem) = post(
        &server,
        "/api/v1/admin/routing-rules",
        Some(&admin),
        &json!({ "zone": "99999", "team": "nope" }),
    )
    .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["zone", "team"]);

    // In Cesson-Sévigné the rule applies; in Rennes the démarche's default team keeps it.
    let (_, cesson) = post(
        &server,
        "/api/v1/requests",
        None,
        &anomaly(48.119506, -1.602911, "Trou"),
    )
    .await;
    let (_, rennes) = post(
        &server,
        "/api/v1/requests",
        None,
        &anomaly(RENNES.0, RENNES.1, "Trou"),
    )
    .await;
    let team_of = |n: &str| {
        let n = n.to_owned();
        let pool = server.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT t.code FROM requests r JOIN teams t ON t.id = r.team_id WHERE r.number = $1")
                .bind(n).fetch_one(&pool).await.unwrap()
        }
    };
    assert_eq!(
        team_of(cesson["request_number"].as_str().unwrap()).await,
        "espaces-verts"
    );
    assert_eq!(
        team_of(rennes["request_number"].as_str().unwrap()).await,
        "voirie"
    );

    let id = created["id"].as_i64().unwrap();
    let (status, _) = guichet_tests::api::call(
        &server,
        reqwest::Method::DELETE,
        &format!("/api/v1/admin/routing-rules/{id}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (_, rules) = get(&server, "/api/v1/admin/routing-rules", Some(&admin)).await;
    let rules = rules.as_array().unwrap();
    assert!(!rules.is_empty(), "the démarches' default rules remain");
    assert!(
        rules.iter().all(|r| r["id"].as_i64() != Some(id)),
        "the rule is gone"
    );
}

fn application(client_id: Uuid) -> Value {
    json!({
        "client_id": client_id,
        "demarche": "candidature-spontanee",
        "channel": "mail",
        "data": {
            "contract_type": "permanent",
            "work_fields": ["green_spaces"],
            "last_name": "Le Gall",
            "first_name": "Iwan",
            "contact_email": "iwan@example.org",
            "contact_phone": "06 12 34 56 78",
        },
    })
}

async fn file_multipart(
    server: &TestServer,
    token: &str,
    request: &Value,
    files: &[(&str, &str, Vec<u8>)],
) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new().part(
        "request",
        reqwest::multipart::Part::text(request.to_string())
            .mime_str("application/json")
            .unwrap(),
    );
    for (field, name, bytes) in files {
        form = form.part(
            field.to_string(),
            reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.to_string()),
        );
    }
    let response = server
        .client
        .post(server.url("/api/v1/agent/requests"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn files_are_checked_by_their_bytes_stored_and_only_agents_read_them() {
    let server = TestServer::start().await;
    let admin = agent_token(&server, ADMIN).await;
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
        .to_vec();
    let png = guichet_tests::fixtures::encode_png(&guichet_tests::fixtures::two_colour_image(8, 8));

    // A letter that is really a PNG, whatever its name says; the CV is missing.
    let (status, problem) = file_multipart(
        &server,
        &admin,
        &application(Uuid::new_v4()),
        &[("cover_letter", "lettre.pdf", png)],
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let errors: Vec<(&str, &str)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert!(
        errors.contains(&("files.cover_letter", "file-type-not-allowed")),
        "{errors:?}"
    );
    assert!(errors.contains(&("files.cv", "required")), "{errors:?}");
    assert_eq!(server.db.count("request_files").await, 0);

    let (status, receipt) = file_multipart(
        &server,
        &admin,
        &application(Uuid::new_v4()),
        &[
            ("cv", "cv.pdf", pdf.clone()),
            ("cover_letter", "lettre.pdf", pdf.clone()),
        ],
    )
    .await;
    assert_eq!(status, 201, "{receipt}");
    assert_eq!(receipt["status"], "submitted", "the decision workflow");
    let number = receipt["request_number"].as_str().unwrap();
    let (_, detail) = get(
        &server,
        &format!("/api/v1/agent/requests/{number}"),
        Some(&admin),
    )
    .await;
    let files = detail["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["mime"], "application/pdf");
    assert_eq!(
        detail["data"]["contact_phone"], "+33612345678",
        "phones are normalised"
    );
    let url = files[0]["url"].as_str().unwrap();
    let response = server
        .client
        .get(server.url(url))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(response.bytes().await.unwrap().to_vec(), pdf);
    // Not for other teams, not for the public.
    let voirie = agent_token(&server, VOIRIE).await;
    let response = server
        .client
        .get(server.url(url))
        .bearer_auth(&voirie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let key: String = sqlx::query_scalar("SELECT storage_key FROM request_files LIMIT 1")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    let response = server
        .client
        .get(server.url(&format!("/media/{key}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn assignment_stays_within_the_team() {
    let server = TestServer::start().await;
    let (_, receipt) = post(
        &server,
        "/api/v1/requests",
        None,
        &anomaly(RENNES.0, RENNES.1, "Plaque descellée"),
    )
    .await;
    let number = receipt["request_number"].as_str().unwrap();
    let voirie = agent_token(&server, VOIRIE).await;
    let (_, me) = get(
        &server,
        "/api/v1/agent/me",
        Some(&terrain_token(&server).await),
    )
    .await;
    let field_id = me["id"].as_i64().unwrap();
    let path = format!("/api/v1/agent/requests/{number}/assign");
    let (status, _) = post(
        &server,
        &path,
        Some(&voirie),
        &json!({ "assignee_id": field_id }),
    )
    .await;
    assert_eq!(status, 204);
    let (_, page) = get(
        &server,
        "/api/v1/agent/requests?assignee=none",
        Some(&voirie),
    )
    .await;
    assert!(numbers(&page).is_empty());
    let terrain = terrain_token(&server).await;
    let (_, page) = get(
        &server,
        "/api/v1/agent/requests?assignee=me",
        Some(&terrain),
    )
    .await;
    assert_eq!(numbers(&page), vec![number.to_owned()]);

    // The propreté agent is not in the voirie team.
    let (_, other) = get(
        &server,
        "/api/v1/agent/me",
        Some(&agent_token(&server, "agent.proprete@guichet.example").await),
    )
    .await;
    let (status, problem) = post(
        &server,
        &path,
        Some(&voirie),
        &json!({ "assignee_id": other["id"] }),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["code"].as_str()),
        (422, Some("assignee-not-in-team"))
    );
    let (status, _) = post(
        &server,
        &path,
        Some(&terrain),
        &json!({ "team": "proprete" }),
    )
    .await;
    assert_eq!(status, 403, "field agents keep requests in their team");
    // Handing it to another team leaves it unassigned there, and out of this queue.
    let (status, _) = post(
        &server,
        &path,
        Some(&voirie),
        &json!({ "team": "proprete" }),
    )
    .await;
    assert_eq!(status, 204);
    let (_, page) = get(&server, "/api/v1/agent/requests", Some(&voirie)).await;
    assert!(numbers(&page).is_empty());
    let (_, detail) = get(
        &server,
        &format!("/api/v1/agent/requests/{number}"),
        Some(&agent_token(&server, ADMIN).await),
    )
    .await;
    assert_eq!(detail["team"]["code"], "proprete");
    assert!(detail["assignee"].is_null());
}

async fn terrain_token(server: &TestServer) -> String {
    agent_token(server, TERRAIN_VOIRIE).await
}

#[tokio::test]
async fn a_complement_can_replace_a_file() {
    let server = TestServer::start().await;
    let admin = agent_token(&server, ADMIN).await;
    let old_cv = b"%PDF-1.4\n% old cv\n%%EOF\n".to_vec();
    let new_cv = b"%PDF-1.4\n% new cv, with the diploma\n%%EOF\n".to_vec();
    let (status, receipt) = file_multipart(
        &server,
        &admin,
        &application(Uuid::new_v4()),
        &[
            ("cv", "cv.pdf", old_cv),
            ("cover_letter", "lettre.pdf", b"%PDF-1.4\n%%EOF\n".to_vec()),
        ],
    )
    .await;
    assert_eq!(status, 201, "{receipt}");
    let number = receipt["request_number"].as_str().unwrap();
    let code = receipt["tracking_code"].as_str().unwrap();
    let (status, _) = post(
        &server,
        &format!("/api/v1/agent/requests/{number}/complement"),
        Some(&admin),
        &json!({ "fields": ["cv"], "message": "Votre CV ne mentionne pas le diplôme demandé." }),
    )
    .await;
    assert_eq!(status, 204);

    let answer = |field: &str, bytes: Vec<u8>| {
        reqwest::multipart::Form::new()
            .part(
                "answer",
                reqwest::multipart::Part::text(
                    json!({ "tracking_code": code, "data": {} }).to_string(),
                )
                .mime_str("application/json")
                .unwrap(),
            )
            .part(
                field.to_owned(),
                reqwest::multipart::Part::bytes(bytes).file_name("cv.pdf"),
            )
    };
    let url = server.url(&format!("/api/v1/requests/{number}/complement"));
    let response = server
        .client
        .post(&url)
        .multipart(answer("cover_letter", new_cv.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422, "only the CV was asked for");
    let response = server
        .client
        .post(&url)
        .multipart(answer("cv", new_cv.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204, "{}", response.text().await.unwrap());

    let (_, detail) = get(
        &server,
        &format!("/api/v1/agent/requests/{number}"),
        Some(&admin),
    )
    .await;
    assert_eq!(detail["status"], "under_review", "back to the agents");
    let cvs: Vec<&Value> = detail["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["field"] == "cv")
        .collect();
    assert_eq!(cvs.len(), 1);
    let bytes = server
        .client
        .get(server.url(cvs[0]["url"].as_str().unwrap()))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.to_vec(), new_cv);
}

#[tokio::test]
async fn bad_filings_get_clear_problems_and_store_nothing() {
    let server = TestServer::start().await;
    let url = server.url("/api/v1/requests");
    let send = |body: &'static str, content_type: &'static str| {
        let client = server.client.clone();
        let url = url.clone();
        async move {
            let r = client
                .post(url)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
            let body: Value = r.json().await.unwrap();
            (status, ct, body)
        }
    };
    let cases: [(&str, &str, u16, &str, Option<&str>); 6] = [
        (
            "{\"client_id\": ",
            "application/json",
            400,
            "malformed-json",
            None,
        ),
        (
            "client_id=1",
            "application/x-www-form-urlencoded",
            415,
            "unsupported-media-type",
            None,
        ),
        (
            r#"{"client_id": "not-a-uuid", "demarche": "demande-contact"}"#,
            "application/json",
            422,
            "validation-failed",
            Some("client_id"),
        ),
        (
            r#"{"client_id": "0b6a4f8e-3c1d-4e7a-9a51-2f1b2c3d4e5f", "demarche": "demande-contact", "data": [1]}"#,
            "application/json",
            422,
            "validation-failed",
            Some("data"),
        ),
        (
            r#"{"client_id": "0b6a4f8e-3c1d-4e7a-9a51-2f1b2c3d4e5f", "demarche": "demande-contact", "colour": "red"}"#,
            "application/json",
            422,
            "validation-failed",
            Some("colour"),
        ),
        (
            r#"{"client_id": "0b6a4f8e-3c1d-4e7a-9a51-2f1b2c3d4e5f", "demarche": "demande-contact", "contact": {"email": "nope"}}"#,
            "application/json",
            422,
            "validation-failed",
            Some("contact.email"),
        ),
    ];
    for (body, ct, status, code, field) in cases {
        let (got, content_type, problem) = send(body, ct).await;
        assert_eq!(got, status, "{body}: {problem}");
        assert_eq!(content_type, "application/problem+json");
        assert_eq!(problem["code"], code, "{body}");
        if let Some(field) = field {
            let fields: Vec<&str> = problem["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["field"].as_str().unwrap())
                .collect();
            assert!(fields.contains(&field), "{body}: {fields:?}");
        }
    }
    let (status, problem) = post(
        &server,
        "/api/v1/agent/requests/2026-REL-000001/status",
        Some("forged-token"),
        &json!({ "status": "assigned" }),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    assert_eq!(server.db.count("requests").await, 0);
}

/// An admin edits from what `GET /admin/demarches/{code}` gives, the whole stored entry: what
/// the public catalogue leaves out (the dedup window and family) survives a change of title.
#[tokio::test]
async fn an_edit_from_the_stored_entry_keeps_what_the_catalogue_does_not_show() {
    let server = TestServer::start().await;
    let admin = agent_token(&server, ADMIN).await;
    let path = "/api/v1/admin/demarches/tags-graffitis";
    let (status, mut entry) = get(&server, path, Some(&admin)).await;
    assert_eq!(status, 200, "{entry}");
    assert_eq!(
        entry["dedup"],
        json!({ "radius_m": 20, "window_days": 30, "group": "tags" })
    );
    assert!(
        entry["form"]["fields"].is_array(),
        "the form inline: {entry}"
    );
    let (_, public) = get(&server, "/api/v1/catalogue/tags-graffitis", None).await;
    assert!(public.get("dedup").is_none() && public.get("dedup_window_days").is_none());

    entry["title"] = json!("Tags, graffitis et affichage sauvage");
    let (status, saved) = guichet_tests::api::call(
        &server,
        reqwest::Method::PUT,
        path,
        Some(&admin),
        Some(&entry),
    )
    .await;
    assert_eq!(
        (status, saved["changed"].as_bool()),
        (200, Some(true)),
        "{saved}"
    );
    let (_, after) = get(&server, path, Some(&admin)).await;
    assert_eq!(after["title"], "Tags, graffitis et affichage sauvage");
    assert_eq!(after["dedup"], entry["dedup"]);
    let (window, group): (Option<i32>, Option<String>) = sqlx::query_as(
        "SELECT r.dedup_window_days, r.dedup_group FROM demarches d
           JOIN demarche_revisions r ON r.demarche_code = d.code AND r.revision = d.current_revision
          WHERE d.code = 'tags-graffitis'",
    )
    .fetch_one(&server.db.pool)
    .await
    .unwrap();
    assert_eq!((window, group.as_deref()), (Some(30), Some("tags")));

    let voirie = agent_token(&server, VOIRIE).await;
    assert_eq!(get(&server, path, Some(&voirie)).await.0, 403);
    let (status, problem) = get(&server, "/api/v1/admin/demarches/nope", Some(&admin)).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (404, Some("demarche-not-found"))
    );
}

#[tokio::test]
async fn editing_a_demarche_makes_a_revision_and_filed_requests_keep_theirs() {
    let server = TestServer::start().await;
    let admin = agent_token(&server, ADMIN).await;
    let before = file_contact_request(&server, "lea@example.org").await;
    let old_number = before["request_number"].as_str().unwrap();

    let mut entry = shipped_entry("demande-contact");
    entry["sla_days"] = json!(5);
    entry["form"]["fields"].as_array_mut().unwrap().push(json!({
        "id": "reference", "kind": "text", "label": "Référence du courrier",
        "label_en": "Letter reference", "required": true,
    }));
    let path = "/api/v1/admin/demarches/demande-contact";
    let voirie = agent_token(&server, VOIRIE).await;
    let (status, _) = guichet_tests::api::call(
        &server,
        reqwest::Method::PUT,
        path,
        Some(&voirie),
        Some(&entry),
    )
    .await;
    assert_eq!(status, 403);
    let (status, saved) = guichet_tests::api::call(
        &server,
        reqwest::Method::PUT,
        path,
        Some(&admin),
        Some(&entry),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        (saved["revision"].as_i64(), saved["changed"].as_bool()),
        (Some(2), Some(true))
    );
    // The same definition again changes nothing.
    let (_, again) = guichet_tests::api::call(
        &server,
        reqwest::Method::PUT,
        path,
        Some(&admin),
        Some(&entry),
    )
    .await;
    assert_eq!(
        (again["revision"].as_i64(), again["changed"].as_bool()),
        (Some(2), Some(false))
    );

    let (_, served) = get(&server, "/api/v1/catalogue/demande-contact", None).await;
    assert_eq!(
        (served["revision"].as_i64(), served["sla_days"].as_i64()),
        (Some(2), Some(5))
    );
    // New filings follow the new form...
    let (status, problem) = post(
        &server,
        "/api/v1/requests",
        None,
        &contact_request(Uuid::new_v4(), "lea@example.org"),
    )
    .await;
    assert_eq!(
        (status, problem["field"].as_str()),
        (422, Some("data.reference")),
        "{problem}"
    );
    // ...while the request filed before keeps its revision and its form.
    let (_, detail) = get(
        &server,
        &format!("/api/v1/agent/requests/{old_number}"),
        Some(&admin),
    )
    .await;
    assert_eq!(detail["demarche"]["revision"], 1);
    let (status, problem) = post(
        &server,
        &format!("/api/v1/agent/requests/{old_number}/complement"),
        Some(&admin),
        &json!({ "fields": ["reference"], "message": "?" }),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["code"].as_str()),
        (422, Some("unknown-field"))
    );
    let (_, revisions) = get(
        &server,
        "/api/v1/admin/demarches/demande-contact/revisions",
        Some(&admin),
    )
    .await;
    let counts: Vec<(i64, i64)> = revisions
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["revision"].as_i64().unwrap(),
                r["requests"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts, vec![(1, 1), (2, 0)]);

    // A broken definition is refused with the field at fault, and stores nothing.
    entry["form"]["fields"][0]["kind"] = json!("hologram");
    entry["workflow"] = json!("lottery");
    let (status, problem) = guichet_tests::api::call(
        &server,
        reqwest::Method::PUT,
        path,
        Some(&admin),
        Some(&entry),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["workflow", "form"]);
    let (_, revisions) = get(
        &server,
        "/api/v1/admin/demarches/demande-contact/revisions",
        Some(&admin),
    )
    .await;
    assert_eq!(revisions.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn admins_create_agents_who_then_work_their_team_queue() {
    let server = TestServer::start().await;
    let admin = agent_token(&server, ADMIN).await;
    let new = json!({
        "email": "Gaelle.Nedelec@guichet.example", "name": "Gaëlle Nédélec", "role": "agent",
        "teams": ["eclairage"], "password": "lampadaire-2026",
    });
    let voirie = agent_token(&server, VOIRIE).await;
    let (status, _) = post(&server, "/api/v1/admin/agents", Some(&voirie), &new).await;
    assert_eq!(status, 403);
    let mut bad = new.clone();
    bad["role"] = json!("mayor");
    bad["teams"] = json!(["nowhere"]);
    bad["password"] = json!("short");
    let (status, problem) = post(&server, "/api/v1/admin/agents", Some(&admin), &bad).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["role", "password", "teams[0]"]);
    let (status, saved) = post(&server, "/api/v1/admin/agents", Some(&admin), &new).await;
    assert_eq!(status, 200, "{saved}");
    let stored: String = sqlx::query_scalar(
        "SELECT password_hash FROM agents WHERE email = 'gaelle.nedelec@guichet.example'",
    )
    .fetch_one(&server.db.pool)
    .await
    .unwrap();
    assert!(stored.starts_with("$argon2id$") && !stored.contains("lampadaire"));

    let (status, login) = post(
        &server,
        "/api/v1/agent/login",
        None,
        &json!({ "email": "gaelle.nedelec@guichet.example", "password": "lampadaire-2026" }),
    )
    .await;
    assert_eq!(status, 200, "{login}");
    let token = login["token"].as_str().unwrap();
    let mut report = anomaly(RENNES.0, RENNES.1, "Lampadaire éteint");
    report["demarche"] = json!("eclairage-public");
    let (_, receipt) = post(&server, "/api/v1/requests", None, &report).await;
    let (_, page) = get(&server, "/api/v1/agent/requests", Some(token)).await;
    assert_eq!(
        numbers(&page),
        vec![receipt["request_number"].as_str().unwrap().to_owned()]
    );
    let (_, list) = get(&server, "/api/v1/admin/agents", Some(&admin)).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|a| a["email"] == "gaelle.nedelec@guichet.example"
                && a["teams"] == json!(["eclairage"]))
    );
    // Logging out ends the session.
    let (status, _) = post(&server, "/api/v1/agent/logout", Some(token), &json!({})).await;
    assert_eq!(status, 204);
    let (status, _) = get(&server, "/api/v1/agent/requests", Some(token)).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_citizen_withdraws_a_request_the_workflow_lets_go() {
    let server = TestServer::start().await;
    let receipt = file_contact_request(&server, "lea@example.org").await;
    let number = receipt["request_number"].as_str().unwrap();
    let code = receipt["tracking_code"].as_str().unwrap();
    let path = format!("/api/v1/requests/{number}/withdraw");
    let (status, _) = post(
        &server,
        &path,
        None,
        &json!({ "tracking_code": "AAAA-BBBB-CCCC" }),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = post(&server, &path, None, &json!({ "tracking_code": code })).await;
    assert_eq!(status, 204);
    let (_, view) = get(
        &server,
        &format!("/api/v1/requests/{number}?tracking_code={code}"),
        None,
    )
    .await;
    assert_eq!(
        (view["phase"].as_str(), view["status_label"].as_str()),
        (Some("withdrawn"), Some("Retirée"))
    );
    let (status, problem) = post(&server, &path, None, &json!({ "tracking_code": code })).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("invalid-transition"))
    );
    let accueil = agent_token(&server, ACCUEIL).await;
    let (_, page) = get(&server, "/api/v1/agent/requests", Some(&accueil)).await;
    assert!(
        numbers(&page).is_empty(),
        "withdrawn requests leave the queue"
    );
}

#[tokio::test]
async fn a_me_too_neither_reveals_the_filers_code_nor_reaches_other_demarches() {
    let server = TestServer::start().await;
    let (_, first) = post(
        &server,
        "/api/v1/requests",
        None,
        &anomaly(RENNES.0, RENNES.1, "Trou"),
    )
    .await;
    let number = first["request_number"].as_str().unwrap();
    let (status, support) = post(
        &server,
        &format!("/api/v1/requests/{number}/support"),
        None,
        &json!({ "client_id": Uuid::new_v4() }),
    )
    .await;
    assert_eq!(status, 201);
    assert_ne!(support["tracking_code"], first["tracking_code"]);
    let (status, _) = post(
        &server,
        &format!("/api/v1/requests/{number}/withdraw"),
        None,
        &json!({ "tracking_code": support["tracking_code"] }),
    )
    .await;
    assert_eq!(status, 404);
    // A contact request with a place is not an incident one can "me too".
    let mut body = contact_request(Uuid::new_v4(), "lea@example.org");
    body["data"]["reply_channel"] = json!("post");
    body["data"]["postal_address"] =
        json!({ "text": "1 place de la Mairie, Rennes", "lat": RENNES.0, "lon": RENNES.1 });
    let (status, receipt) = post(&server, "/api/v1/requests", None, &body).await;
    assert_eq!(status, 201, "{receipt}");
    let other = receipt["request_number"].as_str().unwrap();
    let (status, _) = post(
        &server,
        &format!("/api/v1/requests/{other}/support"),
        None,
        &json!({ "client_id": Uuid::new_v4() }),
    )
    .await;
    assert_eq!(status, 404);
    // Texts PostgreSQL cannot hold are a client error, not ours.
    let (status, problem) = get(&server, "/api/v1/requests/%00?tracking_code=x", None).await;
    assert!(status == 404 || status == 400, "{status} {problem}");
    let voirie = agent_token(&server, VOIRIE).await;
    let (status, problem) = get(&server, "/api/v1/agent/requests?status=%00", Some(&voirie)).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("invalid-characters"))
    );
    let (status, _) = get(
        &server,
        "/api/v1/agent/requests?cursor=-377705116800000000000_1",
        Some(&voirie),
    )
    .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn field_agents_do_not_triage_and_recategorising_keeps_the_workflow_whole() {
    let server = TestServer::start().await;
    let (_, a) = post(
        &server,
        "/api/v1/requests",
        None,
        &anomaly(48.1105, -1.6800, "Trou"),
    )
    .await;
    let (_, b) = post(
        &server,
        "/api/v1/requests",
        None,
        &anomaly(48.1150, -1.6700, "Trou"),
    )
    .await;
    let (a, b) = (
        a["request_number"].as_str().unwrap(),
        b["request_number"].as_str().unwrap(),
    );
    let terrain = agent_token(&server, TERRAIN_VOIRIE).await;
    let (status, _) = post(
        &server,
        &format!("/api/v1/agent/requests/{b}/merge"),
        Some(&terrain),
        &json!({ "into": a }),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = patch(
        &server,
        &format!("/api/v1/agent/requests/{b}"),
        Some(&terrain),
        &json!({ "demarche": "proprete" }),
    )
    .await;
    assert_eq!(status, 403);

    // A contact request (answer workflow) becomes a bulky-waste pick-up (delivery): its
    // statuses follow the new workflow and it can still move.
    let admin = agent_token(&server, ADMIN).await;
    let receipt = file_contact_request(&server, "lea@example.org").await;
    let number = receipt["request_number"].as_str().unwrap();
    let (status, problem) = patch(
        &server,
        &format!("/api/v1/agent/requests/{number}"),
        Some(&admin),
        &json!({ "demarche": "changement-bac-dechets" }),
    )
    .await;
    assert_eq!(status, 204, "{problem}");
    let (_, detail) = get(
        &server,
        &format!("/api/v1/agent/requests/{number}"),
        Some(&admin),
    )
    .await;
    assert_eq!(
        (detail["workflow"].as_str(), detail["status"].as_str()),
        (Some("delivery"), Some("received"))
    );
    assert!(!detail["next_statuses"].as_array().unwrap().is_empty());
    let (status, _) = post(
        &server,
        &format!("/api/v1/agent/requests/{number}/status"),
        Some(&admin),
        &json!({ "status": "in_preparation" }),
    )
    .await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn the_report_route_honours_the_demarches_policy() {
    let server = TestServer::start().await;
    let report = |category: &str| guichet_tests::report_at(category, RENNES.0, RENNES.1);
    let send = |body: Value| {
        let client = server.client.clone();
        let url = server.url("/api/v1/reports");
        async move {
            let r = client
                .post(url)
                .multipart(guichet_tests::multipart(&body, &[]))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    // Tag removal needs the owner's consent and more: the full form, not a quick report.
    let (status, problem) = send(report("enlevement-tags")).await;
    assert_eq!(
        (status, problem["errors"][0]["code"].as_str()),
        (422, Some("use-requests-endpoint"))
    );
    let (status, _) = send(report("voirie")).await;
    assert_eq!(status, 201);
    assert_eq!(server.db.count("requests").await, 1);
}
