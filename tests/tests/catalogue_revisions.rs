#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Editing a démarche creates a revision; a request keeps the revision it was filed under.

use guichet_server::db::catalogue::{DemarcheInput, upsert_demarche};
use guichet_tests::{RENNES, TestServer, multipart, report_at};

#[tokio::test]
async fn a_request_keeps_the_revision_it_was_filed_under() {
    let server = TestServer::start().await;
    let report = report_at("mobilier-urbain", RENNES.0, RENNES.1);
    let receipt = server
        .post("/api/v1/reports")
        .multipart(multipart(&report, &[]))
        .send()
        .await
        .expect(201)
        .json();

    let definition =
        serde_json::json!({ "code": "mobilier-urbain", "title": "Mobilier urbain abîmé" });
    let channels = vec!["app".to_owned(), "web".to_owned()];
    let keywords_en = vec!["bench".to_owned()];
    let input = DemarcheInput {
        code: "mobilier-urbain",
        group: "signalement",
        position: 4,
        title: "Mobilier urbain abîmé",
        title_en: "Damaged street furniture",
        description: "",
        description_en: "Report a broken bench.",
        keywords: &[],
        keywords_en: &keywords_en,
        channels: &channels,
        auth: "anonymous",
        geolocated: true,
        public_incident: true,
        dedup_radius_m: Some(20.0),
        dedup_window_days: Some(30),
        dedup_group: None,
        sla_days: Some(10),
        definition: &definition,
    };
    let mut tx = server.db.pool.begin().await.unwrap();
    let revision = upsert_demarche(&mut tx, &input).await.unwrap();
    assert_eq!(revision, 2);
    // The same definition again changes nothing.
    assert_eq!(upsert_demarche(&mut tx, &input).await.unwrap(), 2);
    tx.commit().await.unwrap();

    let catalogue = server
        .get("/api/v1/catalogue")
        .send()
        .await
        .expect(200)
        .json();
    let entry = catalogue["demarches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "mobilier-urbain")
        .unwrap()
        .clone();
    assert_eq!(entry["revision"], 2);
    assert_eq!(entry["title"], "Mobilier urbain abîmé");
    assert_eq!(entry["description_en"], "Report a broken bench.");
    assert_eq!(entry["keywords_en"], serde_json::json!(["bench"]));

    let view = server
        .get(receipt["status_url"].as_str().unwrap())
        .send()
        .await
        .expect(200)
        .json();
    assert_ne!(
        view["demarche"]["title"], "Mobilier urbain abîmé",
        "old title kept: {view}"
    );
    let pinned: i32 = sqlx::query_scalar("SELECT demarche_revision FROM requests")
        .fetch_one(&server.db.pool)
        .await
        .unwrap();
    assert_eq!(pinned, 1);
}
