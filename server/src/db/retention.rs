//! Retention: which closed requests are past their démarche's periods, and their
//! anonymisation, the one rewrite of the event log the database allows (see the migration
//! `retention`).

use sqlx::{PgConnection, PgPool};

use super::DbError;

/// A request whose personal data is due to go.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Due {
    pub id: i64,
    pub number: String,
    /// A public incident keeps its place (already public); any other request loses it.
    pub public_incident: bool,
}

/// The period of a request's revision, `$1` days when its notice names none.
macro_rules! past {
    ($key:literal) => {
        concat!(
            "r.closed_at < now() - make_interval(days =>
                 coalesce((d.definition->'privacy'->>'",
            $key,
            "')::int, $1))"
        )
    };
}

/// Closed requests past their `retention_days` (`default_days` when their notice names none),
/// not yet anonymised, oldest first.
pub async fn due(pool: &PgPool, default_days: i32, limit: i64) -> Result<Vec<Due>, DbError> {
    Ok(sqlx::query_as(concat!(
        "SELECT r.id, r.number, d.public_incident
           FROM requests r
           JOIN demarche_revisions d
             ON d.demarche_code = r.demarche_code AND d.revision = r.demarche_revision
          WHERE r.anonymised_at IS NULL AND r.closed_at IS NOT NULL
            AND r.phase IN ('closed', 'withdrawn') AND ",
        past!("retention_days"),
        " ORDER BY r.closed_at LIMIT $2"
    ))
    .bind(default_days)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Closed requests past their `files_retention_days` that still have attached files.
pub async fn files_due(pool: &PgPool, default_days: i32, limit: i64) -> Result<Vec<i64>, DbError> {
    Ok(sqlx::query_scalar(concat!(
        "SELECT r.id
           FROM requests r
           JOIN demarche_revisions d
             ON d.demarche_code = r.demarche_code AND d.revision = r.demarche_revision
          WHERE r.closed_at IS NOT NULL AND r.phase IN ('closed', 'withdrawn')
            AND EXISTS (SELECT 1 FROM request_files f WHERE f.request_id = r.id) AND ",
        past!("files_retention_days"),
        " ORDER BY r.closed_at LIMIT $2"
    ))
    .bind(default_days)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Removes a request's attached files' rows; returns their keys (the bytes go with the
/// clean-up job, unless another request shares them).
pub async fn drop_files(tx: &mut PgConnection, request_id: i64) -> Result<Vec<String>, DbError> {
    Ok(
        sqlx::query_scalar("DELETE FROM request_files WHERE request_id = $1 RETURNING storage_key")
            .bind(request_id)
            .fetch_all(&mut *tx)
            .await?,
    )
}

/// Event data keys that may hold what a person wrote or who they are: messages, notes,
/// reasons, addressees, places, form answers.
const PERSONAL_EVENT_KEYS: &str =
    "{text,message,reason,to,subject,location,fields,answers,values,contact,email,phone,name}";

/// Anonymises one request in the caller's transaction: contacts, the citizen's link, form
/// answers and description, the place (unless a public incident), the reports' texts and
/// contacts, the tracking codes, the receipts, and the personal keys of its events. What statistics need stays:
/// démarche, dates, phases, outcome, team, zone, channel, counts.
pub async fn anonymise(tx: &mut PgConnection, due: &Due) -> Result<(), DbError> {
    sqlx::query("SELECT set_config('guichet.anonymise', 'on', true)")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE requests SET
            contact_name = NULL, contact_email = NULL, contact_phone = NULL, citizen_id = NULL,
            data = '{}', receipt = NULL, complement = NULL, description = NULL,
            -- A digest no code has: the old code opens nothing any more.
            tracking_code_digest = sha256(convert_to(gen_random_uuid()::text, 'UTF8')),
            location = CASE WHEN $2 THEN location END,
            address = CASE WHEN $2 THEN address END,
            location_source = CASE WHEN $2 THEN location_source END,
            anonymised_at = now()
          WHERE id = $1",
    )
    .bind(due.id)
    .bind(due.public_incident)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE reports SET description = '', data = '{}', contact_email = NULL,
                contact_phone = NULL, receipt = '{}', tracking_code_digest = NULL,
                address = CASE WHEN $2 THEN address END
          WHERE request_id = $1",
    )
    .bind(due.id)
    .bind(due.public_incident)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE events SET data = data - $2::text[]
          WHERE request_id = $1 AND data ?| $2::text[]",
    )
    .bind(due.id)
    .bind(PERSONAL_EVENT_KEYS)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Locks a request for the retention job; false when another instance's job got there first.
pub async fn lock_pending(tx: &mut PgConnection, id: i64) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT id FROM requests WHERE id = $1 AND anonymised_at IS NULL FOR UPDATE SKIP LOCKED",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .is_some())
}
