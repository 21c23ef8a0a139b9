//! Every SQL statement of the service lives in this module tree, one file per subject.
//! Handlers and the CLI call these functions; they never build SQL themselves.
// The one place that runs SQL: server/clippy.toml forbids it everywhere else.
#![allow(clippy::disallowed_methods)]

/// What "open" means, in SQL: the phases of `Phase::is_open`, written out as a literal so
/// that the planner matches the partial indexes declared with the same list. Use it with
/// `concat!` (`"… phase IN ", open_phases!(), " …"`); a test checks it against `Phase`.
macro_rules! open_phases {
    () => {
        "('received', 'in_progress', 'waiting_for_citizen')"
    };
}

/// The phases in which the SLA clock runs (open, not waiting for the citizen).
macro_rules! sla_running_phases {
    () => {
        "('received', 'in_progress')"
    };
}

/// Overdue, on `requests r`: past its due date while the SLA clock runs.
macro_rules! overdue {
    () => {
        concat!(
            "r.due_at IS NOT NULL AND r.due_at < now() AND r.sla_paused_at IS NULL AND r.phase IN ",
            sla_running_phases!()
        )
    };
}

/// A stored receipt (`receipt`, a JSON column) without its clear tracking code: the code
/// blanked (in the acknowledgement's words too), and the status URL without the query that
/// carried it. For `SET receipt = …`.
macro_rules! receipt_without_code {
    () => {
        "CASE WHEN receipt ? 'tracking_code' THEN receipt || jsonb_build_object(
             'tracking_code', '', 'status_url', split_part(receipt->>'status_url', '?', 1))
             || CASE WHEN jsonb_typeof(receipt->'acknowledgement') = 'object'
                     THEN jsonb_build_object('acknowledgement', jsonb_set(
                          receipt->'acknowledgement', '{code_explained}',
                          coalesce(to_jsonb(replace(receipt#>>'{acknowledgement,code_explained}',
                                                    receipt->>'tracking_code', '••••-••••-••••')),
                                   'null'::jsonb)))
                     ELSE '{}'::jsonb END
         ELSE receipt END"
    };
}

pub mod accounts;
pub mod action_keys;
pub mod addresses;
pub mod agent_map;
pub mod audit;
pub mod backups;
pub mod catalogue;
pub mod codes;
pub mod dedup;
pub mod delays;
pub mod digest;
pub mod event_photos;
pub mod events;
pub mod files;
pub mod incidents;
pub mod live;
pub mod notify;
pub mod open311;
pub mod outbox;
pub mod queue;
pub mod receipts;
pub mod reports;
pub mod requests;
pub mod retention;
pub mod round;
pub mod routing;
pub mod search;
pub mod stats;
pub mod teams;
pub mod wallet;
pub mod webhooks;
pub mod workflow;
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
        // When the database is down, a caller learns it (a 503 with Retry-After) within this,
        // rather than waiting; a busy pool rarely keeps anyone this long.
        .acquire_timeout(Duration::from_secs(3))
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

/// The last migration applied.
pub async fn schema_version(pool: &PgPool) -> Result<i64, DbError> {
    Ok(
        sqlx::query_scalar("SELECT coalesce(max(version), 0) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await?,
    )
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

#[cfg(test)]
mod tests {
    use guichet_shared::phase::Phase;

    fn listed(sql: &str) -> Vec<String> {
        sql.trim_matches(['(', ')'])
            .split(',')
            .map(|p| p.trim().trim_matches('\'').to_owned())
            .collect()
    }

    #[test]
    fn the_sql_phase_lists_are_the_rust_ones() {
        let open: Vec<String> = Phase::ALL
            .into_iter()
            .filter(|p| p.is_open())
            .map(|p| p.as_str().to_owned())
            .collect();
        assert_eq!(listed(open_phases!()), open);
        let running: Vec<String> = open
            .into_iter()
            .filter(|p| p != Phase::WaitingForCitizen.as_str())
            .collect();
        assert_eq!(listed(sla_running_phases!()), running);
    }
}
