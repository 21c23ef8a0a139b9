#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Retention and rights (CNIL): closed requests past their démarche's period are anonymised by
//! the housekeeping (statistics kept, the trace in the audit trail, the event log rewritten by
//! that one path only); a citizen downloads their data and closes their account.

use std::time::{Duration, Instant};

use guichet_tests::api::{agent_token, contact_request, get, post, verified_citizen};
use guichet_tests::{RENNES, TestServer};
use serde_json::{Value, json};
use uuid::Uuid;

/// Number, contact e-mail, form data, placed, démarche, outcome.
type AfterRetention = (String, Option<String>, Value, bool, String, Option<String>);
/// Number, phase, citizen, contact e-mail, form data.
type AfterClosing = (String, String, Option<i64>, Option<String>, Value);

async fn server() -> TestServer {
    TestServer::start_with(|c| c.accounts.purge_interval = Duration::from_millis(200)).await
}

/// Closes a request as if it had been `days` ago (the workflow's path to closing is tested
/// elsewhere; here only the date matters).
async fn closed_days_ago(server: &TestServer, number: &str, days: i32) {
    sqlx::query(
        "UPDATE requests SET phase = 'closed', outcome = 'resolved', status = 'closed',
                closed_at = now() - make_interval(days => $2)
          WHERE number = $1",
    )
    .bind(number)
    .bind(days)
    .execute(&server.db.pool)
    .await
    .unwrap();
}

