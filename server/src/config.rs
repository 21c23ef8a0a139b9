//! Typed configuration, loaded once at start-up from an optional TOML file and then from
//! environment variables (which win), and passed down from there. No globals.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use guichet_shared::dedup::Thresholds;
use serde::Deserialize;

use crate::codes::{self, SecretKey};
use crate::notify::webhooks::AllowList;

#[derive(Debug, Clone)]
pub struct Config {
    /// PostgreSQL connection URL (`DATABASE_URL`).
    pub database_url: String,
    /// Address the HTTP server listens on (`GUICHET_LISTEN`).
    pub listen: SocketAddr,
    /// Where photos and other files are stored (`GUICHET_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Which store keeps photos and attached files: local disk under `data_dir` or an
    /// S3-compatible bucket (`GUICHET_STORE`, `GUICHET_S3_*`).
    pub store: StoreConfig,
    /// Public URL of this service, used in links it hands out (`GUICHET_PUBLIC_URL`).
    pub public_url: String,
    /// Database connections per instance (`GUICHET_DB_POOL`).
    pub db_pool_size: u32,
    pub photos: PhotoLimits,
    /// Dedup score thresholds (`GUICHET_DEDUP_AUTO_MERGE`, `GUICHET_DEDUP_REVIEW`).
    pub dedup: Thresholds,
    /// The built citizen web app, served at `/` (`GUICHET_UI_DIR`).
    pub ui_dir: PathBuf,
    /// The built back office, served at `/backoffice/` (`GUICHET_BACKOFFICE_DIR`).
    pub backoffice_dir: PathBuf,
    /// The API's documentation page, served at `/api/docs/` (`GUICHET_API_DOCS_DIR`).
    pub api_docs_dir: PathBuf,
    /// E-mails and webhooks.
    pub notify: NotifyConfig,
    /// The background job worker.
    pub outbox: OutboxConfig,
    /// `development` or `production` (`GUICHET_ENV`).
    pub environment: Environment,
    /// Browser and transport settings: metrics access, map tile hosts.
    pub http: HttpConfig,
    /// How long a stored receipt keeps its clear tracking code for idempotent retries
    /// (`GUICHET_RECEIPT_CODE_TTL_SECS`, default 24 h, at most 7 days); see `crate::codes`.
    pub receipt_code_ttl: Duration,
    /// Rate limits and the proxies trusted to name the client.
    pub limits: LimitsConfig,
    /// Sessions, password hashing and the agents' second factor.
    pub accounts: AccountsConfig,
    /// The Open311 `jurisdiction_id` this service answers for (`GUICHET_OPEN311_JURISDICTION`).
    pub open311_jurisdiction: String,
    /// Bytes one account's document wallet may hold (`GUICHET_WALLET_QUOTA_BYTES`, 50 MiB).
    pub wallet_quota_bytes: u64,
}

/// The document wallet's default quota per account.
pub const DEFAULT_WALLET_QUOTA_BYTES: u64 = 50 * 1024 * 1024;

/// How many calls one key (a client address, an account, an e-mail address) may make in a
/// period, e.g. `20/min`, `10/15min`, `100/h`, `5/day`. The whole allowance may be used at
/// once; it then comes back evenly over the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

impl Rate {
    pub const fn new(count: u32, per: Duration) -> Rate {
        Rate { count, per }
    }

    pub const fn per_minute(count: u32) -> Rate {
        Rate::new(count, Duration::from_secs(60))
    }

    pub const fn per_hour(count: u32) -> Rate {
        Rate::new(count, Duration::from_secs(3600))
    }
}

impl std::str::FromStr for Rate {
    type Err = String;

    fn from_str(text: &str) -> Result<Rate, String> {
        let expected =
            || format!("{text:?}: expected COUNT/PERIOD such as 20/min, 10/15min or 100/h");
        let (count, period) = text.trim().split_once('/').ok_or_else(expected)?;
        let count: u32 = count.trim().parse().map_err(|_| expected())?;
        let period = period.trim();
        let digits = period.chars().take_while(char::is_ascii_digit).count();
        let (times, unit) = period.split_at(digits);
        let times: u64 = if times.is_empty() {
            1
        } else {
            times.parse().map_err(|_| expected())?
        };
        let unit_secs = match unit.trim() {
            "s" | "sec" => 1,
            "m" | "min" => 60,
            "h" => 3600,
            "d" | "day" => 86_400,
            _ => return Err(expected()),
        };
        if count == 0 || times == 0 {
            return Err(format!("{text:?}: the count and the period are at least 1"));
        }
        Ok(Rate::new(count, Duration::from_secs(times * unit_secs)))
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}s", self.count, self.per.as_secs())
    }
}

/// Rate limits (`GUICHET_RATE_LIMITS`, `GUICHET_LIMIT_*`) and who may name the client
/// (`GUICHET_TRUSTED_PROXIES`). The defaults are generous: they stop floods and guessing,
/// not people, and many citizens may share one address (mobile networks, a city hall).
#[derive(Debug, Clone, PartialEq)]
pub struct LimitsConfig {
    /// `GUICHET_RATE_LIMITS=off` turns every limit off, failed-login counting included (tests,
    /// benchmarks, load drills).
    pub enabled: bool,
    /// Proxies whose `X-Forwarded-For` is believed (`GUICHET_TRUSTED_PROXIES`, addresses or
    /// blocks, comma-separated). Empty: the client is the peer of the connection.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Agent and citizen logins, password resets by token, per client address
    /// (`GUICHET_LIMIT_LOGIN`).
    pub login: Rate,
    /// Failed logins per account and client address, counted in the database so that every
    /// instance sees them (`GUICHET_LIMIT_LOGIN_FAILURES`).
    pub login_failures: Rate,
    /// Registrations, verification resends and password-reset requests, per client address
    /// (`GUICHET_LIMIT_ACCOUNT_MAIL`).
    pub account_mail: Rate,
    /// The same, per e-mail address written to (`GUICHET_LIMIT_MAIL_TO`).
    pub mail_to: Rate,
    /// Reports and requests filed, per client address and per citizen account
    /// (`GUICHET_LIMIT_FILING`).
    pub filing: Rate,
    /// "Me too", per client address (`GUICHET_LIMIT_SUPPORT`).
    pub support: Rate,
    /// Citizens' messages, per client address and per citizen account
    /// (`GUICHET_LIMIT_MESSAGES`).
    pub messages: Rate,
    /// "Already reported?" and the incidents map, per client address (`GUICHET_LIMIT_READS`).
    pub reads: Rate,
    /// Every call of the agents' API, per agent (`GUICHET_LIMIT_AGENT`).
    pub agent: Rate,
    /// Open311 filings, per API key (`GUICHET_LIMIT_API_KEY`).
    pub api_key: Rate,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            trusted_proxies: Vec::new(),
            login: Rate::per_minute(30),
            login_failures: Rate::new(10, Duration::from_secs(15 * 60)),
            account_mail: Rate::per_hour(30),
            mail_to: Rate::per_hour(5),
            filing: Rate::per_hour(60),
            support: Rate::per_hour(120),
            messages: Rate::per_hour(60),
            reads: Rate::per_minute(600),
            agent: Rate::per_minute(1200),
            api_key: Rate::per_hour(1000),
        }
    }
}

