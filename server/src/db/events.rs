//! The append-only history of requests: every change, message and notice is an event, both
//! the citizen's timeline and the audit trail.

use guichet_shared::timeline::EventKind;
use sqlx::PgExecutor;

use super::DbError;

/// Who caused an event, as the history records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The filer or another reporter, through the API.
    Citizen,
    Agent(i64),
    /// The service itself: notices, deliveries, the duplicate engine.
    System,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::Citizen => f.write_str("citizen"),
            Actor::Agent(id) => write!(f, "agent:{id}"),
            Actor::System => f.write_str("system"),
        }
    }
}

/// Appends an event; whether citizens see it follows from its kind.
pub async fn insert(
    db: impl PgExecutor<'_>,
    request_id: i64,
    kind: EventKind,
    actor: Actor,
    data: &serde_json::Value,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO events (request_id, kind, public, actor, data) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(request_id)
    .bind(kind.as_str())
    .bind(kind.is_public())
    .bind(actor.to_string())
    .bind(data)
    .execute(db)
    .await?;
    Ok(())
}
