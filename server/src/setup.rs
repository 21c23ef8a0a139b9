//! `guichet setup` and `guichet import-zones`: what a deployment needs before it opens (the
//! démarche catalogue, the teams, the zones), loaded idempotently and without any account.
//!
//! Setup adds what is missing and never overwrites an admin's work: it updates a démarche only
//! while the démarche's current revision is one that setup wrote itself. A démarche edited
//! through the admin API keeps its edit, whatever the catalogue file says.
//!
//! The shipped files are embedded in the binary, so the command works anywhere; a deployment
//! gives its own teams (the shipped ones are examples) and, if it wants, its own catalogue and
//! zones.

use serde::Deserialize;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::db::{self, DbError};

pub const CATALOGUE_JSON: &str = include_str!("../../assets/catalogue.json");
pub const TEAMS_JSON: &str = include_str!("../../assets/demo-teams.json");
pub const COMMUNES_GEOJSON: &str = include_str!("../../assets/rennes-metropole-communes.geojson");

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("invalid {what}: {source}")]
    Parse {
        what: String,
        source: serde_json::Error,
    },
    #[error("{0}")]
    Inconsistent(String),
    #[error(transparent)]
    Addresses(#[from] crate::addresses::ImportError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for SetupError {
    fn from(e: sqlx::Error) -> Self {
        SetupError::Db(DbError::Sql(e))
    }
}

/// One input file: where it comes from (for messages) and its text.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub origin: &'a str,
    pub text: &'a str,
}

/// What setup loads.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    pub catalogue: Input<'a>,
    pub teams: Input<'a>,
    pub zones: Input<'a>,
}

