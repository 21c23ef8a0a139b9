#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! E-mail notices: `guichet_server::notify::notify` called in a transaction as the pipeline
//! does, the outbox run, and a real SMTP server receiving what is sent.

use std::time::Duration;

use guichet_server::notify::{self, Notice};
use guichet_server::outbox::run_due_jobs;
use guichet_server::{AppState, Config};
use guichet_shared::timeline::Audience;
use guichet_tests::smtp::{ReceivedMail, SmtpServer};
use guichet_tests::{TestDb, TestServer};
use sqlx::PgPool;

const WAIT: Duration = Duration::from_secs(15);
const PUBLIC_URL: &str = "https://guichet.test";
const SECRET_KEY: &str = "notify-tests-secret-key-0123456789abcdef";

/// A service state on `db` that sends through `smtp` (or logs e-mails when `None`) and
/// retries after 100 ms.
fn state(db: &TestDb, smtp: Option<&SmtpServer>) -> AppState {
    let data_dir = std::env::temp_dir().join(format!("guichet-notify-{}", uuid::Uuid::new_v4()));
    let mut vars = vec![
        ("DATABASE_URL", db.url.clone()),
        ("GUICHET_PUBLIC_URL", PUBLIC_URL.to_owned()),
        ("GUICHET_DATA_DIR", data_dir.display().to_string()),
        ("GUICHET_RETRY_BASE_MS", "100".to_owned()),
        ("GUICHET_OUTBOX_POLL_MS", "50".to_owned()),
        ("GUICHET_SECRET_KEY", SECRET_KEY.to_owned()),
    ];
    if let Some(smtp) = smtp {
        vars.push(("GUICHET_SMTP_URL", smtp.url()));
    }
    let config = Config::from_vars(vars).expect("config");
    AppState::new(config, db.pool.clone()).expect("store")
}

/// Contacts of a test request.
#[derive(Default)]
struct Filing<'a> {
    channel: &'a str,
    contact_email: Option<&'a str>,
    lang: &'a str,
    citizen: Option<(&'a str, &'a str)>,
}

/// A pothole request routed to the road team, as the pipeline leaves it.
async fn insert_request(pool: &PgPool, f: &Filing<'_>) -> (i64, String, String) {
    let citizen_id: Option<i64> = match f.citizen {
        Some((email, lang)) => Some(
            sqlx::query_scalar(
                "INSERT INTO citizens (email, name, password_hash, lang)
                 VALUES ($1, 'Camille', 'x', $2) RETURNING id",
            )
            .bind(email)
            .bind(lang)
            .fetch_one(pool)
            .await
            .unwrap(),
        ),
        None => None,
    };
    let number = format!("2026-SIG-{:06}", rand_u32() % 1_000_000);
    let r = rand_u32();
    let tracking = format!(
        "{:04X}-{:04X}-{:04X}",
        r >> 16,
        r & 0xffff,
        rand_u32() & 0xffff
    );
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO requests (number, tracking_code_digest, demarche_code, demarche_revision,
                               channel, status, phase, team_id, workflow, contact_email, lang,
                               citizen_id, location, description)
         SELECT $1, sha256(convert_to($2, 'UTF8')), d.code, d.current_revision, $3, 'new', 'received', rr.team_id, 'report',
                $4, $5, $6, ST_SetSRID(ST_MakePoint(-1.68, 48.11), 4326)::geography,
                'Nid-de-poule devant le 12'
           FROM demarches d JOIN routing_rules rr ON rr.demarche_code = d.code
          WHERE d.code = 'voirie'
         RETURNING id",
    )
    .bind(&number)
    .bind(&tracking)
    .bind(if f.channel.is_empty() {
        "web"
    } else {
        f.channel
    })
    .bind(f.contact_email)
    .bind(if f.lang.is_empty() { "fr" } else { f.lang })
    .bind(citizen_id)
    .fetch_one(pool)
    .await
    .unwrap();
    (id, number, tracking)
}

async fn insert_report(pool: &PgPool, request_id: i64, contact: Option<&str>, lang: &str) -> i64 {
    let id = sqlx::query_scalar(
        "INSERT INTO reports (client_id, request_id, channel, location, deduplicated, receipt,
                              contact_email, lang)
         VALUES ($1, $2, 'app', ST_SetSRID(ST_MakePoint(-1.68, 48.11), 4326)::geography,
                 true, '{}', $3, $4)
         RETURNING id",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(request_id)
    .bind(contact)
    .bind(lang)
    .fetch_one(pool)
    .await
    .unwrap();
    sqlx::query("UPDATE requests SET report_count = report_count + 1 WHERE id = $1")
        .bind(request_id)
        .execute(pool)
        .await
        .unwrap();
    id
}

