#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly
//! `guichet setup` (catalogue, teams and zones without any account, never over an admin's
//! edit) and the demo accounts' published password: `serve` warns about it, refuses it in
//! production, and `/readyz` reports it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use guichet_tests::{TestDb, binary, wait_until_ready};
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "une phrase de passe bien à nous";

fn command(db: &TestDb, args: &[&str]) -> Command {
    let mut cmd = Command::new(binary());
    cmd.args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .env_remove("GUICHET_CONFIG")
        .env_remove("GUICHET_ENV")
        .env_remove("GUICHET_AGENT_PASSWORD");
    cmd
}

fn run(db: &TestDb, args: &[&str]) -> std::process::Output {
    command(db, args).output().expect("run guichet")
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Sets an agent's password with `guichet agent`.
fn save_agent(db: &TestDb, email: &str, name: &str, role: &str, teams: &[&str], password: &str) {
    let mut args = vec!["agent", email, "--name", name, "--role", role];
    for t in teams {
        args.extend(["--team", t]);
    }
    let out = command(db, &args)
        .env("GUICHET_AGENT_PASSWORD", password)
        .output()
        .expect("run guichet agent");
    assert!(out.status.success(), "{}", stderr(&out));
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("guichet-setup-{}-{name}", uuid::Uuid::new_v4()))
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// `guichet serve` on a free port; its log (on stdout) goes to `log`.
struct Serve {
    child: Child,
    base: String,
    data: PathBuf,
}

impl Serve {
    fn spawn(db: &TestDb, production: bool, log: &Path) -> Serve {
        let port = free_port();
        let data = temp_path("data");
        let mut cmd = command(db, &["serve"]);
        cmd.env("GUICHET_LISTEN", format!("127.0.0.1:{port}"))
            .env("GUICHET_DATA_DIR", &data)
            .env_remove("GUICHET_PUBLIC_URL")
            .stdout(std::fs::File::create(log).unwrap())
            .stderr(Stdio::piped());
        if production {
            // Production also needs a key for follow links (see codes.rs).
            cmd.env("GUICHET_ENV", "production").env(
                "GUICHET_SECRET_KEY",
                "setup-tests-secret-key-0123456789abcdef",
            );
        }
        Serve {
            child: cmd.spawn().expect("start guichet serve"),
            base: format!("http://127.0.0.1:{port}"),
            data,
        }
    }

    /// Waits for the process to end on its own; its status and standard error.
    fn exit(mut self) -> (std::process::ExitStatus, String) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    std::io::Read::read_to_string(&mut e, &mut err).unwrap();
                }
                return (status, err);
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "serve is still running"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    async fn readyz(&self) -> Value {
        let r = reqwest::get(format!("{}/readyz", self.base)).await.unwrap();
        assert_eq!(r.status(), 200, "readiness does not fail for demo accounts");
        r.json().await.unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

type Snapshot = (i64, i64, i64, i64, i64, i64, i64);

async fn snapshot(db: &TestDb) -> Snapshot {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM demarches), (SELECT count(*) FROM demarche_revisions),
                (SELECT count(*) FROM zones), (SELECT count(*) FROM teams),
                (SELECT count(*) FROM routing_rules), (SELECT count(*) FROM demarche_groups),
                (SELECT count(*) FROM agents)",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

/// The current revision of a démarche: number, title, who wrote it.
async fn current(db: &TestDb, code: &str) -> (i32, String, Option<String>) {
    sqlx::query_as(
        "SELECT r.revision, r.title, r.written_by FROM demarches d
           JOIN demarche_revisions r ON r.demarche_code = d.code AND r.revision = d.current_revision
          WHERE d.code = $1",
    )
    .bind(code)
    .fetch_one(&db.pool)
    .await
    .unwrap()
}

async fn migrated_and_set_up() -> TestDb {
    let db = TestDb::empty().await;
    let out = run(&db, &["migrate"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&db, &["setup"]);
    assert!(out.status.success(), "{}", stderr(&out));
    db
}

#[tokio::test]
async fn setup_loads_the_catalogue_teams_and_communes_creates_no_account_and_is_idempotent() {
    let db = migrated_and_set_up().await;
    let first = snapshot(&db).await;
    let (demarches, revisions, zones, teams, routes, groups, agents) = first;
    assert!(demarches >= 100, "{first:?}");
    assert_eq!(demarches, revisions, "one revision each");
    assert_eq!(zones, 43, "the 43 communes of Rennes Métropole");
    assert!(teams > 0 && groups > 0, "{first:?}");
    assert_eq!(demarches, routes, "every démarche is routed");
    assert_eq!(agents, 0, "setup creates no account");
    let not_setups: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM demarche_revisions WHERE written_by IS DISTINCT FROM 'setup'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(not_setups, 0, "setup signs its revisions");
    let french_only: Vec<String> = sqlx::query_scalar(
        "SELECT demarche_code FROM demarche_revisions
          WHERE description_en = '' OR cardinality(keywords_en) = 0",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert!(
        french_only.is_empty(),
        "stored without English: {french_only:?}"
    );

    let out = run(&db, &["setup"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(snapshot(&db).await, first, "setup is idempotent");

    // With no demo account, production starts, and readiness says so.
    let log = temp_path("log");
    let server = Serve::spawn(&db, true, &log);
    wait_until_ready(&server.base).await;
    assert_eq!(server.readyz().await["demo_accounts"], false);
    drop(server);
    let _ = std::fs::remove_file(log);
}

#[tokio::test]
async fn setup_keeps_an_admins_edit_updates_the_rest_and_takes_other_files() {
    let db = migrated_and_set_up().await;
    save_agent(
        &db,
        "chef@mairie.example",
        "Chef de service",
        "admin",
        &[],
        NEW_PASSWORD,
    );

    // An admin edits a démarche through the API.
    let shipped: Value = serde_json::from_str(guichet_server::demo::CATALOGUE_JSON).unwrap();
    let entry = guichet_tests::api::shipped_entry;
    let log = temp_path("log");
    let server = Serve::spawn(&db, false, &log);
    wait_until_ready(&server.base).await;
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{}/api/v1/agent/login", server.base))
        .json(&json!({ "email": "chef@mairie.example", "password": NEW_PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().expect("token");
    let mut edited = entry("mobilier-urbain");
    edited["title"] = json!("Bancs, abris et mobilier urbain");
    let put = client
        .put(format!(
            "{}/api/v1/admin/demarches/mobilier-urbain",
            server.base
        ))
        .bearer_auth(token)
        .json(&edited)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200, "{}", put.text().await.unwrap());
    drop(server);
    let admins = current(&db, "mobilier-urbain").await;
    assert_eq!(
        admins,
        (
            2,
            "Bancs, abris et mobilier urbain".to_owned(),
            Some("admin".to_owned())
        )
    );

    // The shipped files again: the edit stays.
    let before = snapshot(&db).await;
    let out = run(&db, &["setup"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(snapshot(&db).await, before);
    assert_eq!(current(&db, "mobilier-urbain").await, admins);

    // Files of the deployment's own: a changed catalogue, an extra team and zone.
    let mut catalogue = shipped.clone();
    for d in catalogue["demarches"].as_array_mut().unwrap() {
        match d["code"].as_str() {
            Some("mobilier-urbain") => d["title"] = json!("Mobilier urbain (nouvelle version)"),
            Some("eclairage-public") => d["title"] = json!("Lampadaire éteint ou abîmé"),
            _ => {}
        }
    }
    let mut added = shipped["demarches"][0].clone();
    added["code"] = json!("trottinette-mal-garee");
    added["title"] = json!("Trottinette mal garée");
    added["team"] = json!("micromobilite");
    catalogue["demarches"].as_array_mut().unwrap().push(added);
    let teams = json!({ "teams": [
        { "code": "micromobilite", "name": "Mission micromobilité", "email": null }
    ]});
    let zones = json!({ "type": "FeatureCollection", "features": [{ "type": "Feature",
        "properties": { "code": "secteur-test", "name": "Secteur test" },
        "geometry": { "type": "Polygon", "coordinates":
            [[[-1.70, 48.10], [-1.66, 48.10], [-1.66, 48.12], [-1.70, 48.12], [-1.70, 48.10]]] } }]});
    let files =
        [("catalogue", catalogue), ("teams", teams), ("zones", zones)].map(|(name, value)| {
            let path = temp_path(name);
            std::fs::write(&path, value.to_string()).unwrap();
            path
        });
    let arg = |p: &PathBuf| p.to_str().unwrap().to_owned();
    let (catalogue_file, teams_file, zones_file) = (arg(&files[0]), arg(&files[1]), arg(&files[2]));
    let out = run(
        &db,
        &[
            "setup",
            "--catalogue",
            &catalogue_file,
            "--teams",
            &teams_file,
            "--zones",
            &zones_file,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));

    assert_eq!(
        current(&db, "mobilier-urbain").await,
        admins,
        "never over an admin's edit"
    );
    assert_eq!(
        current(&db, "eclairage-public").await,
        (
            2,
            "Lampadaire éteint ou abîmé".to_owned(),
            Some("setup".to_owned())
        ),
        "a démarche nobody edited follows the file"
    );
    assert_eq!(
        current(&db, "trottinette-mal-garee").await,
        (
            1,
            "Trottinette mal garée".to_owned(),
            Some("setup".to_owned())
        )
    );
    let team: String = sqlx::query_scalar(
        "SELECT t.code FROM routing_rules r JOIN teams t ON t.id = r.team_id
          WHERE r.demarche_code = 'trottinette-mal-garee' AND r.zone_id IS NULL",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(team, "micromobilite");
    let after = snapshot(&db).await;
    assert_eq!(after.2, before.2 + 1, "the zone is added, none removed");
    assert_eq!(after.3, before.3 + 1, "the team is added, none removed");
    assert_eq!(after.6, 1, "still no account but the admin's");

    // A team the catalogue names but nobody set up is refused, and nothing changes.
    let mut broken: Value = serde_json::from_str(guichet_server::demo::CATALOGUE_JSON).unwrap();
    broken["demarches"][1]["team"] = json!("equipe-inconnue");
    std::fs::write(&files[0], broken.to_string()).unwrap();
    let out = run(&db, &["setup", "--catalogue", &catalogue_file]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("equipe-inconnue"), "{}", stderr(&out));
    assert_eq!(snapshot(&db).await, after);
    for f in files {
        let _ = std::fs::remove_file(f);
    }
    let _ = std::fs::remove_file(log);
}

#[tokio::test]
async fn demo_passwords_warn_block_production_and_clear_once_changed() {
    // The test kit's databases hold the demo data, as `guichet demo` loads it.
    let db = TestDb::new().await;
    let agents: Value = serde_json::from_str(guichet_server::demo::AGENTS_JSON).unwrap();
    let agents = agents["agents"].as_array().unwrap().clone();
    assert_eq!(snapshot(&db).await.6, agents.len() as i64);

    let log = temp_path("log");
    let (status, err) = Serve::spawn(&db, true, &log).exit();
    assert!(!status.success(), "production refuses demo passwords");
    assert!(
        err.contains("GUICHET_ENV=production")
            && err.contains("published demo password")
            && err.contains("admin@guichet.example")
            && err.contains("guichet agent"),
        "{err}"
    );
    let out = command(&db, &["demo"])
        .env("GUICHET_ENV", "production")
        .output()
        .unwrap();
    assert!(!out.status.success(), "no demo in production");
    assert!(stderr(&out).contains("guichet setup"), "{}", stderr(&out));

    // Elsewhere it starts, warns, and readiness reports it without failing.
    let server = Serve::spawn(&db, false, &log);
    wait_until_ready(&server.base).await;
    assert_eq!(server.readyz().await["demo_accounts"], true);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("WARN") && logged.contains("published demo password"),
        "{logged}"
    );

    // Every demo account needs a password of its own; readiness follows while serving.
    for (i, a) in agents.iter().enumerate() {
        assert_eq!(server.readyz().await["demo_accounts"], true, "{i}");
        let teams: Vec<&str> = a["teams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        save_agent(
            &db,
            a["email"].as_str().unwrap(),
            a["name"].as_str().unwrap(),
            a["role"].as_str().unwrap(),
            &teams,
            NEW_PASSWORD,
        );
    }
    assert_eq!(server.readyz().await["demo_accounts"], false);
    drop(server);

    // `demo` again creates nothing and resets no password.
    let out = run(&db, &["demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let server = Serve::spawn(&db, true, &log);
    wait_until_ready(&server.base).await;
    assert_eq!(server.readyz().await["demo_accounts"], false);
    drop(server);

    // Setting the published password again is caught: the check reads the hashes.
    save_agent(
        &db,
        "admin@guichet.example",
        "Camille Admin",
        "admin",
        &[],
        "guichet-demo",
    );
    let (status, err) = Serve::spawn(&db, true, &log).exit();
    assert!(!status.success());
    assert!(err.contains("admin@guichet.example"), "{err}");
    assert!(!err.contains("agent.voirie@guichet.example"), "{err}");
    let _ = std::fs::remove_file(log);
}
