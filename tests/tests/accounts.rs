#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Accounts and sessions against the real server, database and an SMTP listener: taking over
//! an unverified address, confirming links with a POST only, password reset by e-mail,
//! password changes that end the other sessions, deactivated agents, idle agent sessions, the
//! agents' second factor, and what field agents may see.

use std::time::Duration;

use guichet_tests::api::{DEMO_PASSWORD, contact_request};
use guichet_tests::smtp::{ReceivedMail, SmtpServer};
use guichet_tests::{Answer, TestServer};
use serde_json::json;
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(20);
const VOIRIE: &str = "agent.voirie@guichet.example";
const ADMIN: &str = "admin@guichet.example";

struct World {
    server: TestServer,
    smtp: SmtpServer,
}

async fn world() -> World {
    world_with(|_| {}).await
}

async fn world_with(tune: impl FnOnce(&mut guichet_server::Config)) -> World {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let server = TestServer::start_with(move |c| {
        c.notify.smtp_url = Some(url);
        c.outbox.poll_interval = Duration::from_millis(50);
        tune(c);
    })
    .await;
    World { server, smtp }
}

/// The 64-hex-digit token in a mail.
fn token_in(mail: &ReceivedMail) -> String {
    let text = mail.body_text();
    text.split(|c: char| !c.is_ascii_hexdigit())
        .find(|w| w.len() == 64)
        .unwrap_or_else(|| panic!("no token in {text}"))
        .to_owned()
}

/// The link of a mail that starts with `prefix`.
fn link_in(mail: &ReceivedMail, prefix: &str) -> String {
    let text = mail.body_text();
    text.split_whitespace()
        .find(|w| w.starts_with(prefix))
        .unwrap_or_else(|| panic!("no link {prefix}… in {text}"))
        .to_owned()
}

impl World {
    async fn register(&self, email: &str, password: &str) -> Answer {
        self.server
            .post("/api/v1/citizen/register")
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
    }

    async fn login(&self, email: &str, password: &str) -> Answer {
        self.server
            .post("/api/v1/citizen/login")
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
    }

