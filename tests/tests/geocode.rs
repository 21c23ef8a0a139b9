#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! Addresses from the Base Adresse Nationale: `guichet import-addresses` (a BAN CSV, streamed,
//! idempotent, with the line of any error), the address of a pin
//! (`GET /api/v1/geocode/reverse`) and the address search (`GET /api/v1/geocode/search`).
//!
//! The fixture (`tests/fixtures/adresses-fixture.csv`, written by
//! `scripts/make-address-sample.py`) has streets in Chantepie and Vern-sur-Seiche, communes
//! the demo's own sample (loaded in every test database) leaves out.

use std::io::Write;
use std::process::Command;

use guichet_shared::geo::{LatLon, destination};
use guichet_tests::{RENNES, TestDb, TestServer, binary};
use serde_json::Value;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/adresses-fixture.csv");
/// Lines of the fixture, its header aside.
const FIXTURE_ADDRESSES: i64 = 52;
const FIXTURE_COMMUNES: &str = "('35055', '35352')";

/// 12 Rue de Paris, Chantepie, as the fixture places it.
const PARIS_12_CHANTEPIE: (f64, f64) = (48.090489, -1.619642);
const VERN_TOWN_HALL: (f64, f64) = (48.044569, -1.601494);
const CHANTEPIE_TOWN_HALL: (f64, f64) = (48.088426, -1.620389);

fn guichet(db: &TestDb, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(binary())
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .env_remove("GUICHET_CONFIG")
        .output()
        .expect("run guichet");
    (
        out.status.success(),
        plain(&String::from_utf8_lossy(&out.stdout)),
        plain(&String::from_utf8_lossy(&out.stderr)),
    )
}

/// The text without terminal colour codes.
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

async fn fixture_rows(db: &TestDb) -> i64 {
    sqlx::query_scalar(&format!(
        "SELECT count(*) FROM addresses WHERE citycode IN {FIXTURE_COMMUNES}"
    ))
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("{}-{name}", uuid::Uuid::new_v4()));
    std::fs::write(&path, bytes).unwrap();
    path
}

async fn import_fixture(db: &TestDb) {
    let text = std::fs::read(FIXTURE).unwrap();
    let mut tx = db.pool.begin().await.unwrap();
    let summary = guichet_server::addresses::import(&mut tx, "fixture", &text[..])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(summary.lines, FIXTURE_ADDRESSES as u64);
}

async fn get(server: &TestServer, path_and_query: &str) -> (u16, Value) {
    let answer = server.get(path_and_query).send().await;
    (answer.status(), answer.value())
}

fn search_path(q: &str, more: &str) -> String {
    let q: String = q
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("/api/v1/geocode/search?q={q}{more}")
}

fn ids(body: &Value) -> Vec<&str> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap_or("-"))
        .collect()
}