impl LimitsConfig {
    /// No limit at all: what the tests and benchmarks run with unless they test a limit.
    pub fn off() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }
}

/// Sessions, password hashing and the agents' second factor.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountsConfig {
    /// An agent's session ends after this long without a call (`GUICHET_AGENT_IDLE_MINUTES`);
    /// every call starts the wait again.
    pub agent_idle: Duration,
    /// Password hashes computed at once (`GUICHET_HASH_WORKERS`, default: number of cores);
    /// further logins wait their turn.
    pub hash_workers: usize,
    /// Pause between two purges of expired sessions, used links and old failed logins
    /// (`GUICHET_PURGE_INTERVAL_SECS`).
    pub purge_interval: Duration,
    /// Days the audit trail keeps a trace (`GUICHET_AUDIT_RETENTION_DAYS`, a year by default,
    /// as the CNIL advises for access logs).
    pub audit_retention_days: u32,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            agent_idle: Duration::from_secs(30 * 60),
            hash_workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            purge_interval: Duration::from_secs(300),
            audit_retention_days: 365,
        }
    }
}

/// Browser and transport settings.
#[derive(Debug, Clone, Default)]
pub struct HttpConfig {
    /// Bearer token that opens `/metrics` (`GUICHET_METRICS_TOKEN`); without one, `/metrics`
    /// answers only direct loopback callers.
    pub metrics_token: Option<String>,
    /// The maps' background tiles (`GUICHET_MAP_TILES`); `None`: no tiles, the maps show the
    /// communes' outlines only.
    pub map_tiles: Option<MapTiles>,
}

/// OpenStreetMap's standard tiles: keyless and public, so a new deployment shows streets at
/// once. Their usage policy (README, "Maps") asks heavy users for tiles of their own.
pub const DEFAULT_MAP_TILES: &str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";

/// Where the maps' tiles come from and whom they credit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapTiles {
    /// A URL template with `{z}`, `{x}` and `{y}` (and `{s}` for a subdomain).
    pub url: String,
    /// `scheme://host[:port]` of the template, for the Content-Security-Policy's `img-src`.
    pub origin: String,
    /// The credit the tiles' licence asks for (`GUICHET_MAP_TILES_ATTRIBUTION`); `None`: the
    /// OpenStreetMap credit in the reader's language for the default tiles, none otherwise.
    pub attribution: Option<String>,
}

impl MapTiles {
    /// Reads a tile URL template; refuses anything that could change the meaning of the
    /// security policy or that is not a template.
    pub fn parse(url: &str, attribution: Option<String>) -> Result<Option<MapTiles>, ConfigError> {
        let url = url.trim();
        if url.is_empty() {
            return Ok(None);
        }
        let wrong = || {
            invalid(
                "GUICHET_MAP_TILES",
                url,
                "expected https://host/{z}/{x}/{y}.png",
            )
        };
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(wrong());
        };
        // Leaflet's `{s}` picks a subdomain: any of them.
        let host = rest
            .split('/')
            .next()
            .unwrap_or_default()
            .replace("{s}", "*");
        let well_formed = matches!(scheme, "http" | "https")
            && !host.is_empty()
            && host.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '*' | '[' | ']')
            })
            && ["{z}", "{x}", "{y}"].iter().all(|p| url.contains(p))
            && url
                .chars()
                .all(|c| c.is_ascii_graphic() && !matches!(c, ';' | ',' | '\'' | '"' | '<' | '>'));
        if !well_formed {
            return Err(wrong());
        }
        Ok(Some(MapTiles {
            url: url.to_owned(),
            origin: format!("{scheme}://{host}"),
            attribution: attribution
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty()),
        }))
    }
}

/// Where the service runs. In production, `serve` refuses to start while a demo account still
/// has the published password, and `demo` refuses to create them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Environment {
    #[default]
    Development,
    Production,
}

impl std::str::FromStr for Environment {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "development" => Ok(Environment::Development),
            "production" => Ok(Environment::Production),
            _ => Err("`development` or `production`".to_owned()),
        }
    }
}

/// How notices reach people (e-mail) and other systems (webhooks).
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// The service's public URL (a copy of `Config::public_url`), for links in e-mails.
    pub public_url: String,
    /// Where citizens follow a request, with `{number}` and `{token}` (the recipient's own
    /// follow token) filled in (`GUICHET_FOLLOW_URL`; default: the status page, `/suivi/…`).
    pub follow_url: String,
    /// The key follow tokens are signed with (`GUICHET_SECRET_KEY`, required in production).
    /// Unset in the configuration, `serve` uses the database's own (see `crate::codes`); notices
    /// written without any key carry no follow link.
    pub follow_key: Option<SecretKey>,
    /// SMTP server (`GUICHET_SMTP_URL`): `smtp://host:port` in clear (local relays and tests),
    /// `smtp://user:pass@host?tls=required` for STARTTLS, `smtps://user:pass@host` for TLS.
    /// Unset: e-mails are written to the log instead of being sent.
    pub smtp_url: Option<String>,
    /// The `From` of every e-mail (`GUICHET_MAIL_FROM`).
    pub mail_from: String,
    /// Longest wait for one SMTP command (`GUICHET_SMTP_TIMEOUT_SECS`).
    pub smtp_timeout: Duration,
    /// Tries of one e-mail before it is marked failed (`GUICHET_MAIL_MAX_ATTEMPTS`).
    pub mail_max_attempts: i32,
    /// Longest wait for a webhook receiver's answer (`GUICHET_WEBHOOK_TIMEOUT_SECS`).
    pub webhook_timeout: Duration,
    /// Tries of one webhook delivery before it is marked failed (`GUICHET_WEBHOOK_MAX_ATTEMPTS`).
    pub webhook_max_attempts: i32,
    /// Internal receivers that webhooks may reach although their addresses are private
    /// (`GUICHET_WEBHOOK_ALLOW`); empty: public addresses only.
    pub webhook_allow: AllowList,
}

