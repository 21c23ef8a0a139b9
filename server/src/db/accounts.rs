//! Agents, citizens, their sessions and e-mail verifications.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use super::DbError;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgentRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub active: bool,
    pub team_ids: Vec<i64>,
}

const AGENT_COLUMNS: &str = "a.id, a.email, a.name, a.role, a.password_hash, a.active, \
     COALESCE(ARRAY(SELECT team_id FROM agent_teams t WHERE t.agent_id = a.id ORDER BY team_id), \
     '{}') AS team_ids";

pub async fn agent_by_email(pool: &PgPool, email: &str) -> Result<Option<AgentRow>, DbError> {
    let sql = format!("SELECT {AGENT_COLUMNS} FROM agents a WHERE a.email = lower($1)");
    Ok(sqlx::query_as(&sql)
        .bind(email)
        .fetch_optional(pool)
        .await?)
}

pub async fn agent_by_id(pool: &PgPool, id: i64) -> Result<Option<AgentRow>, DbError> {
    let sql = format!("SELECT {AGENT_COLUMNS} FROM agents a WHERE a.id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?)
}

/// The agent holding a live session token (by its digest).
pub async fn agent_by_session(pool: &PgPool, digest: &[u8]) -> Result<Option<AgentRow>, DbError> {
    let sql = format!(
        "SELECT {AGENT_COLUMNS} FROM sessions s JOIN agents a ON a.id = s.agent_id \
         WHERE s.token_sha256 = $1 AND s.expires_at > now() AND a.active"
    );
    Ok(sqlx::query_as(&sql)
        .bind(digest)
        .fetch_optional(pool)
        .await?)
}

pub struct NewAgent<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub password_hash: &'a str,
    pub team_codes: &'a [String],
}

/// Creates or updates an agent by e-mail and sets its team memberships to exactly those given.
pub async fn upsert_agent(tx: &mut PgConnection, a: &NewAgent<'_>) -> Result<i64, DbError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO agents (email, name, role, password_hash) VALUES (lower($1), $2, $3, $4) \
         ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role, \
         password_hash = EXCLUDED.password_hash \
         RETURNING id",
    )
    .bind(a.email)
    .bind(a.name)
    .bind(a.role)
    .bind(a.password_hash)
    .fetch_one(&mut *tx)
    .await?;
    set_teams(tx, id, a).await?;
    Ok(id)
}

/// Creates the agent unless one has this e-mail already, which is left as it is (its
/// password above all). Returns the new agent's id.
pub async fn insert_agent_if_missing(
    tx: &mut PgConnection,
    a: &NewAgent<'_>,
) -> Result<Option<i64>, DbError> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO agents (email, name, role, password_hash) VALUES (lower($1), $2, $3, $4) \
         ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(a.email)
    .bind(a.name)
    .bind(a.role)
    .bind(a.password_hash)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = id {
        set_teams(tx, id, a).await?;
    }
    Ok(id)
}

async fn set_teams(tx: &mut PgConnection, id: i64, a: &NewAgent<'_>) -> Result<(), DbError> {
    sqlx::query("DELETE FROM agent_teams WHERE agent_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO agent_teams (agent_id, team_id) \
         SELECT $1, id FROM teams WHERE code = ANY($2)",
    )
    .bind(id)
    .bind(a.team_codes)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() as usize != a.team_codes.len() {
        return Err(DbError::Data(format!(
            "agent {}: unknown team among {:?}",
            a.email, a.team_codes
        )));
    }
    Ok(())
}

/// The e-mail and password hash of the active agents among `emails`.
pub async fn active_password_hashes(
    pool: &PgPool,
    emails: &[String],
) -> Result<Vec<(String, String)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT email, password_hash FROM agents WHERE active AND email = ANY($1) ORDER BY email",
    )
    .bind(emails)
    .fetch_all(pool)
    .await?)
}

pub async fn create_agent_session(
    pool: &PgPool,
    agent_id: i64,
    digest: &[u8],
    expires_at: OffsetDateTime,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO sessions (token_sha256, agent_id, expires_at) VALUES ($1, $2, $3)")
        .bind(digest)
        .bind(agent_id)
        .bind(expires_at)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn create_citizen_session(
    pool: &PgPool,
    citizen_id: i64,
    digest: &[u8],
    expires_at: OffsetDateTime,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO sessions (token_sha256, citizen_id, expires_at) VALUES ($1, $2, $3)")
        .bind(digest)
        .bind(citizen_id)
        .bind(expires_at)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn delete_session(pool: &PgPool, digest: &[u8]) -> Result<(), DbError> {
    sqlx::query("DELETE FROM sessions WHERE token_sha256 = $1")
        .bind(digest)
        .execute(pool)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CitizenRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub lang: String,
    pub password_hash: String,
    pub email_verified_at: Option<OffsetDateTime>,
}

const CITIZEN_COLUMNS: &str = "c.id, c.email, c.name, c.lang, c.password_hash, c.email_verified_at";

pub async fn citizen_by_email(pool: &PgPool, email: &str) -> Result<Option<CitizenRow>, DbError> {
    let sql = format!("SELECT {CITIZEN_COLUMNS} FROM citizens c WHERE c.email = lower($1)");
    Ok(sqlx::query_as(&sql)
        .bind(email)
        .fetch_optional(pool)
        .await?)
}

pub async fn citizen_by_session(
    pool: &PgPool,
    digest: &[u8],
) -> Result<Option<CitizenRow>, DbError> {
    let sql = format!(
        "SELECT {CITIZEN_COLUMNS} FROM sessions s JOIN citizens c ON c.id = s.citizen_id \
         WHERE s.token_sha256 = $1 AND s.expires_at > now()"
    );
    Ok(sqlx::query_as(&sql)
        .bind(digest)
        .fetch_optional(pool)
        .await?)
}

/// Inserts a citizen; `None` when the e-mail already has an account.
pub async fn insert_citizen(
    tx: &mut PgConnection,
    email: &str,
    name: &str,
    lang: &str,
    password_hash: &str,
) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO citizens (email, name, lang, password_hash) VALUES (lower($1), $2, $3, $4) \
         ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(email)
    .bind(name)
    .bind(lang)
    .bind(password_hash)
    .fetch_optional(&mut *tx)
    .await?)
}

pub async fn insert_verification(
    tx: &mut PgConnection,
    citizen_id: i64,
    digest: &[u8],
    expires_at: OffsetDateTime,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO email_verifications (token_sha256, citizen_id, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(digest)
    .bind(citizen_id)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Uses a verification token once; returns the citizen it verified.
pub async fn use_verification(pool: &PgPool, digest: &[u8]) -> Result<Option<i64>, DbError> {
    let mut tx = pool.begin().await?;
    let citizen: Option<i64> = sqlx::query_scalar(
        "UPDATE email_verifications SET used_at = now() \
         WHERE token_sha256 = $1 AND used_at IS NULL AND expires_at > now() \
         RETURNING citizen_id",
    )
    .bind(digest)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = citizen {
        sqlx::query(
            "UPDATE citizens SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(citizen)
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AgentSummary {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub active: bool,
    pub teams: Vec<String>,
}

pub async fn list_agents(pool: &PgPool) -> Result<Vec<AgentSummary>, DbError> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.email, a.name, a.role, a.active,
                COALESCE(ARRAY(SELECT t.code FROM agent_teams x JOIN teams t ON t.id = x.team_id
                                WHERE x.agent_id = a.id ORDER BY t.code), '{}') AS teams
           FROM agents a ORDER BY a.email",
    )
    .fetch_all(pool)
    .await?)
}
