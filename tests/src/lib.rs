// Test support: failing loudly on a broken environment is the point.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

//! Test kit for the black-box tests: a database of its own for every test (cloned from a
//! template holding the schema and the demo data), the real server on a free port, the built
//! `guichet` binary, and image fixtures.
//!
//! Needs `GUICHET_TEST_DATABASE_URL`, an administrator URL of a PostgreSQL cluster with
//! PostGIS available; `scripts/test` provides one.

pub mod api;
pub mod call;
pub mod fixtures;
pub mod routes;
pub mod s3;
pub mod smtp;
pub mod store;
pub mod webhook_receiver;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use call::{Answer, Call};
use guichet_server::config::{LimitsConfig, PhotoLimits};
use guichet_server::{AppState, Config};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio::sync::oneshot;

/// The administrator URL of the test cluster.
pub fn admin_url() -> String {
    std::env::var("GUICHET_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "GUICHET_TEST_DATABASE_URL is not set: run the tests with scripts/test, which starts a private PostgreSQL + PostGIS cluster"
        )
    })
}

fn url_for(db: &str) -> String {
    let admin = admin_url();
    let (base, _) = admin.rsplit_once('/').unwrap_or((&admin, ""));
    format!("{base}/{db}")
}

async fn admin_pool() -> PgPool {
    PgPoolOptions::new()
        .max_connections(2)
        .connect(&admin_url())
        .await
        .expect("connect to the test cluster")
}

/// A fresh database with the schema and the demo data (catalogue, 43 communes, teams, the
/// address sample).
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub pool: PgPool,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let template = ensure_template().await;
        let name = format!("guichet_test_{}", uuid::Uuid::new_v4().simple());
        Self::create_from(&name, &template).await
    }

    /// An empty database without PostGIS (built from template0).
    pub async fn without_postgis() -> TestDb {
        let name = format!("guichet_test_{}", uuid::Uuid::new_v4().simple());
        Self::create_from(&name, "template0").await
    }

    /// An empty database where PostGIS is available (template1), not yet migrated.
    pub async fn empty() -> TestDb {
        let name = format!("guichet_test_{}", uuid::Uuid::new_v4().simple());
        Self::create_from(&name, "template1").await
    }

    async fn create_from(name: &str, template: &str) -> TestDb {
        let admin = admin_pool().await;
        // Cloning refuses while another session is connected to the template; retry briefly.
        let mut attempt = 0;
        loop {
            let sql = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"");
            match sqlx::query(&sql).execute(&admin).await {
                Ok(_) => break,
                Err(e) if attempt < 50 => {
                    attempt += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("create test database: {e}"),
            }
        }
        admin.close().await;
        let url = url_for(name);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect(&url)
            .await
            .expect("connect to the test database");
        TestDb {
            name: name.to_owned(),
            url,
            pool,
        }
    }

    /// Another handle on the same database (for a second server instance).
    pub async fn reopen(&self) -> TestDb {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect(&self.url)
            .await
            .expect("connect to the test database");
        TestDb {
            name: self.name.clone(),
            url: self.url.clone(),
            pool,
        }
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&self.pool)
            .await
            .expect("count rows")
    }
}

/// One template per version of the schema and demo data, built once by whichever test gets
/// there first (an advisory lock keeps the others waiting).
async fn ensure_template() -> String {
    let fingerprint = guichet_server::photos::hex_sha256(
        format!(
            "{}{}{}{}{}",
            guichet_server::db::MIGRATOR
                .iter()
                .map(|m| m
                    .checksum
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>())
                .collect::<String>(),
            guichet_server::demo::CATALOGUE_JSON,
            guichet_server::demo::TEAMS_JSON,
            guichet_server::demo::COMMUNES_GEOJSON.len(),
            guichet_server::demo::ADDRESSES_CSV
        )
        .as_bytes(),
    );
    let template = format!("guichet_test_tpl_{}", &fingerprint[..16]);
    let admin = admin_pool().await;
    let mut lock = admin.acquire().await.expect("admin connection");
    sqlx::query("SELECT pg_advisory_lock(7243001)")
        .execute(&mut *lock)
        .await
        .expect("template lock");
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&template)
            .fetch_one(&mut *lock)
            .await
            .expect("look for the template");
    if !exists {
        let building = format!("{template}_building");
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"
        ))
        .execute(&mut *lock)
        .await
        .expect("drop a half-built template");
        sqlx::query(&format!(
            "CREATE DATABASE \"{building}\" TEMPLATE template1"
        ))
        .execute(&mut *lock)
        .await
        .expect("create the template");
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect(&url_for(&building))
            .await
            .expect("connect to the template");
        guichet_server::db::migrate(&pool)
            .await
            .expect("migrate the template");
        guichet_server::demo::load(&pool)
            .await
            .expect("load the demo data");
        pool.close().await;
        sqlx::query(&format!(
            "ALTER DATABASE \"{building}\" RENAME TO \"{template}\""
        ))
        .execute(&mut *lock)
        .await
        .expect("publish the template");
    }
    sqlx::query("SELECT pg_advisory_unlock(7243001)")
        .execute(&mut *lock)
        .await
        .expect("template unlock");
    template
}