pub const DEFAULT_MAIL_FROM: &str = "Guichet <no-reply@guichet.localhost>";

impl NotifyConfig {
    /// The defaults, with links pointing at `public_url`.
    pub fn new(public_url: &str) -> Self {
        let public_url = public_url.trim_end_matches('/').to_owned();
        Self {
            follow_url: format!("{public_url}/suivi/{{number}}?follow={{token}}"),
            follow_key: None,
            public_url,
            smtp_url: None,
            mail_from: DEFAULT_MAIL_FROM.to_owned(),
            smtp_timeout: Duration::from_secs(30),
            mail_max_attempts: 10,
            webhook_timeout: Duration::from_secs(10),
            webhook_max_attempts: 12,
            webhook_allow: AllowList::default(),
        }
    }
}

/// The outbox worker's pace. Production keeps the defaults; tests shorten both so that a
/// retry happens within the test.
#[derive(Debug, Clone)]
pub struct OutboxConfig {
    /// Pause between two polls when no job is due (`GUICHET_OUTBOX_POLL_MS`).
    pub poll_interval: Duration,
    /// Delay before the first retry of a failed job, doubled at each further failure and
    /// capped at 6 h (`GUICHET_RETRY_BASE_MS`).
    pub retry_base: Duration,
    /// How long a claimed job stays an instance's (`GUICHET_OUTBOX_LOCK_SECS`): when an
    /// instance dies, the jobs it had claimed go to another one after this.
    pub lock: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(2),
            retry_base: Duration::from_secs(30),
            lock: Duration::from_secs(300),
        }
    }
}

/// Which store keeps photos and attached files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StoreKind {
    /// Files under `<data_dir>/photos` (`GUICHET_STORE=local`).
    #[default]
    Local,
    /// The bucket `GUICHET_S3_BUCKET` of an S3-compatible service (`GUICHET_STORE=s3`).
    S3,
}

/// The store setting and the S3 connection, read whichever store is chosen: `guichet
/// migrate-store` reaches S3 buckets with it while the service still uses local disk.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreConfig {
    pub kind: StoreKind,
    pub s3: S3Config,
}

/// How to reach an S3-compatible service. Requests are path-style
/// (`<endpoint>/<bucket>/<key>`), which every S3-compatible server accepts.
#[derive(Clone, PartialEq)]
pub struct S3Config {
    /// `GUICHET_S3_ENDPOINT`, e.g. `https://s3.fr-par.scw.cloud`; unset: AWS itself.
    pub endpoint: Option<String>,
    /// `GUICHET_S3_BUCKET`; required with `GUICHET_STORE=s3`.
    pub bucket: Option<String>,
    /// `GUICHET_S3_REGION`, part of the request signature.
    pub region: String,
    /// `GUICHET_S3_ACCESS_KEY_ID` and `GUICHET_S3_SECRET_ACCESS_KEY`, given together; unset:
    /// the credentials of the machine (AWS instance metadata).
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Longest wait for one store operation, retries included (`GUICHET_S3_TIMEOUT_SECS`):
    /// past it the call answers 503 instead of hanging on an unreachable store.
    pub timeout: Duration,
}

impl Default for S3Config {
    fn default() -> Self {
        Self {
            endpoint: None,
            bucket: None,
            region: "us-east-1".to_owned(),
            access_key_id: None,
            secret_access_key: None,
            timeout: Duration::from_secs(10),
        }
    }
}

// The secret never goes into a log line or an error message.
impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "***"),
            )
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Whether `name` is a bucket name S3 accepts for path-style requests: 3 to 63 lower-case
/// letters, digits, dots and hyphens, starting and ending with a letter or digit.
pub fn is_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric())
}

/// Limits applied to uploaded photos before anything expensive happens.
#[derive(Debug, Clone)]
pub struct PhotoLimits {
    /// Bytes of one uploaded photo (`GUICHET_PHOTO_MAX_BYTES`).
    pub max_bytes: usize,
    /// Photos in one report (`GUICHET_PHOTO_MAX_COUNT`).
    pub max_count: usize,
    /// Pixels (width × height) of one photo, read from its header (`GUICHET_PHOTO_MAX_PIXELS`).
    pub max_pixels: u64,
    /// Longest side of the display variant.
    pub display_px: u32,
    /// Longest side of the thumbnail.
    pub thumbnail_px: u32,
    /// Lossy WebP quality, 0 to 100 (`GUICHET_PHOTO_WEBP_QUALITY`).
    pub webp_quality: f32,
    /// Photos processed at once (`GUICHET_PHOTO_WORKERS`, default: number of cores).
    pub workers: usize,
    /// Photos waiting for a worker before new ones get 503 (`GUICHET_PHOTO_QUEUE`).
    pub queue: usize,
}

impl Default for PhotoLimits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            max_bytes: 15 * 1024 * 1024,
            max_count: 5,
            max_pixels: 50_000_000,
            display_px: 1600,
            thumbnail_px: 400,
            webp_quality: 80.0,
            workers: cores,
            queue: cores * 4,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("invalid value for {name}: {value:?} ({reason})")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
    #[error(
        "no database configured: set DATABASE_URL (e.g. postgres://user@localhost/guichet) or `database_url` in the configuration file"
    )]
    NoDatabase,
}

/// The TOML file's shape: every key optional, same names as the struct in snake case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    store: Option<String>,
    s3_endpoint: Option<String>,
    s3_bucket: Option<String>,
    s3_region: Option<String>,
    s3_access_key_id: Option<String>,
    s3_secret_access_key: Option<String>,
    s3_timeout_secs: Option<u64>,
    public_url: Option<String>,
    db_pool_size: Option<u32>,
    photo_max_bytes: Option<usize>,
    photo_max_count: Option<usize>,
    photo_max_pixels: Option<u64>,
    photo_webp_quality: Option<f32>,
    photo_workers: Option<usize>,
    photo_queue: Option<usize>,
    dedup_auto_merge: Option<f64>,
    dedup_review: Option<f64>,
    ui_dir: Option<PathBuf>,
    backoffice_dir: Option<PathBuf>,
    api_docs_dir: Option<PathBuf>,
    follow_url: Option<String>,
    secret_key: Option<String>,
    receipt_code_ttl_secs: Option<u64>,
    wallet_quota_bytes: Option<u64>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    smtp_timeout_secs: Option<u64>,
    mail_max_attempts: Option<i32>,
    webhook_timeout_secs: Option<u64>,
    webhook_max_attempts: Option<i32>,
    webhook_allow: Option<String>,
    outbox_poll_ms: Option<u64>,
    outbox_lock_secs: Option<u64>,
    retry_base_ms: Option<u64>,
    env: Option<String>,
    metrics_token: Option<String>,
    map_tiles: Option<String>,
    map_tiles_attribution: Option<String>,
    rate_limits: Option<String>,
    trusted_proxies: Option<String>,
    limit_login: Option<String>,
    limit_login_failures: Option<String>,
    limit_account_mail: Option<String>,
    limit_mail_to: Option<String>,
    limit_filing: Option<String>,
    limit_support: Option<String>,
    limit_messages: Option<String>,
    limit_reads: Option<String>,
    limit_agent: Option<String>,
    limit_api_key: Option<String>,
    open311_jurisdiction: Option<String>,
    agent_idle_minutes: Option<u64>,
    hash_workers: Option<usize>,
    purge_interval_secs: Option<u64>,
    audit_retention_days: Option<u32>,
}

