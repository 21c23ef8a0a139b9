#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Field teams: the round (which requests, in which order, from where), closing on site with
//! an after-photo that reporters see, "could not act", moving the pin, reporting what they
//! see, and actions that count once when an offline phone sends them again. Real server,
//! database and SMTP listener.

use std::time::Duration;

use guichet_shared::geo::{LatLon, distance_m};
use guichet_tests::api::{agent_token, get, patch, post};
use guichet_tests::fixtures::{encode_jpeg, photo_like_image};
use guichet_tests::smtp::SmtpServer;
use guichet_tests::{RENNES, TestServer, multipart, report_at};
use serde_json::{Value, json};
use uuid::Uuid;

const FIELD: &str = "terrain.voirie@guichet.example";
const OTHER_FIELD: &str = "terrain.proprete@guichet.example";
const OFFICE: &str = "agent.voirie@guichet.example";

/// A pothole report at a point; its receipt.
async fn pothole(server: &TestServer, lat: f64, lon: f64, email: Option<&str>) -> Value {
    let mut r = report_at("voirie", lat, lon);
    if let Some(email) = email {
        r["contact"] = json!({ "email": email, "name": "Habitant" });
    }
    server
        .post("/api/v1/reports")
        .multipart(multipart(
            &r,
            &[("p.jpg", encode_jpeg(&photo_like_image(320, 240), 85))],
        ))
        .send()
        .await
        .expect(201)
        .json()
}

fn number(receipt: &Value) -> String {
    receipt["request_number"].as_str().unwrap().to_owned()
}

async fn agent_id(server: &TestServer, token: &str) -> i64 {
    let (_, me) = get(server, "/api/v1/agent/me", Some(token)).await;
    me["id"].as_i64().unwrap()
}

