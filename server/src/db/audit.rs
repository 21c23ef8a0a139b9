//! The audit trail (table `audit_log`, append-only): one row per traced call or event.

use std::net::IpAddr;

use sqlx::PgPool;
use time::OffsetDateTime;

use super::DbError;

/// A trace about to be written.
#[derive(Debug, Clone)]
pub struct NewTrace<'a> {
    pub kind: &'a str,
    pub agent_id: Option<i64>,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub detail: Option<&'a str>,
    pub status: Option<i16>,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<&'a str>,
}

pub async fn insert(pool: &PgPool, t: &NewTrace<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO audit_log (kind, agent_id, actor, action, target, detail, status, ip, user_agent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::inet, $9)",
    )
    .bind(t.kind)
    .bind(t.agent_id)
    .bind(t.actor)
    .bind(t.action)
    .bind(t.target)
    .bind(t.detail)
    .bind(t.status)
    .bind(t.ip.map(|ip| ip.to_string()))
    .bind(t.user_agent)
    .execute(pool)
    .await?;
    Ok(())
}

/// A trace as admins read it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Trace {
    pub id: i64,
    pub at: OffsetDateTime,
    pub kind: String,
    pub agent_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
    pub status: Option<i16>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Which traces to read: every filter is optional; newest first, before the trace `before`.
#[derive(Debug, Clone, Default)]
pub struct TraceFilter {
    pub kind: Option<String>,
    pub agent_id: Option<i64>,
    pub target: Option<String>,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
    pub before: Option<i64>,
    pub limit: i64,
}

pub async fn list(pool: &PgPool, f: &TraceFilter) -> Result<Vec<Trace>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, at, kind, agent_id, actor, action, target, detail, status,
                host(ip) AS ip, user_agent
           FROM audit_log
          WHERE ($1::text IS NULL OR kind = $1)
            AND ($2::bigint IS NULL OR agent_id = $2)
            AND ($3::text IS NULL OR target = $3)
            AND ($4::timestamptz IS NULL OR at >= $4)
            AND ($5::timestamptz IS NULL OR at < $5)
            AND ($6::bigint IS NULL OR id < $6)
          ORDER BY id DESC
          LIMIT $7",
    )
    .bind(&f.kind)
    .bind(f.agent_id)
    .bind(&f.target)
    .bind(f.from)
    .bind(f.to)
    .bind(f.before)
    .bind(f.limit)
    .fetch_all(pool)
    .await?)
}

/// Removes the traces older than `days`: the one delete the table's trigger lets through.
pub async fn purge(pool: &PgPool, days: i32) -> Result<u64, DbError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT set_config('guichet.audit_purge', 'on', true)")
        .execute(&mut *tx)
        .await?;
    let gone = sqlx::query("DELETE FROM audit_log WHERE at < now() - make_interval(days => $1)")
        .bind(days)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(gone)
}
