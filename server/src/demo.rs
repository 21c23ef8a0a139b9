//! `guichet demo` and `guichet import-zones`: the catalogue, the communes as zones and the
//! demo teams, loaded idempotently (running it twice changes nothing).
//!
//! The data ships in `assets/` and is embedded in the binary, so the command works anywhere.

use serde::Deserialize;
use sqlx::PgPool;

use crate::db::{self, DbError};

pub const CATALOGUE_JSON: &str = include_str!("../../assets/catalogue.json");
pub const TEAMS_JSON: &str = include_str!("../../assets/demo-teams.json");
pub const AGENTS_JSON: &str = include_str!("../../assets/demo-agents.json");
pub const COMMUNES_GEOJSON: &str = include_str!("../../assets/rennes-metropole-communes.geojson");

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("invalid {what}: {source}")]
    Parse {
        what: &'static str,
        source: serde_json::Error,
    },
    #[error("{0}")]
    Inconsistent(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for DemoError {
    fn from(e: sqlx::Error) -> Self {
        DemoError::Db(DbError::Sql(e))
    }
}

#[derive(Deserialize)]
struct CatalogueFile {
    groups: Vec<Group>,
    demarches: Vec<serde_json::Value>,
    /// Shared form definitions that démarches name instead of repeating them.
    #[serde(default)]
    forms: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct Group {
    code: String,
    title: String,
    title_en: String,
    number_prefix: String,
}

#[derive(Deserialize)]
struct TeamsFile {
    teams: Vec<Team>,
}

#[derive(Deserialize)]
struct Team {
    code: String,
    name: String,
    email: Option<String>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct DemoSummary {
    pub groups: usize,
    pub demarches: usize,
    pub teams: usize,
    pub zones: usize,
    pub agents: usize,
}

#[derive(Deserialize)]
struct AgentsFile {
    /// One password for every demo account; a real deployment creates its own agents.
    password: String,
    agents: Vec<DemoAgent>,
}

#[derive(Deserialize)]
struct DemoAgent {
    email: String,
    name: String,
    role: String,
    teams: Vec<String>,
}

pub async fn load(pool: &PgPool) -> Result<DemoSummary, DemoError> {
    let catalogue: CatalogueFile = parse("assets/catalogue.json", CATALOGUE_JSON)?;
    let teams: TeamsFile = parse("assets/demo-teams.json", TEAMS_JSON)?;
    let agents: AgentsFile = parse("assets/demo-agents.json", AGENTS_JSON)?;
    // Hashing is slow on purpose; do it before taking the lock.
    let password_hash = crate::auth::hash_password(&agents.password)
        .map_err(|e| DemoError::Inconsistent(e.to_string()))?;
    let mut summary = DemoSummary::default();

    let mut tx = pool.begin().await?;
    // One loader at a time: two `guichet demo` started together must not race on revisions.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('guichet-demo', 0))")
        .execute(&mut *tx)
        .await?;
    let mut team_ids = std::collections::HashMap::new();
    for team in &teams.teams {
        let id = db::catalogue::upsert_team(&mut tx, &team.code, &team.name, team.email.as_deref())
            .await?;
        team_ids.insert(team.code.clone(), id);
        summary.teams += 1;
    }
    for (position, g) in catalogue.groups.iter().enumerate() {
        db::catalogue::upsert_group(
            &mut tx,
            &db::catalogue::GroupInput {
                code: &g.code,
                title: &g.title,
                title_en: &g.title_en,
                number_prefix: &g.number_prefix,
                position: position as i32,
            },
        )
        .await?;
        summary.groups += 1;
    }
    for (position, definition) in catalogue.demarches.iter().enumerate() {
        let (entry, definition) =
            crate::catalogue::prepare(&catalogue.forms, definition).map_err(|errors| {
                let code = definition
                    .get("code")
                    .and_then(|c| c.as_str())
                    .unwrap_or("?");
                let text: Vec<String> = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect();
                DemoError::Inconsistent(format!("démarche {code}: {}", text.join("; ")))
            })?;
        let team_id = *team_ids.get(&entry.team).ok_or_else(|| {
            DemoError::Inconsistent(format!(
                "démarche {} names unknown team {}",
                entry.code, entry.team
            ))
        })?;
        crate::catalogue::store(&mut tx, &entry, &definition, position as i32, team_id).await?;
        summary.demarches += 1;
    }
    summary.zones = import_communes(&mut tx, COMMUNES_GEOJSON).await?;
    for a in &agents.agents {
        db::accounts::upsert_agent(
            &mut tx,
            &db::accounts::NewAgent {
                email: &a.email,
                name: &a.name,
                role: &a.role,
                password_hash: &password_hash,
                team_codes: &a.teams,
            },
        )
        .await?;
        summary.agents += 1;
    }
    tx.commit().await?;
    Ok(summary)
}

#[derive(Deserialize)]
struct FeatureCollection {
    features: Vec<Feature>,
}

#[derive(Deserialize)]
struct Feature {
    properties: serde_json::Map<String, serde_json::Value>,
    geometry: serde_json::Value,
}

/// Imports a GeoJSON FeatureCollection of polygons as zones of kind `commune`. Each feature
/// needs a code (`insee` or `code`) and a `name`; `population` and `town_hall` ([lon, lat])
/// are optional.
pub async fn import_communes(
    tx: &mut sqlx::PgConnection,
    geojson: &str,
) -> Result<usize, DemoError> {
    let collection: FeatureCollection = parse("GeoJSON FeatureCollection", geojson)?;
    let mut n = 0;
    for (i, f) in collection.features.iter().enumerate() {
        let text = |k: &str| f.properties.get(k).and_then(|v| v.as_str());
        let code = text("insee").or_else(|| text("code")).ok_or_else(|| {
            DemoError::Inconsistent(format!("feature {i} has no `insee` or `code`"))
        })?;
        let name = text("name")
            .or_else(|| text("nom"))
            .ok_or_else(|| DemoError::Inconsistent(format!("feature {i} has no `name`")))?;
        let kind = f
            .geometry
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or("");
        if kind != "Polygon" && kind != "MultiPolygon" {
            return Err(DemoError::Inconsistent(format!(
                "feature {i} ({name}) is a {kind:?}, not a Polygon or MultiPolygon"
            )));
        }
        let town_hall = f
            .properties
            .get("town_hall")
            .and_then(|v| serde_json::from_value::<[f64; 2]>(v.clone()).ok());
        db::zones::upsert(
            tx,
            &db::zones::ZoneInput {
                code: &format!("commune:{code}"),
                kind: "commune",
                name,
                population: f
                    .properties
                    .get("population")
                    .and_then(|p| p.as_i64())
                    .and_then(|p| i32::try_from(p).ok()),
                town_hall,
                geometry_geojson: &f.geometry.to_string(),
            },
        )
        .await?;
        n += 1;
    }
    Ok(n)
}

fn parse<T: serde::de::DeserializeOwned>(what: &'static str, text: &str) -> Result<T, DemoError> {
    serde_json::from_str(text).map_err(|source| DemoError::Parse { what, source })
}
