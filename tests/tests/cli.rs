#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! The `guichet` binary: migrate, demo, import-zones, and serve (configuration, PostGIS
//! check, graceful shutdown). `setup` and the demo accounts are in `setup.rs`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use guichet_tests::{TestDb, binary, run_cli as guichet};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test]
async fn serve_refuses_a_database_without_postgis_and_says_how_to_install_it() {
    let db = TestDb::without_postgis().await;
    let out = guichet(&db, &["serve"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("PostGIS"), "{err}");
    assert!(
        err.contains("apt-get install postgresql-15-postgis-3"),
        "{err}"
    );
}

#[tokio::test]
async fn serve_refuses_an_unmigrated_database_then_migrate_and_demo_prepare_it() {
    let db = TestDb::empty().await;
    let out = guichet(&db, &["serve"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("guichet migrate"), "{}", stderr(&out));

    let out = guichet(&db, &["migrate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = guichet(&db, &["migrate"]);
    assert!(
        out.status.success(),
        "migrating twice is harmless: {}",
        stderr(&out)
    );

    let out = guichet(&db, &["demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let snapshot = async || -> (i64, i64, i64, i64, i64, i64, i64) {
        sqlx::query_as(
            "SELECT (SELECT count(*) FROM demarches), (SELECT count(*) FROM demarche_revisions),
                    (SELECT count(*) FROM zones), (SELECT count(*) FROM teams),
                    (SELECT count(*) FROM routing_rules), (SELECT count(*) FROM demarche_groups),
                    (SELECT count(*) FROM agents)",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap()
    };
    let first = snapshot().await;
    assert!(first.0 >= 100, "{first:?}");
    assert_eq!(first.0, first.1, "one revision each");
    assert_eq!(first.2, 43, "the 43 communes of Rennes Métropole");
    assert_eq!(first.0, first.4, "every démarche is routed");
    let demo_agents: serde_json::Value =
        serde_json::from_str(guichet_server::demo::AGENTS_JSON).unwrap();
    assert_eq!(
        first.6,
        demo_agents["agents"].as_array().unwrap().len() as i64,
        "demo creates the demo agents"
    );

    let out = guichet(&db, &["demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(snapshot().await, first, "demo is idempotent");

    // Every town hall lies in the service area. (Two source points, Clayes and Gévezé, sit
    // ~3 km outside their own simplified boundary, in a neighbouring member commune.)
    let outside: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM zones z
          WHERE NOT EXISTS (SELECT 1 FROM zones a WHERE ST_Intersects(a.geom, z.town_hall::geometry))",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(outside, 0);
}

#[tokio::test]
async fn import_zones_reads_a_geojson_file() {
    let db = TestDb::empty().await;
    assert!(guichet(&db, &["migrate"]).status.success());
    let file = std::env::temp_dir().join(format!("zones-{}.geojson", uuid::Uuid::new_v4()));
    std::fs::write(
        &file,
        r#"{"type": "FeatureCollection", "features": [{"type": "Feature",
            "properties": {"code": "test-1", "name": "Carré test", "population": 12},
            "geometry": {"type": "Polygon", "coordinates":
              [[[-1.70, 48.10], [-1.66, 48.10], [-1.66, 48.12], [-1.70, 48.12], [-1.70, 48.10]]]}}]}"#,
    )
    .unwrap();
    let out = guichet(&db, &["import-zones", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (name, kind): (String, String) =
        sqlx::query_as("SELECT name, GeometryType(geom) FROM zones")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        (name.as_str(), kind.as_str()),
        ("Carré test", "MULTIPOLYGON")
    );

    std::fs::write(
        &file,
        r#"{"type": "FeatureCollection", "features": [{"type": "Feature",
        "properties": {"code": "p"}, "geometry": {"type": "Point", "coordinates": [0, 0]}}]}"#,
    )
    .unwrap();
    let out = guichet(&db, &["import-zones", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("name"), "{}", stderr(&out));
    let _ = std::fs::remove_file(file);
}

#[tokio::test]
async fn serve_reads_a_toml_file_answers_and_stops_gracefully_on_sigterm() {
    let db = TestDb::new().await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = std::env::temp_dir().join(format!("guichet-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("guichet.toml");
    std::fs::write(
        &config,
        format!(
            "database_url = \"{}\"\nlisten = \"127.0.0.1:{port}\"\ndata_dir = \"{}\"\npublic_url = \"https://guichet.example\"\n",
            db.url,
            dir.join("data").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(binary())
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env_remove("DATABASE_URL")
        .env_remove("GUICHET_LISTEN")
        .env_remove("GUICHET_PUBLIC_URL")
        .env_remove("GUICHET_DATA_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    // Ready once the database answers and the incident index is loaded.
    guichet_tests::wait_until_ready(&base).await;
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert!(dir.join("data").is_dir(), "the data directory is created");

    // Links handed out use the configured public URL.
    let report =
        guichet_tests::report_at("voirie", guichet_tests::RENNES.0, guichet_tests::RENNES.1);
    let receipt: serde_json::Value = client
        .post(format!("{base}/api/v1/reports"))
        .multipart(guichet_tests::multipart(&report, &[]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        receipt["status_url"]
            .as_str()
            .unwrap()
            .starts_with("https://guichet.example/api/v1/requests/"),
        "{receipt}"
    );

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let stopped = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(15),
            "did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "clean exit: {status}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn agent_creates_the_first_admin_with_a_password_from_the_environment() {
    let db = TestDb::new().await;
    let run = |password: Option<&str>, role: &str| {
        let mut cmd = Command::new(binary());
        cmd.args([
            "agent",
            "Chef@Mairie.example",
            "--name",
            "Chef de service",
            "--role",
            role,
            "--team",
            "voirie",
        ])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .env_remove("GUICHET_CONFIG")
        .env_remove("GUICHET_AGENT_PASSWORD");
        if let Some(p) = password {
            cmd.env("GUICHET_AGENT_PASSWORD", p);
        }
        cmd.output().expect("run guichet")
    };
    let out = run(None, "admin");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("GUICHET_AGENT_PASSWORD"),
        "{}",
        stderr(&out)
    );
    let out = run(Some("un mot de passe long"), "mayor");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("role"), "{}", stderr(&out));
    let out = run(Some("un mot de passe long"), "admin");
    assert!(out.status.success(), "{}", stderr(&out));
    let (role, teams): (String, i64) = sqlx::query_as(
        "SELECT a.role, (SELECT count(*) FROM agent_teams t WHERE t.agent_id = a.id)
           FROM agents a WHERE a.email = 'chef@mairie.example'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((role.as_str(), teams), ("admin", 1));
}