impl Config {
    /// Loads the file (if any) then applies the environment on top.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let file_config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                toml::from_str(&text).map_err(|source| ConfigError::Parse {
                    path: path.to_owned(),
                    source,
                })?
            }
            None => FileConfig::default(),
        };
        Self::from_sources(file_config, |name| std::env::var(name).ok())
    }

    /// The configuration that these variables would give, ignoring the process environment
    /// and any file: for tests and embedding, where changing the environment is not an option.
    pub fn from_vars<K, V>(vars: impl IntoIterator<Item = (K, V)>) -> Result<Config, ConfigError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let vars: std::collections::HashMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self::from_sources(FileConfig::default(), |name| vars.get(name).cloned())
    }

    fn from_sources(
        file: FileConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let database_url = env("DATABASE_URL")
            .or(file.database_url)
            .filter(|s| !s.is_empty())
            .ok_or(ConfigError::NoDatabase)?;
        let listen_text = env("GUICHET_LISTEN")
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let listen = parse("GUICHET_LISTEN", &listen_text)?;
        let data_dir = env("GUICHET_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("data"));
        let store = store_config(
            StoreFile {
                store: file.store,
                endpoint: file.s3_endpoint,
                bucket: file.s3_bucket,
                region: file.s3_region,
                access_key_id: file.s3_access_key_id,
                secret_access_key: file.s3_secret_access_key,
                timeout_secs: file.s3_timeout_secs,
            },
            &env,
        )?;
        let public_url = env("GUICHET_PUBLIC_URL")
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        let db_pool_size = opt_env("GUICHET_DB_POOL", &env)?
            .or(file.db_pool_size)
            .unwrap_or(16);

        let mut photos = PhotoLimits::default();
        if let Some(v) = opt_env("GUICHET_PHOTO_MAX_BYTES", &env)?.or(file.photo_max_bytes) {
            photos.max_bytes = v;
        }
        if let Some(v) = opt_env("GUICHET_PHOTO_MAX_COUNT", &env)?.or(file.photo_max_count) {
            photos.max_count = v;
        }
        if let Some(v) = opt_env("GUICHET_PHOTO_MAX_PIXELS", &env)?.or(file.photo_max_pixels) {
            photos.max_pixels = v;
        }
        if let Some(v) = opt_env("GUICHET_PHOTO_WEBP_QUALITY", &env)?.or(file.photo_webp_quality) {
            if !(0.0..=100.0).contains(&v) {
                return Err(invalid(
                    "GUICHET_PHOTO_WEBP_QUALITY",
                    v,
                    "between 0 and 100",
                ));
            }
            photos.webp_quality = v;
        }
        if let Some(v) = opt_env("GUICHET_PHOTO_WORKERS", &env)?.or(file.photo_workers) {
            if v == 0 {
                return Err(invalid("GUICHET_PHOTO_WORKERS", v, "at least 1"));
            }
            photos.workers = v;
        }
        if let Some(v) = opt_env("GUICHET_PHOTO_QUEUE", &env)?.or(file.photo_queue) {
            photos.queue = v;
        }
        let mut dedup = Thresholds::default();
        if let Some(v) = opt_env("GUICHET_DEDUP_AUTO_MERGE", &env)?.or(file.dedup_auto_merge) {
            dedup.auto_merge = v;
        }
        if let Some(v) = opt_env("GUICHET_DEDUP_REVIEW", &env)?.or(file.dedup_review) {
            dedup.review = v;
        }
        if !(0.0..=1.0).contains(&dedup.review)
            || !(0.0..=1.0).contains(&dedup.auto_merge)
            || dedup.review > dedup.auto_merge
        {
            return Err(invalid(
                "GUICHET_DEDUP_REVIEW",
                dedup.review,
                "thresholds must satisfy 0 ≤ review ≤ auto_merge ≤ 1",
            ));
        }
        let notify = notify_config(
            &public_url,
            NotifyFile {
                follow_url: file.follow_url,
                secret_key: file.secret_key,
                smtp_url: file.smtp_url,
                mail_from: file.mail_from,
                smtp_timeout_secs: file.smtp_timeout_secs,
                mail_max_attempts: file.mail_max_attempts,
                webhook_timeout_secs: file.webhook_timeout_secs,
                webhook_max_attempts: file.webhook_max_attempts,
                webhook_allow: file.webhook_allow,
            },
            &env,
        )?;
        let mut outbox = OutboxConfig::default();
        if let Some(v) = opt_env("GUICHET_OUTBOX_POLL_MS", &env)?.or(file.outbox_poll_ms) {
            outbox.poll_interval =
                Duration::from_millis(at_least_one("GUICHET_OUTBOX_POLL_MS", v)?);
        }
        if let Some(v) = opt_env("GUICHET_RETRY_BASE_MS", &env)?.or(file.retry_base_ms) {
            outbox.retry_base = Duration::from_millis(at_least_one("GUICHET_RETRY_BASE_MS", v)?);
        }
        if let Some(v) = opt_env("GUICHET_OUTBOX_LOCK_SECS", &env)?.or(file.outbox_lock_secs) {
            outbox.lock = Duration::from_secs(at_least_one("GUICHET_OUTBOX_LOCK_SECS", v)?);
        }
        let receipt_code_ttl = match opt_env("GUICHET_RECEIPT_CODE_TTL_SECS", &env)?
            .or(file.receipt_code_ttl_secs)
        {
            Some(v) => {
                let ttl = Duration::from_secs(at_least_one("GUICHET_RECEIPT_CODE_TTL_SECS", v)?);
                if ttl > codes::MAX_RECEIPT_CODE_TTL {
                    return Err(invalid(
                        "GUICHET_RECEIPT_CODE_TTL_SECS",
                        v,
                        "at most 604800 (7 days)",
                    ));
                }
                ttl
            }
            None => codes::DEFAULT_RECEIPT_CODE_TTL,
        };
        let environment = match env("GUICHET_ENV").or(file.env) {
            Some(text) => parse("GUICHET_ENV", &text)?,
            None => Environment::default(),
        };
        let http = HttpConfig {
            metrics_token: env("GUICHET_METRICS_TOKEN")
                .or(file.metrics_token)
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty()),
            map_tiles: MapTiles::parse(
                &env("GUICHET_MAP_TILES")
                    .or(file.map_tiles)
                    .unwrap_or_else(|| DEFAULT_MAP_TILES.to_owned()),
                env("GUICHET_MAP_TILES_ATTRIBUTION").or(file.map_tiles_attribution),
            )?,
        };
        let limits = limits_config(
            LimitsFile {
                rate_limits: file.rate_limits,
                trusted_proxies: file.trusted_proxies,
                login: file.limit_login,
                login_failures: file.limit_login_failures,
                account_mail: file.limit_account_mail,
                mail_to: file.limit_mail_to,
                filing: file.limit_filing,
                support: file.limit_support,
                messages: file.limit_messages,
                reads: file.limit_reads,
                agent: file.limit_agent,
                api_key: file.limit_api_key,
            },
            &env,
        )?;
        let mut accounts = AccountsConfig::default();
        if let Some(v) = opt_env("GUICHET_AGENT_IDLE_MINUTES", &env)?.or(file.agent_idle_minutes) {
            accounts.agent_idle =
                Duration::from_secs(60 * at_least_one("GUICHET_AGENT_IDLE_MINUTES", v)?);
        }
        if let Some(v) = opt_env("GUICHET_HASH_WORKERS", &env)?.or(file.hash_workers) {
            if v == 0 {
                return Err(invalid("GUICHET_HASH_WORKERS", v, "at least 1"));
            }
            accounts.hash_workers = v;
        }
        if let Some(v) = opt_env("GUICHET_PURGE_INTERVAL_SECS", &env)?.or(file.purge_interval_secs)
        {
            accounts.purge_interval =
                Duration::from_secs(at_least_one("GUICHET_PURGE_INTERVAL_SECS", v)?);
        }
        if let Some(v) =
            opt_env("GUICHET_AUDIT_RETENTION_DAYS", &env)?.or(file.audit_retention_days)
        {
            if !(1..=3650).contains(&v) {
                return Err(invalid("GUICHET_AUDIT_RETENTION_DAYS", v, "1 to 3650 days"));
            }
            accounts.audit_retention_days = v;
        }
        Ok(Config {
            database_url,
            listen,
            data_dir,
            store,
            public_url,
            db_pool_size,
            photos,
            dedup,
            ui_dir: env("GUICHET_UI_DIR")
                .map(PathBuf::from)
                .or(file.ui_dir)
                .unwrap_or_else(|| PathBuf::from("mobile/ui/dist")),
            backoffice_dir: env("GUICHET_BACKOFFICE_DIR")
                .map(PathBuf::from)
                .or(file.backoffice_dir)
                .unwrap_or_else(|| PathBuf::from("server/backoffice/dist")),
            api_docs_dir: env("GUICHET_API_DOCS_DIR")
                .map(PathBuf::from)
                .or(file.api_docs_dir)
                .unwrap_or_else(|| PathBuf::from("server/api-docs/dist")),
            notify,
            outbox,
            environment,
            http,
            receipt_code_ttl,
            limits,
            accounts,
            open311_jurisdiction: env("GUICHET_OPEN311_JURISDICTION")
                .or(file.open311_jurisdiction)
                .map(|j| j.trim().to_owned())
                .filter(|j| !j.is_empty())
                .unwrap_or_else(|| DEFAULT_JURISDICTION.to_owned()),
            wallet_quota_bytes: opt_env("GUICHET_WALLET_QUOTA_BYTES", &env)?
                .or(file.wallet_quota_bytes)
                .unwrap_or(DEFAULT_WALLET_QUOTA_BYTES),
        })
    }
}

