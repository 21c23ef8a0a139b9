#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Exports of the queue as CSV and ODS: every row of the filtered queue, formulas neutralised,
//! a valid OpenDocument archive, for supervisors and admins only.

use std::io::Read;

use guichet_tests::api::{agent_token, get, post};
use guichet_tests::{RENNES, TestServer};
use serde_json::{Value, json};
use uuid::Uuid;

const SUPERVISOR: &str = "superviseur.voirie@guichet.example";

async fn file(server: &TestServer, i: u32, landmark: &str) -> String {
    let body = json!({
        "client_id": Uuid::new_v4(),
        "demarche": "voirie",
        "channel": "app",
        "data": {
            "location": { "lat": RENNES.0 + 0.003 * f64::from(i), "lon": RENNES.1, "accuracy_m": 8.0 },
            "landmark": landmark,
            "description": "Nid-de-poule",
        },
    });
    let (status, filed) = post(server, "/api/v1/requests", None, &body).await;
    assert_eq!(status, 201, "{filed}");
    filed["request_number"].as_str().unwrap().to_owned()
}

async fn download(server: &TestServer, token: &str, query: &str) -> reqwest::Response {
    server
        .client
        .get(server.url(&format!("/api/v1/agent/requests/export?{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_supervisor_exports_the_filtered_queue_as_csv_and_ods() {
    let server = TestServer::start().await;
    let mut numbers = Vec::new();
    for i in 0..3 {
        numbers.push(file(&server, i, "Devant le 3 rue de Paris").await);
    }
    let supervisor = agent_token(&server, SUPERVISOR).await;
    // An address a citizen typed like a formula must not run in a spreadsheet.
    let evil = json!({
        "client_id": Uuid::new_v4(), "category": "voirie",
        "lat": RENNES.0 + 0.02, "lon": RENNES.1, "description": "Trou",
        "address": "=HYPERLINK(\"http://evil.example\",\"clic\")",
    });
    let answer = server
        .client
        .post(server.url("/api/v1/reports"))
        .multipart(guichet_tests::multipart(&evil, &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);

    let (_, queue) = get(&server, "/api/v1/agent/requests", Some(&supervisor)).await;
    let queued = queue["items"].as_array().unwrap().len();
    assert_eq!(queued, 4);

    let csv = download(&server, &supervisor, "format=csv").await;
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".csv")
    );
    let text = csv.text().await.unwrap();
    let text = text
        .strip_prefix('\u{feff}')
        .expect("a byte order mark for spreadsheets");
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 1 + queued, "{text}");
    assert!(lines[0].starts_with("Numéro,Démarche,"), "{}", lines[0]);
    for n in &numbers {
        assert!(
            lines.iter().any(|l| l.starts_with(n.as_str())),
            "{n} in {text}"
        );
    }
    assert!(text.contains("'=HYPERLINK"), "neutralised: {text}");
    assert!(!text.contains(",=HYPERLINK") && !text.contains(",\"=HYPERLINK"));

    // Filters apply: none of these is overdue.
    let none = download(&server, &supervisor, "format=csv&overdue=true").await;
    let none = none.text().await.unwrap();
    assert_eq!(none.split("\r\n").filter(|l| !l.is_empty()).count(), 1);

    // Days of filing bound it, in the city's time zone.
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+1))
        .date();
    let count = |text: String| text.split("\r\n").filter(|l| !l.is_empty()).count() - 1;
    let later = today.next_day().unwrap();
    let none = download(
        &server,
        &supervisor,
        &format!("format=csv&filed_from={later}"),
    )
    .await;
    assert_eq!(count(none.text().await.unwrap()), 0);
    let earlier = today.previous_day().unwrap();
    let all = download(
        &server,
        &supervisor,
        &format!("format=csv&filed_from={earlier}&filed_to={later}"),
    )
    .await;
    assert_eq!(count(all.text().await.unwrap()), queued);
    let bad = download(&server, &supervisor, "format=csv&filed_from=04/12/2026").await;
    assert_eq!(bad.status(), 422);

    let ods = download(&server, &supervisor, "format=ods").await;
    assert_eq!(ods.status(), 200);
    assert_eq!(
        ods.headers()["content-type"],
        "application/vnd.oasis.opendocument.spreadsheet"
    );
    let bytes = ods.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(archive.by_index(0).unwrap().name(), "mimetype");
    let mut mimetype = String::new();
    archive
        .by_name("mimetype")
        .unwrap()
        .read_to_string(&mut mimetype)
        .unwrap();
    assert_eq!(mimetype, "application/vnd.oasis.opendocument.spreadsheet");
    let mut content = String::new();
    archive
        .by_name("content.xml")
        .unwrap()
        .read_to_string(&mut content)
        .unwrap();
    assert_eq!(content.matches("<table:table-row>").count(), 1 + queued);
    for n in &numbers {
        assert!(content.contains(n.as_str()));
    }
    // The formula is a string cell: text, never evaluated.
    assert!(content.contains(
        r#"<table:table-cell office:value-type="string"><text:p>=HYPERLINK(&quot;http://evil.example&quot;,&quot;clic&quot;)</text:p>"#
    ));
    assert!(content.ends_with("</office:document-content>\n"));
}

#[tokio::test]
async fn exports_are_for_supervisors_and_admins() {
    let server = TestServer::start().await;
    for (email, status) in [
        ("agent.voirie@guichet.example", 403),
        ("terrain.voirie@guichet.example", 403),
        ("admin@guichet.example", 200),
        (SUPERVISOR, 200),
    ] {
        let token = agent_token(&server, email).await;
        let answer = download(&server, &token, "format=csv").await;
        assert_eq!(answer.status(), status, "{email}");
    }
    let anonymous = server
        .client
        .get(server.url("/api/v1/agent/requests/export?format=csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let supervisor = agent_token(&server, SUPERVISOR).await;
    let (status, problem): (u16, Value) = get(
        &server,
        "/api/v1/agent/requests/export?format=xls",
        Some(&supervisor),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (422, Some("format"))
    );
}
