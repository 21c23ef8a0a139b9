//! Teams and the reply templates their supervisors keep.

use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::DbError;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TeamRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub email: Option<String>,
    pub members: i64,
    pub open_requests: i64,
}

pub async fn list(pool: &PgPool) -> Result<Vec<TeamRow>, DbError> {
    Ok(sqlx::query_as(concat!(
        "SELECT t.id, t.code, t.name, t.email,
                (SELECT count(*) FROM agent_teams at WHERE at.team_id = t.id) AS members,
                (SELECT count(*) FROM requests r WHERE r.team_id = t.id AND r.phase IN ",
        open_phases!(),
        ") AS open_requests
           FROM teams t ORDER BY t.code"
    ))
    .fetch_all(pool)
    .await?)
}

/// Creates the team, or renames it when its code exists. Returns its id and whether it is new.
pub async fn upsert(
    pool: &PgPool,
    code: &str,
    name: &str,
    email: Option<&str>,
) -> Result<(i64, bool), DbError> {
    Ok(sqlx::query_as(
        "INSERT INTO teams (code, name, email) VALUES ($1, $2, $3)
         ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email
         RETURNING id, (xmax = 0) AS created",
    )
    .bind(code)
    .bind(name)
    .bind(email)
    .fetch_one(pool)
    .await?)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ReplyTemplate {
    pub id: i64,
    pub demarche: Option<String>,
    pub title: String,
    pub body: String,
    pub lang: String,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

const TEMPLATE: &str =
    "SELECT id, demarche_code AS demarche, title, body, lang, updated_at FROM reply_templates";

/// The templates of a démarche and those for any (`demarche: None`: every template).
pub async fn templates(
    pool: &PgPool,
    demarche: Option<&str>,
) -> Result<Vec<ReplyTemplate>, DbError> {
    Ok(sqlx::query_as(&format!(
        "{TEMPLATE} WHERE $1::text IS NULL OR demarche_code IS NULL OR demarche_code = $1
          ORDER BY demarche_code NULLS LAST, title"
    ))
    .bind(demarche)
    .fetch_all(pool)
    .await?)
}

pub struct TemplateInput<'a> {
    pub demarche: Option<&'a str>,
    pub title: &'a str,
    pub body: &'a str,
    pub lang: &'a str,
    pub agent_id: i64,
}

pub async fn create_template(
    pool: &PgPool,
    t: &TemplateInput<'_>,
) -> Result<ReplyTemplate, DbError> {
    Ok(sqlx::query_as(
        "INSERT INTO reply_templates (demarche_code, title, body, lang, updated_by)
         VALUES ($1, $2, $3, $4, $5)
         RETURNING id, demarche_code AS demarche, title, body, lang, updated_at",
    )
    .bind(t.demarche)
    .bind(t.title)
    .bind(t.body)
    .bind(t.lang)
    .bind(t.agent_id)
    .fetch_one(pool)
    .await?)
}

pub async fn update_template(
    pool: &PgPool,
    id: i64,
    t: &TemplateInput<'_>,
) -> Result<Option<ReplyTemplate>, DbError> {
    Ok(sqlx::query_as(
        "UPDATE reply_templates
            SET demarche_code = $2, title = $3, body = $4, lang = $5, updated_by = $6,
                updated_at = now()
          WHERE id = $1
         RETURNING id, demarche_code AS demarche, title, body, lang, updated_at",
    )
    .bind(id)
    .bind(t.demarche)
    .bind(t.title)
    .bind(t.body)
    .bind(t.lang)
    .bind(t.agent_id)
    .fetch_optional(pool)
    .await?)
}

pub async fn delete_template(pool: &PgPool, id: i64) -> Result<bool, DbError> {
    Ok(sqlx::query("DELETE FROM reply_templates WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected()
        > 0)
}

pub async fn demarche_exists(pool: &PgPool, code: &str) -> Result<bool, DbError> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM demarches WHERE code = $1)")
            .bind(code)
            .fetch_one(pool)
            .await?,
    )
}

/// A team as every agent may see it, with its members' names (for assignment).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TeamMember {
    pub team_id: i64,
    pub team_code: String,
    pub team_name: String,
    pub agent_id: Option<i64>,
    pub agent_name: Option<String>,
    pub agent_role: Option<String>,
}

/// Every team, each with its active members (one row per member; a team without members has
/// one row without agent).
pub async fn with_members(pool: &PgPool) -> Result<Vec<TeamMember>, DbError> {
    Ok(sqlx::query_as(
        "SELECT t.id AS team_id, t.code AS team_code, t.name AS team_name,
                a.id AS agent_id, a.name AS agent_name, a.role AS agent_role
           FROM teams t
           LEFT JOIN agent_teams at ON at.team_id = t.id
           LEFT JOIN agents a ON a.id = at.agent_id AND a.active
          ORDER BY t.code, a.name",
    )
    .fetch_all(pool)
    .await?)
}