async fn round(server: &TestServer, token: &str, query: &str) -> Value {
    let (status, body) = get(server, &format!("/api/v1/agent/round?{query}"), Some(token)).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn numbers(round: &Value) -> Vec<String> {
    round["stops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["request_number"].as_str().unwrap().to_owned())
        .collect()
}

async fn detail(server: &TestServer, token: &str, n: &str) -> Value {
    let (status, body) = get(server, &format!("/api/v1/agent/requests/{n}"), Some(token)).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn events_of(detail: &Value, kind: &str) -> Vec<Value> {
    detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .cloned()
        .collect()
}

/// A status change with after-photos, as the field view sends it.
fn closing(status: &str, message: &str, photos: usize) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new().part(
        "status",
        reqwest::multipart::Part::text(json!({ "status": status, "message": message }).to_string())
            .mime_str("application/json")
            .unwrap(),
    );
    for i in 0..photos {
        let bytes = encode_jpeg(&photo_like_image(400 + 10 * i as u32, 300), 85);
        form = form.part(
            "photo",
            reqwest::multipart::Part::bytes(bytes)
                .file_name("after.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    }
    form
}

#[tokio::test]
async fn the_round_orders_my_teams_open_requests_into_a_short_walk_from_where_i_stand() {
    let server = TestServer::start().await;
    let field = agent_token(&server, FIELD).await;
    let office = agent_token(&server, OFFICE).await;
    let (lat, lon) = RENNES;
    // Five potholes on a line eastwards, ~300 m apart, filed out of order.
    let mut on_line = vec![String::new(); 5];
    for k in [3usize, 0, 4, 1, 2] {
        let receipt = pothole(&server, lat, lon + 0.004 * (k as f64 + 1.0), None).await;
        on_line[k] = number(&receipt);
    }
    // One the office took for itself: not the field's.
    let taken = number(&pothole(&server, lat + 0.004, lon, None).await);
    let office_id = agent_id(&server, &office).await;
    let (status, body) = post(
        &server,
        &format!("/api/v1/agent/requests/{taken}/assign"),
        Some(&office),
        &json!({ "assignee_id": office_id }),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    // One handed to the field agent: in the round, marked as theirs.
    let mine = number(&pothole(&server, lat - 0.004, lon, None).await);
    let field_id = agent_id(&server, &field).await;
    let (status, body) = post(
        &server,
        "/api/v1/agent/requests/bulk",
        Some(&office),
        &json!({ "numbers": [mine], "assign": { "assignee_id": field_id } }),
    )
    .await;
    assert_eq!((status, body["done"].as_u64()), (200, Some(1)), "{body}");

    // From a point west of the line, past the request handed to me.
    let from = (lat - 0.004, lon - 0.004);
    let r = round(&server, &field, &format!("lat={}&lon={}", from.0, from.1)).await;
    let got = numbers(&r);
    assert!(!got.contains(&taken), "someone else's request: {r}");
    let mut expected = vec![mine.clone()];
    expected.extend(on_line.iter().cloned());
    assert_eq!(got, expected, "{r}");
    let stops = r["stops"].as_array().unwrap();
    assert_eq!(stops[0]["assigned_to_me"], true);
    assert_eq!(stops[1]["assigned_to_me"], false);
    // Legs are the straight-line distances between consecutive stops, summing to the total.
    let mut previous = LatLon::new(from.0, from.1);
    let mut sum = 0.0;
    for s in stops {
        let here = LatLon::new(s["lat"].as_f64().unwrap(), s["lon"].as_f64().unwrap());
        let leg = s["distance_m"].as_f64().unwrap();
        assert!((leg - distance_m(previous, here)).abs() <= 1.0, "{s}");
        sum += leg;
        previous = here;
        assert!(s["thumbnail_url"].as_str().unwrap().contains("/media/"));
        assert_eq!(s["demarche"], "voirie");
    }
    assert!((sum - r["total_m"].as_f64().unwrap()).abs() <= 3.0, "{r}");
    // Along the line, eastwards: a bearing of about 90°.
    let east = stops[3]["bearing_deg"].as_f64().unwrap();
    assert!((east - 90.0).abs() < 2.0, "{east}");
    assert_eq!(r["truncated"], false);

    // `limit` keeps the nearest; the round says some were left out.
    let r = round(&server, &field, &format!("lat={lat}&lon={lon}&limit=2")).await;
    assert_eq!(r["truncated"], true);
    let mut got = numbers(&r);
    got.sort();
    let mut nearest = vec![on_line[0].clone(), mine.clone()];
    nearest.sort();
    assert_eq!(got, nearest, "{r}");

    // The queue's filters narrow it; another team's field agent sees none of it.
    let r = round(
        &server,
        &field,
        &format!("lat={lat}&lon={lon}&status=acknowledged"),
    )
    .await;
    assert!(numbers(&r).is_empty(), "{r}");
    let other = agent_token(&server, OTHER_FIELD).await;
    let r = round(&server, &other, &format!("lat={lat}&lon={lon}")).await;
    assert!(numbers(&r).is_empty(), "{r}");
    let (status, _) = get(
        &server,
        &format!("/api/v1/agent/round?lat={lat}&lon={lon}&team=voirie"),
        Some(&other),
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_round_needs_a_valid_position_and_an_agent() {
    let server = TestServer::start().await;
    let field = agent_token(&server, FIELD).await;
    for (query, field_name) in [
        ("lon=-1.68", "lat"),
        ("lat=48.1", "lon"),
        ("lat=91&lon=-1.68", "lat"),
        ("lat=abc&lon=-1.68", "lat"),
        ("lat=48.1&lon=-1.68&limit=201", "limit"),
        ("lat=48.1&lon=-1.68&phase=sleeping", "phase"),
    ] {
        let (status, body) = get(
            &server,
            &format!("/api/v1/agent/round?{query}"),
            Some(&field),
        )
        .await;
        assert_eq!(status, 422, "{query}: {body}");
        assert_eq!(body["field"], field_name, "{query}: {body}");
    }
    let (status, _) = get(&server, "/api/v1/agent/round?lat=48.1&lon=-1.68", None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn closing_with_an_after_photo_shows_it_to_reporters_once_however_often_it_is_sent() {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let server = TestServer::start_with(move |c| {
        c.notify.smtp_url = Some(url);
        c.outbox.poll_interval = Duration::from_millis(25);
    })
    .await;
    let field = agent_token(&server, FIELD).await;
    let (lat, lon) = RENNES;
    let reporter = "habitant.apres@example.org";
    let receipt = pothole(&server, lat, lon, Some(reporter)).await;
    let n = number(&receipt);
    let code = receipt["tracking_code"].as_str().unwrap().to_owned();

    // The phone sends the closing, loses the answer, and sends it again with the same key.
    let key = Uuid::new_v4().to_string();
    let path = format!("/api/v1/agent/requests/{n}/status");
    let first = server
        .post(&path)
        .bearer(&field)
        .header("Idempotency-Key", &key)
        .multipart(closing("resolved", "Rebouché ce matin.", 1))
        .send()
        .await;
    assert_eq!(first.status(), 204, "{}", first.text());
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = server
        .post(&path)
        .bearer(&field)
        .header("Idempotency-Key", &key)
        .multipart(closing("resolved", "Rebouché ce matin.", 1))
        .send()
        .await;
    assert_eq!(again.status(), 204, "{}", again.text());
    assert_eq!(again.header("idempotent-replayed"), Some("true"));

    let d = detail(&server, &field, &n).await;
    assert_eq!(d["status"], "resolved");
    assert_eq!(events_of(&d, "status_changed").len(), 1, "{d}");
    let after = d["after_photos"].as_array().unwrap();
    assert_eq!(after.len(), 1, "{d}");
    let photo_url = after[0]["url"].as_str().unwrap().to_owned();

    // The reporter's timeline shows the photo with the closing, and it is served.
    let (_, view) = get(
        &server,
        &format!("/api/v1/requests/{n}?tracking_code={code}"),
        None,
    )
    .await;
    let closed = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "status_changed")
        .cloned()
        .unwrap_or_else(|| panic!("no status change in {view}"));
    assert_eq!(closed["photos"][0]["url"], photo_url.as_str(), "{view}");
    let media = photo_url.split_once("/media/").unwrap().1;
    let served = server.get(&format!("/media/{media}")).send().await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.header("content-type"), Some("image/webp"));

    // The notice that tells the reporter links the photo, and is sent once.
    let mails = smtp
        .wait_for(
            |m| m.is_to(reporter) && m.body_text().contains("Photo après intervention"),
            Duration::from_secs(20),
        )
        .await;
    assert!(
        mails.body_text().contains(&photo_url),
        "{}",
        mails.body_text()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let closings = smtp
        .messages_to(reporter)
        .into_iter()
        .filter(|m| m.body_text().contains("Photo après intervention"))
        .count();
    assert_eq!(closings, 1);

    // The same key for another action is a client's mistake, said as such.
    let reused = server
        .post(&format!("/api/v1/agent/requests/{n}/notes"))
        .bearer(&field)
        .header("Idempotency-Key", &key)
        .json(&json!({ "text": "Autre chose" }))
        .send()
        .await;
    let (status, body) = (reused.status(), reused.value());
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("idempotency-key-reused")),
        "{body}"
    );
    let long = "k".repeat(101);
    let answer = server
        .post(&format!("/api/v1/agent/requests/{n}/notes"))
        .bearer(&field)
        .header("Idempotency-Key", &long)
        .json(&json!({ "text": "Autre chose" }))
        .send()
        .await;
    assert_eq!(answer.status(), 422);
    assert_eq!(answer.value()["field"], "idempotency-key");

    // A closed request takes no second closing: the conflict is said, not hidden.
    let late = server
        .post(&path)
        .bearer(&field)
        .header("Idempotency-Key", Uuid::new_v4().to_string().as_str())
        .multipart(closing("resolved", "Encore", 0))
        .send()
        .await;
    assert_eq!(late.status(), 409, "{}", late.text());
}

#[tokio::test]
async fn the_same_action_sent_at_once_twice_takes_effect_once() {
    let server = TestServer::start().await;
    let field = agent_token(&server, FIELD).await;
    let (lat, lon) = RENNES;
    let n = number(&pothole(&server, lat, lon, None).await);
    let key = Uuid::new_v4().to_string();
    let send = || {
        server
            .post(&format!("/api/v1/agent/requests/{n}/notes"))
            .bearer(&field)
            .header("Idempotency-Key", &key)
            .json(&json!({ "text": "Grille d'égout descellée aussi" }))
            .send()
    };
    let answers = futures::future::join_all((0..4).map(|_| send())).await;
    for a in &answers {
        assert_eq!(a.status(), 204, "{}", a.text());
    }
    let replayed = answers
        .iter()
        .filter(|a| a.header("idempotent-replayed") == Some("true"))
        .count();
    assert_eq!(replayed, 3);
    let d = detail(&server, &field, &n).await;
    assert_eq!(events_of(&d, "note").len(), 1, "{d}");
}

#[tokio::test]
async fn could_not_act_keeps_the_request_open_and_takes_it_out_of_my_round() {
    let server = TestServer::start().await;
    let field = agent_token(&server, FIELD).await;
    let office = agent_token(&server, OFFICE).await;
    let (lat, lon) = RENNES;
    let receipt = pothole(&server, lat, lon, None).await;
    let n = number(&receipt);
    let code = receipt["tracking_code"].as_str().unwrap().to_owned();
    let field_id = agent_id(&server, &field).await;
    let (status, _) = post(
        &server,
        &format!("/api/v1/agent/requests/{n}/assign"),
        Some(&office),
        &json!({ "assignee_id": field_id }),
    )
    .await;
    assert_eq!(status, 204);
    let query = format!("lat={lat}&lon={lon}");
    assert_eq!(
        numbers(&round(&server, &field, &query).await),
        vec![n.clone()]
    );

    let (status, body) = post(
        &server,
        &format!("/api/v1/agent/requests/{n}/could-not-act"),
        Some(&field),
        &json!({ "reason": "  " }),
    )
    .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("reason")),
        "{body}"
    );
    let (status, body) = post(
        &server,
        &format!("/api/v1/agent/requests/{n}/could-not-act"),
        Some(&field),
        &json!({ "reason": "Voiture garée sur le trou" }),
    )
    .await;
    assert_eq!(status, 204, "{body}");

    assert!(numbers(&round(&server, &field, &query).await).is_empty());
    let d = detail(&server, &office, &n).await;
    assert_eq!(d["phase"], "received");
    assert!(d["assignee"].is_null(), "released for someone else: {d}");
    let events = events_of(&d, "could_not_act");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["public"], false);
    assert_eq!(events[0]["data"]["reason"], "Voiture garée sur le trou");
    // The filer's timeline does not show it.
    let (_, view) = get(
        &server,
        &format!("/api/v1/requests/{n}?tracking_code={code}"),
        None,
    )
    .await;
    assert!(!view.to_string().contains("could_not_act"), "{view}");
    assert!(!view.to_string().contains("Voiture garée"), "{view}");
}

#[tokio::test]
async fn field_agents_move_the_pin_and_report_what_they_see_but_do_not_recategorise() {
    let server = TestServer::start().await;
    let field = agent_token(&server, FIELD).await;
    let (lat, lon) = RENNES;
    let n = number(&pothole(&server, lat, lon, None).await);

    let there = json!({ "lat": lat + 0.0003, "lon": lon + 0.0002 });
    let (status, body) = patch(
        &server,
        &format!("/api/v1/agent/requests/{n}"),
        Some(&field),
        &json!({ "location": there }),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let d = detail(&server, &field, &n).await;
    assert!((d["location"]["lat"].as_f64().unwrap() - (lat + 0.0003)).abs() < 1e-6);
    let (status, _) = patch(
        &server,
        &format!("/api/v1/agent/requests/{n}"),
        Some(&field),
        &json!({ "demarche": "eclairage-public" }),
    )
    .await;
    assert_eq!(status, 403);

    // What they see on site, filed as a report of channel `field`, once per client id.
    let report = report_at("voirie", lat + 0.01, lon - 0.01);
    let form = || {
        multipart(
            &report,
            &[("p.jpg", encode_jpeg(&photo_like_image(320, 240), 85))],
        )
    };
    let first = server
        .post("/api/v1/agent/reports")
        .bearer(&field)
        .multipart(form())
        .send()
        .await;
    assert_eq!(first.status(), 201, "{}", first.text());
    let seen = number(&first.json());
    let again = server
        .post("/api/v1/agent/reports")
        .bearer(&field)
        .multipart(form())
        .send()
        .await;
    assert_eq!(again.status(), 200, "{}", again.text());
    assert_eq!(number(&again.json()), seen);
    let d = detail(&server, &field, &seen).await;
    assert_eq!(d["channel"], "field");
    assert_eq!(d["reports"][0]["photos"].as_array().unwrap().len(), 1);
    let anonymous = server
        .post("/api/v1/agent/reports")
        .multipart(form())
        .send()
        .await;
    assert_eq!(anonymous.status(), 401);
}
