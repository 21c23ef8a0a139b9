#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! A private request's place is never public: a contact request filed with a home address
//! and coordinates, at the very point of a public incident, shows in none of the public
//! outputs (map points, clusters, "already reported?", "me too", the index's reload, webhook
//! payloads), while the incident beside it does.

use std::time::Duration;

use futures::TryStreamExt;
use guichet_tests::api::{agent_token, contact_request, get, post};
use guichet_tests::webhook_receiver::WebhookReceiver;
use guichet_tests::{RENNES, TestServer};
use serde_json::{Value, json};
use uuid::Uuid;

const ADMIN: &str = "admin@guichet.example";
const WAIT: Duration = Duration::from_secs(20);

fn incident(lat: f64, lon: f64) -> Value {
    json!({
        "client_id": Uuid::new_v4(),
        "demarche": "voirie",
        "channel": "app",
        "data": {
            "location": { "lat": lat, "lon": lon, "accuracy_m": 8.0 },
            "description": "Nid-de-poule devant le 1 place de la Mairie",
        },
    })
}

/// A contact request whose postal address (a home) sits at `lat`, `lon`.
fn home_contact(lat: f64, lon: f64) -> Value {
    let mut body = contact_request(Uuid::new_v4(), "lea@example.org");
    body["data"]["reply_channel"] = json!("post");
    body["data"]["postal_address"] =
        json!({ "text": "1 place de la Mairie, Rennes", "lat": lat, "lon": lon });
    body
}

