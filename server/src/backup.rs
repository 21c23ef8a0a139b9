//! `guichet backup DIR` and `guichet restore DIR`.
//!
//! A backup is a directory: `database.dump`, PostgreSQL's own consistent snapshot
//! (`pg_dump --format=custom`, taken in one transaction while the service runs);
//! `objects/ab/cd/<key>`, every object of the store, copied after the dump (objects are
//! content-addressed and written before the rows that name them commit, so each one the dump
//! names is there); and `manifest.json`, what was taken, with the dump's SHA-256.
//!
//! A restore goes into an empty database (any table of ours refuses it) and a store: the dump
//! with `pg_restore` in one transaction, then each object, checked against its key (the
//! SHA-256 of its bytes) before it is written.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::db;
use crate::photos::{PhotoStore, StoreError, hex_sha256};

const DUMP: &str = "database.dump";
const OBJECTS: &str = "objects";
const MANIFEST: &str = "manifest.json";
/// The manifest's format; a restore refuses one it does not know.
const FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Refused(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{tool} failed ({status}): {stderr}")]
    Tool {
        tool: &'static str,
        status: String,
        stderr: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("manifest: {0}")]
    Manifest(#[from] serde_json::Error),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
    let what = what.into();
    move |source| BackupError::Io { what, source }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub taken_at: OffsetDateTime,
    /// The last migration applied when the dump was taken.
    pub schema_version: i64,
    pub dump_sha256: String,
    pub objects: u64,
    pub bytes: u64,
}

/// What a backup or a restore did.
#[derive(Debug)]
pub struct Summary {
    pub objects: u64,
    pub bytes: u64,
}

/// Takes a backup into `dir`, which must not exist yet or be empty.
pub async fn backup(
    pool: &PgPool,
    database_url: &str,
    store: Arc<dyn PhotoStore>,
    dir: &Path,
) -> Result<Summary, BackupError> {
    ensure_empty_dir(dir).await?;
    let taken_at = OffsetDateTime::now_utc();
    let schema_version = db::schema_version(pool).await?;
    let dump = dir.join(DUMP);
    run_tool(
        "pg_dump",
        database_url,
        &[
            "--format=custom".as_ref(),
            "--no-owner".as_ref(),
            "--file".as_ref(),
            dump.as_os_str(),
        ],
    )
    .await?;
    let dump_sha256 = hex_sha256(
        &tokio::fs::read(&dump)
            .await
            .map_err(io("reading the dump"))?,
    );

    let mut summary = Summary {
        objects: 0,
        bytes: 0,
    };
    for key in store.keys().await? {
        // Deleted since it was listed (an orphan clean-up): nothing to keep.
        let Some(bytes) = store.get(&key).await? else {
            continue;
        };
        let path = object_path(dir, &key);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(io(format!("creating {}", parent.display())))?;
        }
        tokio::fs::write(&path, &bytes)
            .await
            .map_err(io(format!("writing {}", path.display())))?;
        summary.objects += 1;
        summary.bytes += bytes.len() as u64;
    }
    let manifest = Manifest {
        format: FORMAT,
        taken_at,
        schema_version,
        dump_sha256,
        objects: summary.objects,
        bytes: summary.bytes,
    };
    tokio::fs::write(dir.join(MANIFEST), serde_json::to_vec_pretty(&manifest)?)
        .await
        .map_err(io("writing the manifest"))?;
    db::backups::record(pool, summary.objects as i64, summary.bytes as i64).await?;
    Ok(summary)
}

/// Restores the backup in `dir` into an empty database and `store`.
pub async fn restore(
    pool: &PgPool,
    database_url: &str,
    store: Arc<dyn PhotoStore>,
    dir: &Path,
) -> Result<Summary, BackupError> {
    let manifest: Manifest = serde_json::from_slice(
        &tokio::fs::read(dir.join(MANIFEST))
            .await
            .map_err(io(format!("reading {}", dir.join(MANIFEST).display())))?,
    )?;
    if manifest.format != FORMAT {
        return Err(BackupError::Refused(format!(
            "backup format {} is not known (this version reads {FORMAT})",
            manifest.format
        )));
    }
    let dump = dir.join(DUMP);
    let bytes = tokio::fs::read(&dump)
        .await
        .map_err(io("reading the dump"))?;
    if hex_sha256(&bytes) != manifest.dump_sha256 {
        return Err(BackupError::Refused(
            "the dump does not match the manifest's SHA-256: it was changed or cut".to_owned(),
        ));
    }
    if !db::backups::is_empty(pool).await? {
        return Err(BackupError::Refused(
            "the database already holds tables: restore into an empty database".to_owned(),
        ));
    }
    run_tool(
        "pg_restore",
        database_url,
        &[
            "--no-owner".as_ref(),
            "--single-transaction".as_ref(),
            "--exit-on-error".as_ref(),
            "--dbname".as_ref(),
            // The database comes from PGDATABASE; `--dbname` is needed to restore at all.
            libpq_env(database_url)?
                .iter()
                .find(|(k, _)| *k == "PGDATABASE")
                .map_or("postgres", |(_, v)| v.as_str())
                .as_ref(),
            dump.as_os_str(),
        ],
    )
    .await?;

    let mut summary = Summary {
        objects: 0,
        bytes: 0,
    };
    for path in object_files(&dir.join(OBJECTS)).await? {
        let key = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(io(format!("reading {}", path.display())))?;
        if key.split_once('.').map(|(hash, _)| hash) != Some(hex_sha256(&bytes).as_str()) {
            return Err(BackupError::Refused(format!(
                "object {key} does not match its key: the backup was changed"
            )));
        }
        summary.bytes += bytes.len() as u64;
        store.put(&key, bytes.into()).await?;
        summary.objects += 1;
    }
    if summary.objects != manifest.objects {
        return Err(BackupError::Refused(format!(
            "the manifest lists {} objects, the backup holds {}",
            manifest.objects, summary.objects
        )));
    }
    Ok(summary)
}

