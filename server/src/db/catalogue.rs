//! Démarches and their revisions, groups, teams and routing rules.

use guichet_shared::api::CatalogueEntry;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use super::DbError;

/// What intake needs to know about a démarche, at its current revision.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IntakeDemarche {
    pub code: String,
    pub revision: i32,
    pub title: String,
    pub title_en: String,
    pub geolocated: bool,
    pub public_incident: bool,
    pub dedup_radius_m: Option<f64>,
    pub dedup_window_days: Option<i32>,
    pub dedup_group: Option<String>,
    pub sla_days: Option<i32>,
    pub number_prefix: String,
    /// Workflow template code (`report`, `decision`, `delivery`, `answer`).
    pub workflow: String,
    /// `anonymous` (tracking code) or `account`.
    pub auth: String,
    pub channels: Vec<String>,
    /// The form definition as stored in the revision (resolved when the catalogue is loaded).
    pub form: Option<serde_json::Value>,
    /// The privacy notice as stored in the revision (resolved the same way).
    pub privacy: Option<serde_json::Value>,
}

/// Active démarches at their current revision, as the catalogue lists them.
const ENTRIES: &str = "SELECT d.code, r.title, r.title_en, d.group_code, g.title AS group_title,
        g.title_en AS group_title_en, r.geolocated,
        r.public_incident,
        r.description, r.description_en, r.keywords, r.keywords_en, r.channels, r.auth, r.revision, r.dedup_radius_m
   FROM demarches d
   JOIN demarche_revisions r
     ON r.demarche_code = d.code AND r.revision = d.current_revision
   JOIN demarche_groups g ON g.code = d.group_code
  WHERE d.active";

pub async fn list(pool: &PgPool) -> Result<Vec<CatalogueEntry>, DbError> {
    let sql = format!("{ENTRIES} ORDER BY g.position, d.position, d.code");
    let rows: Vec<CatalogueRow> = sqlx::query_as(&sql).fetch_all(pool).await?;
    Ok(rows.into_iter().map(CatalogueRow::into_entry).collect())
}

/// One active démarche's catalogue entry.
pub async fn entry(pool: &PgPool, code: &str) -> Result<Option<CatalogueEntry>, DbError> {
    let sql = format!("{ENTRIES} AND d.code = $1");
    let row: Option<CatalogueRow> = sqlx::query_as(&sql).bind(code).fetch_optional(pool).await?;
    Ok(row.map(CatalogueRow::into_entry))
}

#[derive(sqlx::FromRow)]
struct CatalogueRow {
    code: String,
    title: String,
    title_en: String,
    group_code: String,
    group_title: String,
    group_title_en: String,
    geolocated: bool,
    public_incident: bool,
    description: String,
    description_en: String,
    keywords: Vec<String>,
    keywords_en: Vec<String>,
    channels: Vec<String>,
    auth: String,
    revision: i32,
    dedup_radius_m: Option<f64>,
}

impl CatalogueRow {
    fn into_entry(self) -> CatalogueEntry {
        CatalogueEntry {
            code: self.code,
            title: self.title,
            title_en: self.title_en,
            group: self.group_title,
            group_en: self.group_title_en,
            group_code: self.group_code,
            geolocated: self.geolocated,
            public_incident: self.public_incident,
            description: self.description,
            description_en: self.description_en,
            keywords: self.keywords,
            keywords_en: self.keywords_en,
            channels: self.channels,
            auth: self.auth,
            revision: self.revision,
            dedup_radius_m: self.dedup_radius_m,
        }
    }
}

pub async fn find_for_intake(pool: &PgPool, code: &str) -> Result<Option<IntakeDemarche>, DbError> {
    Ok(sqlx::query_as(
        "SELECT d.code, r.revision, r.title, r.title_en, r.geolocated, r.public_incident,
                r.dedup_radius_m,
                r.dedup_window_days, r.dedup_group, r.sla_days, g.number_prefix,
                coalesce(r.definition->>'workflow',
                         CASE WHEN r.geolocated THEN 'report' ELSE 'answer' END) AS workflow,
                r.auth, r.channels, r.definition->'form' AS form,
                r.definition->'privacy' AS privacy
           FROM demarches d
           JOIN demarche_revisions r
             ON r.demarche_code = d.code AND r.revision = d.current_revision
           JOIN demarche_groups g ON g.code = d.group_code
          WHERE d.code = $1 AND d.active",
    )
    .bind(code)
    .fetch_optional(pool)
    .await?)
}

// ---- loading the catalogue (guichet setup) ----