fn rand_u32() -> u32 {
    let b = uuid::Uuid::new_v4().into_bytes();
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Calls `notify` in its own transaction, as the pipeline would at the end of its change.
async fn send(state: &AppState, request_id: i64, notice: Notice<'_>) {
    let mut tx = state.db.begin().await.unwrap();
    notify::notify(&mut tx, &state.config.notify, request_id, notice)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Runs the outbox until nothing is due or waiting for a retry.
async fn drain(state: &AppState) {
    let started = std::time::Instant::now();
    loop {
        run_due_jobs(state).await.unwrap();
        let open: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM outbox_jobs
              WHERE done_at IS NULL AND failed_at IS NULL AND kind <> 'digest.daily'",
        )
        .fetch_one(&state.db)
        .await
        .unwrap();
        if open == 0 {
            return;
        }
        assert!(started.elapsed() < WAIT, "outbox jobs still open");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn team_name(pool: &PgPool, request_id: i64) -> String {
    sqlx::query_scalar(
        "SELECT t.name FROM requests r JOIN teams t ON t.id = r.team_id WHERE r.id = $1",
    )
    .bind(request_id)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The receipt time as the e-mail must show it, computed by PostgreSQL in Paris time.
async fn received_text(pool: &PgPool, request_id: i64, format: &str) -> String {
    sqlx::query_scalar(
        "SELECT to_char(created_at AT TIME ZONE 'Europe/Paris', $2) FROM requests WHERE id = $1",
    )
    .bind(request_id)
    .bind(format)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn events(pool: &PgPool, request_id: i64) -> Vec<(String, bool, serde_json::Value)> {
    sqlx::query_as("SELECT kind, public, data FROM events WHERE request_id = $1 ORDER BY id")
        .bind(request_id)
        .fetch_all(pool)
        .await
        .unwrap()
}

fn one_to<'a>(mails: &'a [ReceivedMail], address: &str) -> &'a ReceivedMail {
    let found: Vec<_> = mails.iter().filter(|m| m.is_to(address)).collect();
    assert_eq!(found.len(), 1, "e-mails to {address}");
    found[0]
}

#[tokio::test]
async fn the_acknowledgement_gives_number_date_service_and_tracking_in_french_and_english() {
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    let state = state(&db, Some(&smtp));
    let (fr_id, fr_number, fr_code) = insert_request(
        &db.pool,
        &Filing {
            channel: "web",
            contact_email: Some("claire.martin@example.org"),
            lang: "fr",
            ..Default::default()
        },
    )
    .await;
    let (en_id, en_number, _) = insert_request(
        &db.pool,
        &Filing {
            channel: "phone",
            contact_email: Some("john.smith@example.org"),
            lang: "en",
            ..Default::default()
        },
    )
    .await;
    let created = |code| Notice::Created {
        tracking_code: Some(code),
    };
    send(&state, fr_id, created(&fr_code)).await;
    send(&state, en_id, created("AAAA-BBBB-CCCC")).await;
    drain(&state).await;
    let mails = smtp.wait_for_count(2, WAIT).await;
    assert_eq!(mails.len(), 2);
    let team = team_name(&db.pool, fr_id).await;

    let fr = one_to(&mails, "claire.martin@example.org");
    assert_eq!(
        fr.subject(),
        format!("Accusé de réception de votre demande {fr_number}")
    );
    let body = fr.body_text();
    let when = received_text(&db.pool, fr_id, "DD/MM/YYYY à HH24:MI").await;
    for part in [
        fr_number.as_str(),
        &format!("Reçue le {when} (heure de Paris), en ligne"),
        &format!("Service chargé de la demande : {team}"),
        "Chaussée, trottoir ou nid-de-poule",
        &format!("Code de suivi : {fr_code}"),
        // The filer's own follow link: the request's token, no code in it.
        &format!("{PUBLIC_URL}/suivi/{fr_number}?follow=q{fr_id}."),
        "L. 112-11",
    ] {
        assert!(body.contains(part), "{part:?} missing from\n{body}");
    }
    for header in ["From", "To", "Date", "Message-ID"] {
        assert!(fr.header(header).is_some(), "{header} header");
    }
    assert!(
        fr.header("From")
            .unwrap()
            .contains("no-reply@guichet.localhost")
    );
    assert_eq!(
        fr.header("Content-Type").unwrap().to_ascii_lowercase(),
        "text/plain; charset=utf-8"
    );

    let en = one_to(&mails, "john.smith@example.org");
    assert_eq!(
        en.subject(),
        format!("Acknowledgement of your request {en_number}")
    );
    let body = en.body_text();
    let when = received_text(&db.pool, en_id, "FMDD FMMonth YYYY \"at\" HH24:MI").await;
    for part in [
        en_number.as_str(),
        &format!("Received on {when} (Paris time), by phone"),
        &format!("Service in charge: {team}"),
        "Road, pavement or pothole",
        "Tracking code: AAAA-BBBB-CCCC",
    ] {
        assert!(body.contains(part), "{part:?} missing from\n{body}");
    }

    // Once handed to the SMTP server, each e-mail is in its request's audit trail.
    let trail = events(&db.pool, fr_id).await;
    let sent: Vec<_> = trail
        .iter()
        .filter(|(kind, _, _)| kind == "notification_sent")
        .collect();
    assert_eq!(sent.len(), 1, "{trail:?}");
    assert!(!sent[0].1, "notification_sent is internal");
    assert_eq!(sent[0].2["to"], "claire.martin@example.org");
    assert_eq!(sent[0].2["subject"], fr.subject());
}

#[tokio::test]
async fn the_acknowledgement_is_a_public_timeline_event_even_with_nobody_to_email() {
    let server = TestServer::start().await;
    let state = state(&server.db, None);
    let (id, number, code) = insert_request(&server.db.pool, &Filing::default()).await;
    send(
        &state,
        id,
        Notice::Created {
            tracking_code: Some(&code),
        },
    )
    .await;

    let jobs: i64 =
        sqlx::query_scalar("SELECT count(*) FROM outbox_jobs WHERE kind = 'email.send'")
            .fetch_one(&server.db.pool)
            .await
            .unwrap();
    assert_eq!(jobs, 0, "no contact, no e-mail");
    let trail = events(&server.db.pool, id).await;
    let ack = trail
        .iter()
        .find(|(kind, _, _)| kind == "acknowledgement")
        .expect("acknowledgement event");
    assert!(ack.1, "the acknowledgement is public");
    assert_eq!(ack.2["number"], number.as_str());
    assert_eq!(ack.2["channel"], "web");
    assert_eq!(
        ack.2["service"],
        team_name(&server.db.pool, id).await.as_str()
    );
    assert!(
        ack.2["received_at"]
            .as_str()
            .is_some_and(|t| t.contains('T'))
    );

    let view = server
        .get(&format!("/api/v1/requests/{number}?tracking_code={code}"))
        .send()
        .await
        .expect(200)
        .json();
    let kinds: Vec<&str> = view["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"acknowledgement"), "{view}");
}

#[tokio::test]
async fn a_co_report_is_acknowledged_to_its_own_contact_only() {
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    let state = state(&db, Some(&smtp));
    let (id, number, _) = insert_request(
        &db.pool,
        &Filing {
            contact_email: Some("first@example.org"),
            ..Default::default()
        },
    )
    .await;
    let report = insert_report(&db.pool, id, Some("Second@Example.org"), "en").await;
    let silent = insert_report(&db.pool, id, None, "fr").await;
    let added = |report_id| Notice::ReportAdded {
        report_id,
        tracking_code: Some("RRRR-SSSS-TTTT"),
    };
    send(&state, id, added(report)).await;
    send(&state, id, added(silent)).await;
    drain(&state).await;

    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "only the co-reporter with a contact");
    assert!(mails[0].is_to("second@example.org"));
    assert_eq!(
        mails[0].subject(),
        format!("Acknowledgement of your report ({number})")
    );
    // The co-reporter's own code and link, from their report.
    let body = mails[0].body_text();
    assert!(body.contains("Tracking code: RRRR-SSSS-TTTT"), "{body}");
    assert!(
        body.contains(&format!("?follow=r{report}.")),
        "the link of their report: {body}"
    );
    let acks: Vec<_> = events(&db.pool, id)
        .await
        .into_iter()
        .filter(|(kind, public, _)| kind == "acknowledgement" && *public)
        .map(|(_, _, data)| data["report_id"].as_i64())
        .collect();
    assert_eq!(acks, vec![Some(report), Some(silent)]);
}

#[tokio::test]
async fn a_status_change_reaches_every_reporter_and_supporter_and_shows_only_public_words() {
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    let state = state(&db, Some(&smtp));
    let (id, number, _) = insert_request(
        &db.pool,
        &Filing {
            contact_email: Some("filer@example.org"),
            lang: "fr",
            citizen: Some(("account.holder@example.org", "en")),
            ..Default::default()
        },
    )
    .await;
    // The first report carries the filer's address again, in other letters' case.
    insert_report(&db.pool, id, Some("FILER@example.org"), "fr").await;
    insert_report(&db.pool, id, Some("neighbour@example.org"), "fr").await;
    insert_report(&db.pool, id, None, "fr").await;
    insert_report(&db.pool, id, Some("supporter@example.org"), "en").await;
    // An internal note must never reach citizens.
    sqlx::query(
        "INSERT INTO events (request_id, kind, public, actor, data)
         VALUES ($1, 'note', false, 'agent:1', '{\"message\": \"INTERNAL-NOTE-7781\"}')",
    )
    .bind(id)
    .execute(&db.pool)
    .await
    .unwrap();
    // The pipeline changes the row, then notifies in the same transaction.
    let mut tx = state.db.begin().await.unwrap();
    sqlx::query(
        "UPDATE requests SET status = 'not_ours', phase = 'closed', outcome = 'redirected',
                             closed_at = now() WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await
    .unwrap();
    notify::notify(
        &mut tx,
        &state.config.notify,
        id,
        Notice::StatusChanged {
            from: "new",
            to: "not_ours",
            after_photos: &[],
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    drain(&state).await;

    let mails = smtp.messages();
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.recipients.clone()).collect();
    to.sort();
    assert_eq!(
        to,
        vec![
            "account.holder@example.org",
            "filer@example.org",
            "neighbour@example.org",
            "supporter@example.org",
        ]
    );
    let fr = one_to(&mails, "neighbour@example.org");
    assert_eq!(
        fr.subject(),
        format!("Votre demande {number} : Transmise à l'organisme compétent")
    );
    assert!(
        fr.body_text()
            .contains("Le traitement de cette demande est terminé.")
    );
    let en = one_to(&mails, "supporter@example.org");
    assert_eq!(
        en.subject(),
        format!("Your request {number}: Passed to the competent body")
    );
    let account = one_to(&mails, "account.holder@example.org");
    assert!(
        account.subject().starts_with("Your request"),
        "the account's language"
    );
    for m in &mails {
        let text = format!("{}\n{}", m.subject(), m.body_text());
        for secret in ["not_ours", "INTERNAL-NOTE-7781", "redirected"] {
            assert!(!text.contains(secret), "{secret} leaked into\n{text}");
        }
        // Nobody learns the other contacts' addresses.
        for other in ["filer@", "neighbour@", "supporter@", "account.holder@"] {
            if !m.recipients[0].starts_with(other) {
                assert!(
                    !m.data.contains(other),
                    "{other} shown to {:?}",
                    m.recipients
                );
            }
        }
    }
}

#[tokio::test]
async fn an_smtp_failure_is_retried_and_the_email_delivered_once() {
    let db = TestDb::new().await;
    let smtp = SmtpServer::start_failing(1).await;
    let state = state(&db, Some(&smtp));
    let (id, _, code) = insert_request(
        &db.pool,
        &Filing {
            contact_email: Some("patient@example.org"),
            ..Default::default()
        },
    )
    .await;
    send(
        &state,
        id,
        Notice::Created {
            tracking_code: Some(&code),
        },
    )
    .await;

    run_due_jobs(&state).await.unwrap();
    assert_eq!(smtp.refused(), 1);
    assert!(smtp.messages().is_empty());
    let (attempts, last_error): (i32, Option<String>) =
        sqlx::query_as("SELECT attempts, last_error FROM outbox_jobs WHERE kind = 'email.send'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(attempts, 1);
    assert!(last_error.is_some_and(|e| e.contains("451")));

    drain(&state).await;
    smtp.wait_for(|m| m.is_to("patient@example.org"), WAIT)
        .await;
    // Nothing else arrives, even after further runs.
    tokio::time::sleep(Duration::from_millis(300)).await;
    run_due_jobs(&state).await.unwrap();
    assert_eq!(smtp.messages().len(), 1);
    let (attempts, done): (i32, bool) = sqlx::query_as(
        "SELECT attempts, done_at IS NOT NULL FROM outbox_jobs WHERE kind = 'email.send'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((attempts, done), (2, true));
    let sent = events(&db.pool, id)
        .await
        .into_iter()
        .filter(|(kind, _, _)| kind == "notification_sent")
        .count();
    assert_eq!(sent, 1);
}

#[tokio::test]
async fn replies_complements_and_merges_reach_the_right_people() {
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    let state = state(&db, Some(&smtp));
    let (id, number, _) = insert_request(
        &db.pool,
        &Filing {
            contact_email: Some("filer@example.org"),
            ..Default::default()
        },
    )
    .await;
    insert_report(&db.pool, id, None, "fr").await;
    insert_report(&db.pool, id, Some("coreporter@example.org"), "en").await;
    let (target_id, target_number, target_code) =
        insert_request(&db.pool, &Filing::default()).await;

    send(
        &state,
        id,
        Notice::Reply {
            body: "Une équipe passera jeudi matin.",
            audience: Audience::Filer,
        },
    )
    .await;
    send(
        &state,
        id,
        Notice::Reply {
            body: "Les travaux auront lieu la semaine prochaine.",
            audience: Audience::All,
        },
    )
    .await;
    let fields = vec!["photo_detail".to_owned()];
    send(
        &state,
        id,
        Notice::ComplementRequested {
            fields: &fields,
            message: "Pouvez-vous préciser l'emplacement ?",
        },
    )
    .await;
    send(&state, id, Notice::Merged { into_id: target_id }).await;
    drain(&state).await;

    let to_filer = smtp.messages_to("filer@example.org");
    let to_co = smtp.messages_to("coreporter@example.org");
    assert_eq!(to_filer.len(), 4, "reply, reply to all, complement, merge");
    assert_eq!(
        to_co.len(),
        2,
        "the reply to all and the merge; the conversation is the filer's"
    );
    assert!(
        to_filer[0]
            .body_text()
            .contains("Une équipe passera jeudi matin.")
    );
    assert_eq!(
        to_co[0].subject(),
        format!("Reply to your request {number}")
    );
    assert!(to_co[0].body_text().contains("la semaine prochaine"));
    for m in &to_co {
        assert!(!m.body_text().contains("jeudi matin"), "{}", m.body_text());
    }
    let complement = &to_filer[2];
    assert!(
        complement
            .subject()
            .contains("des compléments sont nécessaires")
    );
    let body = complement.body_text();
    assert!(body.contains("Pouvez-vous préciser l'emplacement ?"));
    assert!(body.contains("  - photo_detail"), "{body}");
    let merged = &to_filer[3];
    assert_eq!(
        merged.subject(),
        format!("Votre demande {number} est désormais suivie sous le numéro {target_number}")
    );
    // Never the target's filer's code: each their own link, to the target's number.
    let body = merged.body_text();
    assert!(!body.contains(&target_code), "{body}");
    assert!(!body.contains("Code de suivi"), "{body}");
    assert!(
        body.contains(&format!("/suivi/{target_number}?follow=q{id}.")),
        "{body}"
    );
    let co_merged = to_co[1].body_text();
    assert!(!co_merged.contains(&target_code), "{co_merged}");
    assert!(co_merged.contains(&format!("/suivi/{target_number}?follow=r")));
}

#[tokio::test]
async fn without_smtp_emails_are_logged_and_the_jobs_done() {
    let db = TestDb::new().await;
    let state = state(&db, None);
    let (id, _, _) = insert_request(
        &db.pool,
        &Filing {
            contact_email: Some("nobody-sends@example.org"),
            ..Default::default()
        },
    )
    .await;
    send(
        &state,
        id,
        Notice::Created {
            tracking_code: None,
        },
    )
    .await;
    drain(&state).await;
    let done: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox_jobs WHERE kind = 'email.send' AND done_at IS NOT NULL",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(done, 1);
    // Nothing was sent, so nothing says it was.
    assert!(
        !events(&db.pool, id)
            .await
            .iter()
            .any(|(kind, _, _)| kind == "notification_sent")
    );
}

#[tokio::test]
async fn the_verification_email_has_the_link_and_the_raw_token() {
    let db = TestDb::new().await;
    let smtp = SmtpServer::start().await;
    let state = state(&db, Some(&smtp));
    let mut tx = state.db.begin().await.unwrap();
    notify::verification_email(
        &mut tx,
        &state.config.notify,
        "New.Citizen@Example.org",
        guichet_shared::phase::Lang::En,
        "0123abcd",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    drain(&state).await;
    let mail = smtp
        .wait_for(|m| m.is_to("new.citizen@example.org"), WAIT)
        .await;
    assert_eq!(mail.subject(), "Confirm your e-mail address");
    let body = mail.body_text();
    assert!(body.contains(&format!(
        "{PUBLIC_URL}/api/v1/citizen/verify?token=0123abcd"
    )));
    assert!(body.contains("\n0123abcd\n"), "{body}");
}
