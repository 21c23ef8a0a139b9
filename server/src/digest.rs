//! The agents' morning digest: at 7 o'clock city time, every agent who asked for it gets one
//! e-mail listing their "for me" view (requests assigned to them, overdue requests of their
//! teams assigned to them or to nobody, requests of their teams reopened), with links to the
//! back office. Nothing to list, no e-mail. One `digest.daily` job a day, shared by every
//! instance; each run queues the next.

use guichet_shared::phase::Lang;
use guichet_shared::workflow::{Role, template};

use crate::auth::agent_role;
use crate::db::{self, DbError, queue::QueueFilter};
use crate::notify;
use crate::state::AppState;

pub const DAILY: &str = "digest.daily";
/// When the digest leaves, city time.
const HOUR: i32 = 7;
/// Requests listed per section, at most.
const PER_SECTION: i64 = 25;

pub async fn schedule(state: &AppState) -> Result<(), DbError> {
    db::digest::schedule_next(&state.db, DAILY, HOUR, None).await
}

/// One line of the digest.
pub struct Line {
    pub number: String,
    pub title: String,
    pub status: String,
    pub due: Option<String>,
}

/// Sends the digests of `day`, then queues the next day's run.
pub async fn send_daily(state: &AppState, day: Option<time::Date>) -> Result<usize, DbError> {
    let mut sent = 0;
    for s in db::digest::subscribers(&state.db).await? {
        let admin = agent_role(&s.role) == Some(Role::Admin);
        let teams = (!admin).then(|| s.team_ids.clone());
        let base = QueueFilter {
            teams,
            limit: PER_SECTION,
            ..QueueFilter::default()
        };
        let assigned = lines(
            state,
            QueueFilter {
                assignee_id: Some(s.id),
                ..base.clone()
            },
        )
        .await?;
        let mut overdue = lines(
            state,
            QueueFilter {
                overdue: true,
                assignee_id: Some(s.id),
                ..base.clone()
            },
        )
        .await?;
        overdue.extend(
            lines(
                state,
                QueueFilter {
                    overdue: true,
                    unassigned: true,
                    ..base.clone()
                },
            )
            .await?,
        );
        let reopened = lines(
            state,
            QueueFilter {
                reopened: true,
                ..base
            },
        )
        .await?;
        if assigned.is_empty() && overdue.is_empty() && reopened.is_empty() {
            continue;
        }
        let mut tx = state.db.begin().await?;
        notify::agent_digest(
            &mut tx,
            &state.config.notify,
            &s.email,
            &s.name,
            notify::DigestSections {
                assigned: &assigned,
                overdue: &overdue,
                reopened: &reopened,
            },
        )
        .await?;
        tx.commit().await?;
        sent += 1;
    }
    db::digest::schedule_next(&state.db, DAILY, HOUR, day).await?;
    Ok(sent)
}

async fn lines(state: &AppState, filter: QueueFilter) -> Result<Vec<Line>, DbError> {
    Ok(db::queue::queue(&state.db, &filter)
        .await?
        .into_iter()
        .map(|r| Line {
            status: template(&r.workflow)
                .and_then(|t| t.status(&r.status))
                .map_or(r.status.clone(), |s| s.label(Lang::Fr).to_owned()),
            due: r.due_at.map(|d| d.date().to_string()),
            number: r.number,
            title: r.demarche_title,
        })
        .collect())
}
