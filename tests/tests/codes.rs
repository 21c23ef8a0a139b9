#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Codes belong to their holders: what the filer, a co-reporter and a "me too" supporter are
//! sent, what each code and follow link opens and lets do, what the database and the logs keep
//! of them, how a receipt forgets its code, how an agent re-issues one, and what merges leave
//! working. Real server, database and SMTP listener.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use guichet_tests::api::{agent_token, contact_request};
use guichet_tests::smtp::{ReceivedMail, SmtpServer};
use guichet_tests::{RENNES, TestDb, TestServer, binary, multipart, report_at};
use serde_json::{Value, json};
use uuid::Uuid;

const WAIT: Duration = Duration::from_secs(20);
const VOIRIE: &str = "agent.voirie@guichet.example";
const ACCUEIL: &str = "agent.accueil@guichet.example";

async fn start(smtp: &SmtpServer) -> TestServer {
    let url = smtp.url();
    TestServer::start_with(move |c| {
        c.notify.smtp_url = Some(url);
        c.outbox.poll_interval = Duration::from_millis(25);
        c.outbox.retry_base = Duration::from_millis(100);
    })
    .await
}

/// An incident report with a contact; its receipt.
async fn report(server: &TestServer, lat: f64, lon: f64, email: &str) -> Value {
    let mut r = report_at("voirie", lat, lon);
    r["contact"] = json!({ "email": email, "name": "Habitant" });
    server
        .post("/api/v1/reports")
        .multipart(multipart(&r, &[]))
        .send()
        .await
        .expect(201)
        .json()
}

async fn me_too(server: &TestServer, number: &str, email: &str) -> Value {
    server
        .post(&format!("/api/v1/requests/{number}/support"))
        .json(&json!({ "client_id": Uuid::new_v4(), "contact": { "email": email } }))
        .send()
        .await
        .expect(201)
        .json()
}

fn code_of(receipt: &Value) -> String {
    receipt["tracking_code"].as_str().unwrap().to_owned()
}

/// Every string of a mail that has the shape of a tracking code (`XXXX-XXXX-XXXX`).
fn codes_in(text: &str) -> BTreeSet<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = BTreeSet::new();
    for w in chars.windows(14) {
        let shaped = w.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 9 {
                *c == '-'
            } else {
                c.is_ascii_uppercase() || c.is_ascii_digit()
            }
        });
        if shaped {
            found.insert(w.iter().collect());
        }
    }
    found
}

/// Every follow link of a mail.
fn links_in(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|w| w.starts_with("http") && w.contains("follow=") && !w.contains("/arret"))
        .map(str::to_owned)
        .collect()
}

fn token_of(link: &str) -> String {
    link.split("follow=").nth(1).unwrap().to_owned()
}