/// The real application on 127.0.0.1 and a free port, with its own database and data folder.
pub struct TestServer {
    pub base: String,
    pub db: TestDb,
    pub data_dir: PathBuf,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// Starts with the configuration adjusted by `tune` (e.g. smaller photo limits). Rate
    /// limits are off unless `tune` turns them on (`config.limits.enabled = true`).
    pub async fn start_with(tune: impl FnOnce(&mut Config)) -> TestServer {
        Self::start_on(TestDb::new().await, tune).await
    }

    /// Starts on an existing database, e.g. a second instance beside another server
    /// (`TestServer::start_on(first.db.reopen().await, …)`).
    pub async fn start_on(db: TestDb, tune: impl FnOnce(&mut Config)) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let addr = listener.local_addr().expect("local address");
        let data_dir = std::env::temp_dir().join(format!("guichet-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&data_dir).expect("data dir");
        let mut config = Config {
            database_url: db.url.clone(),
            listen: addr,
            data_dir: data_dir.clone(),
            store: Default::default(),
            public_url: format!("http://{addr}"),
            db_pool_size: 16,
            photos: PhotoLimits::default(),
            dedup: Default::default(),
            ui_dir: std::path::PathBuf::from("../mobile/ui/dist"),
            backoffice_dir: std::path::PathBuf::from("../server/backoffice/dist"),
            api_docs_dir: std::path::PathBuf::from("../server/api-docs/dist"),
            notify: guichet_server::config::NotifyConfig::new(&format!("http://{addr}")),
            outbox: Default::default(),
            environment: Default::default(),
            http: Default::default(),
            receipt_code_ttl: guichet_server::codes::DEFAULT_RECEIPT_CODE_TTL,
            // Tests log in and file far more often than people do; the limits' own tests
            // turn them on with small allowances.
            limits: LimitsConfig::off(),
            accounts: Default::default(),
            open311_jurisdiction: guichet_server::config::DEFAULT_JURISDICTION.to_owned(),
            wallet_quota_bytes: guichet_server::config::DEFAULT_WALLET_QUOTA_BYTES,
        };
        tune(&mut config);
        let pool = guichet_server::db::connect(&config.database_url, config.db_pool_size)
            .await
            .expect("server pool");
        let state = AppState::new(config, pool).expect("open the store");
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(guichet_server::serve(listener, state, async move {
            let _ = rx.await;
        }));
        let base = format!("http://{addr}");
        wait_until_ready(&base).await;
        TestServer {
            base,
            db,
            data_dir,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("http client"),
            shutdown: Some(tx),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Every file under the photo store.
    pub fn stored_files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        walk(&self.data_dir, &mut out);
        out
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
}

/// Waits for `/readyz` to answer 200: database reachable and incident index loaded.
pub async fn wait_until_ready(base: &str) {
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    loop {
        let ready = client.get(format!("{base}/readyz")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{base} did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The `guichet` binary built by `cargo build` (scripts/test builds it before the tests), or
/// `GUICHET_BIN`.
/// The `guichet` command on `db`, without a configuration file and with little log output.
pub fn cli_command(db: &TestDb) -> std::process::Command {
    let mut cmd = std::process::Command::new(binary());
    cmd.env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .env_remove("GUICHET_CONFIG");
    cmd
}

/// Runs `cmd` and gives its output; the test fails with the command's standard error unless it
/// succeeded.
pub fn succeed(cmd: &mut std::process::Command) -> std::process::Output {
    let out = cmd.output().expect("run the command");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `guichet ARGS` on `db` and waits for it.
pub fn run_cli(db: &TestDb, args: &[&str]) -> std::process::Output {
    cli_command(db).args(args).output().expect("run guichet")
}

pub fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("GUICHET_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> → target/<profile>/guichet
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("guichet"))
        .expect("target directory");
    assert!(
        bin.exists(),
        "{} does not exist: run `cargo build --bin guichet` first (scripts/test does)",
        bin.display()
    );
    bin
}

/// A report JSON at a point, with a fresh client id.
pub fn report_at(category: &str, lat: f64, lon: f64) -> serde_json::Value {
    serde_json::json!({
        "client_id": uuid::Uuid::new_v4(),
        "category": category,
        "lat": lat,
        "lon": lon,
        "accuracy_m": 8.0,
        "description": "Nid-de-poule profond sur la chaussée",
    })
}

/// A multipart body with the report part and the given photos (file name, bytes).
pub fn multipart(
    report: &serde_json::Value,
    photos: &[(&str, Vec<u8>)],
) -> reqwest::multipart::Form {
    multipart_raw(&report.to_string(), photos)
}

pub fn multipart_raw(report_json: &str, photos: &[(&str, Vec<u8>)]) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new().part(
        "report",
        reqwest::multipart::Part::text(report_json.to_owned())
            .mime_str("application/json")
            .expect("mime"),
    );
    for (name, bytes) in photos {
        form = form.part(
            "photo",
            reqwest::multipart::Part::bytes(bytes.clone())
                .file_name(name.to_string())
                .mime_str("image/jpeg")
                .expect("mime"),
        );
    }
    form
}

/// Town hall of Rennes, inside the service area.
pub const RENNES: (f64, f64) = (48.111_339, -1.680_020);

/// Asserts an answer is problem+json with the given status and code; returns the body.
pub async fn expect_problem(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> serde_json::Value {
    let what = response.url().path().to_owned();
    Answer::read(what, response)
        .await
        .expect_problem(status, code)
}

/// A `guichet serve` process of the built binary on a free port, stopped when dropped.
pub struct ServerProcess {
    pub base: String,
    child: std::process::Child,
    data_dir: PathBuf,
    /// Whether the data folder is this process's own, removed when it stops.
    owns_data: bool,
}

impl ServerProcess {
    pub async fn start(db: &TestDb) -> ServerProcess {
        let data_dir = std::env::temp_dir().join(format!("guichet-proc-{}", uuid::Uuid::new_v4()));
        let mut server = Self::start_in(db, &data_dir, &[]).await;
        server.owns_data = true;
        server
    }

    /// Starts on a data folder that outlives the process (a restart after a crash), with
    /// more settings in `env`.
    pub async fn start_in(db: &TestDb, data_dir: &Path, env: &[(&str, String)]) -> ServerProcess {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().expect("address").port()
        };
        let child = std::process::Command::new(binary())
            .arg("serve")
            .env("DATABASE_URL", &db.url)
            .env("GUICHET_LISTEN", format!("127.0.0.1:{port}"))
            .env("GUICHET_DATA_DIR", data_dir)
            .env("GUICHET_DB_POOL", "24")
            .env("GUICHET_RATE_LIMITS", "off")
            .env("GUICHET_OUTBOX_POLL_MS", "200")
            .env("RUST_LOG", "warn")
            .env_remove("GUICHET_CONFIG")
            .env_remove("GUICHET_PUBLIC_URL")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start guichet serve");
        let base = format!("http://127.0.0.1:{port}");
        wait_until_ready(&base).await;
        ServerProcess {
            base,
            child,
            data_dir: data_dir.to_owned(),
            owns_data: false,
        }
    }

    /// `kill -9`: the process dies at once, mid-request.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Whether the process still runs (it has not crashed).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Resident memory of the process in KiB, from `/proc/<pid>/status`.
    pub fn resident_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc status of the server");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.owns_data {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}
