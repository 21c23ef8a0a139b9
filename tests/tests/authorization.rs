#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The authorisation matrix: every route of the router × every kind of caller, against the
//! real server and database. Each route has a rule saying who may use it; the test checks
//! every cell against it (never a 5xx), fails on a route that has no row, and writes the
//! statuses it saw into the table of `docs/security.md` (run with GUICHET_UPDATE_DOCS=1 to
//! rewrite it; otherwise the table must match, so the documentation stays true).

use std::collections::BTreeSet;

use guichet_tests::api::{DEMO_PASSWORD, agent_token, contact_request, shipped_entry};
use guichet_tests::routes::router_routes;
use guichet_tests::{RENNES, TestServer};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    /// Holds the filer's tracking code.
    Filer,
    /// Holds a "me too" supporter's code.
    Supporter,
    /// The citizen account that filed the request.
    CitizenA,
    /// Another citizen account.
    CitizenB,
    /// An agent of the request's team (voirie).
    TeamAgent,
    /// An agent of another team (accueil).
    OtherTeam,
    /// A field agent of the request's team.
    Field,
    /// A supervisor of the request's team.
    Supervisor,
    Admin,
}

const WHO: [Who; 10] = [
    Who::Anonymous,
    Who::Filer,
    Who::Supporter,
    Who::CitizenA,
    Who::CitizenB,
    Who::TeamAgent,
    Who::OtherTeam,
    Who::Field,
    Who::Supervisor,
    Who::Admin,
];

impl Who {
    fn column(self) -> &'static str {
        match self {
            Who::Anonymous => "anonymous",
            Who::Filer => "filer code",
            Who::Supporter => "supporter code",
            Who::CitizenA => "citizen A (filer)",
            Who::CitizenB => "citizen B",
            Who::TeamAgent => "agent of the team",
            Who::OtherTeam => "agent of another team",
            Who::Field => "field agent",
            Who::Supervisor => "supervisor",
            Who::Admin => "admin",
        }
    }

    fn is_agent(self) -> bool {
        matches!(
            self,
            Who::TeamAgent | Who::OtherTeam | Who::Field | Who::Supervisor | Who::Admin
        )
    }
}

/// Who a route lets in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Anyone (the answer may still be a refusal of the input, e.g. a wrong password).
    Public,
    /// Whoever follows the request: its filer (code or account) and its supporters.
    Follower,
    /// Its filer only (code or account).
    Filer,
    /// Any signed-in citizen.
    Citizen,
    /// The citizen account that filed it.
    Owner,
    /// Any agent.
    Agent,
    /// Agents of the request's team, field agents included.
    Team,
    /// Agents of the request's team, field agents excluded (a field agent moves a request
    /// only along the workflow's field transitions, which this matrix's calls are not).
    Office,
    /// Any agent but field agents, whatever their team (entering a request on a caller's
    /// behalf: it goes to the démarche's team).
    Desk,
    /// Supervisors and admins.
    Supervisor,
    Admin,
}

impl Rule {
    fn lets_in(self, who: Who) -> bool {
        match self {
            Rule::Public => true,
            Rule::Follower => matches!(who, Who::Filer | Who::Supporter | Who::CitizenA),
            Rule::Filer => matches!(who, Who::Filer | Who::CitizenA),
            Rule::Citizen => matches!(who, Who::CitizenA | Who::CitizenB),
            Rule::Owner => who == Who::CitizenA,
            Rule::Agent => who.is_agent(),
            Rule::Team => matches!(
                who,
                Who::TeamAgent | Who::Field | Who::Supervisor | Who::Admin
            ),
            Rule::Office => matches!(who, Who::TeamAgent | Who::Supervisor | Who::Admin),
            Rule::Desk => who.is_agent() && who != Who::Field,
            Rule::Supervisor => matches!(who, Who::Supervisor | Who::Admin),
            Rule::Admin => who == Who::Admin,
        }
    }
}

/// What a cell needs made fresh before the call, so that no call changes another's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fresh {
    Nothing,
    /// A new request of citizen A, with a supporter.
    Request,
    Webhook,
    RoutingRule,
    Template,
    /// A session of the caller's own that the call may end.
    Session,
    /// An account of the caller's kind (agent of the same role and team, or citizen) whose
    /// password the call may change.
    OwnAccount,
    /// An agent that the call may deactivate.
    Agent,
}

struct Row {
    method: &'static str,
    path: &'static str,
    rule: Rule,
    fresh: Fresh,
    /// An allowed call may answer 404 (e.g. a file that does not exist).
    allowed_404: bool,
}

const fn row(method: &'static str, path: &'static str, rule: Rule, fresh: Fresh) -> Row {
    Row {
        method,
        path,
        rule,
        fresh,
        allowed_404: false,
    }
}

use Fresh as F;
use Rule as R;

