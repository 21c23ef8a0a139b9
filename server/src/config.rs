//! Typed configuration, loaded once at start-up from an optional TOML file and then from
//! environment variables (which win), and passed down from there. No globals.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use guichet_shared::dedup::Thresholds;
use serde::Deserialize;

use crate::notify::webhooks::AllowList;

#[derive(Debug, Clone)]
pub struct Config {
    /// PostgreSQL connection URL (`DATABASE_URL`).
    pub database_url: String,
    /// Address the HTTP server listens on (`GUICHET_LISTEN`).
    pub listen: SocketAddr,
    /// Where photos and other files are stored (`GUICHET_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Public URL of this service, used in links it hands out (`GUICHET_PUBLIC_URL`).
    pub public_url: String,
    /// Database connections per instance (`GUICHET_DB_POOL`).
    pub db_pool_size: u32,
    pub photos: PhotoLimits,
    /// Dedup score thresholds (`GUICHET_DEDUP_AUTO_MERGE`, `GUICHET_DEDUP_REVIEW`).
    pub dedup: Thresholds,
    /// The built citizen web app, served at `/` (`GUICHET_UI_DIR`).
    pub ui_dir: PathBuf,
    /// E-mails and webhooks.
    pub notify: NotifyConfig,
    /// The background job worker.
    pub outbox: OutboxConfig,
    /// `development` or `production` (`GUICHET_ENV`).
    pub environment: Environment,
    /// Browser and transport settings: metrics access, map tile hosts.
    pub http: HttpConfig,
}

/// Browser and transport settings.
#[derive(Debug, Clone, Default)]
pub struct HttpConfig {
    /// Bearer token that opens `/metrics` (`GUICHET_METRICS_TOKEN`); without one, `/metrics`
    /// answers only direct loopback callers.
    pub metrics_token: Option<String>,
    /// Origins the citizen app loads map tiles from (`GUICHET_MAP_TILES`), for the
    /// Content-Security-Policy, e.g. `https://tiles.example.org`.
    pub map_tiles: Vec<String>,
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
    /// Where citizens follow a request, with `{number}` and `{tracking_code}` filled in
    /// (`GUICHET_FOLLOW_URL`; default: the public view of the JSON API).
    pub follow_url: String,
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
            follow_url: format!(
                "{public_url}/api/v1/requests/{{number}}?tracking_code={{tracking_code}}"
            ),
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
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(2),
            retry_base: Duration::from_secs(30),
        }
    }
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
    follow_url: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    smtp_timeout_secs: Option<u64>,
    mail_max_attempts: Option<i32>,
    webhook_timeout_secs: Option<u64>,
    webhook_max_attempts: Option<i32>,
    webhook_allow: Option<String>,
    outbox_poll_ms: Option<u64>,
    retry_base_ms: Option<u64>,
    env: Option<String>,
    metrics_token: Option<String>,
    map_tiles: Option<String>,
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
        let environment = match env("GUICHET_ENV").or(file.env) {
            Some(text) => parse("GUICHET_ENV", &text)?,
            None => Environment::default(),
        };
        let http = HttpConfig {
            metrics_token: env("GUICHET_METRICS_TOKEN")
                .or(file.metrics_token)
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty()),
            map_tiles: match env("GUICHET_MAP_TILES").or(file.map_tiles) {
                Some(text) => tile_origins(&text)?,
                None => Vec::new(),
            },
        };
        Ok(Config {
            database_url,
            listen,
            data_dir,
            public_url,
            db_pool_size,
            photos,
            dedup,
            ui_dir: env("GUICHET_UI_DIR")
                .map(PathBuf::from)
                .or(file.ui_dir)
                .unwrap_or_else(|| PathBuf::from("mobile/ui/dist")),
            notify,
            outbox,
            environment,
            http,
        })
    }
}

/// The origins (`scheme://host[:port]`) of a comma-separated list of tile hosts or tile URL
/// templates; refuses anything that could change the meaning of the security policy.
fn tile_origins(text: &str) -> Result<Vec<String>, ConfigError> {
    let mut origins = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((scheme, rest)) = item.split_once("://") else {
            return Err(invalid("GUICHET_MAP_TILES", item, "expected https://host"));
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
            });
        if !well_formed {
            return Err(invalid("GUICHET_MAP_TILES", item, "expected https://host"));
        }
        origins.push(format!("{scheme}://{host}"));
    }
    Ok(origins)
}

/// The file's keys of the notify section.
struct NotifyFile {
    follow_url: Option<String>,
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
        if !v.contains("{number}") || !v.contains("{tracking_code}") {
            return Err(invalid(
                "GUICHET_FOLLOW_URL",
                v,
                "must contain {number} and {tracking_code}",
            ));
        }
        notify.follow_url = v;
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
    fn map_tiles_become_origins() {
        assert_eq!(
            tile_origins("https://{s}.tile.example.org/{z}/{x}/{y}.png, http://tiles.local:8081")
                .unwrap(),
            ["https://*.tile.example.org", "http://tiles.local:8081"]
        );
        assert!(tile_origins("https://x.org; script-src *").is_err());
        assert!(tile_origins("data:").is_err());
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
    fn bad_notice_settings_are_refused_at_start() {
        for (name, value) in [
            ("GUICHET_SMTP_URL", "http://mail.example"),
            ("GUICHET_MAIL_FROM", "not an address"),
            ("GUICHET_WEBHOOK_MAX_ATTEMPTS", "0"),
            ("GUICHET_RETRY_BASE_MS", "0"),
            ("GUICHET_FOLLOW_URL", "https://x.example/{number}"),
            ("GUICHET_WEBHOOK_ALLOW", "10.0.0.0/33"),
            ("GUICHET_WEBHOOK_ALLOW", "http://erp.local/"),
        ] {
            let err = load("", &[("DATABASE_URL", "x"), (name, value)])
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(name), "{name}: {err}");
        }
    }
}