/// Every request number a GeoJSON answer of the map names, and the total of its counts.
fn numbers_and_total(map: &Value) -> (Vec<String>, u64) {
    let features = map["features"].as_array().expect("features");
    let numbers = features
        .iter()
        .filter_map(|f| {
            f["properties"]["request_number"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    let total = features
        .iter()
        .map(|f| f["properties"]["count"].as_u64().unwrap_or(1))
        .sum();
    (numbers, total)
}

#[tokio::test]
async fn a_private_request_at_an_incident_s_place_stays_out_of_every_public_output() {
    let receiver = WebhookReceiver::start().await;
    let server = TestServer::start_with(|c| {
        c.outbox.poll_interval = Duration::from_millis(25);
        c.notify.webhook_allow = "127.0.0.1".parse().expect("allow-list");
    })
    .await;
    let admin = agent_token(&server, ADMIN).await;
    let (status, _) = post(
        &server,
        "/api/v1/admin/webhooks",
        Some(&admin),
        &json!({"url": receiver.url(), "events": ["request.created"]}),
    )
    .await;
    assert_eq!(status, 201);

    let (status, private) = post(
        &server,
        "/api/v1/requests",
        None,
        &home_contact(RENNES.0, RENNES.1),
    )
    .await;
    assert_eq!(status, 201, "{private}");
    let private = private["request_number"].as_str().unwrap().to_owned();
    let (status, public) = post(
        &server,
        "/api/v1/requests",
        None,
        &incident(RENNES.0, RENNES.1),
    )
    .await;
    assert_eq!(status, 201, "{public}");
    let public = public["request_number"].as_str().unwrap().to_owned();
    // The place was kept: agents need it, the public does not see it.
    let stored: bool =
        sqlx::query_scalar("SELECT location IS NOT NULL FROM requests WHERE number = $1")
            .bind(&private)
            .fetch_one(&server.db.pool)
            .await
            .unwrap();
    assert!(
        stored,
        "the contact request keeps its place for the service"
    );

    // The map up close: the incident's point, not the home.
    let street = format!(
        "{},{},{},{}",
        RENNES.1 - 0.001,
        RENNES.0 - 0.001,
        RENNES.1 + 0.001,
        RENNES.0 + 0.001
    );
    // The index follows the database's notifications, in commit order: once the incident
    // (filed second) is in, the contact request's notification was handled too.
    let started = std::time::Instant::now();
    let close = loop {
        let (status, close) = get(
            &server,
            &format!("/api/v1/incidents?bbox={street}&zoom=19"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{close}");
        if close.to_string().contains(&public) || started.elapsed() > WAIT {
            break close;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (numbers, total) = numbers_and_total(&close);
    assert_eq!(numbers, vec![public.clone()], "{close}");
    assert_eq!(total, 1);
    // Clusters count public incidents only.
    let (status, far) = get(
        &server,
        "/api/v1/incidents?bbox=-1.80,48.05,-1.55,48.17&zoom=11",
        None,
    )
    .await;
    assert_eq!(status, 200, "{far}");
    assert_eq!(numbers_and_total(&far).1, 1, "{far}");
    assert!(!far.to_string().contains(&private));
    // A private démarche is no category of the public map or of "already reported?".
    for path in [
        format!("/api/v1/incidents?bbox={street}&zoom=19&category=demande-contact"),
        format!(
            "/api/v1/reports/nearby?category=demande-contact&lat={}&lon={}",
            RENNES.0, RENNES.1
        ),
    ] {
        let (status, problem) = get(&server, &path, None).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (422, Some("unknown-category")),
            "{path}: {problem}"
        );
    }
    let (status, nearby) = get(
        &server,
        &format!(
            "/api/v1/reports/nearby?category=voirie&lat={}&lon={}&radius_m=200",
            RENNES.0, RENNES.1
        ),
        None,
    )
    .await;
    assert_eq!(status, 200, "{nearby}");
    assert!(nearby.to_string().contains(&public), "{nearby}");
    assert!(!nearby.to_string().contains(&private), "{nearby}");
    // Nobody joins a private request by its number.
    let (status, _) = post(
        &server,
        &format!("/api/v1/requests/{private}/support"),
        None,
        &json!({ "client_id": Uuid::new_v4() }),
    )
    .await;
    assert_eq!(status, 404);
    // The index as it reloads after a restart holds the incident only.
    let ids: Vec<i64> = guichet_server::db::incidents::open_incidents(&server.db.pool)
        .map_ok(|row| row.id)
        .try_collect()
        .await
        .unwrap();
    let private_id: i64 = sqlx::query_scalar("SELECT id FROM requests WHERE number = $1")
        .bind(&private)
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(ids.len(), 1);
    assert!(!ids.contains(&private_id));

    // Webhook payloads: the incident has its location, the private request none.
    let of = |number: &str| {
        let number = number.to_owned();
        move |r: &guichet_tests::webhook_receiver::ReceivedRequest| {
            r.json()["data"]["number"].as_str() == Some(number.as_str())
        }
    };
    let created = receiver.wait_for(of(&public), WAIT).await.json();
    assert!(created["data"]["location"]["lat"].is_number(), "{created}");
    let created = receiver.wait_for(of(&private), WAIT).await.json();
    assert!(created["data"].get("location").is_none(), "{created}");
    assert!(
        !created.to_string().contains(&format!("{}", RENNES.0)),
        "no coordinate of the home in {created}"
    );
}

#[tokio::test]
async fn only_geolocated_demarches_may_be_public_incidents() {
    let server = TestServer::start().await;
    let admin = agent_token(&server, ADMIN).await;
    let (status, problem) = guichet_tests::api::call(
        &server,
        reqwest::Method::PUT,
        "/api/v1/admin/demarches/demande-contact",
        Some(&admin),
        Some(&json!({
            "code": "demande-contact",
            "title": "Demande de contact",
            "title_en": "Contact request",
            "group": "relation-usagers",
            "geolocated": false,
            "public_incident": true,
            "channels": ["web"],
            "auth": "anonymous",
            "team": "accueil",
        })),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert!(fields.contains(&"public_incident"), "{problem}");
    // The shipped catalogue says which démarches are public incidents.
    let (_, catalogue) = get(&server, "/api/v1/catalogue", None).await;
    let flag = |code: &str| {
        catalogue["demarches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == code)
            .map(|d| d["public_incident"].clone())
    };
    assert_eq!(flag("voirie"), Some(json!(true)));
    assert_eq!(flag("demande-contact"), Some(json!(false)));
}
