//! Every SQL statement of the service lives in this module tree, one file per subject.
//! Handlers and the CLI call these functions; they never build SQL themselves.
// The one place that runs SQL: server/clippy.toml forbids it everywhere else.
#![allow(clippy::disallowed_methods)]

pub mod accounts;
pub mod catalogue;
pub mod incidents;
pub mod intake;
pub mod notify;
pub mod outbox;
pub mod pipeline;
pub mod queue;
pub mod requests;
pub mod routing;
pub mod webhooks;
pub mod zones;

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

/// The schema migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Sql(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "PostGIS is not installed on this PostgreSQL server. Install it (Debian/Ubuntu: \
         `apt-get install postgresql-{server_major}-postgis-3`), then run `guichet migrate`."
    )]
    PostgisMissing { server_major: String },
    #[error(
        "PostGIS is not enabled in this database. The PostgreSQL server has the package, so run \
         `guichet migrate` (or, as a superuser, `CREATE EXTENSION postgis;`). Where the package \
         is missing, install it first (Debian/Ubuntu: `apt-get install postgresql-15-postgis-3`)."
    )]
    PostgisNotEnabled,
    #[error("the database schema is not up to date: run `guichet migrate`")]
    SchemaOutdated,
    #[error("{0}")]
    Data(String),
}

impl DbError {
    /// Text PostgreSQL cannot store (a NUL byte, an invalid escape): the caller's input.
    pub fn is_bad_text(&self) -> bool {
        match self {
            DbError::Sql(sqlx::Error::Database(e)) => {
                matches!(e.code().as_deref(), Some("22021" | "22P05"))
            }
            _ => false,
        }
    }

    /// Connection-level trouble (as opposed to a bad statement): worth a 503, not a 500.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            DbError::Sql(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_))
        )
    }
}

pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, DbError> {
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await?;
    Ok(pool)
}

/// Checks that PostGIS is usable, with a message that says what to do when it is not.
/// `for_migration`: the extension may still be missing in the database, as long as the
/// server has it (the first migration creates it).
pub async fn check_postgis(pool: &PgPool, for_migration: bool) -> Result<(), DbError> {
    let enabled: Option<String> =
        sqlx::query_scalar("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
            .fetch_optional(pool)
            .await?;
    if enabled.is_some() {
        return Ok(());
    }
    let available: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis')",
    )
    .fetch_one(pool)
    .await?;
    if !available {
        let server_major: String = sqlx::query_scalar("SHOW server_version")
            .fetch_one(pool)
            .await
            .map(|v: String| v.split('.').next().unwrap_or("15").to_owned())?;
        return Err(DbError::PostgisMissing { server_major });
    }
    if for_migration {
        Ok(())
    } else {
        Err(DbError::PostgisNotEnabled)
    }
}

pub async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    check_postgis(pool, true).await?;
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Refuses to serve on a schema older than the binary.
pub async fn check_schema(pool: &PgPool) -> Result<(), DbError> {
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await
            .map_err(|_| DbError::SchemaOutdated)?;
    let missing = MIGRATOR
        .iter()
        .any(|m| !m.migration_type.is_down_migration() && !applied.contains(&m.version));
    if missing {
        return Err(DbError::SchemaOutdated);
    }
    Ok(())
}

pub async fn ping(pool: &PgPool) -> Result<(), DbError> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}