/// Every route, with its rule. A route of the router missing here fails the test.
const ROWS: &[Row] = &[
    row("GET", "/api/v1/openapi.json", R::Public, F::Nothing),
    row("GET", "/api/v1/catalogue", R::Public, F::Nothing),
    row("GET", "/api/v1/catalogue/{code}", R::Public, F::Nothing),
    row("POST", "/api/v1/reports", R::Public, F::Nothing),
    row("GET", "/api/v1/reports/nearby", R::Public, F::Nothing),
    row("POST", "/api/v1/requests", R::Public, F::Nothing),
    row("GET", "/api/v1/requests/{number}", R::Follower, F::Nothing),
    row(
        "POST",
        "/api/v1/requests/{number}/support",
        R::Public,
        F::Request,
    ),
    row(
        "POST",
        "/api/v1/requests/{number}/messages",
        R::Filer,
        F::Request,
    ),
    row(
        "POST",
        "/api/v1/requests/{number}/complement",
        R::Filer,
        F::Request,
    ),
    row(
        "POST",
        "/api/v1/requests/{number}/withdraw",
        R::Filer,
        F::Request,
    ),
    row(
        "POST",
        "/api/v1/requests/{number}/not-fixed",
        R::Follower,
        F::Request,
    ),
    row("GET", "/api/v1/incidents", R::Public, F::Nothing),
    row("GET", "/api/v1/geocode/reverse", R::Public, F::Nothing),
    row("GET", "/api/v1/geocode/search", R::Public, F::Nothing),
    row("GET", "/api/v1/map", R::Public, F::Nothing),
    row("GET", "/api/v1/admin/webhooks", R::Admin, F::Nothing),
    row("POST", "/api/v1/admin/webhooks", R::Admin, F::Nothing),
    row(
        "DELETE",
        "/api/v1/admin/webhooks/{id}",
        R::Admin,
        F::Webhook,
    ),
    row(
        "GET",
        "/api/v1/admin/webhooks/{id}/deliveries",
        R::Admin,
        F::Webhook,
    ),
    row("GET", "/api/v1/admin/audit", R::Admin, F::Nothing),
    row("GET", "/api/v1/admin/audit/export", R::Admin, F::Nothing),
    row("POST", "/api/v1/citizen/register", R::Public, F::Nothing),
    row("GET", "/api/v1/citizen/verify", R::Public, F::Nothing),
    row("POST", "/api/v1/citizen/verify", R::Public, F::Nothing),
    row(
        "POST",
        "/api/v1/citizen/verify/resend",
        R::Public,
        F::Nothing,
    ),
    row("POST", "/api/v1/citizen/login", R::Public, F::Nothing),
    // Logging out without a session is a harmless no-op.
    row("POST", "/api/v1/citizen/logout", R::Public, F::Session),
    row("GET", "/api/v1/citizen/me", R::Citizen, F::Nothing),
    row("DELETE", "/api/v1/citizen/me", R::Citizen, F::Nothing),
    row("GET", "/api/v1/citizen/me/data", R::Citizen, F::Nothing),
    row(
        "GET",
        "/api/v1/citizen/me/documents",
        R::Citizen,
        F::Nothing,
    ),
    // Let in, yet refused at the body (not a multipart upload).
    row(
        "POST",
        "/api/v1/citizen/me/documents",
        R::Citizen,
        F::Nothing,
    ),
    // Another account's document is the same 404 as none.
    Row {
        allowed_404: true,
        ..row(
            "GET",
            "/api/v1/citizen/me/documents/{id}",
            R::Citizen,
            F::Nothing,
        )
    },
    Row {
        allowed_404: true,
        ..row(
            "DELETE",
            "/api/v1/citizen/me/documents/{id}",
            R::Citizen,
            F::Nothing,
        )
    },
    row("GET", "/api/v1/citizen/requests", R::Citizen, F::Nothing),
    row(
        "GET",
        "/api/v1/citizen/requests/{number}",
        R::Owner,
        F::Nothing,
    ),
    row("POST", "/api/v1/agent/login", R::Public, F::Nothing),
    row("POST", "/api/v1/agent/logout", R::Agent, F::Session),
    row("GET", "/api/v1/agent/me", R::Agent, F::Nothing),
    row("GET", "/api/v1/agent/requests", R::Agent, F::Nothing),
    row("POST", "/api/v1/agent/requests", R::Desk, F::Nothing),
    row("GET", "/api/v1/agent/requests/counts", R::Agent, F::Nothing),
    row(
        "GET",
        "/api/v1/agent/requests/export",
        R::Supervisor,
        F::Nothing,
    ),
    row("POST", "/api/v1/agent/requests/bulk", R::Agent, F::Request),
    row("GET", "/api/v1/agent/search", R::Desk, F::Nothing),
    row("GET", "/api/v1/agent/events", R::Agent, F::Nothing),
    row("GET", "/api/v1/agent/dashboard", R::Supervisor, F::Nothing),
    row("GET", "/api/v1/agent/map", R::Agent, F::Nothing),
    row("GET", "/api/v1/agent/teams", R::Agent, F::Nothing),
    row("GET", "/api/v1/agent/round", R::Agent, F::Nothing),
    row("POST", "/api/v1/agent/reports", R::Agent, F::Nothing),
    row("GET", "/api/v1/agent/preferences", R::Agent, F::Nothing),
    row("PUT", "/api/v1/agent/preferences", R::Agent, F::Nothing),
    row("GET", "/api/v1/agent/reply-templates", R::Agent, F::Nothing),
    row(
        "POST",
        "/api/v1/agent/reply-templates",
        R::Supervisor,
        F::Nothing,
    ),
    row(
        "PUT",
        "/api/v1/agent/reply-templates/{id}",
        R::Supervisor,
        F::Template,
    ),
    row(
        "DELETE",
        "/api/v1/agent/reply-templates/{id}",
        R::Supervisor,
        F::Template,
    ),
    row(
        "GET",
        "/api/v1/agent/requests/{number}",
        R::Team,
        F::Nothing,
    ),
    row(
        "PATCH",
        "/api/v1/agent/requests/{number}",
        R::Team,
        F::Request,
    ),
    Row {
        allowed_404: true,
        ..row(
            "GET",
            "/api/v1/agent/requests/{number}/files/{id}",
            R::Team,
            F::Nothing,
        )
    },
    row(
        "POST",
        "/api/v1/agent/requests/{number}/status",
        R::Office,
        F::Request,
    ),
    row(
        "POST",
        "/api/v1/agent/requests/{number}/could-not-act",
        R::Team,
        F::Request,
    ),
    row(
        "POST",
        "/api/v1/agent/requests/{number}/assign",
        R::Office,
        F::Request,
    ),
    row(
        "POST",
        "/api/v1/agent/requests/{number}/reply",
        R::Team,
        F::Request,
    ),
    row(
        "POST",
        "/api/v1/agent/requests/{number}/notes",
        R::Team,
        F::Request,
    ),
    row(
        "POST",
        "/api/v1/agent/requests/{number}/complement",
        R::Office,
        F::Request,
    ),
    row(
        "POST",
        "/api/v1/agent/requests/{number}/merge",
        R::Office,
        F::Request,
    ),
    row(
        "GET",
        "/api/v1/agent/requests/{number}/candidates",
        R::Team,
        F::Nothing,
    ),
    row(
        "POST",
        "/api/v1/agent/requests/{number}/split",
        R::Office,
        F::Request,
    ),
    row(
        "POST",
        "/api/v1/agent/requests/{number}/tracking-code",
        R::Office,
        F::Request,
    ),
    row("GET", "/api/v1/admin/routing-rules", R::Admin, F::Nothing),
    row("POST", "/api/v1/admin/routing-rules", R::Admin, F::Nothing),
    row(
        "DELETE",
        "/api/v1/admin/routing-rules/{id}",
        R::Admin,
        F::RoutingRule,
    ),
    row("GET", "/api/v1/admin/teams", R::Admin, F::Nothing),
    row("PUT", "/api/v1/admin/teams/{code}", R::Admin, F::Nothing),
    row("GET", "/api/v1/admin/agents", R::Admin, F::Nothing),
    row("POST", "/api/v1/admin/agents", R::Admin, F::Nothing),
    row(
        "GET",
        "/api/v1/admin/demarches/{code}",
        R::Admin,
        F::Nothing,
    ),
    row(
        "PUT",
        "/api/v1/admin/demarches/{code}",
        R::Admin,
        F::Nothing,
    ),
    row(
        "GET",
        "/api/v1/admin/demarches/{code}/revisions",
        R::Admin,
        F::Nothing,
    ),
    row(
        "GET",
        "/api/v1/citizen/password/reset",
        R::Public,
        F::Nothing,
    ),
    row(
        "POST",
        "/api/v1/citizen/password/reset",
        R::Public,
        F::Nothing,
    ),
    row(
        "POST",
        "/api/v1/citizen/password/forgot",
        R::Public,
        F::Nothing,
    ),
    row(
        "POST",
        "/api/v1/citizen/password",
        R::Citizen,
        F::OwnAccount,
    ),
    row("POST", "/api/v1/agent/password", R::Agent, F::OwnAccount),
    row(
        "POST",
        "/api/v1/admin/agents/{id}/deactivate",
        R::Admin,
        F::Agent,
    ),
    row(
        "POST",
        "/api/v1/admin/agents/{id}/activate",
        R::Admin,
        F::Agent,
    ),
    row("POST", "/api/v1/agent/totp", R::Agent, F::OwnAccount),
    // Nothing to confirm for a fresh account: the allowed answer is 409.
    row(
        "POST",
        "/api/v1/agent/totp/confirm",
        R::Agent,
        F::OwnAccount,
    ),
    row(
        "POST",
        "/api/v1/admin/agents/{id}/totp/reset",
        R::Admin,
        F::Agent,
    ),
    row("GET", "/open311/v2/discovery.json", R::Public, F::Nothing),
    row("GET", "/open311/v2/discovery.xml", R::Public, F::Nothing),
    row("GET", "/open311/v2/services.json", R::Public, F::Nothing),
    row("GET", "/open311/v2/services.xml", R::Public, F::Nothing),
    row("GET", "/open311/v2/services/{code}", R::Public, F::Nothing),
    // Filing needs an integrator's key, whoever calls: the matrix sends one.
    row("GET", "/open311/v2/requests.json", R::Public, F::Nothing),
    row("POST", "/open311/v2/requests.json", R::Public, F::Nothing),
    row("GET", "/open311/v2/requests.xml", R::Public, F::Nothing),
    row("POST", "/open311/v2/requests.xml", R::Public, F::Nothing),
    row("GET", "/open311/v2/requests/{id}", R::Public, F::Nothing),
    row(
        "GET",
        "/open311/v2/servicerequestupdates.json",
        R::Public,
        F::Nothing,
    ),
    row(
        "GET",
        "/open311/v2/servicerequestupdates.xml",
        R::Public,
        F::Nothing,
    ),
    row("GET", "/media/{key}", R::Public, F::Nothing),
    // The status pages (HTML): the token or code travels in the address or the form, which
    // the matrix does not fill in; what each holder may do there is tests/tests/status_page.rs
    // and notice_stops.rs. Without one, anyone gets the lookup form, or the "not found" page.
    row("GET", "/suivi", R::Public, F::Nothing),
    row("POST", "/suivi", R::Public, F::Nothing),
    row("GET", "/suivi/{number}", R::Public, F::Nothing),
    row("POST", "/suivi/{number}/pas-repare", R::Public, F::Nothing),
    Row {
        allowed_404: true,
        ..row("GET", "/suivi/{number}/arret", R::Public, F::Nothing)
    },
    Row {
        allowed_404: true,
        ..row("POST", "/suivi/{number}/arret", R::Public, F::Nothing)
    },
    row("GET", "/pages.css", R::Public, F::Nothing),
    row("GET", "/accessibilite", R::Public, F::Nothing),
    row("GET", "/healthz", R::Public, F::Nothing),
    row("GET", "/readyz", R::Public, F::Nothing),
    row("GET", "/metrics", R::Public, F::Nothing),
    row("GET", "/backoffice/*", R::Public, F::Nothing),
    row("GET", "/api/docs/*", R::Public, F::Nothing),
];

