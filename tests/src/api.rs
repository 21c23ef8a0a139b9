//! Small JSON helpers for the pipeline's API: log in as a demo agent or a citizen, call a
//! route with a bearer token and get the status and the body back (a shorthand over
//! [`crate::call`]).

use serde_json::{Value, json};

use crate::TestServer;

/// The password of every demo agent (assets/demo-agents.json).
pub const DEMO_PASSWORD: &str = "guichet-demo";

/// The status and the body (JSON, else the text as a JSON string, `null` when empty).
pub async fn call(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut call = server.call(method, path);
    if let Some(t) = token {
        call = call.bearer(t);
    }
    if let Some(b) = body {
        call = call.json(b);
    }
    let answer = call.send().await;
    (answer.status(), answer.value())
}

pub async fn get(server: &TestServer, path: &str, token: Option<&str>) -> (u16, Value) {
    call(server, reqwest::Method::GET, path, token, None).await
}

pub async fn post(
    server: &TestServer,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    call(server, reqwest::Method::POST, path, token, Some(body)).await
}

pub async fn patch(
    server: &TestServer,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    call(server, reqwest::Method::PATCH, path, token, Some(body)).await
}

/// Logs in a demo agent; returns the bearer token.
pub async fn agent_token(server: &TestServer, email: &str) -> String {
    let (status, body) = post(
        server,
        "/api/v1/agent/login",
        None,
        &json!({ "email": email, "password": DEMO_PASSWORD }),
    )
    .await;
    assert_eq!(status, 200, "login {email}: {body}");
    body["token"].as_str().expect("token").to_owned()
}

/// The password of the citizen accounts the tests make.
pub const CITIZEN_PASSWORD: &str = "un mot de passe solide";

/// Registers a citizen account, verifies its address as the e-mailed link would (that path
/// has its own tests) and logs in; returns the session's token.
pub async fn verified_citizen(server: &TestServer, email: &str) -> String {
    let (status, body) = post(
        server,
        "/api/v1/citizen/register",
        None,
        &json!({"email": email, "name": "Nina Perrin", "password": CITIZEN_PASSWORD}),
    )
    .await;
    assert_eq!(status, 202, "register {email}: {body}");
    sqlx::query("UPDATE citizens SET email_verified_at = now() WHERE email = $1")
        .bind(email)
        .execute(&server.db.pool)
        .await
        .expect("verify");
    citizen_login(server, email).await
}

/// Logs in a citizen account made with [`CITIZEN_PASSWORD`]; returns the session's token.
pub async fn citizen_login(server: &TestServer, email: &str) -> String {
    let (status, body) = post(
        server,
        "/api/v1/citizen/login",
        None,
        &json!({"email": email, "password": CITIZEN_PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "login {email}: {body}");
    body["token"].as_str().expect("token").to_owned()
}

/// A filled-in contact request (démarche `demande-contact`).
pub fn contact_request(client_id: uuid::Uuid, email: &str) -> Value {
    json!({
        "client_id": client_id,
        "demarche": "demande-contact",
        "channel": "web",
        "data": {
            "subject": "information",
            "message": "Bonjour, quels sont les horaires d'ouverture de la mairie le samedi ?",
            "last_name": "Martin",
            "first_name": "Léa",
            "contact_email": email,
            "reply_channel": "email",
        },
        "contact": { "name": "Léa Martin", "email": email },
    })
}

/// The catalogue entry of `code` as shipped, with its shared form written inline: what an
/// admin would send to `PUT /api/v1/admin/demarches/{code}`.
pub fn shipped_entry(code: &str) -> Value {
    let catalogue: Value =
        serde_json::from_str(guichet_server::demo::CATALOGUE_JSON).expect("the shipped catalogue");
    let mut entry = catalogue["demarches"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["code"] == code))
        .unwrap_or_else(|| panic!("no shipped démarche {code}"))
        .clone();
    if let Some(name) = entry["form"].as_str() {
        entry["form"] = catalogue["forms"][name].clone();
    }
    entry
}
