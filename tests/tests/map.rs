#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! `GET /api/v1/incidents`: RFC 7946 GeoJSON of a viewport, clustered at low zoom.

use std::time::{Duration, Instant};

use guichet_shared::geo::{LatLon, destination};
use guichet_tests::{RENNES, TestServer, expect_problem, multipart, report_at};

const CITY: &str = "-1.80,48.05,-1.55,48.17";

async fn map(server: &TestServer, query: &str) -> reqwest::Response {
    server
        .client
        .get(server.url(&format!("/api/v1/incidents?{query}")))
        .send()
        .await
        .unwrap()
}

async fn seed(server: &TestServer) -> Vec<String> {
    // 30 incidents in a tight hotspot (3 m apart, 3 categories) and 5 scattered ones.
    let origin = LatLon::new(RENNES.0, RENNES.1);
    let mut numbers = Vec::new();
    let categories = ["voirie", "eclairage-public", "mobilier-urbain"];
    let mut reports = Vec::new();
    for i in 0..30 {
        // 40 m apart in a row: beyond every dedup radius of these categories.
        let p = destination(origin, 90.0, 40.0 * f64::from(i / 3));
        reports.push(report_at(categories[i as usize % 3], p.lat, p.lon));
    }
    for i in 0..5 {
        let p = destination(origin, 72.0 * f64::from(i), 2_500.0);
        reports.push(report_at("espaces-verts", p.lat, p.lon));
    }
    for r in &reports {
        let response = server
            .client
            .post(server.url("/api/v1/reports"))
            .multipart(multipart(r, &[]))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["deduplicated"], false);
        numbers.push(body["request_number"].as_str().unwrap().to_owned());
    }
    numbers
}

fn total(features: &[serde_json::Value]) -> u64 {
    features
        .iter()
        .map(|f| f["properties"]["count"].as_u64().unwrap_or(1))
        .sum()
}

#[tokio::test]
async fn the_map_clusters_at_low_zoom_and_shows_points_up_close() {
    let server = TestServer::start().await;
    let numbers = seed(&server).await;
    // Wait for the index to hold them all.
    let started = Instant::now();
    let city = loop {
        let r = map(&server, &format!("bbox={CITY}&zoom=11")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/geo+json");
        assert!(
            r.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age")
        );
        let body: serde_json::Value = r.json().await.unwrap();
        if total(body["features"].as_array().unwrap()) == 35 {
            break body;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(city["type"], "FeatureCollection");
    let features = city["features"].as_array().unwrap();
    // The hotspot (360 m long) is clustered at city zoom: one or two clusters (a cell edge
    // may cut it), never 30 points.
    assert!(features.len() <= 5 + 2, "{city}");
    let big = features
        .iter()
        .max_by_key(|f| f["properties"]["count"].as_u64().unwrap_or(1))
        .unwrap();
    assert!(big["properties"]["count"].as_u64().unwrap() >= 15, "{big}");
    assert_eq!(big["type"], "Feature");
    assert_eq!(big["geometry"]["type"], "Point");
    assert_eq!(big["properties"]["cluster"], true);
    let expansion = big["properties"]["expansion_zoom"].as_u64().unwrap();
    assert!(expansion > 11, "{big}");
    for f in features {
        let c = f["geometry"]["coordinates"].as_array().unwrap();
        assert_eq!(c.len(), 2, "[lon, lat] per RFC 7946");
        assert!(c[0].as_f64().unwrap() < 0.0 && c[1].as_f64().unwrap() > 48.0);
    }

    // Up close every incident is its own feature with its number.
    let street = "-1.6830,48.1095,-1.6720,48.1130";
    let body: serde_json::Value = map(&server, &format!("bbox={street}&zoom=19"))
        .await
        .json()
        .await
        .unwrap();
    let points = body["features"].as_array().unwrap();
    assert_eq!(points.len(), 30, "{body}");
    for p in points {
        assert_eq!(p["properties"]["kind"], "incident");
        assert!(
            numbers.contains(
                &p["properties"]["request_number"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            )
        );
        assert_eq!(p["properties"]["phase"], "received");
    }

    // Filters.
    let body: serde_json::Value = map(&server, &format!("bbox={CITY}&zoom=11&category=voirie"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(total(body["features"].as_array().unwrap()), 10);
    let body: serde_json::Value = map(&server, &format!("bbox={CITY}&zoom=11&status=in_progress"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(total(body["features"].as_array().unwrap()), 0);
}

#[tokio::test]
async fn map_bad_input_is_explained() {
    let server = TestServer::start().await;
    let cases = [
        (
            "bbox=-1.55,48.05,-1.80,48.17&zoom=11",
            "invalid-bbox",
            "bbox",
        ),
        ("bbox=-1.80,NaN,-1.55,48.17&zoom=11", "invalid-bbox", "bbox"),
        ("bbox=-180,-90,180,90&zoom=2", "bbox-too-large", "bbox"),
        ("bbox=1,2,3&zoom=11", "invalid-bbox", "bbox"),
        (&format!("bbox={CITY}&zoom=30"), "zoom-out-of-range", "zoom"),
        (&format!("bbox={CITY}&zoom=-2"), "zoom-out-of-range", "zoom"),
        ("zoom=11", "validation-failed", "bbox"),
        (
            &format!("bbox={CITY}&zoom=11&category=nope"),
            "unknown-category",
            "category",
        ),
        (
            &format!("bbox={CITY}&zoom=11&status=closed"),
            "validation-failed",
            "status",
        ),
    ];
    for (query, code, field) in cases {
        let body = expect_problem(map(&server, query).await, 422, code).await;
        assert_eq!(body["field"], field, "{query}: {body}");
    }
}
