#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The back office's live stream: a request filed anywhere reaches the open streams of the
//! agents of its team (and theirs only), and a reconnecting stream resumes after the last
//! event it saw.

use std::time::Duration;

use futures::StreamExt;
use guichet_tests::api::{agent_token, contact_request, post};
use guichet_tests::{RENNES, TestServer};
use serde_json::{Value, json};
use uuid::Uuid;

const VOIRIE: &str = "agent.voirie@guichet.example";
const WAIT: Duration = Duration::from_secs(10);

/// One server-sent event: its name, id and data.
#[derive(Debug)]
struct Sse {
    event: String,
    id: Option<String>,
    data: Value,
}

struct EventStream {
    bytes: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl EventStream {
    async fn open(server: &TestServer, token: &str, last_id: Option<&str>) -> EventStream {
        let mut call = server
            .client
            .get(server.url("/api/v1/agent/events"))
            .bearer_auth(token)
            .timeout(Duration::from_secs(120));
        if let Some(id) = last_id {
            call = call.header("last-event-id", id);
        }
        let answer = call.send().await.unwrap();
        assert_eq!(answer.status(), 200);
        assert!(
            answer.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        EventStream {
            bytes: Box::pin(answer.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The first event that `pred` accepts, skipping others (at most 20).
    async fn until(&mut self, pred: impl Fn(&Sse) -> bool) -> Sse {
        for _ in 0..20 {
            let event = self.next().await;
            if pred(&event) {
                return event;
            }
        }
        panic!("no such event among the next 20");
    }

    /// The next event (comments, the keep-alives, are skipped).
    async fn next(&mut self) -> Sse {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = Sse {
                    event: "message".into(),
                    id: None,
                    data: Value::Null,
                };
                let mut seen = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event.event = v.trim().to_owned();
                        seen = true;
                    } else if let Some(v) = line.strip_prefix("id:") {
                        event.id = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        event.data = serde_json::from_str(v.trim()).unwrap();
                        seen = true;
                    }
                }
                if seen {
                    return event;
                }
                continue;
            }
            let chunk = tokio::time::timeout(WAIT, self.bytes.next())
                .await
                .expect("an event in time")
                .expect("the stream goes on")
                .unwrap();
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

fn anomaly(lat: f64) -> Value {
    json!({
        "client_id": Uuid::new_v4(),
        "demarche": "voirie",
        "channel": "app",
        "data": {
            "location": { "lat": lat, "lon": RENNES.1, "accuracy_m": 8.0 },
            "description": "Nid-de-poule",
        },
    })
}

#[tokio::test]
async fn requests_of_my_teams_reach_my_open_stream_and_a_reconnection_resumes() {
    let server = TestServer::start().await;
    let voirie = agent_token(&server, VOIRIE).await;
    let mut stream = EventStream::open(&server, &voirie, None).await;
    assert_eq!(stream.next().await.event, "ready");

    // Another team's request first: it must not reach this stream.
    let (status, _) = post(
        &server,
        "/api/v1/requests",
        None,
        &contact_request(Uuid::new_v4(), "lea@example.org"),
    )
    .await;
    assert_eq!(status, 201);
    let (status, filed) = post(&server, "/api/v1/requests", None, &anomaly(RENNES.0)).await;
    assert_eq!(status, 201);
    let number = filed["request_number"].as_str().unwrap();
    let event = stream.next().await;
    assert_eq!(event.event, "request", "{event:?}");
    assert_eq!(event.data["number"], number, "only my team's: {event:?}");
    assert_eq!(event.data["kind"], "created");
    assert_eq!(event.data["phase"], "received");
    let first_id = event.id.clone().expect("an id to resume from");

    // An action on it is announced too.
    let (status, _) = post(
        &server,
        &format!("/api/v1/agent/requests/{number}/notes"),
        Some(&voirie),
        &json!({ "text": "À voir avec le prestataire" }),
    )
    .await;
    assert!(status < 300);
    let event = stream.until(|e| e.data["kind"] == "note").await;
    assert_eq!(event.data["number"], number);
    drop(stream);

    // Reconnecting after the first event: the note is sent again, then the stream goes on.
    let mut again = EventStream::open(&server, &voirie, Some(&first_id)).await;
    assert_eq!(again.next().await.event, "ready");
    let missed = again.until(|e| e.event == "request").await;
    assert_ne!(
        missed.id.as_deref(),
        Some(first_id.as_str()),
        "the last event seen is not sent again: {missed:?}"
    );
    again.until(|e| e.data["kind"] == "note").await;
    let (_, second) = post(&server, "/api/v1/requests", None, &anomaly(RENNES.0 + 0.01)).await;
    let event = again.until(|e| e.data["kind"] == "created").await;
    assert_eq!(event.data["number"], second["request_number"]);
}

#[tokio::test]
async fn the_stream_needs_an_agent() {
    let server = TestServer::start().await;
    let answer = server
        .client
        .get(server.url("/api/v1/agent/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);
}

/// A change committed after a later-numbered one (its transaction began first) is still
/// told: to an open stream when it commits, and to a stream that resumes after the later id.
#[tokio::test]
async fn a_change_committed_late_with_a_smaller_id_is_not_lost() {
    let server = TestServer::start().await;
    let voirie = agent_token(&server, VOIRIE).await;
    let (_, earlier) = post(&server, "/api/v1/requests", None, &anomaly(RENNES.0)).await;
    let request_id: i64 = sqlx::query_scalar("SELECT id FROM requests WHERE number = $1")
        .bind(earlier["request_number"].as_str().unwrap())
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    // A note written in a transaction that stays open: its event takes an id now.
    let late_note = |text: &'static str| {
        let pool = server.db.pool.clone();
        async move {
            let mut tx = pool.begin().await.unwrap();
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO events (request_id, kind, public, actor, data)
                 VALUES ($1, 'note', false, 'agent:test', jsonb_build_object('text', $2::text))
                 RETURNING id",
            )
            .bind(request_id)
            .bind(text)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
            (tx, id)
        }
    };

    let mut stream = EventStream::open(&server, &voirie, None).await;
    assert_eq!(stream.next().await.event, "ready");
    let (tx, late_id) = late_note("écrite avant, validée après").await;
    let (_, newer) = post(&server, "/api/v1/requests", None, &anomaly(RENNES.0 + 0.01)).await;
    let created = stream.until(|e| e.data["kind"] == "created").await;
    assert_eq!(created.data["number"], newer["request_number"]);
    let created_id: i64 = created.id.unwrap().parse().unwrap();
    assert!(created_id > late_id);
    tx.commit().await.unwrap();
    let late = stream.until(|e| e.data["kind"] == "note").await;
    assert_eq!(late.id, Some(late_id.to_string()), "{late:?}");
    drop(stream);

    // The same while no stream is open: resuming after the newer event finds the late one.
    let (tx, late_id) = late_note("encore une").await;
    let (_, third) = post(&server, "/api/v1/requests", None, &anomaly(RENNES.0 + 0.02)).await;
    let third_event: i64 = sqlx::query_scalar(
        "SELECT e.id FROM events e JOIN requests r ON r.id = e.request_id
          WHERE r.number = $1 AND e.kind = 'created'",
    )
    .bind(third["request_number"].as_str().unwrap())
    .fetch_one(&server.db.pool)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut again = EventStream::open(&server, &voirie, Some(&third_event.to_string())).await;
    assert_eq!(again.next().await.event, "ready");
    // The events of the last seconds before it come again (the first note among them).
    let late_id = late_id.to_string();
    again.until(|e| e.id.as_ref() == Some(&late_id)).await;
}