async fn anonymised(server: &TestServer, number: &str) -> bool {
    let wait = Instant::now();
    loop {
        let done: Option<bool> =
            sqlx::query_scalar("SELECT anonymised_at IS NOT NULL FROM requests WHERE number = $1")
                .bind(number)
                .fetch_optional(&server.db.pool)
                .await
                .unwrap();
        if done == Some(true) {
            return true;
        }
        if wait.elapsed() > Duration::from_secs(10) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn closed_requests_past_their_period_lose_what_names_people_and_keep_their_statistics() {
    let server = server().await;
    let (status, contact) = post(
        &server,
        "/api/v1/requests",
        None,
        &contact_request(Uuid::new_v4(), "lea@example.org"),
    )
    .await;
    assert_eq!(status, 201, "{contact}");
    let private = contact["request_number"].as_str().unwrap().to_owned();
    let code = contact["tracking_code"].as_str().unwrap().to_owned();
    let (status, _) = post(
        &server,
        &format!("/api/v1/requests/{private}/messages"),
        None,
        &json!({"tracking_code": code, "message": "Mon digicode est le 4521B"}),
    )
    .await;
    assert_eq!(status, 204);
    let (status, pothole) = post(
        &server,
        "/api/v1/requests",
        None,
        &json!({
            "client_id": Uuid::new_v4(), "demarche": "voirie", "channel": "app",
            "data": {
                "location": {"lat": RENNES.0 + 0.01, "lon": RENNES.1, "accuracy_m": 5.0},
                "description": "Nid-de-poule devant chez Mme Durand",
            },
            "contact": {"name": "Léa Martin", "email": "lea@example.org"},
        }),
    )
    .await;
    assert_eq!(status, 201, "{pothole}");
    let incident = pothole["request_number"].as_str().unwrap().to_owned();

    // A contact request keeps its data 5 years after closing, an incident 1 year (the
    // catalogue's notices): at 400 days only the incident goes.
    closed_days_ago(&server, &private, 400).await;
    closed_days_ago(&server, &incident, 400).await;
    assert!(
        anonymised(&server, &incident).await,
        "the incident past its year"
    );
    assert!(
        !anonymised(&server, &private).await,
        "the contact request within its 5 years"
    );
    closed_days_ago(&server, &private, 5 * 365 + 10).await;
    assert!(anonymised(&server, &private).await);

    let pool = &server.db.pool;
    let rows: Vec<AfterRetention> = sqlx::query_as(
        "SELECT number, contact_email, data, location IS NOT NULL, demarche_code, outcome
           FROM requests WHERE number = ANY($1) ORDER BY number",
    )
    .bind(vec![private.clone(), incident.clone()])
    .fetch_all(pool)
    .await
    .unwrap();
    for (number, email, data, located, demarche, outcome) in &rows {
        assert_eq!(email, &None, "{number}");
        assert_eq!(data, &json!({}), "{number}");
        assert_eq!(
            outcome.as_deref(),
            Some("resolved"),
            "{number}: statistics kept"
        );
        // The incident's place was public already and stays; the contact request had none.
        assert_eq!(*located, number == &incident, "{number} ({demarche})");
    }
    let texts: String = sqlx::query_scalar(
        "SELECT string_agg(e.data::text, ' ') FROM events e JOIN requests r ON r.id = e.request_id
          WHERE r.number = ANY($1)",
    )
    .bind(vec![private.clone(), incident.clone()])
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(!texts.contains("digicode"), "{texts}");
    assert!(!texts.contains("lea@example.org"), "{texts}");
    let reports: String = sqlx::query_scalar(
        "SELECT string_agg(rp.description || coalesce(rp.contact_email, ''), ' ')
           FROM reports rp JOIN requests r ON r.id = rp.request_id WHERE r.number = $1",
    )
    .bind(&incident)
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(
        !reports.contains("Durand") && !reports.contains("lea@"),
        "{reports}"
    );
    // The old code opens nothing any more.
    let (status, _) = get(
        &server,
        &format!("/api/v1/requests/{private}?tracking_code={code}"),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // The event log allows that rewrite only: any other change is still refused.
    let refused = sqlx::query("UPDATE events SET data = '{}'")
        .execute(pool)
        .await;
    assert!(refused.is_err());
    let admin = agent_token(&server, "admin@guichet.example").await;
    let (_, traces) = get(
        &server,
        &format!("/api/v1/admin/audit?target={private}"),
        Some(&admin),
    )
    .await;
    assert!(
        traces["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["action"] == "retention.anonymised" && t["actor"] == "system"),
        "{traces}"
    );
}

#[tokio::test]
async fn a_citizen_downloads_their_data_then_closes_the_account() {
    let server = server().await;
    let token = verified_citizen(&server, "nina@example.org").await;
    // A contact request and an application for an aid.
    let aid = json!({
        "client_id": Uuid::new_v4(), "demarche": "aide-conseil", "channel": "web",
        "data": {"message": "Je souhaite un rendez-vous avec un conseiller."},
    });
    let mut numbers = Vec::new();
    for body in [contact_request(Uuid::new_v4(), "nina@example.org"), aid] {
        let (status, filed) = post(&server, "/api/v1/requests", Some(&token), &body).await;
        assert_eq!(status, 201, "{filed}");
        numbers.push(filed["request_number"].as_str().unwrap().to_owned());
    }

    let (status, data) = get(&server, "/api/v1/citizen/me/data", Some(&token)).await;
    assert_eq!(status, 200, "{data}");
    assert_eq!(data["account"]["email"], "nina@example.org");
    let exported: Vec<&str> = data["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["request"]["number"].as_str().unwrap())
        .collect();
    assert_eq!(exported.len(), 2);
    assert!(numbers.iter().all(|n| exported.contains(&n.as_str())));
    let contact = data["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["request"]["number"] == numbers[0].as_str())
        .unwrap();
    assert_eq!(contact["answers"]["last_name"], "Martin");
    assert_eq!(contact["contact"]["email"], "nina@example.org");
    assert!(
        !data.to_string().contains("password"),
        "no hash in the export"
    );

    // Closing needs the password again and a choice for the open requests.
    let close = |body: Value| {
        let server = &server;
        let token = token.clone();
        async move {
            guichet_tests::api::call(
                server,
                reqwest::Method::DELETE,
                "/api/v1/citizen/me",
                Some(&token),
                Some(&body),
            )
            .await
        }
    };
    let (status, problem) =
        close(json!({"password": "pas le bon", "open_requests": "withdraw"})).await;
    assert_eq!(status, 403, "{problem}");
    let (status, problem) =
        close(json!({"password": "un mot de passe solide", "open_requests": "maybe"})).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "open_requests");
    let (status, closed) =
        close(json!({"password": "un mot de passe solide", "open_requests": "withdraw"})).await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["withdrawn"], json!(numbers), "{closed}");
    assert_eq!(closed["kept"], json!([]), "{closed}");

    // The account is gone, its session with it; the requests stay for the service, detached.
    let (status, _) = get(&server, "/api/v1/citizen/me", Some(&token)).await;
    assert_eq!(status, 401);
    let rows: Vec<AfterClosing> = sqlx::query_as(
        "SELECT number, phase, citizen_id, contact_email, data FROM requests
          WHERE number = ANY($1) ORDER BY number",
    )
    .bind(&numbers)
    .fetch_all(&server.db.pool)
    .await
    .unwrap();
    for (number, phase, citizen, email, data) in rows {
        assert_eq!(phase, "withdrawn", "{number}");
        assert_eq!(citizen, None);
        assert_eq!(email, None);
        assert!(
            data.get("last_name").is_none() && data.get("contact_email").is_none(),
            "{data}"
        );
        assert!(data.get("message").is_some(), "the substance stays: {data}");
    }
    let (status, _) = post(
        &server,
        "/api/v1/citizen/login",
        None,
        &json!({"email": "nina@example.org", "password": "un mot de passe solide"}),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_citizen_who_closes_the_account_may_leave_open_requests_to_the_service() {
    let server = server().await;
    let token = verified_citizen(&server, "yann@example.org").await;
    let (status, filed) = post(
        &server,
        "/api/v1/requests",
        Some(&token),
        &contact_request(Uuid::new_v4(), "yann@example.org"),
    )
    .await;
    assert_eq!(status, 201, "{filed}");
    let number = filed["request_number"].as_str().unwrap().to_owned();
    let (status, closed) = guichet_tests::api::call(
        &server,
        reqwest::Method::DELETE,
        "/api/v1/citizen/me",
        Some(&token),
        Some(&json!({"password": "un mot de passe solide", "open_requests": "keep"})),
    )
    .await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["kept"], json!([number]));
    let (phase, citizen, email): (String, Option<i64>, Option<String>) =
        sqlx::query_as("SELECT phase, citizen_id, contact_email FROM requests WHERE number = $1")
            .bind(&number)
            .fetch_one(&server.db.pool)
            .await
            .unwrap();
    assert_ne!(phase, "withdrawn", "left open for the service");
    assert_eq!((citizen, email), (None, None));
}
