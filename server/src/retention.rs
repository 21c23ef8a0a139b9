//! Retention (CNIL): a closed request keeps its personal data for its démarche's
//! `retention_days` and its attached files for `files_retention_days` (the catalogue's privacy
//! notice says both, in words and in days; a revision that names none gets the defaults
//! below). Past them, the housekeeping of every instance anonymises requests by one path,
//! [`run`], each change traced in the audit trail. Statistics keep what they count.

use crate::audit::{self, Kind, Trace};
use crate::db::{self, DbError};
use crate::state::AppState;

/// Days after closing, when a revision's notice names none (the shipped catalogue's own
/// defaults).
pub const DEFAULT_RETENTION_DAYS: i32 = 5 * 365;
pub const DEFAULT_FILES_RETENTION_DAYS: i32 = 365;
/// Requests handled per run: a backlog drains over several runs instead of one long one.
const BATCH: i64 = 200;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub anonymised: usize,
    pub files_dropped: usize,
}

/// One pass: anonymises the requests past their retention, then drops the attached files of
/// those past their files' retention.
pub async fn run(state: &AppState) -> Result<Swept, DbError> {
    let mut swept = Swept::default();
    for due in db::retention::due(&state.db, DEFAULT_RETENTION_DAYS, BATCH).await? {
        let mut tx = state.db.begin().await?;
        if !db::retention::lock_pending(&mut tx, due.id).await? {
            continue;
        }
        db::retention::anonymise(&mut tx, &due).await?;
        let keys = db::retention::drop_files(&mut tx, due.id).await?;
        crate::files::forget(&mut tx, keys).await?;
        tx.commit().await?;
        trace(state, "retention.anonymised", &due.number).await;
        swept.anonymised += 1;
    }
    for id in db::retention::files_due(&state.db, DEFAULT_FILES_RETENTION_DAYS, BATCH).await? {
        let mut tx = state.db.begin().await?;
        let keys = db::retention::drop_files(&mut tx, id).await?;
        let n = keys.len();
        crate::files::forget(&mut tx, keys).await?;
        tx.commit().await?;
        trace(state, "retention.files-deleted", &format!("id={id}")).await;
        swept.files_dropped += n;
    }
    Ok(swept)
}

async fn trace(state: &AppState, action: &str, target: &str) {
    audit::record(
        &state.db,
        &Trace {
            kind: Kind::Action,
            agent_id: None,
            actor: "system".to_owned(),
            action: action.to_owned(),
            target: Some(target.to_owned()),
            detail: None,
            status: None,
            ip: None,
            user_agent: None,
        },
    )
    .await;
}
