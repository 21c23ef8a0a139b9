#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Rate limits against the real server: each limit answers 429 problem+json with
//! `Retry-After` once its allowance is spent, and spares the other addresses and accounts.
//! The servers trust 127.0.0.1 as their proxy, so each call names its client address in
//! `X-Forwarded-For` as a load balancer would.

use std::time::Duration;

use guichet_server::Config;
use guichet_server::config::Rate;
use guichet_tests::api::{DEMO_PASSWORD, contact_request};
use guichet_tests::{Answer, RENNES, TestServer, multipart, report_at};
use serde_json::json;
use uuid::Uuid;

const VOIRIE: &str = "agent.voirie@guichet.example";
const PROPRETE: &str = "agent.proprete@guichet.example";

/// A server with the limits on, behind a proxy at 127.0.0.1, with the allowances `tune` sets
/// (the others stay at their generous defaults).
async fn server(tune: impl FnOnce(&mut Config)) -> TestServer {
    TestServer::start_with(|c| {
        c.limits.enabled = true;
        c.limits.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        tune(c);
    })
    .await
}

/// Asserts a 429 problem with a `Retry-After` of at least a second.
#[track_caller]
fn assert_limited(answer: Answer) -> u64 {
    let retry: u64 = answer
        .header("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After"))
        .parse()
        .expect("Retry-After in seconds");
    assert!(retry >= 1);
    answer.expect_problem(429, "rate-limited");
    retry
}

async fn agent_login(server: &TestServer, ip: &str, email: &str, password: &str) -> Answer {
    server
        .post("/api/v1/agent/login")
        .header("x-forwarded-for", ip)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
}

#[tokio::test]
async fn logins_are_limited_per_client_address() {
    let server = server(|c| c.limits.login = Rate::per_minute(3)).await;
    for _ in 0..2 {
        agent_login(&server, "198.51.100.1", VOIRIE, DEMO_PASSWORD)
            .await
            .expect(200);
    }
    server
        .post("/api/v1/citizen/login")
        .header("x-forwarded-for", "198.51.100.1")
        .json(&json!({ "email": "nobody@example.org", "password": "whatever it is" }))
        .send()
        .await
        .expect(401);
    // The fourth login from that address, agent or citizen, waits.
    let retry = assert_limited(agent_login(&server, "198.51.100.1", VOIRIE, DEMO_PASSWORD).await);
    assert!(retry <= 60, "{retry}");
    // Another address is not affected.
    agent_login(&server, "198.51.100.2", VOIRIE, DEMO_PASSWORD)
        .await
        .expect(200);
}

#[tokio::test]
async fn forwarded_for_is_ignored_without_a_trusted_proxy() {
    let server = TestServer::start_with(|c| {
        c.limits.enabled = true;
        c.limits.login = Rate::per_minute(2);
    })
    .await;
    agent_login(&server, "198.51.100.1", VOIRIE, DEMO_PASSWORD)
        .await
        .expect(200);
    agent_login(&server, "198.51.100.2", VOIRIE, DEMO_PASSWORD)
        .await
        .expect(200);
    // Every call came from 127.0.0.1, whatever the header claimed.
    assert_limited(agent_login(&server, "198.51.100.3", VOIRIE, DEMO_PASSWORD).await);
}

#[tokio::test]
async fn failed_logins_are_counted_per_account_and_address_across_instances() {
    let tune = |c: &mut Config| {
        c.limits.login_failures = Rate::new(3, Duration::from_secs(15 * 60));
    };
    let first = server(tune).await;
    // A second instance on the same database: what one counts, the other sees.
    let second = TestServer::start_on(first.db.reopen().await, |c| {
        c.limits.enabled = true;
        c.limits.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        tune(c);
    })
    .await;
    let attacker = "203.0.113.66";
    agent_login(&first, attacker, VOIRIE, "not the password")
        .await
        .expect_problem(401, "invalid-credentials");
    agent_login(&second, attacker, VOIRIE, "not the password either")
        .await
        .expect_problem(401, "invalid-credentials");
    agent_login(&first, attacker, VOIRIE, "still not it")
        .await
        .expect_problem(401, "invalid-credentials");
    let rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM login_failures WHERE realm = 'agent' AND account = $1 AND client = $2",
    )
    .bind(VOIRIE)
    .bind(attacker)
    .fetch_one(&first.db.pool)
    .await
    .unwrap();
    assert_eq!(rows, 3);
    // Blocked on both instances, even with the right password now.
    let retry = assert_limited(agent_login(&second, attacker, VOIRIE, DEMO_PASSWORD).await);
    assert!(retry > 60 && retry <= 15 * 60, "{retry}");
    assert_limited(agent_login(&first, attacker, VOIRIE, DEMO_PASSWORD).await);
    // The agent, from their own address, is not locked out; other accounts neither.
    agent_login(&first, "192.0.2.10", VOIRIE, DEMO_PASSWORD)
        .await
        .expect(200);
    agent_login(&second, attacker, PROPRETE, DEMO_PASSWORD)
        .await
        .expect(200);
    // Citizens' failures are counted the same way, apart from the agents'.
    for _ in 0..3 {
        first
            .post("/api/v1/citizen/login")
            .header("x-forwarded-for", attacker)
            .json(&json!({ "email": VOIRIE, "password": "a guess at it" }))
            .send()
            .await
            .expect(401);
    }
    assert_limited(
        first
            .post("/api/v1/citizen/login")
            .header("x-forwarded-for", attacker)
            .json(&json!({ "email": VOIRIE, "password": "a guess at it" }))
            .send()
            .await,
    );
}