#[tokio::test]
async fn import_addresses_loads_a_ban_file_and_importing_it_again_changes_nothing() {
    let db = TestDb::new().await;
    let sample: i64 = db.count("addresses").await;
    assert!(sample > 200, "the demo's sample is in every test database");

    let (ok, out, err) = guichet(&db, &["import-addresses", FIXTURE]);
    assert!(ok, "{err}");
    assert!(
        out.contains("addresses imported")
            && out.contains(&format!("lines={FIXTURE_ADDRESSES}"))
            && out.contains(&format!("inserted={FIXTURE_ADDRESSES}"))
            && out.contains("communes=2")
            && out.contains("streets=5"),
        "{out}"
    );
    assert_eq!(fixture_rows(&db).await, FIXTURE_ADDRESSES);
    assert_eq!(db.count("addresses").await, sample + FIXTURE_ADDRESSES);
    let (number, rep, street, postcode, city, lat): (i32, String, String, String, String, f64) =
        sqlx::query_as(
            "SELECT number, rep, street, postcode, city, ST_Y(location::geometry)
               FROM addresses WHERE id = '35055_0620_00012_bis'",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        (number, rep.as_str(), street.as_str(), postcode.as_str()),
        (12, "bis", "Rue de Paris", "35135")
    );
    assert_eq!(city, "Chantepie");
    assert!((lat - 48.090529).abs() < 1e-9);

    // Again: nothing changes.
    let (ok, out, err) = guichet(&db, &["import-addresses", FIXTURE]);
    assert!(ok, "{err}");
    assert!(
        out.contains("inserted=0")
            && out.contains("updated=0")
            && out.contains(&format!("unchanged={FIXTURE_ADDRESSES}"))
            && out.contains("removed=0"),
        "{out}"
    );
    assert_eq!(db.count("addresses").await, sample + FIXTURE_ADDRESSES);

    // A newer file: one street renamed at one number, one address gone. The same file gzipped,
    // as the BAN serves it.
    let text = std::fs::read_to_string(FIXTURE).unwrap();
    let newer: String = text
        .lines()
        .filter(|l| !l.starts_with("35352_0480_00005;"))
        .map(|l| {
            if l.starts_with("35055_0300_00001;") {
                l.replace("Rue de l'Église", "Rue de la Vieille Église")
            } else {
                l.to_owned()
            }
        })
        .map(|l| l + "\n")
        .collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(newer.as_bytes()).unwrap();
    let file = temp_file("adresses-35.csv.gz", &gz.finish().unwrap());
    let (ok, out, err) = guichet(&db, &["import-addresses", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    assert!(ok, "{err}");
    assert!(
        out.contains("inserted=0")
            && out.contains("updated=1")
            && out.contains(&format!("unchanged={}", FIXTURE_ADDRESSES - 2))
            && out.contains("removed=1")
            && out.contains("streets=6"),
        "{out}"
    );
    assert_eq!(fixture_rows(&db).await, FIXTURE_ADDRESSES - 1);
    // The search sees the new street.
    let streets: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM address_streets WHERE street = 'Rue de la Vieille Église'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(streets, 1);
    // The demo's addresses, in other communes, are untouched.
    assert_eq!(db.count("addresses").await, sample + FIXTURE_ADDRESSES - 1);
}

#[tokio::test]
async fn a_malformed_file_is_refused_with_the_line_at_fault_and_changes_nothing() {
    let db = TestDb::new().await;
    let text = std::fs::read_to_string(FIXTURE).unwrap();
    let mut lines: Vec<String> = text.lines().take(6).map(str::to_owned).collect();
    // Line 5: a decimal comma in the latitude.
    lines[4] = lines[4].replace(";48.", ";48,");
    let file = temp_file("adresses.csv", (lines.join("\n") + "\n").as_bytes());
    let (ok, _, err) = guichet(&db, &["import-addresses", file.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("line 5") && err.contains("`lat`") && err.contains("48,"),
        "{err}"
    );
    assert_eq!(
        fixture_rows(&db).await,
        0,
        "the good lines before it are not kept"
    );

    // A line with a field missing.
    let mut short = lines.clone();
    short[4] = text.lines().nth(4).unwrap().to_owned();
    short[2] = short[2].split(';').skip(1).collect::<Vec<_>>().join(";");
    std::fs::write(&file, short.join("\n")).unwrap();
    let (ok, _, err) = guichet(&db, &["import-addresses", file.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("line 3") && err.contains("22 fields where the header names 23"),
        "{err}"
    );

    // Not a BAN file: commas, and a header without the BAN's columns.
    std::fs::write(&file, "id,numero,nom_voie,lon,lat\n1,2,Rue,3,4\n").unwrap();
    let (ok, _, err) = guichet(&db, &["import-addresses", file.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("line 1") && err.contains("`code_insee`") && err.contains("`;`"),
        "{err}"
    );
    std::fs::write(&file, "").unwrap();
    let (ok, _, err) = guichet(&db, &["import-addresses", file.to_str().unwrap()]);
    assert!(!ok && err.contains("empty"), "{err}");
    let _ = std::fs::remove_file(&file);
    let (ok, _, err) = guichet(&db, &["import-addresses", "/nonexistent/adresses-35.csv"]);
    assert!(
        !ok && err.contains("cannot read /nonexistent/adresses-35.csv"),
        "{err}"
    );
    assert_eq!(fixture_rows(&db).await, 0);
}

#[tokio::test]
async fn reverse_gives_the_nearest_address_within_150_m_or_404() {
    let server = TestServer::start().await;
    import_fixture(&server.db).await;

    let near = destination(
        LatLon::new(PARIS_12_CHANTEPIE.0, PARIS_12_CHANTEPIE.1),
        200.0,
        3.0,
    );
    let answer = server
        .get(&format!(
            "/api/v1/geocode/reverse?lat={}&lon={}",
            near.lat, near.lon
        ))
        .send()
        .await
        .expect(200);
    assert_eq!(answer.header("cache-control"), Some("public, max-age=300"));
    let body = answer.json();
    assert_eq!(body["label"], "12 Rue de Paris 35135 Chantepie");
    assert_eq!(body["kind"], "address");
    assert_eq!(body["id"], "35055_0620_00012");
    assert_eq!(body["housenumber"], "12");
    assert_eq!(body["street"], "Rue de Paris");
    assert_eq!(body["postcode"], "35135");
    assert_eq!(body["city"], "Chantepie");
    assert_eq!(body["citycode"], "35055");
    assert!((body["lat"].as_f64().unwrap() - PARIS_12_CHANTEPIE.0).abs() < 1e-9);
    assert!((body["lon"].as_f64().unwrap() - PARIS_12_CHANTEPIE.1).abs() < 1e-9);
    let d = body["distance_m"].as_f64().unwrap();
    assert!((2.0..4.0).contains(&d), "{d}");

    // The demo's sample: the town hall of Rennes has its address.
    let (status, body) = get(
        &server,
        &format!("/api/v1/geocode/reverse?lat={}&lon={}", RENNES.0, RENNES.1),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["city"], "Rennes");
    assert!(body["distance_m"].as_f64().unwrap() <= 150.0);

    // In the fields, no address within 150 m.
    let fields = destination(
        LatLon::new(VERN_TOWN_HALL.0, VERN_TOWN_HALL.1),
        180.0,
        900.0,
    );
    server
        .get(&format!(
            "/api/v1/geocode/reverse?lat={}&lon={}",
            fields.lat, fields.lon
        ))
        .send()
        .await
        .expect_problem(404, "no-address-nearby");
}

#[tokio::test]
async fn search_folds_accents_and_case_and_puts_the_number_typed_first() {
    let server = TestServer::start().await;
    import_fixture(&server.db).await;

    let (status, body) = get(&server, &search_path("12 rue de paris chantepie", "")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        ids(&body)[..3],
        [
            "35055_0620_00012",
            "35055_0620_00012_bis",
            "35055_0620_00011"
        ]
    );
    assert_eq!(
        body["results"].as_array().unwrap().len(),
        5,
        "the default limit"
    );
    let first = &body["results"][0];
    assert_eq!(first["label"], "12 Rue de Paris 35135 Chantepie");
    assert_eq!(first["kind"], "address");
    assert_eq!(first["housenumber"], "12");
    assert_eq!(first["citycode"], "35055");
    assert!(first["distance_m"].is_null());
    assert_eq!(body["results"][1]["housenumber"], "12 bis");

    // Case, accents, abbreviations and punctuation.
    let (_, body) = get(&server, &search_path("12 BIS R. DE PARIS, CHANTEPIE", "")).await;
    assert_eq!(ids(&body)[0], "35055_0620_00012_bis");
    let (_, body) = get(&server, &search_path("3 rue de l eglise chantepie", "")).await;
    assert_eq!(ids(&body)[0], "35055_0300_00003");
    assert_eq!(body["results"][0]["street"], "Rue de l'Église");

    // No number: streets, each once.
    let (_, body) = get(&server, &search_path("ALLEE DES CHATAIGNIERS", "&limit=2")).await;
    let first = &body["results"][0];
    assert_eq!(first["kind"], "street");
    assert_eq!(first["label"], "Allée des Châtaigniers 35135 Chantepie");
    assert!(first["id"].is_null() && first["housenumber"].is_null());
    assert!(first["lat"].as_f64().is_some() && first["lon"].as_f64().is_some());
    assert!(body["results"].as_array().unwrap().len() <= 2);

    // The street typed comes before the number on another street: Vern's Rue de Paris stops at
    // 10, Chantepie's has a 15.
    let (_, body) = get(&server, &search_path("15 rue de paris vern", "")).await;
    assert_eq!(ids(&body)[..2], ["35352_0510_00010", "35352_0510_00009"]);

    // A postcode alone is no street.
    let (status, body) = get(&server, &search_path("35135", "")).await;
    assert_eq!(
        (status, body["results"].as_array().unwrap().len()),
        (200, 0)
    );
}

#[tokio::test]
async fn search_prefers_places_near_the_point_given() {
    let server = TestServer::start().await;
    import_fixture(&server.db).await;
    let cities = |body: &Value| -> Vec<String> {
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["city"].as_str().unwrap().to_owned())
            .collect()
    };

    // Rennes (the demo's sample), Chantepie and Vern-sur-Seiche all have a Rue de Paris.
    let near = |(lat, lon): (f64, f64)| format!("&lat={lat}&lon={lon}");
    let (_, body) = get(&server, &search_path("rue de paris", &near(VERN_TOWN_HALL))).await;
    let found = cities(&body);
    assert_eq!(found[0], "Vern-sur-Seiche", "{body}");
    assert!(found.contains(&"Chantepie".to_owned()) && found.contains(&"Rennes".to_owned()));
    let d = body["results"][0]["distance_m"].as_f64().unwrap();
    assert!(d < 1_000.0, "{d}");

    let (_, body) = get(
        &server,
        &search_path("rue de paris", &near(CHANTEPIE_TOWN_HALL)),
    )
    .await;
    assert_eq!(cities(&body)[0], "Chantepie", "{body}");

    let (_, body) = get(
        &server,
        &search_path("3 rue de paris", &near(VERN_TOWN_HALL)),
    )
    .await;
    assert_eq!(ids(&body)[0], "35352_0510_00003", "{body}");
}

/// Found by fuzzing: a point thousands of kilometres away made the nearness bonus underflow,
/// which PostgreSQL answers with an error (a 500).
#[tokio::test]
async fn a_point_on_the_other_side_of_the_earth_is_merely_far() {
    let server = TestServer::start().await;
    import_fixture(&server.db).await;
    for point in [
        "&lat=48.1113&lon=179",
        "&lat=-48.1&lon=178.3",
        "&lat=90&lon=-180",
    ] {
        let (status, body) = get(&server, &search_path("rue de paris", point)).await;
        assert_eq!(status, 200, "{point}: {body}");
        assert!(!ids(&body).is_empty(), "{point}: {body}");
        assert!(body["results"][0]["distance_m"].as_f64().unwrap() > 1_000_000.0);
    }
}

#[tokio::test]
async fn bad_parameters_are_refused_by_field() {
    let server = TestServer::start().await;
    let fields = |body: &Value| -> Vec<(String, String)> {
        body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["field"].as_str().unwrap().to_owned(),
                    e["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let refused = |path: String| {
        let server = &server;
        async move {
            server
                .get(&path)
                .send()
                .await
                .expect_problem(422, "validation-failed")
        }
    };
    let pair = |f: &str, c: &str| (f.to_owned(), c.to_owned());

    let body = refused("/api/v1/geocode/reverse".to_owned()).await;
    assert_eq!(
        fields(&body),
        [pair("lat", "required"), pair("lon", "required")]
    );
    assert_eq!(body["field"], "lat");
    let body = refused("/api/v1/geocode/reverse?lat=91&lon=-1.6".to_owned()).await;
    assert_eq!(fields(&body), [pair("lat", "out-of-range")]);
    let body = refused("/api/v1/geocode/reverse?lat=48.1&lon=ouest".to_owned()).await;
    assert_eq!(fields(&body), [pair("lon", "invalid-type")]);

    let body = refused("/api/v1/geocode/search".to_owned()).await;
    assert_eq!(fields(&body), [pair("q", "required")]);
    let body = refused(search_path("ru", "")).await;
    assert_eq!(fields(&body), [pair("q", "too-short")]);
    let body = refused(search_path(&"rue ".repeat(51), "")).await;
    assert_eq!(fields(&body), [pair("q", "too-long")]);
    let body = refused(search_path("rue de paris", "&lat=48.1")).await;
    assert_eq!(fields(&body), [pair("lon", "required")]);
    let body = refused(search_path("rue de paris", "&lat=NaN&lon=-1.6")).await;
    assert_eq!(fields(&body), [pair("lat", "out-of-range")]);
    for limit in ["0", "21", "cinq"] {
        let body = refused(search_path("rue de paris", &format!("&limit={limit}"))).await;
        assert_eq!(fields(&body), [pair("limit", "out-of-range")]);
    }
    let (status, _) = get(&server, &search_path("rue de paris", "&limit=20")).await;
    assert_eq!(status, 200);
}
