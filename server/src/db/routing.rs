//! Routing rules (démarche × zone → team), as admins manage them.

use sqlx::{PgConnection, PgPool};

use super::DbError;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct RuleRow {
    pub id: i64,
    pub demarche: Option<String>,
    pub zone: Option<String>,
    pub team: String,
    pub priority: i32,
}

pub async fn list(pool: &PgPool) -> Result<Vec<RuleRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.demarche_code AS demarche, z.code AS zone, t.code AS team, r.priority
           FROM routing_rules r
           JOIN teams t ON t.id = r.team_id
           LEFT JOIN zones z ON z.id = r.zone_id
          ORDER BY r.priority, r.demarche_code NULLS LAST, z.code NULLS LAST",
    )
    .fetch_all(pool)
    .await?)
}

/// What a new rule refers to, each `None` when the code is unknown.
pub struct Resolved {
    pub demarche_ok: bool,
    pub zone_id: Option<i64>,
    pub team_id: Option<i64>,
}

pub async fn resolve(
    pool: &PgPool,
    demarche: Option<&str>,
    zone: Option<&str>,
    team: &str,
) -> Result<Resolved, DbError> {
    let (demarche_ok, zone_id, team_id): (bool, Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT ($1::text IS NULL OR EXISTS (SELECT 1 FROM demarches WHERE code = $1)),
                (SELECT id FROM zones WHERE code = $2),
                (SELECT id FROM teams WHERE code = $3)",
    )
    .bind(demarche)
    .bind(zone)
    .bind(team)
    .fetch_one(pool)
    .await?;
    Ok(Resolved {
        demarche_ok,
        zone_id,
        team_id,
    })
}

/// Adds a rule, or replaces the team and priority of the rule for the same démarche × zone.
pub async fn upsert(
    pool: &PgPool,
    demarche: Option<&str>,
    zone_id: Option<i64>,
    team_id: i64,
    priority: i32,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO routing_rules (demarche_code, zone_id, team_id, priority)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (demarche_code, zone_id)
            DO UPDATE SET team_id = EXCLUDED.team_id, priority = EXCLUDED.priority
         RETURNING id",
    )
    .bind(demarche)
    .bind(zone_id)
    .bind(team_id)
    .bind(priority)
    .fetch_one(pool)
    .await?)
}

pub async fn delete(pool: &PgPool, id: i64) -> Result<bool, DbError> {
    Ok(sqlx::query("DELETE FROM routing_rules WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected()
        == 1)
}

/// The team of the first routing rule matching démarche × zone (specific rules first).
pub async fn team_for(
    tx: &mut PgConnection,
    demarche: &str,
    zone_id: Option<i64>,
) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT team_id FROM routing_rules
          WHERE (demarche_code = $1 OR demarche_code IS NULL)
            AND (zone_id = $2 OR zone_id IS NULL)
          ORDER BY priority, demarche_code IS NULL, zone_id IS NULL
          LIMIT 1",
    )
    .bind(demarche)
    .bind(zone_id)
    .fetch_optional(tx)
    .await?)
}
