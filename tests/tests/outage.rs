#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The database outage drill, on a PostgreSQL cluster of its own (the other tests' cluster is
//! never stopped): two instances under load while PostgreSQL is stopped for 10 s. Every answer
//! that needs the database is a 503 problem with `Retry-After` within 5 s (no hang, no crash),
//! `/readyz` says not ready; once PostgreSQL is back both instances serve again within 5 s, and
//! the incident index of one sees a report filed through the other (its listener reconnected
//! and caught up).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use guichet_tests::api::DEMO_PASSWORD;
use guichet_tests::{RENNES, ServerProcess, TestDb, succeed};
use serde_json::{Value, json};

/// A private cluster: its own port and folder, removed at the end.
struct Cluster {
    port: u16,
    dir: PathBuf,
}

impl Cluster {
    /// Runs `script` with the cluster's library sourced, for this cluster.
    fn bash(&self, script: &str) -> std::process::Output {
        let lib = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/lib/postgres.sh");
        Command::new("bash")
            .arg("-c")
            .arg(format!("set -e; source {lib}; {script}"))
            .env("GUICHET_PG_PORT", self.port.to_string())
            .env("GUICHET_PG_DIR", &self.dir)
            .output()
            .expect("run bash")
    }

    fn run(&self, script: &str) {
        let out = self.bash(script);
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start(&self) {
        self.run("pg_ensure_running");
    }

    fn stop(&self) {
        self.run("pg_stop");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.bash("pg_stop");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn pothole(lat: f64) -> Value {
    json!({
        "client_id": uuid::Uuid::new_v4(),
        "demarche": "voirie",
        "channel": "app",
        "data": {
            "location": { "lat": lat, "lon": RENNES.1, "accuracy_m": 5.0 },
            "description": "Nid-de-poule",
        },
    })
}

/// One call during the outage: its status, how long it took, and whether it was a problem
/// with `Retry-After`.
struct Answer {
    what: &'static str,
    status: u16,
    took: Duration,
    problem_with_retry: bool,
}

async fn timed(what: &'static str, call: reqwest::RequestBuilder) -> Answer {
    let started = Instant::now();
    let r = call
        .send()
        .await
        .expect("an answer, not a dropped connection");
    let status = r.status().as_u16();
    let problem = r.headers().get("content-type").is_some_and(|v| {
        v.to_str()
            .unwrap_or("")
            .starts_with("application/problem+json")
    });
    let retry = r.headers().contains_key("retry-after");
    let _ = r.bytes().await;
    Answer {
        what,
        status,
        took: started.elapsed(),
        problem_with_retry: problem && retry,
    }
}

async fn nearby_finds(
    client: &reqwest::Client,
    server: &ServerProcess,
    number: &str,
    lat: f64,
) -> bool {
    let url = server.url(&format!(
        "/api/v1/reports/nearby?lat={lat}&lon={}&category=voirie&radius_m=20",
        RENNES.1
    ));
    match client.get(url).send().await {
        Ok(r) if r.status().is_success() => r
            .json::<Value>()
            .await
            .map(|v| v.to_string().contains(number))
            .unwrap_or(false),
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_ten_second_database_outage_gives_quick_503s_and_service_comes_back_by_itself() {
    let cluster = Cluster {
        port: free_port(),
        dir: std::env::temp_dir().join(format!("guichet-outage-{}", uuid::Uuid::new_v4())),
    };
    cluster.start();
    cluster.run("_pg_psql postgres -c 'CREATE DATABASE guichet' postgres");
    let url = format!("postgres://postgres@127.0.0.1:{}/guichet", cluster.port);
    for command in [["migrate"], ["demo"]] {
        succeed(
            Command::new(guichet_tests::binary())
                .args(command)
                .env("DATABASE_URL", &url)
                .env("RUST_LOG", "warn")
                .env_remove("GUICHET_CONFIG"),
        );
    }
    let db = TestDb {
        name: "guichet".to_owned(),
        url: url.clone(),
        pool: sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy(&url)
            .unwrap(),
    };
    let mut a = ServerProcess::start(&db).await;
    let mut b = ServerProcess::start(&db).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let login = client
        .post(a.url("/api/v1/agent/login"))
        .json(&json!({"email": "agent.voirie@guichet.example", "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 200);
    let token = login.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Before: a report filed through B is seen by A's index.
    let filed = client
        .post(b.url("/api/v1/requests"))
        .json(&pothole(RENNES.0 + 0.01))
        .send()
        .await
        .unwrap();
    assert_eq!(filed.status().as_u16(), 201);

    cluster.stop();
    let down = Instant::now();
    let mut answers = Vec::new();
    while down.elapsed() < Duration::from_secs(10) {
        for server in [&a, &b] {
            let calls = [
                timed("readyz", client.get(server.url("/readyz"))),
                timed(
                    "file",
                    client
                        .post(server.url("/api/v1/requests"))
                        .json(&pothole(RENNES.0 + 0.02)),
                ),
                timed(
                    "queue",
                    client
                        .get(server.url("/api/v1/agent/requests"))
                        .bearer_auth(&token),
                ),
            ];
            answers.extend(futures::future::join_all(calls).await);
        }
    }
    assert!(answers.len() >= 6);
    for answer in &answers {
        assert_eq!(
            answer.status, 503,
            "{} answered {}",
            answer.what, answer.status
        );
        assert!(
            answer.problem_with_retry,
            "{}: a problem with Retry-After",
            answer.what
        );
        assert!(
            answer.took <= Duration::from_secs(5),
            "{} took {:?}",
            answer.what,
            answer.took
        );
    }
    assert!(a.is_running() && b.is_running(), "no instance crashed");

    cluster.start();
    let up = Instant::now();
    for server in [&a, &b] {
        loop {
            let ready = client.get(server.url("/readyz")).send().await;
            let filed = client
                .post(server.url("/api/v1/requests"))
                .json(&pothole(RENNES.0 + 0.03))
                .send()
                .await;
            if ready.is_ok_and(|r| r.status().is_success())
                && filed.is_ok_and(|r| r.status().as_u16() == 201)
            {
                break;
            }
            assert!(
                up.elapsed() < Duration::from_secs(5),
                "not back after {:?}",
                up.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let back = up.elapsed();

    // A's listener is back: a report filed through B reaches A's index.
    let lat = RENNES.0 + 0.04;
    let filed = client
        .post(b.url("/api/v1/requests"))
        .json(&pothole(lat))
        .send()
        .await
        .unwrap();
    assert_eq!(filed.status().as_u16(), 201);
    let number = filed.json::<Value>().await.unwrap()["request_number"]
        .as_str()
        .unwrap()
        .to_owned();
    let since = Instant::now();
    while !nearby_finds(&client, &a, &number, lat).await {
        assert!(
            since.elapsed() < Duration::from_secs(5),
            "A's index never saw {number}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "outage drill: {} answers during the outage, slowest {:?}; both instances back {:?} after PostgreSQL",
        answers.len(),
        answers.iter().map(|a| a.took).max().unwrap_or_default(),
        back
    );
}
