#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Signed webhooks: the admin API, fan-out from `notify`, signatures checked with an
//! independent HMAC (PostgreSQL's pgcrypto), retries with back-off and visible failures. The
//! real server runs its outbox worker with a short poll and retry base.

use std::time::Duration;

use guichet_server::config::NotifyConfig;
use guichet_server::notify::{self, Notice};
use guichet_tests::TestServer;
use guichet_tests::webhook_receiver::{ReceivedRequest, WebhookReceiver, expected_signature};
use serde_json::{Value, json};
use sqlx::PgPool;

const WAIT: Duration = Duration::from_secs(20);
const RETRY_BASE_MS: u64 = 150;

/// A server whose webhooks may reach the receivers of these tests, on 127.0.0.1.
async fn server(max_attempts: i32) -> TestServer {
    server_allowing(max_attempts, "127.0.0.1").await
}

/// `allow` is `GUICHET_WEBHOOK_ALLOW`.
async fn server_allowing(max_attempts: i32, allow: &str) -> TestServer {
    let allow = allow.parse().expect("allow-list");
    TestServer::start_with(|c| {
        c.outbox.poll_interval = Duration::from_millis(25);
        c.outbox.retry_base = Duration::from_millis(RETRY_BASE_MS);
        c.notify.webhook_max_attempts = max_attempts;
        c.notify.webhook_allow = allow;
    })
    .await
}

/// The notice settings the pipeline would pass (the attempts are fixed when enqueuing).
fn notify_config(server: &TestServer, max_attempts: i32) -> NotifyConfig {
    let mut cfg = NotifyConfig::new(&server.base);
    cfg.webhook_max_attempts = max_attempts;
    cfg
}

/// A bearer token of a new agent with `role`.
async fn agent_token(pool: &PgPool, role: &str) -> String {
    let email = format!("{role}-{}@ville.example", uuid::Uuid::new_v4().simple());
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO agents (email, name, role, password_hash) VALUES ($1, 'Test', $2, 'x')
         RETURNING id",
    )
    .bind(&email)
    .bind(role)
    .fetch_one(pool)
    .await
    .unwrap();
    let (token, digest) = guichet_server::auth::new_token();
    sqlx::query(
        "INSERT INTO sessions (token_sha256, agent_id, expires_at)
         VALUES ($1, $2, now() + interval '1 hour')",
    )
    .bind(digest)
    .bind(id)
    .execute(pool)
    .await
    .unwrap();
    token
}

async fn subscribe(server: &TestServer, admin: &str, body: Value) -> Value {
    server
        .post("/api/v1/admin/webhooks")
        .bearer(admin)
        .json(&body)
        .send()
        .await
        .expect(201)
        .json()
}

async fn get_json(server: &TestServer, token: &str, path: &str) -> Value {
    server
        .get(path)
        .bearer(token)
        .send()
        .await
        .expect(200)
        .json()
}

/// A pothole request routed to the road team, with a contact that must never leave the
/// service in a webhook.
async fn insert_request(pool: &PgPool) -> (i64, String) {
    let number = format!(
        "2026-SIG-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..6]
    );
    let id = sqlx::query_scalar(
        "INSERT INTO requests (number, tracking_code_digest, demarche_code, demarche_revision, channel,
                               status, phase, team_id, workflow, contact_email, contact_name,
                               location)
         SELECT $1, sha256('TRACK-SECRET-1'), d.code, d.current_revision, 'app', 'new', 'received',
                rr.team_id, 'report', 'private.person@example.org', 'Dominique Privé',
                ST_SetSRID(ST_MakePoint(-1.68, 48.11), 4326)::geography
           FROM demarches d JOIN routing_rules rr ON rr.demarche_code = d.code
          WHERE d.code = 'voirie'
         RETURNING id",
    )
    .bind(&number)
    .fetch_one(pool)
    .await
    .unwrap();
    (id, number)
}

