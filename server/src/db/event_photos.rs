//! Photos that come with an event of a request rather than with a report: those a field agent
//! takes once the work is done ("after"), and those a reporter sends when the problem is back
//! ("not fixed").

use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};

use super::DbError;

/// Why the photo was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoKind {
    /// By an agent, once the work was done.
    After,
    /// By a reporter, showing the problem is back after it was closed as resolved.
    NotFixed,
}

impl PhotoKind {
    fn as_str(self) -> &'static str {
        match self {
            PhotoKind::After => "after",
            PhotoKind::NotFixed => "not_fixed",
        }
    }
}

/// The stored variants of one photo, as the event that shows it records them.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct EventPhoto {
    pub display_key: String,
    pub display_width: i32,
    pub display_height: i32,
    pub thumb_key: String,
}

impl EventPhoto {
    /// The stored variants of a processed photo.
    pub fn of(p: &crate::photos::ProcessedPhoto) -> Self {
        EventPhoto {
            display_key: p.display.key.clone(),
            display_width: i32::try_from(p.display.width).unwrap_or(i32::MAX),
            display_height: i32::try_from(p.display.height).unwrap_or(i32::MAX),
            thumb_key: p.thumbnail.key.clone(),
        }
    }
}

/// Records `photos` of `kind` for a request, in their order; `agent_id` for an agent's.
pub async fn insert_all(
    tx: &mut PgConnection,
    request_id: i64,
    kind: PhotoKind,
    agent_id: Option<i64>,
    photos: &[EventPhoto],
) -> Result<(), DbError> {
    for (position, photo) in photos.iter().enumerate() {
        sqlx::query(
            "INSERT INTO event_photos (request_id, kind, agent_id, position,
                 display_key, display_width, display_height, thumb_key)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(request_id)
        .bind(kind.as_str())
        .bind(agent_id)
        .bind(i16::try_from(position).unwrap_or(i16::MAX))
        .bind(&photo.display_key)
        .bind(photo.display_width)
        .bind(photo.display_height)
        .bind(&photo.thumb_key)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// The photos of `kind` of a request, oldest first.
pub async fn of_request(
    pool: &PgPool,
    request_id: i64,
    kind: PhotoKind,
) -> Result<Vec<EventPhoto>, DbError> {
    Ok(sqlx::query_as(
        "SELECT display_key, display_width, display_height, thumb_key FROM event_photos
          WHERE request_id = $1 AND kind = $2 ORDER BY id",
    )
    .bind(request_id)
    .bind(kind.as_str())
    .fetch_all(pool)
    .await?)
}