/// Makes loaders wait for each other until `tx` ends: two `guichet setup` (or `demo`) started
/// together must not race on revisions.
pub async fn lock_for_loading(tx: &mut PgConnection) -> Result<(), DbError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('guichet-demo', 0))")
        .execute(tx)
        .await?;
    Ok(())
}

pub struct GroupInput<'a> {
    pub code: &'a str,
    pub title: &'a str,
    pub title_en: &'a str,
    pub number_prefix: &'a str,
    pub position: i32,
}

pub async fn upsert_group(tx: &mut PgConnection, g: &GroupInput<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO demarche_groups (code, title, title_en, number_prefix, position)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (code) DO UPDATE
            SET title = EXCLUDED.title, title_en = EXCLUDED.title_en,
                number_prefix = EXCLUDED.number_prefix, position = EXCLUDED.position",
    )
    .bind(g.code)
    .bind(g.title)
    .bind(g.title_en)
    .bind(g.number_prefix)
    .bind(g.position)
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn upsert_team(
    tx: &mut PgConnection,
    code: &str,
    name: &str,
    email: Option<&str>,
) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO teams (code, name, email) VALUES ($1, $2, $3)
         ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email
         RETURNING id",
    )
    .bind(code)
    .bind(name)
    .bind(email)
    .fetch_one(tx)
    .await?)
}

pub struct DemarcheInput<'a> {
    pub code: &'a str,
    pub group: &'a str,
    pub position: i32,
    pub title: &'a str,
    pub title_en: &'a str,
    pub description: &'a str,
    pub description_en: &'a str,
    pub keywords: &'a [String],
    pub keywords_en: &'a [String],
    pub channels: &'a [String],
    pub auth: &'a str,
    pub geolocated: bool,
    pub public_incident: bool,
    pub dedup_radius_m: Option<f64>,
    pub dedup_window_days: Option<i32>,
    pub dedup_group: Option<&'a str>,
    pub sla_days: Option<i32>,
    pub definition: &'a serde_json::Value,
}

/// Adds the démarche, or a new revision of it when its definition changed. Unchanged
/// definitions create nothing, which makes loading the catalogue idempotent.
/// Returns the revision now current.
pub async fn upsert_demarche(
    tx: &mut Transaction<'_, Postgres>,
    d: &DemarcheInput<'_>,
) -> Result<i32, DbError> {
    let current: Option<(i32, serde_json::Value)> = sqlx::query_as(
        "SELECT r.revision, r.definition
           FROM demarches d
           JOIN demarche_revisions r
             ON r.demarche_code = d.code AND r.revision = d.current_revision
          WHERE d.code = $1
          FOR UPDATE OF d",
    )
    .bind(d.code)
    .fetch_optional(&mut **tx)
    .await?;
    let revision = match &current {
        Some((rev, def)) if def == d.definition => {
            sqlx::query("UPDATE demarches SET position = $2, group_code = $3 WHERE code = $1")
                .bind(d.code)
                .bind(d.position)
                .bind(d.group)
                .execute(&mut **tx)
                .await?;
            return Ok(*rev);
        }
        Some((rev, _)) => rev + 1,
        None => 1,
    };
    sqlx::query(
        "INSERT INTO demarches (code, group_code, current_revision, position)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (code) DO UPDATE
            SET group_code = EXCLUDED.group_code, current_revision = EXCLUDED.current_revision,
                position = EXCLUDED.position",
    )
    .bind(d.code)
    .bind(d.group)
    .bind(revision)
    .bind(d.position)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO demarche_revisions
            (demarche_code, revision, title, title_en, description, keywords, channels, auth,
             geolocated, dedup_radius_m, dedup_window_days, sla_days, definition, dedup_group,
             public_incident, description_en, keywords_en)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(d.code)
    .bind(revision)
    .bind(d.title)
    .bind(d.title_en)
    .bind(d.description)
    .bind(d.keywords)
    .bind(d.channels)
    .bind(d.auth)
    .bind(d.geolocated)
    .bind(d.dedup_radius_m)
    .bind(d.dedup_window_days)
    .bind(d.sla_days)
    .bind(d.definition)
    .bind(d.dedup_group)
    .bind(d.public_incident)
    .bind(d.description_en)
    .bind(d.keywords_en)
    .execute(&mut **tx)
    .await?;
    Ok(revision)
}

/// Routes a démarche to a team in every zone (a zone-less rule).
pub async fn upsert_default_route(
    tx: &mut PgConnection,
    demarche: &str,
    team_id: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO routing_rules (demarche_code, zone_id, team_id)
         VALUES ($1, NULL, $2)
         ON CONFLICT (demarche_code, zone_id) DO UPDATE SET team_id = EXCLUDED.team_id",
    )
    .bind(demarche)
    .bind(team_id)
    .execute(tx)
    .await?;
    Ok(())
}