impl Sources<'static> {
    /// The files shipped in `assets/`.
    pub fn shipped() -> Self {
        Sources {
            catalogue: Input {
                origin: "assets/catalogue.json",
                text: CATALOGUE_JSON,
            },
            teams: Input {
                origin: "assets/demo-teams.json",
                text: TEAMS_JSON,
            },
            zones: Input {
                origin: "assets/rennes-metropole-communes.geojson",
                text: COMMUNES_GEOJSON,
            },
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SetupSummary {
    pub groups: usize,
    pub teams: usize,
    pub zones: usize,
    /// Démarches that were not in the database.
    pub added: usize,
    /// Démarches given a new revision because their entry in the file changed.
    pub updated: usize,
    /// Démarches already as the file has them.
    pub unchanged: usize,
    /// Démarches that differ from the file but that setup did not write: left as they are.
    pub kept: Vec<String>,
}

impl SetupSummary {
    pub fn demarches(&self) -> usize {
        self.added + self.updated + self.unchanged + self.kept.len()
    }
}

#[derive(Deserialize)]
struct CatalogueFile {
    groups: Vec<Group>,
    demarches: Vec<serde_json::Value>,
    /// Shared form definitions that démarches name instead of repeating them.
    #[serde(default)]
    forms: serde_json::Map<String, serde_json::Value>,
    /// The privacy notice of every démarche, whose keys a démarche's own may replace.
    #[serde(default)]
    privacy: serde_json::Map<String, serde_json::Value>,
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

/// Loads the sources in one transaction.
pub async fn run(pool: &PgPool, sources: &Sources<'_>) -> Result<SetupSummary, SetupError> {
    let mut tx = pool.begin().await?;
    let summary = load(&mut tx, sources).await?;
    tx.commit().await?;
    Ok(summary)
}

/// Loads the sources within `tx` (which `guichet demo` goes on using for its accounts).
pub async fn load(
    tx: &mut Transaction<'_, Postgres>,
    sources: &Sources<'_>,
) -> Result<SetupSummary, SetupError> {
    // Read everything before writing anything: a typo fails fast and changes nothing.
    let catalogue: CatalogueFile = parse(sources.catalogue, "catalogue")?;
    let teams: TeamsFile = parse(sources.teams, "teams file")?;
    let mut summary = SetupSummary::default();

    db::catalogue::lock_for_loading(tx).await?;
    for team in &teams.teams {
        db::catalogue::upsert_team(tx, &team.code, &team.name, team.email.as_deref()).await?;
        summary.teams += 1;
    }
    for (position, g) in catalogue.groups.iter().enumerate() {
        db::catalogue::upsert_group(
            tx,
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
    // Teams set up earlier count too: a deployment may split its teams over several files.
    let team_ids = db::catalogue::team_ids(tx).await?;
    for (position, definition) in catalogue.demarches.iter().enumerate() {
        let origin = sources.catalogue.origin;
        let (entry, definition) = crate::catalogue::prepare(
            &catalogue.forms,
            &catalogue.privacy,
            definition,
        )
        .map_err(|errors| {
            let code = definition
                .get("code")
                .and_then(|c| c.as_str())
                .unwrap_or("?");
            let text: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            SetupError::Inconsistent(format!("{origin}: démarche {code}: {}", text.join("; ")))
        })?;
        let position = position as i32;
        let current = db::catalogue::current_revision(tx, &entry.code).await?;
        let by_setup = current
            .as_ref()
            .is_some_and(|c| c.written_by.as_deref() == Some("setup"));
        match current {
            Some(c) if c.definition == definition => {
                // An admin's revision stays the admin's even when it matches the file; one
                // written before authors were recorded is the file's and becomes setup's.
                if c.written_by.as_deref() != Some("admin") {
                    db::catalogue::mark_written_by_setup(tx, &entry.code, c.revision).await?;
                    db::catalogue::set_position(tx, &entry.code, position).await?;
                }
                summary.unchanged += 1;
            }
            Some(c) if !by_setup => {
                tracing::info!(
                    demarche = %entry.code,
                    revision = c.revision,
                    written_by = c.written_by.as_deref().unwrap_or("unknown"),
                    "démarche left as it is: setup did not write its current revision"
                );
                summary.kept.push(entry.code.clone());
            }
            current => {
                let team_id = *team_ids.get(&entry.team).ok_or_else(|| {
                    SetupError::Inconsistent(format!(
                        "{origin}: démarche {} names team {:?}, which is neither in {} nor in \
                         the database",
                        entry.code, entry.team, sources.teams.origin
                    ))
                })?;
                let revision =
                    crate::catalogue::store(tx, &entry, &definition, position, team_id).await?;
                db::catalogue::mark_written_by_setup(tx, &entry.code, revision).await?;
                if current.is_some() {
                    summary.updated += 1;
                } else {
                    summary.added += 1;
                }
            }
        }
    }
    summary.zones = import_communes(tx, sources.zones).await?;
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
pub async fn import_communes(tx: &mut PgConnection, input: Input<'_>) -> Result<usize, SetupError> {
    let collection: FeatureCollection = parse(input, "GeoJSON FeatureCollection")?;
    let origin = input.origin;
    let mut n = 0;
    for (i, f) in collection.features.iter().enumerate() {
        let text = |k: &str| f.properties.get(k).and_then(|v| v.as_str());
        let code = text("insee").or_else(|| text("code")).ok_or_else(|| {
            SetupError::Inconsistent(format!("{origin}: feature {i} has no `insee` or `code`"))
        })?;
        let name = text("name").or_else(|| text("nom")).ok_or_else(|| {
            SetupError::Inconsistent(format!("{origin}: feature {i} has no `name`"))
        })?;
        let kind = f
            .geometry
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or("");
        if kind != "Polygon" && kind != "MultiPolygon" {
            return Err(SetupError::Inconsistent(format!(
                "{origin}: feature {i} ({name}) is a {kind:?}, not a Polygon or MultiPolygon"
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

pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    input: Input<'_>,
    what: &str,
) -> Result<T, SetupError> {
    serde_json::from_str(input.text).map_err(|source| SetupError::Parse {
        what: format!("{what} ({})", input.origin),
        source,
    })
}
