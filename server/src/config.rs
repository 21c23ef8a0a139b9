//! Typed configuration, loaded once at start-up from an optional TOML file and then from
//! environment variables (which win), and passed down from there. No globals.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use guichet_shared::dedup::Thresholds;
use serde::Deserialize;

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
        })
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
}