/// The file's keys of the store.
struct StoreFile {
    store: Option<String>,
    endpoint: Option<String>,
    bucket: Option<String>,
    region: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    timeout_secs: Option<u64>,
}

fn store_config(
    file: StoreFile,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<StoreConfig, ConfigError> {
    let set = |name: &str, from_file: Option<String>| {
        env(name)
            .or(from_file)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let kind = match set("GUICHET_STORE", file.store).as_deref() {
        None | Some("local") => StoreKind::Local,
        Some("s3") => StoreKind::S3,
        Some(other) => return Err(invalid("GUICHET_STORE", other, "`local` or `s3`")),
    };
    let mut s3 = S3Config {
        endpoint: set("GUICHET_S3_ENDPOINT", file.endpoint)
            .map(|e| e.trim_end_matches('/').to_owned()),
        bucket: set("GUICHET_S3_BUCKET", file.bucket),
        access_key_id: set("GUICHET_S3_ACCESS_KEY_ID", file.access_key_id),
        secret_access_key: set("GUICHET_S3_SECRET_ACCESS_KEY", file.secret_access_key),
        ..S3Config::default()
    };
    if let Some(region) = set("GUICHET_S3_REGION", file.region) {
        s3.region = region;
    }
    if let Some(v) = opt_env("GUICHET_S3_TIMEOUT_SECS", env)?.or(file.timeout_secs) {
        s3.timeout = Duration::from_secs(at_least_one("GUICHET_S3_TIMEOUT_SECS", v)?);
    }
    if let Some(endpoint) = &s3.endpoint {
        let parsed = reqwest::Url::parse(endpoint).ok();
        let usable = parsed.as_ref().is_some_and(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some()
                && u.username().is_empty()
                && u.password().is_none()
        });
        if !usable {
            return Err(invalid(
                "GUICHET_S3_ENDPOINT",
                redact_url(endpoint),
                "expected http(s)://host[:port], without credentials (they go in \
                 GUICHET_S3_ACCESS_KEY_ID and GUICHET_S3_SECRET_ACCESS_KEY)",
            ));
        }
    }
    if let Some(bucket) = &s3.bucket
        && !is_bucket_name(bucket)
    {
        return Err(invalid(
            "GUICHET_S3_BUCKET",
            bucket,
            "3 to 63 lower-case letters, digits, `.` and `-`",
        ));
    }
    if s3.access_key_id.is_some() != s3.secret_access_key.is_some() {
        return Err(invalid(
            "GUICHET_S3_SECRET_ACCESS_KEY",
            "***",
            "GUICHET_S3_ACCESS_KEY_ID and GUICHET_S3_SECRET_ACCESS_KEY go together",
        ));
    }
    if kind == StoreKind::S3 && s3.bucket.is_none() {
        return Err(invalid(
            "GUICHET_S3_BUCKET",
            "",
            "GUICHET_STORE=s3 needs the bucket's name",
        ));
    }
    Ok(StoreConfig { kind, s3 })
}

/// The file's keys of the limits section.
struct LimitsFile {
    rate_limits: Option<String>,
    trusted_proxies: Option<String>,
    login: Option<String>,
    login_failures: Option<String>,
    account_mail: Option<String>,
    mail_to: Option<String>,
    filing: Option<String>,
    support: Option<String>,
    messages: Option<String>,
    reads: Option<String>,
    agent: Option<String>,
    api_key: Option<String>,
}

/// The Open311 `jurisdiction_id` unless configured.
pub const DEFAULT_JURISDICTION: &str = "rennesmetropole.fr";

fn limits_config(
    file: LimitsFile,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<LimitsConfig, ConfigError> {
    let mut limits = LimitsConfig::default();
    if let Some(v) = env("GUICHET_RATE_LIMITS").or(file.rate_limits) {
        limits.enabled = match v.trim() {
            "on" => true,
            "off" => false,
            _ => return Err(invalid("GUICHET_RATE_LIMITS", v, "`on` or `off`")),
        };
    }
    if let Some(v) = env("GUICHET_TRUSTED_PROXIES").or(file.trusted_proxies) {
        limits.trusted_proxies =
            ip_blocks(&v).map_err(|reason| invalid("GUICHET_TRUSTED_PROXIES", &v, &reason))?;
    }
    let rates: [(&'static str, Option<String>, &mut Rate); 10] = [
        ("GUICHET_LIMIT_LOGIN", file.login, &mut limits.login),
        (
            "GUICHET_LIMIT_LOGIN_FAILURES",
            file.login_failures,
            &mut limits.login_failures,
        ),
        (
            "GUICHET_LIMIT_ACCOUNT_MAIL",
            file.account_mail,
            &mut limits.account_mail,
        ),
        ("GUICHET_LIMIT_MAIL_TO", file.mail_to, &mut limits.mail_to),
        ("GUICHET_LIMIT_FILING", file.filing, &mut limits.filing),
        ("GUICHET_LIMIT_SUPPORT", file.support, &mut limits.support),
        (
            "GUICHET_LIMIT_MESSAGES",
            file.messages,
            &mut limits.messages,
        ),
        ("GUICHET_LIMIT_READS", file.reads, &mut limits.reads),
        ("GUICHET_LIMIT_AGENT", file.agent, &mut limits.agent),
        ("GUICHET_LIMIT_API_KEY", file.api_key, &mut limits.api_key),
    ];
    for (name, from_file, rate) in rates {
        if let Some(v) = env(name).or(from_file) {
            *rate = v
                .parse()
                .map_err(|reason: String| invalid(name, &v, &reason))?;
        }
    }
    Ok(limits)
}

/// Addresses and blocks, comma-separated: `127.0.0.1, 10.0.0.0/8, fd00::/8`.
fn ip_blocks(text: &str) -> Result<Vec<ipnet::IpNet>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            if item.contains('/') {
                item.parse::<ipnet::IpNet>()
                    .map(|net| net.trunc())
                    .map_err(|_| format!("{item:?} is not an address block such as 10.0.0.0/8"))
            } else {
                item.parse::<std::net::IpAddr>()
                    .map(ipnet::IpNet::from)
                    .map_err(|_| format!("{item:?} is not an IP address"))
            }
        })
        .collect()
}