async fn register(server: &TestServer, ip: &str, email: &str) -> Answer {
    server
        .post("/api/v1/citizen/register")
        .header("x-forwarded-for", ip)
        .json(&json!({ "email": email, "password": "un mot de passe solide" }))
        .send()
        .await
}

async fn resend(server: &TestServer, ip: &str, email: &str) -> Answer {
    server
        .post("/api/v1/citizen/verify/resend")
        .header("x-forwarded-for", ip)
        .json(&json!({ "email": email }))
        .send()
        .await
}

#[tokio::test]
async fn account_mails_are_limited_per_client_address() {
    let server = server(|c| c.limits.account_mail = Rate::per_hour(3)).await;
    register(&server, "198.51.100.1", "a@example.org")
        .await
        .expect(202);
    register(&server, "198.51.100.1", "b@example.org")
        .await
        .expect(202);
    resend(&server, "198.51.100.1", "a@example.org")
        .await
        .expect(202);
    assert_limited(register(&server, "198.51.100.1", "c@example.org").await);
    assert_limited(resend(&server, "198.51.100.1", "b@example.org").await);
    register(&server, "198.51.100.2", "c@example.org")
        .await
        .expect(202);
}

#[tokio::test]
async fn mails_to_one_address_are_limited_whoever_asks() {
    let server = server(|c| c.limits.mail_to = Rate::per_hour(2)).await;
    register(&server, "198.51.100.1", "victim@example.org")
        .await
        .expect(202);
    resend(&server, "198.51.100.2", "victim@example.org")
        .await
        .expect(202);
    assert_limited(resend(&server, "198.51.100.3", "Victim@Example.org").await);
    assert_limited(register(&server, "198.51.100.4", "victim@example.org").await);
    resend(&server, "198.51.100.3", "other@example.org")
        .await
        .expect(202);
}

async fn file(server: &TestServer, ip: &str, token: Option<&str>) -> Answer {
    let mut call = server
        .post("/api/v1/requests")
        .header("x-forwarded-for", ip)
        .json(&contact_request(Uuid::new_v4(), "lea@example.org"));
    if let Some(t) = token {
        call = call.bearer(t);
    }
    call.send().await
}

async fn report(server: &TestServer, ip: &str) -> Answer {
    let (lat, lon) = RENNES;
    server
        .post("/api/v1/reports")
        .header("x-forwarded-for", ip)
        .multipart(multipart(&report_at("voirie", lat, lon), &[]))
        .send()
        .await
}