/// What every cell shares.
struct Ctx {
    citizen_a: String,
    citizen_b: String,
    agents: Vec<(Who, String)>,
    /// A request of citizen A with a supporter, filed once.
    request: Filed,
    /// Another open voirie request, a merge target.
    target: String,
    photo_key: String,
    webhook: i64,
}

#[derive(Clone)]
struct Filed {
    number: String,
    filer_code: String,
    supporter_code: String,
}

const CITIZEN_PASSWORD: &str = "un mot de passe solide";
const AGENT_PASSWORD: &str = "un mot de passe d'agent solide";

/// A session of a new account like the caller's: a citizen, or an agent of the same role and
/// team, whose password is known.
async fn own_account(server: &TestServer, who: Who) -> String {
    let pool = &server.db.pool;
    if !who.is_agent() {
        return citizen(server, &format!("{}@example.org", Uuid::new_v4().simple())).await;
    }
    let (role, team) = match who {
        Who::OtherTeam => ("agent", "relations-citoyens"),
        Who::Field => ("field", "voirie"),
        Who::Supervisor => ("supervisor", "voirie"),
        Who::Admin => ("admin", "voirie"),
        _ => ("agent", "voirie"),
    };
    let hash = guichet_server::auth::hash_password(AGENT_PASSWORD).unwrap();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO agents (email, name, role, password_hash) VALUES ($1, 'Agent', $2, $3)
         RETURNING id",
    )
    .bind(format!("{}@ville.example", Uuid::new_v4().simple()))
    .bind(role)
    .bind(hash)
    .fetch_one(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO agent_teams (agent_id, team_id) SELECT $1, id FROM teams WHERE code = $2",
    )
    .bind(id)
    .bind(team)
    .execute(pool)
    .await
    .unwrap();
    session(server, Some(id), None).await
}