/// The file's keys of the notify section.
struct NotifyFile {
    follow_url: Option<String>,
    secret_key: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    smtp_timeout_secs: Option<u64>,
    mail_max_attempts: Option<i32>,
    webhook_timeout_secs: Option<u64>,
    webhook_max_attempts: Option<i32>,
    webhook_allow: Option<String>,
}

fn notify_config(
    public_url: &str,
    file: NotifyFile,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<NotifyConfig, ConfigError> {
    let mut notify = NotifyConfig::new(public_url);
    if let Some(v) = env("GUICHET_FOLLOW_URL").or(file.follow_url) {
        if !v.contains("{number}") || !v.contains("{token}") {
            return Err(invalid(
                "GUICHET_FOLLOW_URL",
                v,
                "must contain {number} and {token}",
            ));
        }
        notify.follow_url = v;
    }
    if let Some(v) = env("GUICHET_SECRET_KEY").or(file.secret_key) {
        // The value itself never goes into a message.
        notify.follow_key = Some(
            SecretKey::from_setting(&v)
                .map_err(|reason| invalid("GUICHET_SECRET_KEY", "***", &reason))?,
        );
    }
    notify.smtp_url = env("GUICHET_SMTP_URL")
        .or(file.smtp_url)
        .filter(|s| !s.trim().is_empty());
    if let Some(url) = &notify.smtp_url {
        // Checked now so that a typo stops the start instead of failing every e-mail later.
        crate::notify::mail::transport(url, notify.smtp_timeout)
            .map_err(|e| invalid("GUICHET_SMTP_URL", redact_url(url), &e))?;
    }
    if let Some(v) = env("GUICHET_MAIL_FROM").or(file.mail_from) {
        if v.parse::<lettre::message::Mailbox>().is_err() {
            return Err(invalid(
                "GUICHET_MAIL_FROM",
                v,
                "expected an address such as `Guichet <no-reply@example.org>`",
            ));
        }
        notify.mail_from = v;
    }
    if let Some(v) = opt_env("GUICHET_SMTP_TIMEOUT_SECS", env)?.or(file.smtp_timeout_secs) {
        notify.smtp_timeout = Duration::from_secs(at_least_one("GUICHET_SMTP_TIMEOUT_SECS", v)?);
    }
    if let Some(v) = opt_env("GUICHET_MAIL_MAX_ATTEMPTS", env)?.or(file.mail_max_attempts) {
        if v < 1 {
            return Err(invalid("GUICHET_MAIL_MAX_ATTEMPTS", v, "at least 1"));
        }
        notify.mail_max_attempts = v;
    }
    if let Some(v) = opt_env("GUICHET_WEBHOOK_TIMEOUT_SECS", env)?.or(file.webhook_timeout_secs) {
        notify.webhook_timeout =
            Duration::from_secs(at_least_one("GUICHET_WEBHOOK_TIMEOUT_SECS", v)?);
    }
    if let Some(v) = opt_env("GUICHET_WEBHOOK_MAX_ATTEMPTS", env)?.or(file.webhook_max_attempts) {
        if v < 1 {
            return Err(invalid("GUICHET_WEBHOOK_MAX_ATTEMPTS", v, "at least 1"));
        }
        notify.webhook_max_attempts = v;
    }
    if let Some(v) = env("GUICHET_WEBHOOK_ALLOW").or(file.webhook_allow) {
        notify.webhook_allow = v
            .parse()
            .map_err(|reason: String| invalid("GUICHET_WEBHOOK_ALLOW", &v, &reason))?;
    }
    Ok(notify)
}

fn at_least_one(name: &'static str, v: u64) -> Result<u64, ConfigError> {
    if v == 0 {
        Err(invalid(name, v, "at least 1"))
    } else {
        Ok(v)
    }
}

/// The URL without its password, for error messages.
fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => url.to_owned(),
    }
}