fn object_path(dir: &Path, key: &str) -> PathBuf {
    dir.join(OBJECTS)
        .join(&key[0..2])
        .join(&key[2..4])
        .join(key)
}

async fn ensure_empty_dir(dir: &Path) -> Result<(), BackupError> {
    match tokio::fs::read_dir(dir).await {
        Ok(mut entries) => {
            if entries
                .next_entry()
                .await
                .map_err(io(dir.display().to_string()))?
                .is_some()
            {
                return Err(BackupError::Refused(format!(
                    "{} is not empty: back up into a new directory",
                    dir.display()
                )));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => tokio::fs::create_dir_all(dir)
            .await
            .map_err(io(format!("creating {}", dir.display()))),
        Err(e) => Err(io(dir.display().to_string())(e)),
    }
}

/// The files of `objects/ab/cd/`, whose names are store keys.
async fn object_files(root: &Path) -> Result<Vec<PathBuf>, BackupError> {
    let root = root.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut files = Vec::new();
        let mut dirs = vec![(root, 0)];
        while let Some((dir, depth)) = dirs.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(dir.display().to_string())(e)),
            };
            for entry in entries {
                let entry = entry.map_err(io(dir.display().to_string()))?;
                let path = entry.path();
                if depth < 2 && path.is_dir() {
                    dirs.push((path, depth + 1));
                } else if depth == 2
                    && path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(crate::photos::is_storable_key)
                {
                    files.push(path);
                }
            }
        }
        Ok(files)
    })
    .await
    .map_err(|e| io("listing the objects")(std::io::Error::other(e)))?
}

/// The connection of `database_url` as libpq's environment variables, so that the password
/// never shows in the process list as a command-line argument would.
fn libpq_env(database_url: &str) -> Result<Vec<(&'static str, String)>, BackupError> {
    let url = reqwest::Url::parse(database_url)
        .map_err(|e| BackupError::Refused(format!("the database URL cannot be read: {e}")))?;
    let decode = |s: &str| percent_decode(s);
    let mut env = Vec::new();
    if let Some(host) = url.host_str().filter(|h| !h.is_empty()) {
        env.push(("PGHOST", host.trim_matches(['[', ']']).to_owned()));
    }
    if let Some(port) = url.port() {
        env.push(("PGPORT", port.to_string()));
    }
    if !url.username().is_empty() {
        env.push(("PGUSER", decode(url.username())));
    }
    if let Some(password) = url.password() {
        env.push(("PGPASSWORD", decode(password)));
    }
    let database = url.path().trim_start_matches('/');
    if !database.is_empty() {
        env.push(("PGDATABASE", decode(database)));
    }
    for (k, v) in url.query_pairs() {
        let name = match k.as_ref() {
            "host" => "PGHOST",
            "port" => "PGPORT",
            "user" => "PGUSER",
            "password" => "PGPASSWORD",
            "dbname" => "PGDATABASE",
            "sslmode" => "PGSSLMODE",
            "sslrootcert" => "PGSSLROOTCERT",
            "sslcert" => "PGSSLCERT",
            "sslkey" => "PGSSLKEY",
            "application_name" => "PGAPPNAME",
            _ => continue,
        };
        env.retain(|(n, _)| *n != name);
        env.push((name, v.into_owned()));
    }
    Ok(env)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs a PostgreSQL client tool on the database of `database_url`; its error output is the
/// error's text.
async fn run_tool(
    tool: &'static str,
    database_url: &str,
    args: &[&std::ffi::OsStr],
) -> Result<(), BackupError> {
    let out = tokio::process::Command::new(tool)
        .envs(libpq_env(database_url)?)
        .args(args)
        .output()
        .await
        .map_err(io(format!(
            "running {tool} (install the PostgreSQL client tools of the server's version)"
        )))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(BackupError::Tool {
            tool,
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_url_becomes_libpq_s_environment() {
        let env =
            libpq_env("postgres://guichet:p%40ss%3Aword@db.example:5433/guichet?sslmode=require")
                .unwrap();
        assert_eq!(
            env,
            [
                ("PGHOST", "db.example".to_owned()),
                ("PGPORT", "5433".to_owned()),
                ("PGUSER", "guichet".to_owned()),
                ("PGPASSWORD", "p@ss:word".to_owned()),
                ("PGDATABASE", "guichet".to_owned()),
                ("PGSSLMODE", "require".to_owned()),
            ]
        );
        let socket = libpq_env("postgres:///guichet?host=/var/run/postgresql").unwrap();
        assert_eq!(
            socket,
            [
                ("PGDATABASE", "guichet".to_owned()),
                ("PGHOST", "/var/run/postgresql".to_owned()),
            ]
        );
    }
}
