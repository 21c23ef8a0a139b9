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
    assert!(
        missed.id.as_deref().unwrap().parse::<i64>().unwrap() > first_id.parse::<i64>().unwrap(),
        "resumes after the last id seen: {missed:?}"
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