fn invalid(name: &'static str, value: impl ToString, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        name,
        value: value.to_string(),
        reason: reason.to_owned(),
    }
}

fn parse<T: std::str::FromStr>(name: &'static str, text: &str) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    text.trim()
        .parse()
        .map_err(|e: T::Err| ConfigError::Invalid {
            name,
            value: text.to_owned(),
            reason: e.to_string(),
        })
}

fn opt_env<T: std::str::FromStr>(
    name: &'static str,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Option<T>, ConfigError>
where
    T::Err: std::fmt::Display,
{
    env(name).map(|text| parse(name, &text)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn map_tiles_are_a_template_with_an_origin() {
        let tiles = MapTiles::parse("https://{s}.tile.example.org/{z}/{x}/{y}.png", None)
            .unwrap()
            .unwrap();
        assert_eq!(tiles.origin, "https://*.tile.example.org");
        let local = MapTiles::parse(
            "http://tiles.local:8081/t/{z}/{x}/{y}.png",
            Some(" © Ville ".into()),
        )
        .unwrap()
        .unwrap();
        assert_eq!(local.origin, "http://tiles.local:8081");
        assert_eq!(local.attribution.as_deref(), Some("© Ville"));
        assert_eq!(MapTiles::parse("  ", None).unwrap(), None);
        for bad in [
            "https://x.org/{z}/{x}/{y}.png; script-src *",
            "https://x.org/{z}/{x}/{y}.png, https://y.org/{z}/{x}/{y}.png",
            "https://tiles.example.org",
            "data:{z}{x}{y}",
            "ftp://x.org/{z}/{x}/{y}.png",
        ] {
            assert!(MapTiles::parse(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn map_tiles_default_to_openstreetmap_and_may_be_turned_off() {
        let db = ("DATABASE_URL", "postgres://x/y");
        let tiles = load("", &[db]).unwrap().http.map_tiles.unwrap();
        assert_eq!(tiles.url, DEFAULT_MAP_TILES);
        assert_eq!(tiles.origin, "https://tile.openstreetmap.org");
        assert_eq!(
            load("", &[db, ("GUICHET_MAP_TILES", "")])
                .unwrap()
                .http
                .map_tiles,
            None
        );
    }

    fn load(file: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let file: FileConfig = toml::from_str(file).map_err(|source| ConfigError::Parse {
            path: "test.toml".into(),
            source,
        })?;
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_sources(file, |k| env.get(k).cloned())
    }

    #[test]
    fn defaults_need_only_a_database() {
        let c = load("", &[("DATABASE_URL", "postgres://x/y")]).expect("config");
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.photos.max_count, 5);
    }

    #[test]
    fn environment_wins_over_the_file() {
        let c = load(
            "database_url = \"postgres://file/db\"\nlisten = \"0.0.0.0:9000\"\npublic_url = \"https://guichet.example/\"",
            &[("GUICHET_LISTEN", "127.0.0.1:7000")],
        )
        .expect("config");
        assert_eq!(c.database_url, "postgres://file/db");
        assert_eq!(c.listen.to_string(), "127.0.0.1:7000");
        assert_eq!(c.public_url, "https://guichet.example");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = load(
            "",
            &[("DATABASE_URL", "x"), ("GUICHET_PHOTO_MAX_BYTES", "lots")],
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("GUICHET_PHOTO_MAX_BYTES"), "{err}");
        assert!(matches!(load("", &[]), Err(ConfigError::NoDatabase)));
        assert!(load("databse_url = \"typo\"", &[]).is_err());
    }

    #[test]
    fn notices_default_to_logging_and_read_their_keys() {
        let c = load("", &[("DATABASE_URL", "x")]).expect("config");
        assert_eq!(c.notify.smtp_url, None);
        assert_eq!(c.notify.mail_from, DEFAULT_MAIL_FROM);
        assert_eq!(c.notify.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.outbox.retry_base, Duration::from_secs(30));
        let c = load(
            "smtp_url = \"smtp://127.0.0.1:2525\"\nwebhook_max_attempts = 3",
            &[
                ("DATABASE_URL", "x"),
                ("GUICHET_MAIL_FROM", "Mairie <guichet@ville.example>"),
                ("GUICHET_RETRY_BASE_MS", "200"),
                ("GUICHET_OUTBOX_POLL_MS", "50"),
            ],
        )
        .expect("config");
        assert_eq!(c.notify.smtp_url.as_deref(), Some("smtp://127.0.0.1:2525"));
        assert_eq!(c.notify.webhook_max_attempts, 3);
        assert_eq!(c.notify.mail_from, "Mairie <guichet@ville.example>");
        assert_eq!(c.outbox.retry_base, Duration::from_millis(200));
        assert_eq!(c.outbox.poll_interval, Duration::from_millis(50));
    }

    #[test]
    fn codes_settings_have_safe_defaults_and_never_print_the_key() {
        let c = load("", &[("DATABASE_URL", "x")]).expect("config");
        assert_eq!(c.receipt_code_ttl, Duration::from_secs(24 * 3600));
        assert!(c.notify.follow_key.is_none());
        assert!(
            c.notify
                .follow_url
                .ends_with("/suivi/{number}?follow={token}")
        );
        let key = "k3y-that-is-long-enough-0123456789abcdef";
        let c = load(
            "receipt_code_ttl_secs = 60",
            &[("DATABASE_URL", "x"), ("GUICHET_SECRET_KEY", key)],
        )
        .expect("config");
        assert_eq!(c.receipt_code_ttl, Duration::from_secs(60));
        assert!(c.notify.follow_key.is_some());
        assert!(!format!("{c:?}").contains(key));
        let err = load(
            "",
            &[
                ("DATABASE_URL", "x"),
                ("GUICHET_SECRET_KEY", "short-secret"),
            ],
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(!err.contains("short-secret"), "{err}");
    }

    #[test]
    fn the_webhook_allow_list_is_empty_unless_set() {
        let c = load("", &[("DATABASE_URL", "x")]).expect("config");
        assert!(c.notify.webhook_allow.is_empty());
        let from_file = load(
            "webhook_allow = \"erp.mairie.local, 10.20.0.0/16\"",
            &[("DATABASE_URL", "x")],
        )
        .expect("config");
        let from_env = load(
            "webhook_allow = \"192.0.2.1\"",
            &[
                ("DATABASE_URL", "x"),
                ("GUICHET_WEBHOOK_ALLOW", "10.20.0.0/16,erp.mairie.local"),
            ],
        )
        .expect("config");
        assert_eq!(
            from_file.notify.webhook_allow,
            from_env.notify.webhook_allow
        );
        assert!(!from_env.notify.webhook_allow.is_empty());
    }

    #[test]
    fn the_environment_is_development_unless_told() {
        let c = load("", &[("DATABASE_URL", "x")]).expect("config");
        assert_eq!(c.environment, Environment::Development);
        let c = load("env = \"production\"", &[("DATABASE_URL", "x")]).expect("config");
        assert_eq!(c.environment, Environment::Production);
        let err = load("", &[("DATABASE_URL", "x"), ("GUICHET_ENV", "prod")])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("GUICHET_ENV"), "{err}");
    }

    #[test]
    fn limits_are_on_with_generous_defaults_and_read_their_keys() {
        let c = load("", &[("DATABASE_URL", "x")]).expect("config");
        assert!(c.limits.enabled);
        assert!(c.limits.trusted_proxies.is_empty());
        assert_eq!(
            c.limits.login_failures,
            Rate::new(10, Duration::from_secs(900))
        );
        assert_eq!(c.accounts.agent_idle, Duration::from_secs(1800));
        let c = load(
            "rate_limits = \"off\"\nlimit_login = \"3/min\"",
            &[
                ("DATABASE_URL", "x"),
                ("GUICHET_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8"),
                ("GUICHET_LIMIT_LOGIN_FAILURES", "5/15min"),
                ("GUICHET_LIMIT_READS", "1000/h"),
                ("GUICHET_AGENT_IDLE_MINUTES", "10"),
            ],
        )
        .expect("config");
        assert!(!c.limits.enabled);
        assert_eq!(c.limits.trusted_proxies.len(), 2);
        assert!(
            c.limits.trusted_proxies[1].contains(&"10.1.2.3".parse::<std::net::IpAddr>().unwrap())
        );
        assert_eq!(c.limits.login, Rate::per_minute(3));
        assert_eq!(
            c.limits.login_failures,
            Rate::new(5, Duration::from_secs(900))
        );
        assert_eq!(c.limits.reads, Rate::per_hour(1000));
        assert_eq!(c.accounts.agent_idle, Duration::from_secs(600));
        assert_eq!(
            "2/day".parse(),
            Ok(Rate::new(2, Duration::from_secs(86_400)))
        );
        for bad in ["10", "0/min", "5/0min", "5/fortnight", "x/h"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_store_is_local_unless_s3_is_configured_and_the_secret_never_shows() {
        let c = load("", &[("DATABASE_URL", "x")]).expect("config");
        assert_eq!(c.store.kind, StoreKind::Local);
        let secret = "s3cr3t-that-must-not-leak";
        let c = load(
            "store = \"s3\"\ns3_bucket = \"guichet-photos\"\ns3_timeout_secs = 4",
            &[
                ("DATABASE_URL", "x"),
                ("GUICHET_S3_ENDPOINT", "http://127.0.0.1:9000/"),
                ("GUICHET_S3_ACCESS_KEY_ID", "guichet"),
                ("GUICHET_S3_SECRET_ACCESS_KEY", secret),
            ],
        )
        .expect("config");
        assert_eq!(c.store.kind, StoreKind::S3);
        assert_eq!(
            c.store.s3.endpoint.as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert_eq!(c.store.s3.bucket.as_deref(), Some("guichet-photos"));
        assert_eq!(c.store.s3.region, "us-east-1");
        assert_eq!(c.store.s3.timeout, Duration::from_secs(4));
        assert!(!format!("{c:?}").contains(secret));
        for (name, value) in [
            ("GUICHET_STORE", "nfs"),
            ("GUICHET_S3_BUCKET", "Photos_2026"),
            ("GUICHET_S3_ENDPOINT", "ftp://files.example"),
            ("GUICHET_S3_ENDPOINT", "https://key:secret@s3.example"),
            ("GUICHET_S3_TIMEOUT_SECS", "0"),
        ] {
            let err = load("", &[("DATABASE_URL", "x"), (name, value)])
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(name), "{name}: {err}");
            assert!(!err.contains("secret@"), "{err}");
        }
        let err = load("", &[("DATABASE_URL", "x"), ("GUICHET_STORE", "s3")])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("GUICHET_S3_BUCKET"), "{err}");
        let err = load(
            "",
            &[
                ("DATABASE_URL", "x"),
                ("GUICHET_S3_SECRET_ACCESS_KEY", secret),
            ],
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            err.contains("go together") && !err.contains(secret),
            "{err}"
        );
    }

    #[test]
    fn bad_notice_settings_are_refused_at_start() {
        for (name, value) in [
            ("GUICHET_SMTP_URL", "http://mail.example"),
            ("GUICHET_MAIL_FROM", "not an address"),
            ("GUICHET_WEBHOOK_MAX_ATTEMPTS", "0"),
            ("GUICHET_RETRY_BASE_MS", "0"),
            ("GUICHET_FOLLOW_URL", "https://x.example/{number}"),
            (
                "GUICHET_FOLLOW_URL",
                "https://x.example/{number}?code={tracking_code}",
            ),
            ("GUICHET_SECRET_KEY", "too short"),
            ("GUICHET_RECEIPT_CODE_TTL_SECS", "0"),
            ("GUICHET_RECEIPT_CODE_TTL_SECS", "604801"),
            ("GUICHET_WEBHOOK_ALLOW", "10.0.0.0/33"),
            ("GUICHET_WEBHOOK_ALLOW", "http://erp.local/"),
            ("GUICHET_RATE_LIMITS", "no"),
            ("GUICHET_TRUSTED_PROXIES", "proxy.local"),
            ("GUICHET_LIMIT_FILING", "lots"),
            ("GUICHET_HASH_WORKERS", "0"),
        ] {
            let err = load("", &[("DATABASE_URL", "x"), (name, value)])
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(name), "{name}: {err}");
        }
    }
}