async fn send(pool: &PgPool, cfg: &NotifyConfig, request_id: i64, notice: Notice<'_>) {
    let mut tx = pool.begin().await.unwrap();
    notify::notify(&mut tx, cfg, request_id, notice)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn close_as_not_ours(pool: &PgPool, cfg: &NotifyConfig, request_id: i64) {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query(
        "UPDATE requests SET status = 'not_ours', phase = 'closed', outcome = 'redirected',
                             closed_at = now() WHERE id = $1",
    )
    .bind(request_id)
    .execute(&mut *tx)
    .await
    .unwrap();
    notify::notify(
        &mut tx,
        cfg,
        request_id,
        Notice::StatusChanged {
            from: "new",
            to: "not_ours",
            after_photos: &[],
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

/// Checks the headers and the signature of one delivery against `secret`.
async fn assert_signed(pool: &PgPool, request: &ReceivedRequest, secret: &str) {
    assert_eq!(request.method, "POST");
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body = request.json();
    assert_eq!(request.header("guichet-event"), body["type"].as_str());
    assert_eq!(request.header("guichet-event-id"), body["id"].as_str());
    let (t, v1) = request
        .signature_parts()
        .expect("Guichet-Signature: t=…,v1=…");
    assert_eq!(request.header("guichet-timestamp"), Some(t.as_str()));
    let ts: i64 = t.parse().expect("unix seconds");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        (now - ts).abs() < 120,
        "timestamp {ts} is not current ({now})"
    );
    let expected = expected_signature(pool, secret, &t, &request.body).await;
    assert_eq!(v1, expected, "signature of {}", request.body_text());
    // Any change to the body breaks it.
    let mut tampered = request.body.clone();
    tampered.push(b' ');
    assert_ne!(v1, expected_signature(pool, secret, &t, &tampered).await);
}

#[tokio::test]
async fn the_admin_api_is_for_admins_and_checks_what_it_is_given() {
    let server = server(3).await;
    let admin = agent_token(&server.db.pool, "admin").await;
    let agent = agent_token(&server.db.pool, "supervisor").await;
    let good = json!({
        "url": "https://erp.ville.example/hooks/guichet",
        "events": ["request.created", "request.closed"],
        "description": "ERP voirie",
    });

    server
        .post("/api/v1/admin/webhooks")
        .bearer(&agent)
        .json(&good)
        .send()
        .await
        .expect_problem(403, "forbidden");
    server
        .get("/api/v1/admin/webhooks")
        .bearer(&agent)
        .send()
        .await
        .expect_problem(403, "forbidden");
    server
        .get("/api/v1/admin/webhooks")
        .send()
        .await
        .expect_problem(401, "unauthenticated");

    for (body, status, code, field) in [
        (
            json!({"url": "ftp://erp.ville.example/in", "events": ["request.created"]}),
            422,
            "invalid-url",
            "url",
        ),
        (
            json!({"url": "not a url", "events": ["request.created"]}),
            422,
            "invalid-url",
            "url",
        ),
        (
            json!({"url": "file:///etc/passwd", "events": ["request.created"]}),
            422,
            "invalid-url",
            "url",
        ),
        (
            json!({"url": "https://erp:hunter2@erp.ville.example/in", "events": ["request.created"]}),
            422,
            "invalid-url",
            "url",
        ),
        (
            json!({"url": "https://erp.ville.example/in", "events": ["request.created", "request.deleted"]}),
            422,
            "unknown-event",
            "events[1]",
        ),
        (
            json!({"url": "https://erp.ville.example/in", "events": []}),
            422,
            "validation-failed",
            "events",
        ),
        (
            json!({"url": "https://erp.ville.example/in", "events": ["request.created"], "secret": "short"}),
            422,
            "invalid-secret",
            "secret",
        ),
        (
            json!({"events": ["request.created"]}),
            422,
            "validation-failed",
            "url",
        ),
    ] {
        let problem = server
            .post("/api/v1/admin/webhooks")
            .bearer(&admin)
            .json(&body)
            .send()
            .await
            .expect_problem(status, code);
        assert_eq!(problem["field"], field, "{problem}");
    }

    let created = subscribe(&server, &admin, good).await;
    let secret = created["secret"].as_str().expect("the secret, once");
    assert!(secret.starts_with("whsec_") && secret.len() > 40);
    assert_eq!(created["active"], true);
    let id = created["id"].as_i64().unwrap();

    let list = get_json(&server, &admin, "/api/v1/admin/webhooks").await;
    let listed = &list["webhooks"][0];
    assert_eq!(listed["id"], id);
    assert_eq!(listed["url"], "https://erp.ville.example/hooks/guichet");
    assert_eq!(
        listed["events"],
        json!(["request.created", "request.closed"])
    );
    assert!(
        listed.get("secret").is_none(),
        "never shown again: {listed}"
    );

    server
        .delete(&format!("/api/v1/admin/webhooks/{id}"))
        .bearer(&admin)
        .send()
        .await
        .expect(204);
    let list = get_json(&server, &admin, "/api/v1/admin/webhooks").await;
    assert_eq!(list["webhooks"][0]["active"], false);
    server
        .delete("/api/v1/admin/webhooks/999999")
        .bearer(&admin)
        .send()
        .await
        .expect_problem(404, "webhook-not-found");
    server
        .get(&format!(
            "/api/v1/admin/webhooks/{id}/deliveries?status=lost"
        ))
        .bearer(&admin)
        .send()
        .await
        .expect_problem(422, "invalid-status");
}

#[tokio::test]
async fn events_are_signed_carry_no_personal_data_and_have_unique_ids() {
    let server = server(3).await;
    let admin = agent_token(&server.db.pool, "admin").await;
    let all = WebhookReceiver::start().await;
    let created_only = WebhookReceiver::start().await;
    let secret_all = "whsec-all-events-0123456789";
    let sub_all = subscribe(
        &server,
        &admin,
        json!({
            "url": all.url(),
            "secret": secret_all,
            "events": ["request.created", "request.status_changed", "request.closed", "request.merged"],
        }),
    )
    .await;
    let sub_created = subscribe(
        &server,
        &admin,
        json!({"url": created_only.url(), "events": ["request.created"]}),
    )
    .await;
    let secret_created = sub_created["secret"].as_str().unwrap().to_owned();

    let cfg = notify_config(&server, 3);
    let pool = &server.db.pool;
    let (id, number) = insert_request(pool).await;
    // The filer's clear code goes with the acknowledgement, never to webhooks.
    let created = Notice::Created {
        tracking_code: Some("TRACK-SECRET-1"),
    };
    send(pool, &cfg, id, created).await;
    let a = all.wait_for_count(1, WAIT).await;
    let b = created_only.wait_for_count(1, WAIT).await;
    assert_signed(pool, &a[0], secret_all).await;
    assert_signed(pool, &b[0], &secret_created).await;
    let event = a[0].json();
    assert_eq!(event["type"], "request.created");
    // One event, one id, whatever the number of subscribers.
    assert_eq!(event["id"], b[0].json()["id"]);
    assert_eq!(a[0].body, b[0].body);
    let data = &event["data"];
    assert_eq!(data["number"], number.as_str());
    assert_eq!(data["demarche"], "voirie");
    assert_eq!(data["phase"], "received");
    assert_eq!(
        data["status_label"],
        json!({"fr": "Reçue", "en": "Received"})
    );
    assert!(data["team"].is_string());
    assert!(
        time::OffsetDateTime::parse(
            event["created_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339
        )
        .is_ok()
    );

    close_as_not_ours(pool, &cfg, id).await;
    let a = all.wait_for_count(3, WAIT).await;
    let mut types: Vec<String> = a
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_owned())
        .collect();
    // The last two are due at the same moment: their order is not guaranteed.
    types[1..].sort();
    assert_eq!(
        types,
        [
            "request.created",
            "request.closed",
            "request.status_changed"
        ]
    );
    for r in &a[1..] {
        assert_signed(pool, r, secret_all).await;
        let data = &r.json()["data"];
        assert_eq!(data["phase"], "closed");
        assert_eq!(data["outcome"], "redirected");
        assert_eq!(data["status_label"]["en"], "Passed to the competent body");
        assert_eq!(data["previous_phase"], "received");
    }
    let mut ids: Vec<String> = a
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "every event has its own id");
    for r in &a {
        let text = r.body_text();
        for private in [
            "private.person@example.org",
            "Dominique",
            "TRACK-SECRET-1",
            "not_ours",
        ] {
            assert!(!text.contains(private), "{private} in {text}");
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        created_only.requests().len(),
        1,
        "only the types subscribed to"
    );

    // Delivered, as the administrator sees it, and in the request's audit trail.
    // The worker records a delivery right after the receiver's answer.
    let sub_id = sub_all["id"].as_i64().unwrap();
    let path = format!("/api/v1/admin/webhooks/{sub_id}/deliveries?status=delivered");
    let started = std::time::Instant::now();
    let deliveries = loop {
        let list = get_json(&server, &admin, &path).await;
        let d = list["deliveries"].as_array().cloned().unwrap_or_default();
        if d.len() == 3 {
            break d;
        }
        assert!(started.elapsed() < WAIT, "{list}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(deliveries.iter().all(|d| d["attempts"] == 1
        && d["last_status"] == 204
        && d["request_number"] == number.as_str()));
    let started = std::time::Instant::now();
    loop {
        let recorded: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM events
              WHERE request_id = $1 AND kind = 'webhook_delivered' AND NOT public",
        )
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap();
        if recorded == 4 {
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "{recorded} webhook_delivered events"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_growing_delays_until_delivered() {
    let server = server(5).await;
    let admin = agent_token(&server.db.pool, "admin").await;
    let receiver = WebhookReceiver::start_failing(2).await;
    let sub = subscribe(
        &server,
        &admin,
        json!({"url": receiver.url(), "events": ["request.created"]}),
    )
    .await;
    let cfg = notify_config(&server, 5);
    let (id, _) = insert_request(&server.db.pool).await;
    send(
        &server.db.pool,
        &cfg,
        id,
        Notice::Created {
            tracking_code: None,
        },
    )
    .await;

    let got = receiver.wait_for_count(3, WAIT).await;
    assert_eq!(
        got.iter().map(|r| r.answered).collect::<Vec<_>>(),
        [500, 500, 204]
    );
    // The same event, byte for byte, on every attempt.
    assert!(got.iter().all(|r| r.body == got[0].body));
    let first_gap = got[1].received_at - got[0].received_at;
    let second_gap = got[2].received_at - got[1].received_at;
    assert!(
        first_gap >= Duration::from_millis(RETRY_BASE_MS),
        "first retry after {first_gap:?}"
    );
    assert!(
        second_gap >= Duration::from_millis(2 * RETRY_BASE_MS),
        "second retry after {second_gap:?}"
    );

    let sub_id = sub["id"].as_i64().unwrap();
    let path = format!("/api/v1/admin/webhooks/{sub_id}/deliveries");
    let started = std::time::Instant::now();
    let delivery = loop {
        let list = get_json(&server, &admin, &path).await;
        let d = list["deliveries"][0].clone();
        if d["status"] == "delivered" {
            break d;
        }
        assert!(started.elapsed() < WAIT, "{d}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(delivery["attempts"], 3);
    assert_eq!(delivery["last_status"], 204);
    assert!(delivery["delivered_at"].is_string());
    tokio::time::sleep(Duration::from_millis(4 * RETRY_BASE_MS)).await;
    assert_eq!(receiver.requests().len(), 3, "no delivery after success");
}

#[tokio::test]
async fn a_receiver_that_always_fails_ends_failed_and_shows_in_the_admin_list() {
    let server = server(3).await;
    let admin = agent_token(&server.db.pool, "admin").await;
    let receiver = WebhookReceiver::start_always_failing().await;
    let sub = subscribe(
        &server,
        &admin,
        json!({"url": receiver.url(), "events": ["request.created"], "description": "down"}),
    )
    .await;
    let cfg = notify_config(&server, 3);
    let (id, number) = insert_request(&server.db.pool).await;
    send(
        &server.db.pool,
        &cfg,
        id,
        Notice::Created {
            tracking_code: None,
        },
    )
    .await;

    let sub_id = sub["id"].as_i64().unwrap();
    let path = format!("/api/v1/admin/webhooks/{sub_id}/deliveries?status=failed");
    let started = std::time::Instant::now();
    let failed = loop {
        let list = get_json(&server, &admin, &path).await;
        if let Some(d) = list["deliveries"].as_array().and_then(|a| a.first()) {
            break d.clone();
        }
        assert!(started.elapsed() < WAIT, "no failed delivery yet");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(failed["attempts"], 3);
    assert_eq!(failed["last_status"], 500);
    // The status, never what the receiver wrote back ("receiver failing on purpose").
    assert_eq!(
        failed["last_error"], "HTTP 500 Internal Server Error",
        "{failed}"
    );
    assert!(failed["failed_at"].is_string());
    assert!(failed["next_attempt_at"].is_null());
    assert_eq!(failed["event_type"], "request.created");
    assert_eq!(failed["request_number"], number.as_str());

    let list = get_json(&server, &admin, "/api/v1/admin/webhooks").await;
    let listed = list["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == sub_id)
        .cloned()
        .unwrap();
    assert_eq!(listed["failed_deliveries"], 1);
    assert_eq!(listed["pending_deliveries"], 0);
    // The outbox job ends failed too (just after the delivery row records the failure).
    let started = std::time::Instant::now();
    loop {
        let job_failed: bool = sqlx::query_scalar(
            "SELECT failed_at IS NOT NULL FROM outbox_jobs WHERE kind = 'webhook.deliver'",
        )
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
        if job_failed {
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "the outbox job never ended failed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(8 * RETRY_BASE_MS)).await;
    assert_eq!(receiver.requests().len(), 3, "no attempt past the last");
}

#[tokio::test]
async fn internal_targets_are_refused_unless_allowed() {
    let server = server_allowing(3, "").await;
    let admin = agent_token(&server.db.pool, "admin").await;
    let receiver = WebhookReceiver::start().await;
    let port = reqwest::Url::parse(&receiver.url())
        .unwrap()
        .port()
        .unwrap();

    for (url, addresses) in [
        (receiver.url(), &["127.0.0.1"][..]),
        // A name is refused for what it resolves to.
        (
            format!("http://localhost:{port}/hooks"),
            &["127.0.0.1", "::1"],
        ),
        (format!("http://2130706433:{port}/hooks"), &["127.0.0.1"]),
        (format!("http://[::1]:{port}/hooks"), &["::1"]),
        (
            format!("http://[::ffff:127.0.0.1]:{port}/"),
            &["::ffff:127.0.0.1"],
        ),
        (format!("http://0.0.0.0:{port}/"), &["0.0.0.0"]),
        (
            "http://169.254.169.254/latest/meta-data/".to_owned(),
            &["169.254.169.254"],
        ),
        ("http://10.0.0.5:8080/in".to_owned(), &["10.0.0.5"]),
        ("http://100.64.0.1/in".to_owned(), &["100.64.0.1"]),
        ("https://[fd00::1]/in".to_owned(), &["fd00::1"]),
    ] {
        let problem = server
            .post("/api/v1/admin/webhooks")
            .bearer(&admin)
            .json(&json!({"url": url, "events": ["request.created"]}))
            .send()
            .await
            .expect_problem(422, "webhook-target-forbidden");
        assert_eq!(problem["field"], "url", "{problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            addresses.iter().any(|a| detail.contains(a)),
            "{url}: {problem}"
        );
    }
    let list = get_json(&server, &admin, "/api/v1/admin/webhooks").await;
    assert_eq!(list["webhooks"], json!([]));

    // A subscription that got past the check (one made before it, or a name that resolves
    // elsewhere since) is checked again at delivery: refused once, for good, nothing sent.
    let sub_id: i64 = sqlx::query_scalar(
        "INSERT INTO webhook_subscriptions (url, secret, events)
         VALUES ($1, 'whsec-old-subscription-0123', ARRAY['request.created'])
         RETURNING id",
    )
    .bind(receiver.url())
    .fetch_one(&server.db.pool)
    .await
    .unwrap();
    let cfg = notify_config(&server, 3);
    let (id, _) = insert_request(&server.db.pool).await;
    send(
        &server.db.pool,
        &cfg,
        id,
        Notice::Created {
            tracking_code: None,
        },
    )
    .await;
    let path = format!("/api/v1/admin/webhooks/{sub_id}/deliveries?status=failed");
    let started = std::time::Instant::now();
    let failed = loop {
        let list = get_json(&server, &admin, &path).await;
        if let Some(d) = list["deliveries"].as_array().and_then(|a| a.first()) {
            break d.clone();
        }
        assert!(started.elapsed() < WAIT, "no failed delivery yet");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(failed["attempts"], 1, "{failed}");
    assert!(failed["last_status"].is_null(), "{failed}");
    assert_eq!(
        failed["last_error"], "target address 127.0.0.1 is not allowed",
        "{failed}"
    );
    tokio::time::sleep(Duration::from_millis(4 * RETRY_BASE_MS)).await;
    assert!(
        receiver.requests().is_empty(),
        "nothing reached the receiver"
    );
}
