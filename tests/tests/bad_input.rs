#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Bad input to `POST /api/v1/reports`: each gets problem+json with a stable code (and the
//! field, for validation), never a 500, and leaves no record behind.

use guichet_shared::validation::MAX_DESCRIPTION_CHARS;
use guichet_tests::{Answer, RENNES, TestServer, multipart, multipart_raw, report_at};

/// Posts `json` as the report part of a multipart body.
async fn post_json(server: &TestServer, json: &str) -> Answer {
    server
        .post("/api/v1/reports")
        .multipart(multipart_raw(json, &[]))
        .send()
        .await
}

async fn assert_nothing_stored(server: &TestServer) {
    for table in ["requests", "reports", "photos", "events"] {
        assert_eq!(server.db.count(table).await, 0, "{table}");
    }
}

/// Sends `report` with one field replaced, expects status, code and field.
async fn refused(
    server: &TestServer,
    key: &str,
    value: serde_json::Value,
    status: u16,
    code: &str,
    field: &str,
) {
    let mut report = report_at("voirie", RENNES.0, RENNES.1);
    if value.is_null() {
        report.as_object_mut().unwrap().remove(key);
    } else {
        report[key] = value;
    }
    let body = post_json(server, &report.to_string())
        .await
        .expect_problem(status, code);
    assert_eq!(body["field"], field, "{body}");
    assert!(
        body["errors"].as_array().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn malformed_json_is_400() {
    let server = TestServer::start().await;
    let body = post_json(&server, "{\"client_id\": ")
        .await
        .expect_problem(400, "malformed-json");
    assert!(body["detail"].as_str().unwrap().contains("line 1"));
    let trailing = format!("{} extra", report_at("voirie", RENNES.0, RENNES.1));
    post_json(&server, &trailing)
        .await
        .expect_problem(400, "malformed-json");
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn nan_and_string_coordinates_name_the_field() {
    let server = TestServer::start().await;
    let nan = format!(
        r#"{{"client_id": "{}", "category": "voirie", "lat": NaN, "lon": -1.68}}"#,
        uuid::Uuid::new_v4()
    );
    let body = post_json(&server, &nan)
        .await
        .expect_problem(400, "malformed-json");
    assert_eq!(body["field"], "lat");
    refused(
        &server,
        "lat",
        "48.11".into(),
        422,
        "validation-failed",
        "lat",
    )
    .await;
    refused(
        &server,
        "lon",
        "NaN".into(),
        422,
        "validation-failed",
        "lon",
    )
    .await;
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn coordinates_out_of_range_are_422() {
    let server = TestServer::start().await;
    refused(&server, "lat", 91.0.into(), 422, "validation-failed", "lat").await;
    refused(
        &server,
        "lat",
        (-90.5).into(),
        422,
        "validation-failed",
        "lat",
    )
    .await;
    refused(
        &server,
        "lon",
        180.1.into(),
        422,
        "validation-failed",
        "lon",
    )
    .await;
    refused(
        &server,
        "lat",
        1e300.into(),
        422,
        "validation-failed",
        "lat",
    )
    .await;
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn missing_or_unknown_category_is_422() {
    let server = TestServer::start().await;
    refused(
        &server,
        "category",
        serde_json::Value::Null,
        422,
        "validation-failed",
        "category",
    )
    .await;
    refused(
        &server,
        "category",
        "".into(),
        422,
        "validation-failed",
        "category",
    )
    .await;
    refused(
        &server,
        "category",
        "pothole-on-mars".into(),
        422,
        "unknown-category",
        "category",
    )
    .await;
    // A démarche that is not a geolocated report goes through the general intake instead.
    let body = {
        let mut report = report_at("voirie", RENNES.0, RENNES.1);
        report["category"] = "demande-de-contact".into();
        let catalogue = server
            .get("/api/v1/catalogue")
            .send()
            .await
            .expect(200)
            .json();
        let code = catalogue["demarches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["geolocated"] == false)
            .unwrap()["code"]
            .clone();
        report["category"] = code;
        post_json(&server, &report.to_string())
            .await
            .expect_problem(422, "validation-failed")
    };
    assert_eq!(body["errors"][0]["code"], "not-a-report-category");
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn missing_fields_and_wrong_types_are_named() {
    let server = TestServer::start().await;
    refused(
        &server,
        "client_id",
        serde_json::Value::Null,
        422,
        "validation-failed",
        "client_id",
    )
    .await;
    refused(
        &server,
        "client_id",
        "not-a-uuid".into(),
        422,
        "validation-failed",
        "client_id",
    )
    .await;
    refused(
        &server,
        "lat",
        serde_json::Value::Null,
        422,
        "validation-failed",
        "lat",
    )
    .await;
    refused(
        &server,
        "accuracy_m",
        (-3).into(),
        422,
        "validation-failed",
        "accuracy_m",
    )
    .await;
    refused(
        &server,
        "observed_at",
        "yesterday".into(),
        422,
        "validation-failed",
        "observed_at",
    )
    .await;
    refused(
        &server,
        "contact",
        serde_json::json!({ "email": "nobody" }),
        422,
        "validation-failed",
        "contact.email",
    )
    .await;
    let body = post_json(&server, "[1, 2]")
        .await
        .expect_problem(422, "validation-failed");
    assert_eq!(body["field"], "report");
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn a_point_outside_the_service_area_is_explained() {
    let server = TestServer::start().await;
    let mut report = report_at("voirie", 48.8566, 2.3522); // Paris
    report["client_id"] = uuid::Uuid::new_v4().to_string().into();
    let body = post_json(&server, &report.to_string())
        .await
        .expect_problem(422, "outside-service-area");
    assert_eq!(body["field"], "lat");
    assert!(
        body["detail"].as_str().unwrap().contains("outside"),
        "{body}"
    );
    // Just outside Rennes Métropole (Saint-Malo).
    let report = report_at("voirie", 48.6493, -2.0257);
    post_json(&server, &report.to_string())
        .await
        .expect_problem(422, "outside-service-area");
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn a_description_too_long_is_422() {
    let server = TestServer::start().await;
    refused(
        &server,
        "description",
        "x".repeat(MAX_DESCRIPTION_CHARS + 1).into(),
        422,
        "validation-failed",
        "description",
    )
    .await;
    assert_nothing_stored(&server).await;
}

#[tokio::test]
async fn wrong_content_types_and_shapes_of_body() {
    let server = TestServer::start().await;
    let report = report_at("voirie", RENNES.0, RENNES.1);
    server
        .post("/api/v1/reports")
        .json(&report)
        .send()
        .await
        .expect_problem(415, "unsupported-media-type");

    let no_report = reqwest::multipart::Form::new().text("note", "hello");
    let body = server
        .post("/api/v1/reports")
        .multipart(no_report)
        .send()
        .await
        .expect_problem(422, "unknown-part");
    assert_eq!(body["field"], "note");

    let photo_only = reqwest::multipart::Form::new().part(
        "photo",
        reqwest::multipart::Part::bytes(vec![0xFF, 0xD8, 0xFF]).file_name("a.jpg"),
    );
    let body = server
        .post("/api/v1/reports")
        .multipart(photo_only)
        .send()
        .await
        .expect_problem(422, "validation-failed");
    assert_eq!(body["field"], "report");

    let twice = multipart(&report, &[]).text("report", report.to_string());
    server
        .post("/api/v1/reports")
        .multipart(twice)
        .send()
        .await
        .expect_problem(422, "duplicate-part");

    server
        .post("/api/v1/reports")
        .header("content-type", "multipart/form-data; boundary=XYZ")
        .body("--XYZ\r\nthis is not a part header\r\n")
        .send()
        .await
        .expect_problem(400, "malformed-multipart");
    assert_nothing_stored(&server).await;
}