    async fn session(&self, email: &str, password: &str) -> String {
        self.login(email, password).await.expect(200).json()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn me(&self, token: &str) -> Answer {
        self.server
            .get("/api/v1/citizen/me")
            .bearer(token)
            .send()
            .await
    }

    /// The `n`-th mail (counting from 1) to `email`.
    async fn mail(&self, email: &str, n: usize) -> ReceivedMail {
        let started = std::time::Instant::now();
        loop {
            let mails = self.smtp.messages_to(email);
            if mails.len() >= n {
                return mails[n - 1].clone();
            }
            assert!(started.elapsed() < WAIT, "mail {n} to {email} never came");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn verify(&self, token: &str) -> Answer {
        self.server
            .post("/api/v1/citizen/verify")
            .json(&json!({ "token": token }))
            .send()
            .await
    }

    async fn agent_session(&self, email: &str, password: &str) -> String {
        self.server
            .post("/api/v1/agent/login")
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .expect(200)
            .json()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

#[tokio::test]
async fn registering_an_unverified_address_again_takes_it_over() {
    let w = world().await;
    let email = "victime@example.org";
    // Someone registers the victim's address first, and keeps a session.
    w.register(email, "mot de passe du pirate")
        .await
        .expect(202);
    let squatter = w.session(email, "mot de passe du pirate").await;
    let first_link = token_in(&w.mail(email, 1).await);

    // The owner registers: their password replaces the squatter's, whose session and link end.
    w.register(email, "mot de passe de la victime")
        .await
        .expect(202);
    w.me(&squatter).await.expect_problem(401, "unauthenticated");
    w.login(email, "mot de passe du pirate")
        .await
        .expect_problem(401, "invalid-credentials");
    w.verify(&first_link)
        .await
        .expect_problem(422, "invalid-token");
    let owner = w.session(email, "mot de passe de la victime").await;
    w.verify(&token_in(&w.mail(email, 2).await))
        .await
        .expect(200);
    assert_eq!(
        w.me(&owner).await.expect(200).json()["email_verified"],
        true
    );

    // Once verified, registering again changes nothing.
    w.register(email, "un autre mot de passe").await.expect(202);
    w.me(&owner).await.expect(200);
    w.login(email, "un autre mot de passe")
        .await
        .expect_problem(401, "invalid-credentials");
    w.login(email, "mot de passe de la victime")
        .await
        .expect(200);
}

#[tokio::test]
async fn an_unverified_account_holds_no_request_and_files_no_account_only_demarche() {
    let w = world().await;
    let email = "nina@example.org";
    w.register(email, "un mot de passe solide")
        .await
        .expect(202);
    let session = w.session(email, "un mot de passe solide").await;
    let mut birth = contact_request(Uuid::new_v4(), email);
    birth["demarche"] = json!("acte-naissance");
    w.server
        .post("/api/v1/requests")
        .bearer(&session)
        .json(&birth)
        .send()
        .await
        .expect_problem(403, "email-not-verified");
    // Filing what needs no account works, with its tracking code, but the request is not the
    // account's: whoever takes the unverified address over would find it there.
    w.server
        .post("/api/v1/requests")
        .bearer(&session)
        .json(&contact_request(Uuid::new_v4(), email))
        .send()
        .await
        .expect(201);
    let mine = w
        .server
        .get("/api/v1/citizen/requests")
        .bearer(&session)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(mine, json!([]));

    w.verify(&token_in(&w.mail(email, 1).await))
        .await
        .expect(200);
    // Verified: what it files is its own.
    let receipt = w
        .server
        .post("/api/v1/requests")
        .bearer(&session)
        .json(&contact_request(Uuid::new_v4(), email))
        .send()
        .await
        .expect(201)
        .json();
    let mine = w
        .server
        .get("/api/v1/citizen/requests")
        .bearer(&session)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(mine[0]["number"], receipt["request_number"]);
}

#[tokio::test]
async fn opening_the_verification_link_verifies_nothing_until_its_form_is_sent() {
    let w = world().await;
    let email = "lea@example.org";
    w.register(email, "un mot de passe solide")
        .await
        .expect(202);
    let session = w.session(email, "un mot de passe solide").await;
    let mail = w.mail(email, 1).await;
    let link = link_in(&mail, &w.server.url("/api/v1/citizen/verify?token="));
    let token = token_in(&mail);

    // A mail scanner, a link preview, a browser: none of these GETs verifies.
    let page = w
        .server
        .get(&link)
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .expect(200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text();
    assert!(
        html.contains("method=\"post\"") && html.contains("action=\"/api/v1/citizen/verify\""),
        "{html}"
    );
    assert!(html.contains(&format!("value=\"{token}\"")), "{html}");
    let json = w.server.get(&link).send().await.expect(200).json();
    assert!(json["detail"].as_str().unwrap().contains("POST"), "{json}");
    assert_eq!(w.me(&session).await.json()["email_verified"], false);

    // The page's button: a form POST, answered with a page.
    let done = w
        .server
        .post("/api/v1/citizen/verify")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html")
        .body(format!("token={token}"))
        .send()
        .await
        .expect(200);
    assert!(
        done.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(w.me(&session).await.json()["email_verified"], true);
    // Once only.
    let again = w
        .server
        .post("/api/v1/citizen/verify")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await;
    assert_eq!(again.status(), 422);
    w.verify(&token).await.expect_problem(422, "invalid-token");
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_a_single_use_link() {
    let w = world().await;
    let email = "paul@example.org";
    w.register(email, "mon ancien mot de passe")
        .await
        .expect(202);
    let old_session = w.session(email, "mon ancien mot de passe").await;
    let forgot = |address: &'static str| {
        w.server
            .post("/api/v1/citizen/password/forgot")
            .json(&json!({ "email": address }))
            .send()
    };
    // The same answer for an address without an account, and no mail.
    forgot("personne@example.org").await.expect(202);
    forgot(email).await.expect(202);
    let mail = w.mail(email, 2).await;
    let link = link_in(
        &mail,
        &w.server.url("/api/v1/citizen/password/reset?token="),
    );
    let token = token_in(&mail);
    assert!(w.smtp.messages_to("personne@example.org").is_empty());

    // Opening the link shows the form and changes nothing.
    let page = w
        .server
        .get(&link)
        .header("accept", "text/html")
        .send()
        .await
        .expect(200)
        .text();
    assert!(
        page.contains("action=\"/api/v1/citizen/password/reset\""),
        "{page}"
    );
    w.me(&old_session).await.expect(200);

    let reset = |token: String, password: &'static str| {
        w.server
            .post("/api/v1/citizen/password/reset")
            .json(&json!({ "token": token, "password": password }))
            .send()
    };
    reset(token.clone(), "court")
        .await
        .expect_problem(422, "validation-failed");
    reset(token.clone(), "mon nouveau mot de passe")
        .await
        .expect(204);
    // Every session ends; only the new password opens the account, whose address the link
    // proved.
    w.me(&old_session)
        .await
        .expect_problem(401, "unauthenticated");
    w.login(email, "mon ancien mot de passe")
        .await
        .expect_problem(401, "invalid-credentials");
    let session = w.session(email, "mon nouveau mot de passe").await;
    assert_eq!(w.me(&session).await.json()["email_verified"], true);
    reset(token, "encore un autre mot de passe")
        .await
        .expect_problem(422, "invalid-token");

    // A link past its hour is refused.
    forgot(email).await.expect(202);
    let late = token_in(&w.mail(email, 3).await);
    sqlx::query(
        "UPDATE password_resets SET expires_at = now() - interval '1 second' WHERE used_at IS NULL",
    )
    .execute(&w.server.db.pool)
    .await
    .unwrap();
    reset(late, "encore un autre mot de passe")
        .await
        .expect_problem(422, "invalid-token");
    w.session(email, "mon nouveau mot de passe").await;
}

#[tokio::test]
async fn changing_a_password_ends_the_other_sessions() {
    let w = world().await;
    let email = "yves@example.org";
    w.register(email, "mon premier mot de passe")
        .await
        .expect(202);
    let here = w.session(email, "mon premier mot de passe").await;
    let elsewhere = w.session(email, "mon premier mot de passe").await;
    let change = |token: String, current: &'static str, new: &'static str| {
        w.server
            .post("/api/v1/citizen/password")
            .bearer(&token)
            .json(&json!({ "current_password": current, "new_password": new }))
            .send()
    };
    let problem = change(here.clone(), "pas le bon", "mon second mot de passe")
        .await
        .expect_problem(403, "wrong-password");
    assert_eq!(problem["field"], "current_password");
    w.me(&elsewhere).await.expect(200);
    change(
        here.clone(),
        "mon premier mot de passe",
        "mon second mot de passe",
    )
    .await
    .expect(204);
    w.me(&here).await.expect(200);
    w.me(&elsewhere)
        .await
        .expect_problem(401, "unauthenticated");
    w.session(email, "mon second mot de passe").await;

    // Agents alike.
    let here = w.agent_session(VOIRIE, DEMO_PASSWORD).await;
    let elsewhere = w.agent_session(VOIRIE, DEMO_PASSWORD).await;
    let agent_change = |token: String, current: &'static str, new: &'static str| {
        w.server
            .post("/api/v1/agent/password")
            .bearer(&token)
            .json(&json!({ "current_password": current, "new_password": new }))
            .send()
    };
    agent_change(here.clone(), "pas le bon", "un mot de passe d'agent")
        .await
        .expect_problem(403, "wrong-password");
    agent_change(here.clone(), DEMO_PASSWORD, "court")
        .await
        .expect_problem(422, "validation-failed");
    agent_change(here.clone(), DEMO_PASSWORD, "un mot de passe d'agent")
        .await
        .expect(204);
    let me = |token: String| w.server.get("/api/v1/agent/me").bearer(&token).send();
    me(here.clone()).await.expect(200);
    me(elsewhere).await.expect_problem(401, "unauthenticated");
    w.agent_session(VOIRIE, "un mot de passe d'agent").await;
}

async fn agent_id(w: &World, admin: &str, email: &str) -> i64 {
    let agents = w
        .server
        .get("/api/v1/admin/agents")
        .bearer(admin)
        .send()
        .await
        .expect(200)
        .json();
    agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["email"] == email)
        .unwrap_or_else(|| panic!("no agent {email} in {agents}"))["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_deactivated_agent_is_out_at_once() {
    let w = world().await;
    let admin = w.agent_session(ADMIN, DEMO_PASSWORD).await;
    let voirie = w.agent_session(VOIRIE, DEMO_PASSWORD).await;
    let id = agent_id(&w, &admin, VOIRIE).await;
    let me = |token: String| w.server.get("/api/v1/agent/me").bearer(&token).send();
    me(voirie.clone()).await.expect(200);
    // Only admins deactivate, and not themselves.
    w.server
        .post(&format!("/api/v1/admin/agents/{id}/deactivate"))
        .bearer(&voirie)
        .send()
        .await
        .expect_problem(403, "forbidden");
    let admin_id = agent_id(&w, &admin, ADMIN).await;
    w.server
        .post(&format!("/api/v1/admin/agents/{admin_id}/deactivate"))
        .bearer(&admin)
        .send()
        .await
        .expect_problem(409, "cannot-deactivate-self");
    for unknown in ["999999", "abc", "-1"] {
        w.server
            .post(&format!("/api/v1/admin/agents/{unknown}/deactivate"))
            .bearer(&admin)
            .send()
            .await
            .expect_problem(404, "agent-not-found");
    }

    w.server
        .post(&format!("/api/v1/admin/agents/{id}/deactivate"))
        .bearer(&admin)
        .send()
        .await
        .expect(204);
    me(voirie).await.expect_problem(401, "unauthenticated");
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions WHERE agent_id = $1")
        .bind(id)
        .fetch_one(&w.server.db.pool)
        .await
        .unwrap();
    assert_eq!(sessions, 0);
    w.server
        .post("/api/v1/agent/login")
        .json(&json!({ "email": VOIRIE, "password": DEMO_PASSWORD }))
        .send()
        .await
        .expect_problem(401, "invalid-credentials");
    let listed = w
        .server
        .get("/api/v1/admin/agents")
        .bearer(&admin)
        .send()
        .await
        .json();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["email"] == VOIRIE && a["active"] == false)
    );

    w.server
        .post(&format!("/api/v1/admin/agents/{id}/activate"))
        .bearer(&admin)
        .send()
        .await
        .expect(204);
    let voirie = w.agent_session(VOIRIE, DEMO_PASSWORD).await;
    me(voirie.clone()).await.expect(200);

    // An admin who sets an agent's password ends their sessions too.
    w.server
        .post("/api/v1/admin/agents")
        .bearer(&admin)
        .json(&json!({
            "email": VOIRIE, "name": "Yann Morvan", "role": "agent", "teams": ["voirie"],
            "password": "un mot de passe donné par l'admin",
        }))
        .send()
        .await
        .expect(200);
    me(voirie).await.expect_problem(401, "unauthenticated");
}

#[tokio::test]
async fn idle_agent_sessions_end_and_expired_sessions_are_purged() {
    // Generous margins around a 3-second idle time: calls 1 s apart keep the session,
    // 5 s of silence ends it.
    let w = world_with(|c| {
        c.accounts.agent_idle = Duration::from_secs(3);
        c.accounts.purge_interval = Duration::from_millis(200);
    })
    .await;
    let voirie = w.agent_session(VOIRIE, DEMO_PASSWORD).await;
    let me = |token: String| w.server.get("/api/v1/agent/me").bearer(&token).send();
    for _ in 0..5 {
        me(voirie.clone()).await.expect(200);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // Five seconds of use: the idle time slides with each call.
    tokio::time::sleep(Duration::from_secs(5)).await;
    me(voirie).await.expect_problem(401, "unauthenticated");

    // Citizens' sessions have no idle time; the purge removes the expired ones only.
    let email = "rose@example.org";
    w.register(email, "un mot de passe solide")
        .await
        .expect(202);
    let live = w.session(email, "un mot de passe solide").await;
    let gone = w.session(email, "un mot de passe solide").await;
    sqlx::query(
        "UPDATE sessions SET expires_at = now() - interval '1 second' \
          WHERE token_sha256 = sha256(convert_to($1, 'UTF8'))",
    )
    .bind(&gone)
    .execute(&w.server.db.pool)
    .await
    .unwrap();
    let started = std::time::Instant::now();
    loop {
        let (agents, expired): (i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE agent_id IS NOT NULL), \
                    count(*) FILTER (WHERE expires_at <= now()) FROM sessions",
        )
        .fetch_one(&w.server.db.pool)
        .await
        .unwrap();
        if agents == 0 && expired == 0 {
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "{agents} idle agent and {expired} expired sessions left"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    w.me(&live).await.expect(200);
    w.me(&gone).await.expect_problem(401, "unauthenticated");
}

#[tokio::test]
async fn field_agents_see_no_contact_details() {
    let w = world().await;
    let (lat, lon) = guichet_tests::RENNES;
    let receipt = w
        .server
        .post("/api/v1/requests")
        .json(&json!({
            "client_id": Uuid::new_v4(),
            "demarche": "voirie",
            "channel": "app",
            "data": {
                "location": { "lat": lat, "lon": lon, "accuracy_m": 8.0 },
                "landmark": "Devant l'arrêt de bus",
                "description": "Nid-de-poule profond",
                "contact_name": "Tom Le Gall",
                "contact_email": "tom@example.org",
                "contact_phone": "06 12 34 56 78",
            },
        }))
        .send()
        .await
        .expect(201)
        .json();
    let number = receipt["request_number"].as_str().unwrap();
    let code = receipt["tracking_code"].as_str().unwrap();
    // A supporter leaves their address too.
    w.server
        .post(&format!("/api/v1/requests/{number}/support"))
        .json(&json!({ "client_id": Uuid::new_v4(), "contact": { "email": "voisine@example.org", "name": "Anne Voisine" } }))
        .send()
        .await
        .expect(201);
    // The acknowledgements are sent and recorded with their recipients.
    w.mail("voisine@example.org", 1).await;
    let personal = [
        "tom@example.org",
        "Tom Le Gall",
        "+33612345678",
        "voisine@example.org",
        "Anne Voisine",
    ];
    // The desk agent of the team sees who to call back…
    let agent_view = detail(&w, VOIRIE, number).await;
    for p in personal {
        assert!(agent_view.contains(p), "agent view lacks {p}: {agent_view}");
    }
    // …the field agent sees the work, not the people.
    let field_view = detail(&w, "terrain.voirie@guichet.example", number).await;
    // No agent sees a tracking code (they issue a new one), field agents neither.
    assert!(!agent_view.contains(code));
    for p in personal.into_iter().chain([code]) {
        assert!(
            !field_view.contains(p),
            "field view shows {p}: {field_view}"
        );
    }
    let field: serde_json::Value = serde_json::from_str(&field_view).unwrap();
    assert_eq!(field["description"], "Nid-de-poule profond");
    assert_eq!(field["data"]["landmark"], "Devant l'arrêt de bus");
    assert!(field["location"]["lat"].is_number());
    assert_eq!(field["reports"].as_array().unwrap().len(), 2);
}

/// An agent's view of a request, as text.
async fn detail(w: &World, email: &str, number: &str) -> String {
    let token = w.agent_session(email, DEMO_PASSWORD).await;
    w.server
        .get(&format!("/api/v1/agent/requests/{number}"))
        .bearer(&token)
        .send()
        .await
        .expect(200)
        .text()
}

/// The codes an authenticator app shows for this enrolment's secret.
struct App {
    totp: totp_rs::TOTP,
}

impl App {
    fn new(enrolment: &serde_json::Value) -> App {
        let secret = totp_rs::Secret::Encoded(enrolment["secret"].as_str().unwrap().to_owned())
            .to_bytes()
            .unwrap();
        App {
            totp: totp_rs::TOTP::new(
                totp_rs::Algorithm::SHA1,
                6,
                1,
                30,
                secret,
                None,
                String::new(),
            )
            .unwrap(),
        }
    }

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn code_at(&self, t: u64) -> String {
        self.totp.generate(t)
    }

    /// A code of six digits that none of the steps around `t` has.
    fn wrong_code(&self, t: u64) -> String {
        let right: Vec<String> = [t - 30, t, t + 30].map(|t| self.code_at(t)).into();
        (0..)
            .map(|n: u32| format!("{:06}", (n * 7919) % 1_000_000))
            .find(|c| !right.contains(c))
            .unwrap()
    }
}

impl World {
    async fn enrol(&self, token: &str, password: &str) -> (App, u64) {
        let enrolment = self
            .server
            .post("/api/v1/agent/totp")
            .bearer(token)
            .json(&json!({ "password": password }))
            .send()
            .await
            .expect(200)
            .json();
        assert!(
            enrolment["otpauth_url"]
                .as_str()
                .unwrap()
                .starts_with("otpauth://totp/Guichet:"),
            "{enrolment}"
        );
        let app = App::new(&enrolment);
        let t = App::now();
        self.server
            .post("/api/v1/agent/totp/confirm")
            .bearer(token)
            .json(&json!({ "totp": app.wrong_code(t) }))
            .send()
            .await
            .expect_problem(422, "invalid-second-factor");
        self.server
            .post("/api/v1/agent/totp/confirm")
            .bearer(token)
            .json(&json!({ "totp": app.code_at(t) }))
            .send()
            .await
            .expect(204);
        (app, t)
    }

    async fn agent_login(&self, email: &str, totp: Option<&str>) -> Answer {
        let mut body = json!({ "email": email, "password": DEMO_PASSWORD });
        if let Some(code) = totp {
            body["totp"] = json!(code);
        }
        self.server
            .post("/api/v1/agent/login")
            .json(&body)
            .send()
            .await
    }
}

#[tokio::test]
async fn an_agent_enrols_a_second_factor_and_logs_in_with_its_codes() {
    let w = world().await;
    let token = w.agent_session(VOIRIE, DEMO_PASSWORD).await;
    let me = w
        .server
        .get("/api/v1/agent/me")
        .bearer(&token)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(
        (&me["second_factor"], &me["second_factor_required"]),
        (&json!(false), &json!(false))
    );
    // A stolen session alone cannot tie the account to another phone.
    w.server
        .post("/api/v1/agent/totp")
        .bearer(&token)
        .json(&json!({ "password": "not the password" }))
        .send()
        .await
        .expect_problem(403, "wrong-password");
    let (app, t) = w.enrol(&token, DEMO_PASSWORD).await;
    let me = w
        .server
        .get("/api/v1/agent/me")
        .bearer(&token)
        .send()
        .await
        .json();
    assert_eq!(me["second_factor"], true);
    w.server
        .post("/api/v1/agent/totp")
        .bearer(&token)
        .json(&json!({ "password": DEMO_PASSWORD }))
        .send()
        .await
        .expect_problem(409, "second-factor-enrolled");

    // From now on the password alone is not enough.
    w.agent_login(VOIRIE, None)
        .await
        .expect_problem(401, "second-factor-required");
    w.agent_login(VOIRIE, Some(&app.wrong_code(t)))
        .await
        .expect_problem(401, "invalid-second-factor");
    // The code that confirmed the enrolment was used: it does not work again.
    w.agent_login(VOIRIE, Some(&app.code_at(t)))
        .await
        .expect_problem(401, "invalid-second-factor");
    let next = app.code_at(t + 30);
    let session = w.agent_login(VOIRIE, Some(&next)).await.expect(200).json();
    assert_eq!(session["second_factor"], true);
    w.agent_login(VOIRIE, Some(&next))
        .await
        .expect_problem(401, "invalid-second-factor");
    // A wrong password with a right code is still a wrong password.
    w.server
        .post("/api/v1/agent/login")
        .json(&json!({ "email": VOIRIE, "password": "wrong one", "totp": app.code_at(t + 60) }))
        .send()
        .await
        .expect_problem(401, "invalid-credentials");

    // A lost phone: an admin removes the second factor, which ends the agent's sessions.
    let admin = w.agent_session(ADMIN, DEMO_PASSWORD).await;
    let id = agent_id(&w, &admin, VOIRIE).await;
    w.server
        .post(&format!("/api/v1/admin/agents/{id}/totp/reset"))
        .bearer(&admin)
        .send()
        .await
        .expect(204);
    w.server
        .get("/api/v1/agent/me")
        .bearer(&token)
        .send()
        .await
        .expect_problem(401, "unauthenticated");
    w.agent_login(VOIRIE, None).await.expect(200);
}

#[tokio::test]
async fn in_production_admins_and_supervisors_must_enrol_a_second_factor() {
    let w = world_with(|c| c.environment = guichet_server::config::Environment::Production).await;
    let queue = |token: String| w.server.get("/api/v1/agent/requests").bearer(&token).send();
    for email in [ADMIN, "superviseur.voirie@guichet.example"] {
        let session = w.agent_login(email, None).await.expect(200).json();
        assert_eq!(session["second_factor_required"], true, "{email}");
        let token = session["token"].as_str().unwrap().to_owned();
        // Until they enrol, they can only enrol (and see who they are, and leave).
        queue(token.clone())
            .await
            .expect_problem(403, "second-factor-enrolment-required");
        w.server
            .get("/api/v1/admin/agents")
            .bearer(&token)
            .send()
            .await
            .expect_problem(403, "second-factor-enrolment-required");
        w.server
            .get("/api/v1/agent/me")
            .bearer(&token)
            .send()
            .await
            .expect(200);
        let (app, t) = w.enrol(&token, DEMO_PASSWORD).await;
        queue(token).await.expect(200);
        w.agent_login(email, None)
            .await
            .expect_problem(401, "second-factor-required");
        w.agent_login(email, Some(&app.code_at(t + 30)))
            .await
            .expect(200);
    }
    // Other agents may enrol one, and need not.
    let token = w.agent_session(VOIRIE, DEMO_PASSWORD).await;
    queue(token).await.expect(200);
}

#[tokio::test]
async fn wrong_second_factor_codes_are_counted_per_account_whatever_the_address() {
    let w = world_with(|c| {
        c.limits.enabled = true;
        c.limits.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        c.limits.login_failures =
            guichet_server::config::Rate::new(2, Duration::from_secs(15 * 60));
    })
    .await;
    let token = w.agent_session(VOIRIE, DEMO_PASSWORD).await;
    let (app, t) = w.enrol(&token, DEMO_PASSWORD).await;
    let login = |ip: &'static str, code: String| {
        w.server
            .post("/api/v1/agent/login")
            .header("x-forwarded-for", ip)
            .json(&json!({ "email": VOIRIE, "password": DEMO_PASSWORD, "totp": code }))
            .send()
    };
    // Two wrong codes from two addresses spend the count (the enrolment's right code cleared
    // the wrong one before it).
    for ip in ["198.51.100.1", "198.51.100.3"] {
        login(ip, app.wrong_code(t))
            .await
            .expect_problem(401, "invalid-second-factor");
    }
    // Only the password's holder gets here, so the count follows the account, not the address.
    let answer = login("198.51.100.2", app.code_at(t + 30)).await;
    assert!(answer.header("retry-after").is_some());
    answer.expect_problem(429, "rate-limited");
}

#[tokio::test]
async fn field_agents_cannot_search_callers() {
    let w = world().await;
    for (email, status) in [(VOIRIE, 200), ("terrain.voirie@guichet.example", 403)] {
        let token = w.agent_session(email, DEMO_PASSWORD).await;
        let answer = w
            .server
            .get("/api/v1/agent/search?q=tom%40example.org")
            .bearer(&token)
            .send()
            .await;
        assert_eq!(answer.status(), status, "{email}: {}", answer.text());
    }
}
