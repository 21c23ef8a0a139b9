//! Creating or updating an agent account, checked the same way from the command line
//! (`guichet agent`, which makes the first admin) and from the admin API.

use guichet_shared::validation::{FieldError, is_plausible_email};
use sqlx::PgPool;

use crate::auth::{self, Hasher};
use crate::db::{self, DbError};

pub const ROLES: &[&str] = &["agent", "field", "supervisor", "admin"];

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "nouvel.agent@guichet.example", "name": "Nouvel agent", "role": "agent", "teams": ["voirie"], "password": "un mot de passe d'agent"}))]
pub struct AgentInput {
    pub email: String,
    pub name: String,
    pub role: String,
    #[serde(default)]
    pub teams: Vec<String>,
    pub password: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("invalid fields")]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Creates the agent, or updates the one with this e-mail (name, role, teams, password).
pub async fn save(pool: &PgPool, hasher: &Hasher, input: &AgentInput) -> Result<i64, SaveError> {
    let mut errors = Vec::new();
    let email = input.email.trim().to_lowercase();
    if !is_plausible_email(&email) {
        errors.push(FieldError::new(
            "email",
            "invalid-email",
            "this is not an e-mail address",
        ));
    }
    if input.name.trim().is_empty() || input.name.chars().count() > 200 {
        errors.push(FieldError::new(
            "name",
            "required",
            "a name of 1 to 200 characters",
        ));
    }
    if !ROLES.contains(&input.role.as_str()) {
        errors.push(FieldError::new(
            "role",
            "not-an-option",
            format!("one of {ROLES:?}"),
        ));
    }
    let n = input.password.chars().count();
    if !(auth::MIN_PASSWORD_CHARS..=auth::MAX_PASSWORD_CHARS).contains(&n) {
        errors.push(FieldError::new(
            "password",
            "out-of-range",
            format!(
                "a password has {} to {} characters",
                auth::MIN_PASSWORD_CHARS,
                auth::MAX_PASSWORD_CHARS
            ),
        ));
    }
    for (i, team) in input.teams.iter().enumerate() {
        if input.teams[..i].contains(team) {
            errors.push(FieldError::new(
                format!("teams[{i}]"),
                "duplicate-value",
                "this team is listed twice",
            ));
            continue;
        }
        if db::workflow::team_by_code(pool, team).await?.is_none() {
            errors.push(FieldError::new(
                format!("teams[{i}]"),
                "unknown-team",
                format!("no team {team:?}"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(SaveError::Invalid(errors));
    }
    let hash = hasher
        .hash(input.password.clone())
        .await
        .map_err(|e| DbError::Data(e.to_string()))?;
    let mut tx = pool.begin().await.map_err(DbError::from)?;
    let id = db::accounts::upsert_agent(
        &mut tx,
        &db::accounts::NewAgent {
            email: &email,
            name: input.name.trim(),
            role: &input.role,
            password_hash: &hash,
            team_codes: &input.teams,
        },
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(id)
}