async fn citizen_token(server: &TestServer, email: &str) -> String {
    register(server, "192.0.2.200", email).await.expect(202);
    server
        .post("/api/v1/citizen/login")
        .header("x-forwarded-for", "192.0.2.200")
        .json(&json!({ "email": email, "password": "un mot de passe solide" }))
        .send()
        .await
        .expect(200)
        .json()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn filing_is_limited_per_client_address_and_per_account() {
    let server = server(|c| c.limits.filing = Rate::per_hour(3)).await;
    // Reports and requests share one allowance per address.
    report(&server, "198.51.100.1").await.expect(201);
    file(&server, "198.51.100.1", None).await.expect(201);
    file(&server, "198.51.100.1", None).await.expect(201);
    assert_limited(file(&server, "198.51.100.1", None).await);
    assert_limited(report(&server, "198.51.100.1").await);
    report(&server, "198.51.100.2").await.expect(201);

    // A logged-in citizen changing addresses still has one allowance.
    let token = citizen_token(&server, "nina@example.org").await;
    for ip in ["198.51.100.11", "198.51.100.12", "198.51.100.13"] {
        file(&server, ip, Some(&token)).await.expect(201);
    }
    assert_limited(file(&server, "198.51.100.14", Some(&token)).await);
    file(&server, "198.51.100.14", None).await.expect(201);
}

#[tokio::test]
async fn me_too_and_messages_are_limited_per_client_address() {
    let server = server(|c| {
        c.limits.support = Rate::per_hour(2);
        c.limits.messages = Rate::per_hour(2);
    })
    .await;
    let receipt = report(&server, "192.0.2.1").await.expect(201).json();
    let number = receipt["request_number"].as_str().unwrap();
    let support = |ip: &'static str| {
        server
            .post(&format!("/api/v1/requests/{number}/support"))
            .header("x-forwarded-for", ip)
            .json(&json!({ "client_id": Uuid::new_v4() }))
            .send()
    };
    support("198.51.100.1").await.expect(201);
    support("198.51.100.1").await.expect(201);
    assert_limited(support("198.51.100.1").await);
    support("198.51.100.2").await.expect(201);

    let filed = file(&server, "192.0.2.1", None).await.expect(201).json();
    let number = filed["request_number"].as_str().unwrap();
    let code = filed["tracking_code"].as_str().unwrap();
    let message = |ip: &'static str| {
        server
            .post(&format!("/api/v1/requests/{number}/messages"))
            .header("x-forwarded-for", ip)
            .json(&json!({ "tracking_code": code, "message": "Une précision." }))
            .send()
    };
    message("198.51.100.1").await.expect(204);
    message("198.51.100.1").await.expect(204);
    assert_limited(message("198.51.100.1").await);
    message("198.51.100.2").await.expect(204);
}

#[tokio::test]
async fn map_reads_are_limited_per_client_address() {
    let server = server(|c| c.limits.reads = Rate::per_minute(3)).await;
    let (lat, lon) = RENNES;
    let nearby = format!("/api/v1/reports/nearby?lat={lat}&lon={lon}&category=voirie");
    let map = "/api/v1/incidents?bbox=-1.75,48.08,-1.62,48.14&zoom=14";
    let read =
        |path: String, ip: &'static str| server.get(&path).header("x-forwarded-for", ip).send();
    read(nearby.clone(), "198.51.100.1").await.expect(200);
    read(map.to_owned(), "198.51.100.1").await.expect(200);
    read(nearby.clone(), "198.51.100.1").await.expect(200);
    assert_limited(read(map.to_owned(), "198.51.100.1").await);
    assert_limited(read(nearby.clone(), "198.51.100.1").await);
    read(map.to_owned(), "198.51.100.2").await.expect(200);
}

#[tokio::test]
async fn agent_calls_are_limited_per_agent_not_per_address() {
    let server = server(|c| c.limits.agent = Rate::per_minute(4)).await;
    let mut tokens = Vec::new();
    for email in [VOIRIE, PROPRETE] {
        let session = agent_login(&server, "192.0.2.7", email, DEMO_PASSWORD)
            .await
            .expect(200)
            .json();
        tokens.push(session["token"].as_str().unwrap().to_owned());
    }
    let (voirie, proprete) = (&tokens[0], &tokens[1]);
    // All from one city hall address.
    let queue = |t: &str| {
        server
            .get("/api/v1/agent/requests")
            .header("x-forwarded-for", "192.0.2.7")
            .bearer(t)
            .send()
    };
    for _ in 0..4 {
        queue(voirie).await.expect(200);
    }
    assert_limited(queue(voirie).await);
    assert_limited(
        server
            .get("/api/v1/agent/me")
            .header("x-forwarded-for", "192.0.2.8")
            .bearer(voirie)
            .send()
            .await,
    );
    for _ in 0..4 {
        queue(proprete).await.expect(200);
    }
}

#[tokio::test]
async fn off_turns_every_limit_off() {
    // The kit's default: GUICHET_RATE_LIMITS=off, whatever the allowances say.
    let server = TestServer::start_with(|c| {
        c.limits.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        c.limits.login = Rate::per_minute(1);
        c.limits.login_failures = Rate::new(1, Duration::from_secs(900));
        c.limits.filing = Rate::per_hour(1);
    })
    .await;
    for _ in 0..3 {
        agent_login(&server, "203.0.113.66", VOIRIE, "wrong password")
            .await
            .expect(401);
    }
    agent_login(&server, "203.0.113.66", VOIRIE, DEMO_PASSWORD)
        .await
        .expect(200);
    for _ in 0..3 {
        file(&server, "203.0.113.66", None).await.expect(201);
    }
    assert_eq!(server.db.count("login_failures").await, 0);
}