async fn citizen(server: &TestServer, email: &str) -> String {
    let hash = guichet_server::auth::hash_password(CITIZEN_PASSWORD).unwrap();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO citizens (email, name, password_hash, email_verified_at)
         VALUES ($1, 'Citoyen', $2, now()) RETURNING id",
    )
    .bind(email)
    .bind(hash)
    .fetch_one(&server.db.pool)
    .await
    .unwrap();
    session(server, None, Some(id)).await
}

async fn session(server: &TestServer, agent: Option<i64>, citizen: Option<i64>) -> String {
    let (token, digest) = guichet_server::auth::new_token();
    sqlx::query(
        "INSERT INTO sessions (token_sha256, agent_id, citizen_id, expires_at)
         VALUES ($1, $2, $3, now() + interval '1 hour')",
    )
    .bind(digest)
    .bind(agent)
    .bind(citizen)
    .execute(&server.db.pool)
    .await
    .unwrap();
    token
}

fn anomaly(lat: f64) -> Value {
    json!({
        "client_id": Uuid::new_v4(), "demarche": "voirie", "channel": "app",
        "data": { "location": { "lat": lat, "lon": RENNES.1, "accuracy_m": 8.0 },
                  "description": "Nid-de-poule" },
    })
}

/// A new request of citizen A, far from the others (no dedup), with a supporter.
async fn file(server: &TestServer, citizen_a: &str, n: u32) -> Filed {
    let lat = RENNES.0 - 0.03 + 0.0015 * f64::from(n % 40);
    let lon_shift = 0.002 * f64::from(n / 40);
    let mut body = anomaly(lat);
    body["data"]["location"]["lon"] = json!(RENNES.1 + lon_shift);
    let answer: Value = server
        .client
        .post(server.url("/api/v1/requests"))
        .bearer_auth(citizen_a)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let number = answer["request_number"].as_str().expect("filed").to_owned();
    let support: Value = server
        .client
        .post(server.url(&format!("/api/v1/requests/{number}/support")))
        .json(&json!({ "client_id": Uuid::new_v4() }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Filed {
        number,
        filer_code: answer["tracking_code"].as_str().unwrap().to_owned(),
        supporter_code: support["tracking_code"].as_str().unwrap().to_owned(),
    }
}

/// The body of a call that the route would accept from someone let in.
fn body_for(row: &Row, ctx: &Ctx, filed: &Filed, n: u32) -> Option<Value> {
    let code = json!(filed.filer_code);
    Some(match (row.method, row.path) {
        ("POST", "/api/v1/requests") => contact_request(Uuid::new_v4(), "lea@example.org"),
        ("POST", "/api/v1/requests/{number}/support") => json!({ "client_id": Uuid::new_v4() }),
        ("POST", "/api/v1/requests/{number}/messages") => {
            json!({ "tracking_code": code, "message": "Le trou s'agrandit." })
        }
        ("POST", "/api/v1/requests/{number}/complement") => {
            json!({ "tracking_code": code, "data": {} })
        }
        ("POST", "/api/v1/requests/{number}/withdraw") => json!({ "tracking_code": code }),
        ("POST", "/api/v1/requests/{number}/not-fixed") => json!({ "tracking_code": code }),
        ("POST", "/api/v1/admin/webhooks") => {
            json!({ "url": "https://8.8.8.8/hook", "events": ["request.created"] })
        }
        ("POST", "/api/v1/citizen/register") => {
            json!({ "email": format!("new{n}@example.org"), "password": CITIZEN_PASSWORD })
        }
        ("POST", "/api/v1/citizen/verify") => json!({ "token": "00".repeat(32) }),
        ("POST", "/api/v1/citizen/verify/resend") => json!({ "email": "a@example.org" }),
        ("POST", "/api/v1/citizen/login") => {
            json!({ "email": "a@example.org", "password": CITIZEN_PASSWORD })
        }
        ("POST", "/api/v1/agent/login") => {
            json!({ "email": "agent.voirie@guichet.example", "password": DEMO_PASSWORD })
        }
        ("POST", "/api/v1/agent/requests") => {
            let mut b = contact_request(Uuid::new_v4(), "lea@example.org");
            b["channel"] = json!("phone");
            b
        }
        ("POST", "/api/v1/agent/requests/bulk") => {
            json!({ "numbers": [filed.number], "status": "acknowledged" })
        }
        ("POST", "/api/v1/agent/reply-templates")
        | ("PUT", "/api/v1/agent/reply-templates/{id}") => {
            json!({ "title": "Merci", "body": "Merci pour votre signalement." })
        }
        ("PATCH", "/api/v1/agent/requests/{number}") => {
            json!({ "location": { "lat": RENNES.0 - 0.031, "lon": RENNES.1 } })
        }
        ("POST", "/api/v1/agent/requests/{number}/status") => json!({ "status": "acknowledged" }),
        ("POST", "/api/v1/agent/requests/{number}/assign") => json!({ "team": "voirie" }),
        ("POST", "/api/v1/agent/requests/{number}/reply") => {
            json!({ "message": "Une équipe passera cette semaine." })
        }
        ("POST", "/api/v1/agent/requests/{number}/notes") => json!({ "text": "À voir." }),
        ("POST", "/api/v1/agent/requests/{number}/could-not-act") => {
            json!({ "reason": "Accès fermé." })
        }
        ("POST", "/api/v1/agent/requests/{number}/complement") => {
            json!({ "fields": ["description"], "message": "Précisez." })
        }
        ("POST", "/api/v1/agent/requests/{number}/merge") => json!({ "into": ctx.target }),
        ("POST", "/api/v1/agent/requests/{number}/split") => json!({ "report_id": 1 }),
        ("POST", "/api/v1/admin/routing-rules") => {
            json!({ "demarche": "voirie", "zone": "commune:35238", "team": "voirie", "priority": 500 })
        }
        ("PUT", "/api/v1/admin/teams/{code}") => json!({ "name": "Voirie" }),
        ("PUT", "/api/v1/agent/preferences") => json!({ "daily_digest": false }),
        ("POST", "/api/v1/citizen/password/reset") => {
            json!({ "token": "00".repeat(32), "password": "un tout nouveau mot de passe" })
        }
        ("POST", "/api/v1/citizen/password/forgot") => json!({ "email": "a@example.org" }),
        ("POST", "/api/v1/agent/totp") => json!({ "password": AGENT_PASSWORD }),
        ("POST", "/api/v1/agent/totp/confirm") => json!({ "totp": "000000" }),
        ("POST", "/api/v1/citizen/password") => json!({
            "current_password": CITIZEN_PASSWORD, "new_password": "un tout nouveau mot de passe",
        }),
        ("POST", "/api/v1/agent/password") => json!({
            "current_password": AGENT_PASSWORD, "new_password": "un tout nouveau mot de passe",
        }),
        ("POST", "/api/v1/admin/agents") => json!({
            "email": format!("nouvel.agent{n}@ville.example"), "name": "Nouvel agent",
            "role": "agent", "teams": ["voirie"], "password": "un mot de passe d'agent",
        }),
        ("PUT", "/api/v1/admin/demarches/{code}") => shipped_entry("demande-contact"),
        // Let in, yet refused at the choice (422): the citizen of the other rows stays.
        ("DELETE", "/api/v1/citizen/me") => {
            json!({ "password": CITIZEN_PASSWORD, "open_requests": "neither" })
        }
        _ => return None,
    })
}

fn path_for(row: &Row, ctx: &Ctx, filed: &Filed, id: i64) -> String {
    match row.path {
        "/open311/v2/services/{code}" => return "/open311/v2/services/voirie.json".to_owned(),
        "/open311/v2/requests/{id}" => {
            return format!("/open311/v2/requests/{}.xml", filed.number);
        }
        _ => {}
    }
    let path = row
        .path
        .replace("{number}", &filed.number)
        .replace("{key}", &ctx.photo_key)
        .replace("{id}", &id.to_string())
        .replace("/backoffice/*", "/backoffice/")
        .replace("/api/docs/*", "/api/docs/");
    let path = match row.path {
        "/api/v1/catalogue/{code}" | "/api/v1/admin/demarches/{code}/revisions" => {
            path.replace("{code}", "voirie")
        }
        "/api/v1/admin/teams/{code}" => path.replace("{code}", "voirie"),
        _ => path.replace("{code}", "demande-contact"),
    };
    let query = match row.path {
        "/api/v1/reports/nearby" => format!("?category=voirie&lat={}&lon={}", RENNES.0, RENNES.1),
        "/api/v1/incidents" | "/api/v1/agent/map" => {
            "?bbox=-1.80,48.05,-1.55,48.17&zoom=12".to_owned()
        }
        "/api/v1/geocode/reverse" => format!("?lat={}&lon={}", RENNES.0, RENNES.1),
        "/api/v1/geocode/search" => "?q=rue+de+paris".to_owned(),
        "/api/v1/agent/search" => "?q=trou".to_owned(),
        "/api/v1/agent/round" => format!("?lat={}&lon={}", RENNES.0, RENNES.1),
        "/api/v1/agent/requests/export" => "?format=csv".to_owned(),
        "/api/v1/citizen/verify" | "/api/v1/citizen/password/reset" => "?token=00".to_owned(),
        _ => String::new(),
    };
    format!("{path}{query}")
}

struct Seen {
    status: u16,
    allowed: bool,
}

#[tokio::test]
async fn every_route_lets_in_exactly_whom_its_rule_says() {
    let server = TestServer::start().await;

    // Every route of the router has its row, and every row is a route.
    let routes = router_routes();
    let rows: BTreeSet<(String, String)> = ROWS
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    let missing: Vec<_> = routes.difference(&rows).collect();
    assert!(
        missing.is_empty(),
        "routes without an expected row: {missing:?}"
    );
    let gone: Vec<_> = rows.difference(&routes).collect();
    assert!(
        gone.is_empty(),
        "rows of routes that no longer exist: {gone:?}"
    );

    let citizen_a = citizen(&server, "a@example.org").await;
    let citizen_b = citizen(&server, "b@example.org").await;
    let mut agents = Vec::new();
    for (who, email) in [
        (Who::TeamAgent, "agent.voirie@guichet.example"),
        (Who::OtherTeam, "agent.accueil@guichet.example"),
        (Who::Field, "terrain.voirie@guichet.example"),
        (Who::Supervisor, "superviseur.voirie@guichet.example"),
        (Who::Admin, "admin@guichet.example"),
    ] {
        agents.push((who, agent_token(&server, email).await));
    }
    let admin = agents.last().unwrap().1.clone();
    let request = file(&server, &citizen_a, 0).await;
    let target = file(&server, &citizen_a, 1).await.number;
    let jpeg = guichet_tests::fixtures::encode_jpeg(
        &guichet_tests::fixtures::photo_like_image(400, 300),
        85,
    );
    let photo: Value = server
        .client
        .post(server.url("/api/v1/reports"))
        .multipart(guichet_tests::multipart(
            &guichet_tests::report_at("voirie", RENNES.0 + 0.03, RENNES.1),
            &[("photo", jpeg)],
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let photo_key = photo["photos"][0]["url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let webhook = make(&server, &admin, F::Webhook).await;
    let ctx = Ctx {
        citizen_a,
        citizen_b,
        agents,
        request,
        target,
        photo_key,
        webhook,
    };

    let mut n = 10;
    let mut table: Vec<(&Row, Vec<Seen>)> = Vec::new();
    let mut wrong = Vec::new();
    for row in ROWS {
        let mut seen = Vec::new();
        for who in WHO {
            n += 1;
            let filed = if row.fresh == F::Request {
                file(&server, &ctx.citizen_a, n).await
            } else {
                ctx.request.clone()
            };
            let id = match row.fresh {
                F::Webhook | F::RoutingRule | F::Template | F::Agent => {
                    make(&server, &admin, row.fresh).await
                }
                _ if row.path.contains("/webhooks/{id}") => ctx.webhook,
                _ => 0,
            };
            let status = call(&server, &ctx, row, who, &filed, id, n).await;
            let allowed = row.rule.lets_in(who);
            let refused = matches!(status, 401 | 403) || (status == 404 && !row.allowed_404);
            if status >= 500 || allowed == refused {
                wrong.push(format!(
                    "{} {} as {}: {status} ({})",
                    row.method,
                    row.path,
                    who.column(),
                    if allowed {
                        "should be let in"
                    } else {
                        "should be refused"
                    }
                ));
            }
            seen.push(Seen { status, allowed });
        }
        table.push((row, seen));
    }
    assert!(
        wrong.is_empty(),
        "{} cells wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    check_docs(&markdown(&table));
}

/// Makes what a cell will delete or edit; returns its id.
async fn make(server: &TestServer, admin: &str, what: Fresh) -> i64 {
    let (path, body) = match what {
        F::Webhook => (
            "/api/v1/admin/webhooks",
            json!({ "url": "https://8.8.8.8/hook", "events": ["request.created"] }),
        ),
        F::RoutingRule => (
            "/api/v1/admin/routing-rules",
            json!({ "demarche": "voirie", "zone": "commune:35238", "team": "voirie", "priority": 900 }),
        ),
        F::Template => (
            "/api/v1/agent/reply-templates",
            json!({ "title": "Modèle", "body": "Bonjour." }),
        ),
        F::Agent => (
            "/api/v1/admin/agents",
            json!({ "email": format!("{}@ville.example", Uuid::new_v4().simple()),
                    "name": "Agent de passage", "role": "agent", "teams": ["voirie"],
                    "password": AGENT_PASSWORD }),
        ),
        _ => unreachable!("nothing to make"),
    };
    let answer: Value = server
        .client
        .post(server.url(path))
        .bearer_auth(admin)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{path}: {answer}"))
}

async fn call(
    server: &TestServer,
    ctx: &Ctx,
    row: &Row,
    who: Who,
    filed: &Filed,
    id: i64,
    n: u32,
) -> u16 {
    let mut path = path_for(row, ctx, filed, id);
    let code = match who {
        Who::Filer => Some(&filed.filer_code),
        Who::Supporter => Some(&filed.supporter_code),
        _ => None,
    };
    let mut body = body_for(row, ctx, filed, n);
    // Code holders show their code: in the query of a read, in the body of an action.
    if let Some(code) = code
        && row.path.starts_with("/api/v1/requests/{number}")
    {
        match body.as_mut() {
            Some(b) if b.get("tracking_code").is_some() => b["tracking_code"] = json!(code),
            _ => {
                let sep = if path.contains('?') { '&' } else { '?' };
                path = format!("{path}{sep}tracking_code={code}");
            }
        }
    } else if let Some(b) = body.as_mut()
        && b.get("tracking_code").is_some()
    {
        b.as_object_mut().unwrap().remove("tracking_code");
    }
    let token = match who {
        Who::CitizenA => Some(ctx.citizen_a.clone()),
        Who::CitizenB => Some(ctx.citizen_b.clone()),
        // Agents present their session to the agent and admin API, where the back office
        // sends it; anywhere else they are members of the public.
        w if w.is_agent()
            && (path.starts_with("/api/v1/agent/") || path.starts_with("/api/v1/admin/")) =>
        {
            ctx.agents
                .iter()
                .find(|(a, _)| *a == w)
                .map(|(_, t)| t.clone())
        }
        _ => None,
    };
    // A logout ends a session of its own, never the one the other cells use; a password
    // change changes an account of its own.
    let token = match (row.fresh, token) {
        (F::Session, Some(_)) => Some(throwaway_session(server, who).await),
        (F::OwnAccount, Some(_)) => Some(own_account(server, who).await),
        (_, t) => t,
    };
    let method = Method::from_bytes(row.method.as_bytes()).unwrap();
    let mut request = server.client.request(method, server.url(&path));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    if row.path == "/api/v1/reports" {
        let report = guichet_tests::report_at("voirie", RENNES.0 + 0.05, RENNES.1);
        request = request.multipart(guichet_tests::multipart(&report, &[]));
    } else if row.path.starts_with("/open311/v2/requests.") && row.method == "POST" {
        request = request.form(&open311_filing(server).await);
    } else if let Some(b) = body {
        request = request.json(&b);
    }
    if row.path == "/api/v1/agent/events" {
        request = request.timeout(std::time::Duration::from_secs(2));
        // The stream's headers are the answer; its body never ends.
        return match request.send().await {
            Ok(r) => r.status().as_u16(),
            Err(e) => panic!("events: {e}"),
        };
    }
    request.send().await.unwrap().status().as_u16()
}

/// An Open311 filing, form-encoded, with the matrix's integrator key (made on first use).
async fn open311_filing(server: &TestServer) -> Vec<(&'static str, String)> {
    const KEY: &str = "authorization-matrix-key";
    sqlx::query(
        "INSERT INTO api_keys (name, key_digest) VALUES ('matrix', $1) ON CONFLICT DO NOTHING",
    )
    .bind(guichet_server::auth::token_digest(KEY))
    .execute(&server.db.pool)
    .await
    .unwrap();
    vec![
        ("api_key", KEY.to_owned()),
        ("service_code", "voirie".to_owned()),
        ("lat", (RENNES.0 + 0.04).to_string()),
        ("long", RENNES.1.to_string()),
        ("description", "Nid-de-poule".to_owned()),
    ]
}

async fn throwaway_session(server: &TestServer, who: Who) -> String {
    if who.is_agent() {
        let email = match who {
            Who::TeamAgent => "agent.voirie@guichet.example",
            Who::OtherTeam => "agent.accueil@guichet.example",
            Who::Field => "terrain.voirie@guichet.example",
            Who::Supervisor => "superviseur.voirie@guichet.example",
            _ => "admin@guichet.example",
        };
        agent_token(server, email).await
    } else {
        let email = if who == Who::CitizenA {
            "a@example.org"
        } else {
            "b@example.org"
        };
        let id: i64 = sqlx::query_scalar("SELECT id FROM citizens WHERE email = $1")
            .bind(email)
            .fetch_one(&server.db.pool)
            .await
            .unwrap();
        session(server, None, Some(id)).await
    }
}

const START: &str = "<!-- authorization-matrix:start -->";
const END: &str = "<!-- authorization-matrix:end -->";

fn markdown(table: &[(&Row, Vec<Seen>)]) -> String {
    let mut out = String::from("| route | rule |");
    for who in WHO {
        out.push_str(&format!(" {} |", who.column()));
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---|".repeat(WHO.len()));
    out.push('\n');
    for (row, seen) in table {
        out.push_str(&format!(
            "| `{} {}` | {:?} |",
            row.method, row.path, row.rule
        ));
        for s in seen {
            let mark = if s.allowed { "✓" } else { "✗" };
            out.push_str(&format!(" {mark} {} |", s.status));
        }
        out.push('\n');
    }
    out
}

/// The table in `docs/security.md` is the one this run saw.
fn check_docs(table: &str) {
    let path = "../docs/security.md";
    let doc = std::fs::read_to_string(path).expect("docs/security.md");
    let (before, rest) = doc.split_once(START).expect("the matrix's start marker");
    let (old, after) = rest.split_once(END).expect("the matrix's end marker");
    let generated = format!("\n{table}");
    if old == generated {
        return;
    }
    if std::env::var("GUICHET_UPDATE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(path, format!("{before}{START}{generated}{END}{after}")).unwrap();
        return;
    }
    panic!(
        "docs/security.md's authorisation matrix differs from what the server answers; \
         run this test with GUICHET_UPDATE_DOCS=1 and review the change:\n{table}"
    );
}