/// A démarche's current revision as `guichet setup` sees it: its definition and who wrote it
/// (`setup`, `admin`, or `None` when written before authors were recorded).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CurrentRevision {
    pub revision: i32,
    pub definition: serde_json::Value,
    pub written_by: Option<String>,
}

/// The current revision of a démarche, locked until `tx` ends so that an admin's edit waits.
pub async fn current_revision(
    tx: &mut PgConnection,
    code: &str,
) -> Result<Option<CurrentRevision>, DbError> {
    Ok(sqlx::query_as(
        "SELECT r.revision, r.definition, r.written_by
           FROM demarches d
           JOIN demarche_revisions r
             ON r.demarche_code = d.code AND r.revision = d.current_revision
          WHERE d.code = $1
          FOR UPDATE OF d",
    )
    .bind(code)
    .fetch_optional(tx)
    .await?)
}

/// The stored entry of a démarche's current revision, as an admin edits it (form and privacy
/// notice inline), or `None` for an unknown code.
pub async fn current_definition(
    pool: &PgPool,
    code: &str,
) -> Result<Option<serde_json::Value>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT r.definition
           FROM demarches d
           JOIN demarche_revisions r
             ON r.demarche_code = d.code AND r.revision = d.current_revision
          WHERE d.code = $1",
    )
    .bind(code)
    .fetch_optional(pool)
    .await?)
}

/// Records that `guichet setup` wrote this revision (or took over an identical one), which
/// lets a later setup update the démarche.
pub async fn mark_written_by_setup(
    tx: &mut PgConnection,
    code: &str,
    revision: i32,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE demarche_revisions SET written_by = 'setup'
          WHERE demarche_code = $1 AND revision = $2",
    )
    .bind(code)
    .bind(revision)
    .execute(tx)
    .await?;
    Ok(())
}

/// Moves a démarche in the catalogue's order.
pub async fn set_position(tx: &mut PgConnection, code: &str, position: i32) -> Result<(), DbError> {
    sqlx::query("UPDATE demarches SET position = $2 WHERE code = $1")
        .bind(code)
        .bind(position)
        .execute(tx)
        .await?;
    Ok(())
}

/// Every team's id by code.
pub async fn team_ids(
    tx: &mut PgConnection,
) -> Result<std::collections::HashMap<String, i64>, DbError> {
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT code, id FROM teams")
        .fetch_all(tx)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The form a request was filed under (its pinned revision's).
pub async fn revision_form(
    conn: &mut PgConnection,
    code: &str,
    revision: i32,
) -> Result<Option<serde_json::Value>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT definition->'form' FROM demarche_revisions
          WHERE demarche_code = $1 AND revision = $2",
    )
    .bind(code)
    .bind(revision)
    .fetch_optional(conn)
    .await?
    .flatten())
}

/// Where an admin's edit goes: the démarche's position (or the end of the list), and
/// whether its group and team exist.
pub struct EditTarget {
    pub position: i32,
    pub current_revision: Option<i32>,
    pub group_exists: bool,
    pub team_id: Option<i64>,
}

pub async fn edit_target(
    conn: &mut PgConnection,
    code: &str,
    group: &str,
    team: &str,
) -> Result<EditTarget, DbError> {
    let (position, current_revision, group_exists, team_id): (i32, Option<i32>, bool, Option<i64>) =
        sqlx::query_as(
            "SELECT coalesce((SELECT position FROM demarches WHERE code = $1),
                             (SELECT coalesce(max(position), -1) + 1 FROM demarches)),
                    (SELECT current_revision FROM demarches WHERE code = $1),
                    EXISTS (SELECT 1 FROM demarche_groups WHERE code = $2),
                    (SELECT id FROM teams WHERE code = $3)",
        )
        .bind(code)
        .bind(group)
        .bind(team)
        .fetch_one(conn)
        .await?;
    Ok(EditTarget {
        position,
        current_revision,
        group_exists,
        team_id,
    })
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct RevisionRow {
    pub revision: i32,
    pub title: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    /// Requests filed under this revision.
    pub requests: i64,
}

pub async fn revisions(pool: &PgPool, code: &str) -> Result<Vec<RevisionRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT r.revision, r.title, r.created_at,
                (SELECT count(*) FROM requests q
                  WHERE q.demarche_code = r.demarche_code
                    AND q.demarche_revision = r.revision) AS requests
           FROM demarche_revisions r
          WHERE r.demarche_code = $1
          ORDER BY r.revision",
    )
    .bind(code)
    .fetch_all(pool)
    .await?)
}
