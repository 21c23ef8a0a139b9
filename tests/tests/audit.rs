#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The audit trail: agents' reads of personal data, their changes and the security events are
//! traced (who, when, what, from where), kept append-only, shown to admins only and exported.

use guichet_tests::TestServer;
use guichet_tests::api::{agent_token, contact_request, get, post};
use serde_json::{Value, json};
use uuid::Uuid;

const ADMIN: &str = "admin@guichet.example";
const AGENT: &str = "agent.voirie@guichet.example";

async fn traces(server: &TestServer, admin: &str, query: &str) -> Vec<Value> {
    let (status, page) = get(server, &format!("/api/v1/admin/audit?{query}"), Some(admin)).await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn reading_a_detail_searching_and_acting_leave_traces_that_admins_read() {
    let server = TestServer::start().await;
    let (status, filed) = post(
        &server,
        "/api/v1/requests",
        None,
        &contact_request(Uuid::new_v4(), "lea@example.org"),
    )
    .await;
    assert_eq!(status, 201, "{filed}");
    let number = filed["request_number"].as_str().unwrap().to_owned();
    let admin = agent_token(&server, ADMIN).await;

    let (status, _) = get(
        &server,
        &format!("/api/v1/agent/requests/{number}"),
        Some(&admin),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = get(&server, "/api/v1/agent/search?q=Martin", Some(&admin)).await;
    assert_eq!(status, 200);
    let (status, body) = post(
        &server,
        &format!("/api/v1/agent/requests/{number}/notes"),
        Some(&admin),
        &json!({"text": "Rappeler demain"}),
    )
    .await;
    assert!(status < 300, "{status} {body}");
    // Counts show nobody's data: no trace.
    let (status, _) = get(&server, "/api/v1/agent/requests/counts", Some(&admin)).await;
    assert_eq!(status, 200);

    let on_request = traces(&server, &admin, &format!("target={number}")).await;
    let actions: Vec<&str> = on_request
        .iter()
        .map(|t| t["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "POST /api/v1/agent/requests/{number}/notes",
            "GET /api/v1/agent/requests/{number}",
        ],
        "{on_request:?}"
    );
    let read = &on_request[1];
    assert_eq!(read["kind"], "read");
    assert_eq!(read["actor"], ADMIN);
    assert!(read["agent_id"].is_i64());
    assert_eq!(read["status"], 200);
    assert_eq!(read["ip"], "127.0.0.1");
    assert!(read["at"].is_string());
    assert_eq!(on_request[0]["kind"], "action");

    let all = traces(&server, &admin, "").await;
    let search = all
        .iter()
        .find(|t| t["action"] == "GET /api/v1/agent/search")
        .expect("the search is traced");
    assert_eq!(search["detail"], "q=Martin");
    assert!(
        !all.iter()
            .any(|t| t["action"] == "GET /api/v1/agent/requests/counts"),
        "{all:?}"
    );
    // The login that opened the session is a security event.
    let security = traces(&server, &admin, "kind=security").await;
    assert!(
        security
            .iter()
            .any(|t| t["action"] == "agent.authenticated" && t["actor"] == ADMIN),
        "{security:?}"
    );

    // Paged by `before`, newest first.
    let (_, first) = get(&server, "/api/v1/admin/audit?limit=1", Some(&admin)).await;
    let before = first["next_before"].as_i64().unwrap();
    let (_, second) = get(
        &server,
        &format!("/api/v1/admin/audit?limit=1&before={before}"),
        Some(&admin),
    )
    .await;
    assert!(second["items"][0]["id"].as_i64().unwrap() < before);
}

#[tokio::test]
async fn failed_logins_are_traced_with_the_address_given_and_where_from() {
    let server = TestServer::start().await;
    let (status, _) = post(
        &server,
        "/api/v1/agent/login",
        None,
        &json!({"email": AGENT, "password": "not-the-password"}),
    )
    .await;
    assert_eq!(status, 401);
    let admin = agent_token(&server, ADMIN).await;
    let failed = traces(&server, &admin, "kind=security").await;
    let failure = failed
        .iter()
        .find(|t| t["action"] == "agent.authentication-failed")
        .expect("the failure is traced");
    assert_eq!(failure["actor"], AGENT);
    assert_eq!(failure["ip"], "127.0.0.1");
}

#[tokio::test]
async fn only_admins_read_the_trail_which_nobody_can_change() {
    let server = TestServer::start().await;
    let agent = agent_token(&server, AGENT).await;
    let (status, problem) = get(&server, "/api/v1/admin/audit", Some(&agent)).await;
    assert_eq!(status, 403, "{problem}");
    let (status, _) = get(&server, "/api/v1/admin/audit/export", Some(&agent)).await;
    assert_eq!(status, 403);
    let (status, problem) = get(&server, "/api/v1/admin/audit?kind=everything", Some(&agent)).await;
    assert_eq!(
        status, 403,
        "rights are checked before the parameters: {problem}"
    );

    let admin = agent_token(&server, ADMIN).await;
    let (status, problem) = get(
        &server,
        "/api/v1/admin/audit?kind=everything&limit=0",
        Some(&admin),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["kind", "limit"]);

    // The agent's refused attempt is itself on record.
    let refused = traces(&server, &admin, "kind=read").await;
    assert!(
        refused
            .iter()
            .any(|t| t["action"] == "GET /api/v1/admin/audit"
                && t["status"] == 403
                && t["actor"] == AGENT),
        "{refused:?}"
    );

    // Append-only, even for the database's owner: only the retention purge deletes.
    let pool = &server.db.pool;
    for sql in [
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        let refused = sqlx::query(sql).execute(pool).await;
        assert!(refused.is_err(), "{sql} went through");
    }
    let kept = server.db.count("audit_log").await;
    assert!(kept > 0);
    sqlx::query("UPDATE audit_log SET at = at")
        .execute(pool)
        .await
        .expect_err("no update, not even a no-op");
    // Traces past the retention go, the others stay.
    let old: i64 = {
        let mut tx = pool.begin().await.unwrap();
        sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("UPDATE audit_log SET at = now() - interval '400 days' WHERE id = (SELECT min(id) FROM audit_log)")
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        1
    };
    let gone = guichet_server::audit::purge(pool, 365).await.unwrap();
    assert_eq!(gone as i64, old);
    assert_eq!(server.db.count("audit_log").await, kept - old);
}

#[tokio::test]
async fn the_trail_exports_as_csv_for_admins() {
    let server = TestServer::start().await;
    let admin = agent_token(&server, ADMIN).await;
    let (status, _) = get(&server, "/api/v1/agent/search?q=Durand", Some(&admin)).await;
    assert_eq!(status, 200);
    let answer = server
        .client
        .get(server.url("/api/v1/admin/audit/export?format=csv&kind=read"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = answer.text().await.unwrap();
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next(),
        Some("id,at,kind,agent_id,actor,action,target,detail,status,ip,user_agent")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(
        rows.iter()
            .any(|r| r.contains("GET /api/v1/agent/search") && r.contains("q=Durand")),
        "{text}"
    );
    assert!(rows.iter().all(|r| r.contains(",read,")), "{text}");
}