/// Waits until `address` received `n` e-mails; returns them in order.
async fn mails_to(smtp: &SmtpServer, address: &str, n: usize) -> Vec<ReceivedMail> {
    let deadline = Instant::now() + WAIT;
    loop {
        let mails = smtp.messages_to(address);
        if mails.len() >= n {
            return mails;
        }
        assert!(
            Instant::now() < deadline,
            "{address} received {} e-mails, not {n}: {:?}",
            mails.len(),
            mails.iter().map(ReceivedMail::subject).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// What `credential` (a code, or `follow=` a token) may do on `number`: its view's status, and
/// the statuses of a message, a complement answer and a withdrawal in its name.
async fn try_everything(server: &TestServer, number: &str, code: &str) -> (u16, u16, u16, u16) {
    let view = server
        .get(&format!("/api/v1/requests/{number}?tracking_code={code}"))
        .send()
        .await
        .status();
    let act = |what: &'static str, body: Value| {
        let path = format!("/api/v1/requests/{number}/{what}");
        async move { server.post(&path).json(&body).send().await.status() }
    };
    let message = act(
        "messages",
        json!({ "tracking_code": code, "message": "Je retire tout." }),
    )
    .await;
    let complement = act(
        "complement",
        json!({ "tracking_code": code, "data": { "description": "Faux" } }),
    )
    .await;
    let withdraw = act("withdraw", json!({ "tracking_code": code })).await;
    (view, message, complement, withdraw)
}

async fn follow(server: &TestServer, link: &str) -> (u16, Value) {
    // The link opens the status page; the same token reads the JSON view.
    let link = link.replacen("/suivi/", "/api/v1/requests/", 1);
    let answer = server.client.get(&link).send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

/// An incident with its filer, a co-reporter and a "me too" supporter, each with an address,
/// and a conversation between the filer and the service: a reply to the filer, a message from
/// the filer, a reply to every reporter, a status change with a note, a complement asked.
struct Scene {
    server: TestServer,
    smtp: SmtpServer,
    number: String,
    filer: String,
    co_reporter: String,
    supporter: String,
}

const FILER: &str = "filer@example.org";
const CO: &str = "co.reporter@example.org";
const SUPPORTER: &str = "supporter@example.org";
/// Words of the conversation between the filer and the service.
const PRIVATE: [&str; 4] = [
    "code porte 4512",
    "06 12 34 56 78",
    "Note pour le déclarant",
    "Précisez la taille",
];
const TO_ALL: &str = "Les travaux auront lieu lundi.";

async fn scene() -> Scene {
    let smtp = SmtpServer::start().await;
    let server = start(&smtp).await;
    let first = report(&server, RENNES.0, RENNES.1, FILER).await;
    let number = first["request_number"].as_str().unwrap().to_owned();
    let second = report(&server, RENNES.0, RENNES.1, CO).await;
    assert_eq!(second["deduplicated"], true, "{second}");
    assert_eq!(second["request_number"], number.as_str());
    let support = me_too(&server, &number, SUPPORTER).await;
    let (filer, co_reporter, supporter) = (code_of(&first), code_of(&second), code_of(&support));

    let voirie = agent_token(&server, VOIRIE).await;
    let agent = format!("/api/v1/agent/requests/{number}");
    server
        .post(&format!("{agent}/reply"))
        .bearer(&voirie)
        .json(&json!({ "message": "Merci, quel est le code porte 4512 ?" }))
        .send()
        .await
        .expect(204);
    server
        .post(&format!("/api/v1/requests/{number}/messages"))
        .json(&json!({ "tracking_code": filer, "message": "Appelez-moi au 06 12 34 56 78" }))
        .send()
        .await
        .expect(204);
    server
        .post(&format!("{agent}/reply"))
        .bearer(&voirie)
        .json(&json!({ "message": TO_ALL, "audience": "all" }))
        .send()
        .await
        .expect(204);
    server
        .post(&format!("{agent}/status"))
        .bearer(&voirie)
        .json(&json!({ "status": "acknowledged", "message": "Note pour le déclarant" }))
        .send()
        .await
        .expect(204);
    server
        .post(&format!("{agent}/complement"))
        .bearer(&voirie)
        .json(&json!({ "fields": ["description"], "message": "Précisez la taille du trou" }))
        .send()
        .await
        .expect(204);
    Scene {
        server,
        smtp,
        number,
        filer,
        co_reporter,
        supporter,
    }
}

#[tokio::test]
async fn supporters_and_co_reporters_are_sent_nothing_that_acts_on_the_request() {
    let s = scene().await;
    // Acknowledgement, reply to all, status change: not the conversation with the filer.
    for (address, own) in [(CO, &s.co_reporter), (SUPPORTER, &s.supporter)] {
        let mails = mails_to(&s.smtp, address, 3).await;
        assert!(
            mails[0].subject().contains("Accusé de réception"),
            "{}",
            mails[0].subject()
        );
        let mut links = Vec::new();
        for (i, m) in mails.iter().enumerate() {
            let text = m.body_text();
            // Their own code, in their acknowledgement only; never the filer's.
            let expected: BTreeSet<String> = if i == 0 {
                [own.clone()].into()
            } else {
                BTreeSet::new()
            };
            assert_eq!(codes_in(&text), expected, "{address}:\n{text}");
            assert!(!text.contains(&s.filer), "{text}");
            for private in PRIVATE {
                assert!(
                    !text.contains(private),
                    "{private} sent to {address}:\n{text}"
                );
            }
            links.extend(links_in(&text));
        }
        assert!(mails.iter().any(|m| m.body_text().contains(TO_ALL)));
        assert!(!links.is_empty(), "{address} has a follow link");
        // Whatever they hold, it reads and does nothing else.
        assert_eq!(
            try_everything(&s.server, &s.number, own).await,
            (200, 404, 404, 404),
            "{address}'s code"
        );
        for link in &links {
            assert_eq!(follow(&s.server, link).await.0, 200, "{link}");
            let token = token_of(link);
            assert_eq!(
                try_everything(&s.server, &s.number, &token).await,
                (404, 404, 404, 404),
                "{address}'s token used as a code"
            );
        }
    }
    // Only the filer's code acts.
    let filer_mails = mails_to(&s.smtp, FILER, 4).await;
    assert_eq!(
        codes_in(&filer_mails[0].body_text()),
        [s.filer.clone()].into(),
        "the filer's acknowledgement"
    );
    for m in &filer_mails[1..] {
        assert_eq!(
            codes_in(&m.body_text()),
            BTreeSet::new(),
            "{}",
            m.body_text()
        );
    }
    let number = &s.number;
    s.server
        .post(&format!("/api/v1/requests/{number}/complement"))
        .json(&json!({ "tracking_code": s.filer, "data": { "description": "Un mètre de large" } }))
        .send()
        .await
        .expect(204);
    s.server
        .post(&format!("/api/v1/requests/{number}/messages"))
        .json(&json!({ "tracking_code": s.filer, "message": "Merci." }))
        .send()
        .await
        .expect(204);
}

#[tokio::test]
async fn followers_read_the_status_and_the_filer_the_conversation() {
    let s = scene().await;
    let number = &s.number;
    let view = |code: String| {
        let path = format!("/api/v1/requests/{number}?tracking_code={code}");
        let server = &s.server;
        async move {
            let answer = server.get(&path).send().await.expect(200);
            assert_eq!(answer.header("cache-control"), Some("no-store"));
            answer.json()
        }
    };
    let filer = view(s.filer.clone()).await;
    let text = filer.to_string();
    for private in PRIVATE {
        assert!(text.contains(private), "the filer reads {private}: {text}");
    }
    assert!(filer["description"].is_string());
    assert!(filer["complement"].is_object(), "{filer}");

    for (who, code) in [("co-reporter", &s.co_reporter), ("supporter", &s.supporter)] {
        let v = view(code.clone()).await;
        let text = v.to_string();
        for private in PRIVATE {
            assert!(!text.contains(private), "{who} reads {private}: {text}");
        }
        assert!(
            text.contains(TO_ALL),
            "a reply to all reaches {who}: {text}"
        );
        let kinds: Vec<&str> = v["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert!(kinds.contains(&"status_changed"), "{kinds:?}");
        assert!(kinds.contains(&"complement_requested"), "{kinds:?}");
        assert!(!kinds.contains(&"acknowledgement"), "{kinds:?}");
        assert_eq!(
            kinds.iter().filter(|k| **k == "message").count(),
            1,
            "only the reply to all: {kinds:?}"
        );
        assert_eq!(v["status_label"], filer["status_label"]);
        assert_eq!(
            v["location"], filer["location"],
            "an incident's place is public"
        );
        assert!(v["description"].is_null(), "the filer's words: {v}");
        assert!(v["complement"].is_null(), "{v}");
    }

    // The same through follow links: the supporter's shows the status, the filer's the
    // conversation (and neither acts, see above).
    let link = |address: &str| {
        let mails = s.smtp.messages_to(address);
        links_in(&mails.last().unwrap().body_text()).pop().unwrap()
    };
    mails_to(&s.smtp, SUPPORTER, 3).await;
    mails_to(&s.smtp, FILER, 5).await;
    let (status, v) = follow(&s.server, &link(SUPPORTER)).await;
    assert_eq!(status, 200);
    assert!(v.to_string().contains(TO_ALL));
    for private in PRIVATE {
        assert!(!v.to_string().contains(private), "{private}: {v}");
    }
    let (status, v) = follow(&s.server, &link(FILER)).await;
    assert_eq!(status, 200);
    for private in PRIVATE {
        assert!(v.to_string().contains(private), "{private}: {v}");
    }
    // A token that was tampered with opens nothing.
    let forged = link(SUPPORTER).replace("follow=r", "follow=q");
    assert_eq!(follow(&s.server, &forged).await.0, 404);
}

/// Every row of `table` as text, but for `skip` (a column that may hold it on purpose).
async fn rows_holding(db: &TestDb, table: &str, skip: &str, text: &str) -> i64 {
    sqlx::query_scalar(&format!(
        "SELECT count(*) FROM {table} t WHERE (to_jsonb(t) - $1)::text LIKE '%' || $2 || '%'"
    ))
    .bind(skip)
    .bind(text)
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn codes_are_kept_as_digests_and_sent_mails_leave_nothing_behind() {
    let s = scene().await;
    let contact = s
        .server
        .post("/api/v1/requests")
        .json(&contact_request(Uuid::new_v4(), "lea@example.org"))
        .send()
        .await
        .expect(201)
        .json();
    mails_to(&s.smtp, "lea@example.org", 1).await;
    mails_to(&s.smtp, FILER, 5).await;
    mails_to(&s.smtp, SUPPORTER, 3).await;
    let db = &s.server.db;
    let pending = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM outbox_jobs WHERE kind = 'email.send' AND done_at IS NULL",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap()
    };
    let deadline = Instant::now() + WAIT;
    while pending().await > 0 {
        assert!(Instant::now() < deadline, "e-mails still queued");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let codes = [
        s.filer.clone(),
        s.co_reporter.clone(),
        s.supporter.clone(),
        code_of(&contact),
    ];
    for code in &codes {
        // Only the receipt, for retries, holds it in clear.
        assert_eq!(rows_holding(db, "requests", "receipt", code).await, 0);
        assert_eq!(rows_holding(db, "reports", "receipt", code).await, 0);
        for table in ["events", "outbox_jobs", "server_secrets"] {
            assert_eq!(rows_holding(db, table, "", code).await, 0, "{table}");
        }
        let digests: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM requests WHERE tracking_code_digest = d)
                  + (SELECT count(*) FROM reports WHERE tracking_code_digest = d)
               FROM sha256(convert_to($1, 'UTF8')) AS d",
        )
        .bind(code)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert!(digests >= 1, "{code} is kept as its digest");
    }
    // Sent e-mails keep neither address nor text (so no link either).
    for address in [FILER, CO, SUPPORTER, "lea@example.org"] {
        assert_eq!(rows_holding(db, "outbox_jobs", "", address).await, 0);
    }
    assert_eq!(rows_holding(db, "outbox_jobs", "", "follow=").await, 0);
    let agent = agent_token(&s.server, VOIRIE).await;
    let detail = s
        .server
        .get(&format!("/api/v1/agent/requests/{}", s.number))
        .bearer(&agent)
        .send()
        .await
        .expect(200)
        .text();
    for code in &codes[..3] {
        assert!(!detail.contains(code.as_str()), "an agent reads {code}");
    }
    assert!(!detail.contains("tracking_code\""), "{detail}");
}

#[tokio::test]
async fn a_receipt_forgets_its_code_once_retries_no_longer_need_it() {
    let server = TestServer::start_with(|c| {
        c.receipt_code_ttl = Duration::from_secs(1);
        c.outbox.poll_interval = Duration::from_millis(25);
    })
    .await;
    let mut r = report_at("voirie", RENNES.0, RENNES.1);
    r["contact"] = json!({ "email": "quick@example.org" });
    let first = server
        .post("/api/v1/reports")
        .multipart(multipart(&r, &[]))
        .send()
        .await
        .expect(201)
        .json();
    let body = contact_request(Uuid::new_v4(), "lea@example.org");
    let filed = server
        .post("/api/v1/requests")
        .json(&body)
        .send()
        .await
        .expect(201)
        .json();
    // The clean-up job runs once the window is over.
    let deadline = Instant::now() + WAIT;
    loop {
        let left: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM outbox_jobs WHERE kind = 'receipts.forget_code'
                AND done_at IS NULL",
        )
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
        if left == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "receipts still hold their codes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let db = &server.db;
    for code in [code_of(&first), code_of(&filed)] {
        assert_eq!(rows_holding(db, "requests", "", &code).await, 0);
        assert_eq!(rows_holding(db, "reports", "", &code).await, 0);
    }
    // A late retry still gets its receipt (the request is not filed twice), without the code.
    let again = server
        .post("/api/v1/reports")
        .multipart(multipart(&r, &[]))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(again["request_number"], first["request_number"]);
    assert_eq!(again["tracking_code"], "");
    assert!(
        !again["status_url"]
            .as_str()
            .unwrap()
            .contains("tracking_code"),
        "{again}"
    );
    let again = server
        .post("/api/v1/requests")
        .json(&body)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(again["request_number"], filed["request_number"]);
    assert_eq!(again["tracking_code"], "");
    let explained = again["acknowledgement"]["code_explained"].as_str().unwrap();
    assert!(!explained.contains(&code_of(&filed)), "{explained}");
    assert_eq!(server.db.count("requests").await, 2);
    // The code itself still works: only the receipt forgot it.
    let number = first["request_number"].as_str().unwrap();
    let code = code_of(&first);
    server
        .get(&format!("/api/v1/requests/{number}?tracking_code={code}"))
        .send()
        .await
        .expect(200);
}

/// Found by fuzzing: the same call again with its `Idempotency-Key` answered 204, a status the
/// route does not have. It answers the first 201 again, without the code (kept nowhere), and
/// issues no other: the code the first answer gave keeps working.
#[tokio::test]
async fn a_repeated_reissue_answers_201_again_without_a_code_and_issues_no_other() {
    let server = TestServer::start().await;
    let receipt = server
        .post("/api/v1/requests")
        .json(&contact_request(Uuid::new_v4(), "lea@example.org"))
        .send()
        .await
        .expect(201)
        .json();
    let number = receipt["request_number"].as_str().unwrap();
    let accueil = agent_token(&server, ACCUEIL).await;
    let path = format!("/api/v1/agent/requests/{number}/tracking-code");
    let key = Uuid::new_v4().to_string();
    let first = server
        .post(&path)
        .bearer(&accueil)
        .header("idempotency-key", &key)
        .send()
        .await
        .expect(201)
        .json();
    let code = code_of(&first);
    let again = server
        .post(&path)
        .bearer(&accueil)
        .header("idempotency-key", &key)
        .send()
        .await
        .expect(201);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let again = again.json();
    assert_eq!(again["request_number"], number, "{again}");
    assert_eq!(again["tracking_code"], "", "{again}");
    server
        .get(&format!("/api/v1/requests/{number}?tracking_code={code}"))
        .send()
        .await
        .expect(200);
}

#[tokio::test]
async fn an_agent_issues_a_new_code_and_the_old_one_stops_working() {
    let smtp = SmtpServer::start().await;
    let server = start(&smtp).await;
    let body = contact_request(Uuid::new_v4(), "lea@example.org");
    let receipt = server
        .post("/api/v1/requests")
        .json(&body)
        .send()
        .await
        .expect(201)
        .json();
    let number = receipt["request_number"].as_str().unwrap();
    let old = code_of(&receipt);
    let ack = mails_to(&smtp, "lea@example.org", 1).await;
    let old_link = links_in(&ack[0].body_text()).pop().unwrap();
    assert_eq!(follow(&server, &old_link).await.0, 200);

    // Another team's agent may not; the request's team may.
    let voirie = agent_token(&server, VOIRIE).await;
    let path = format!("/api/v1/agent/requests/{number}/tracking-code");
    server
        .post(&path)
        .bearer(&voirie)
        .send()
        .await
        .expect_problem(403, "forbidden");
    server
        .post(&path)
        .send()
        .await
        .expect_problem(401, "unauthenticated");
    let accueil = agent_token(&server, ACCUEIL).await;
    let answer = server.post(&path).bearer(&accueil).send().await.expect(201);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let issued = answer.json();
    assert_eq!(issued["request_number"], number);
    let new = code_of(&issued);
    assert_ne!(new, old);

    // The old code and the links derived from it open nothing; the new one does all.
    assert_eq!(
        try_everything(&server, number, &old).await,
        (404, 404, 404, 404)
    );
    assert_eq!(follow(&server, &old_link).await.0, 404);
    server
        .get(&format!("/api/v1/requests/{number}?tracking_code={new}"))
        .send()
        .await
        .expect(200);
    server
        .post(&format!("/api/v1/requests/{number}/messages"))
        .json(&json!({ "tracking_code": new, "message": "Merci pour le nouveau code." }))
        .send()
        .await
        .expect(204);
    // A retry of the filing does not hand out the old code again.
    let replay = server
        .post("/api/v1/requests")
        .json(&body)
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(replay["tracking_code"], "");
    // The agent's view records who issued a code, never the code.
    let detail = server
        .get(&format!("/api/v1/agent/requests/{number}"))
        .bearer(&accueil)
        .send()
        .await
        .expect(200)
        .json();
    let issued_events: Vec<&Value> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "tracking_code_issued")
        .collect();
    assert_eq!(issued_events.len(), 1, "{detail}");
    assert_eq!(issued_events[0]["public"], false);
    assert!(
        issued_events[0]["actor"]
            .as_str()
            .unwrap()
            .starts_with("agent:")
    );
    assert!(!detail.to_string().contains(&new));
    // The filer's timeline does not show it.
    let view = server
        .get(&format!("/api/v1/requests/{number}?tracking_code={new}"))
        .send()
        .await
        .expect(200)
        .json();
    assert!(!view.to_string().contains("tracking_code_issued"), "{view}");
}

#[tokio::test]
async fn after_a_merge_codes_and_links_open_the_request_it_joined() {
    let smtp = SmtpServer::start().await;
    let server = start(&smtp).await;
    // Two incidents 300 m apart, each with its filer; a supporter of the first.
    let a = report(&server, RENNES.0, RENNES.1, "a.filer@example.org").await;
    let b = report(&server, RENNES.0 + 0.0027, RENNES.1, "b.filer@example.org").await;
    let (na, nb) = (
        a["request_number"].as_str().unwrap(),
        b["request_number"].as_str().unwrap(),
    );
    assert_ne!(na, nb);
    let support = me_too(&server, na, "a.supporter@example.org").await;
    let (ac, bc, sc) = (code_of(&a), code_of(&b), code_of(&support));
    let supporter_ack = mails_to(&smtp, "a.supporter@example.org", 1).await;
    let supporter_old_link = links_in(&supporter_ack[0].body_text()).pop().unwrap();
    let voirie = agent_token(&server, VOIRIE).await;
    server
        .post(&format!("/api/v1/agent/requests/{nb}/reply"))
        .bearer(&voirie)
        .json(&json!({ "message": "Secret de la demande B" }))
        .send()
        .await
        .expect(204);
    server
        .post(&format!("/api/v1/agent/requests/{na}/merge"))
        .bearer(&voirie)
        .json(&json!({ "into": nb }))
        .send()
        .await
        .expect(204);

    // The merge notice: each their own link, to the target, never the target's code.
    for address in ["a.filer@example.org", "a.supporter@example.org"] {
        let mails = mails_to(&smtp, address, 2).await;
        let text = mails[1].body_text();
        assert!(
            mails[1]
                .subject()
                .ends_with(&format!("suivie sous le numéro {nb}")),
            "{}",
            mails[1].subject()
        );
        assert!(!text.contains(&bc), "the target's code sent to {address}");
        assert_eq!(codes_in(&text), BTreeSet::new(), "{text}");
        let link = links_in(&text).pop().unwrap();
        assert!(link.contains(&format!("/suivi/{nb}?follow=")), "{link}");
        let (status, view) = follow(&server, &link).await;
        assert_eq!(status, 200, "{link}");
        assert_eq!(view["number"].as_str(), Some(nb));
        assert!(
            !view.to_string().contains("Secret de la demande B"),
            "{view}"
        );
    }
    // Old codes and links open the target, as followers.
    for code in [&ac, &sc] {
        let (view, message, complement, withdraw) = try_everything(&server, nb, code).await;
        assert_eq!(
            (view, message, complement, withdraw),
            (200, 404, 404, 404),
            "{code}"
        );
    }
    let on_old_number = server
        .get(&format!("/api/v1/requests/{na}?tracking_code={sc}"))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(
        on_old_number["number"], nb,
        "the supporter's code opens the target"
    );
    let (status, view) = follow(&server, &supporter_old_link).await;
    assert_eq!(status, 200);
    assert_eq!(view["number"], nb, "{view}");
    assert!(!view.to_string().contains("Secret de la demande B"));
    // The merged request's filer still reads it, closed as a duplicate of the target.
    let own = server
        .get(&format!("/api/v1/requests/{na}?tracking_code={ac}"))
        .send()
        .await
        .expect(200)
        .json();
    assert_eq!(
        (own["number"].as_str(), own["merged_into"].as_str()),
        (Some(na), Some(nb))
    );
    // The target's filer keeps the conversation.
    let theirs = server
        .get(&format!("/api/v1/requests/{nb}?tracking_code={bc}"))
        .send()
        .await
        .expect(200)
        .json();
    assert!(theirs.to_string().contains("Secret de la demande B"));

    // A merged request without reports (a contact request): its code and link open the
    // target too.
    let c = server
        .post("/api/v1/requests")
        .json(&contact_request(Uuid::new_v4(), "c@example.org"))
        .send()
        .await
        .expect(201)
        .json();
    let d = server
        .post("/api/v1/requests")
        .json(&contact_request(Uuid::new_v4(), "d@example.org"))
        .send()
        .await
        .expect(201)
        .json();
    let (nc, nd) = (
        c["request_number"].as_str().unwrap(),
        d["request_number"].as_str().unwrap(),
    );
    let accueil = agent_token(&server, ACCUEIL).await;
    server
        .post(&format!("/api/v1/agent/requests/{nc}/merge"))
        .bearer(&accueil)
        .json(&json!({ "into": nd }))
        .send()
        .await
        .expect(204);
    let cc = code_of(&c);
    assert_eq!(try_everything(&server, nd, &cc).await, (200, 404, 404, 404));
    let mails = mails_to(&smtp, "c@example.org", 2).await;
    let link = links_in(&mails[1].body_text()).pop().unwrap();
    let (status, view) = follow(&server, &link).await;
    assert_eq!((status, view["number"].as_str()), (200, Some(nd)));
    assert!(
        !view.to_string().contains("horaires"),
        "the target's filer's words: {view}"
    );
}

#[tokio::test]
async fn the_logs_hold_no_address_code_or_link() {
    let db = TestDb::new().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = std::env::temp_dir().join(format!("guichet-logs-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("out.log");
    let out = std::fs::File::create(&log).unwrap();
    let err = out.try_clone().unwrap();
    let mut child = std::process::Command::new(binary())
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("GUICHET_LISTEN", format!("127.0.0.1:{port}"))
        .env("GUICHET_DATA_DIR", dir.join("data"))
        .env("GUICHET_OUTBOX_POLL_MS", "25")
        .env("RUST_LOG", "info")
        .env_remove("GUICHET_CONFIG")
        .env_remove("GUICHET_PUBLIC_URL")
        .env_remove("GUICHET_SMTP_URL")
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    guichet_tests::wait_until_ready(&base).await;
    let client = reqwest::Client::new();
    let mut r = report_at("voirie", RENNES.0, RENNES.1);
    r["contact"] = json!({ "email": "logged.filer@example.org" });
    let first: Value = client
        .post(format!("{base}/api/v1/reports"))
        .multipart(multipart(&r, &[]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let number = first["request_number"].as_str().unwrap();
    let support: Value = client
        .post(format!("{base}/api/v1/requests/{number}/support"))
        .json(&json!({ "client_id": Uuid::new_v4(),
                       "contact": { "email": "logged.supporter@example.org" } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = code_of(&first);
    let status = client
        .get(format!(
            "{base}/api/v1/requests/{number}?tracking_code={code}"
        ))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    // Both acknowledgements went through the outbox (to the log: no SMTP server).
    let deadline = Instant::now() + WAIT;
    loop {
        let done: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM outbox_jobs WHERE kind = 'email.send' AND done_at IS NOT NULL",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        if done >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "acknowledgements not processed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(text.contains("e-mail not sent"), "{text}");
    for secret in [
        "logged.filer@example.org",
        "logged.supporter@example.org",
        code.as_str(),
        support["tracking_code"].as_str().unwrap(),
        "follow=",
        "tracking_code=",
    ] {
        assert!(!text.contains(secret), "{secret} in the logs:\n{text}");
    }
}

#[tokio::test]
async fn production_refuses_to_serve_without_a_secret_key() {
    let db = TestDb::new().await;
    let serve = |key: Option<&str>| {
        let mut cmd = std::process::Command::new(binary());
        cmd.arg("serve")
            .env("DATABASE_URL", &db.url)
            .env("GUICHET_ENV", "production")
            .env("GUICHET_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            .env_remove("GUICHET_CONFIG")
            .env_remove("GUICHET_SECRET_KEY");
        if let Some(key) = key {
            cmd.env("GUICHET_SECRET_KEY", key);
        }
        let out = cmd.output().expect("run guichet");
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = serve(None);
    assert!(err.contains("GUICHET_SECRET_KEY"), "{err}");
    let err = serve(Some("too-short-a-key"));
    assert!(err.contains("GUICHET_SECRET_KEY"), "{err}");
    assert!(
        !err.contains("too-short-a-key"),
        "the key is never printed: {err}"
    );
    // With a key, the next check speaks: this database has the demo accounts.
    let err = serve(Some("a-production-key-of-more-than-32-characters"));
    assert!(!err.contains("GUICHET_SECRET_KEY"), "{err}");
    assert!(err.contains("demo password"), "{err}");
}
