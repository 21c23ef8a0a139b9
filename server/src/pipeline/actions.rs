//! What agents and citizens do to a filed request: move it through its workflow, assign it,
//! write to the citizen or note internally, ask for a complement and answer it, merge and
//! split, change its démarche or place (which routes it again).

use bytes::Bytes;
use guichet_shared::forms::{self, FileMeta, FormDefinition};
use guichet_shared::phase::{Lang, Phase};
use guichet_shared::timeline::{Audience, EventKind};
use guichet_shared::workflow::{Role, Status, Template, template};
use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;

use super::PipelineError;
use super::open::{self, LocationSource, Opening, Place};
use super::submit::UploadedFile;
use crate::auth::Agent;
use crate::codes;
use crate::db::event_photos::{EventPhoto, PhotoKind};
use crate::db::{self, DbError, events::Actor, workflow::WorkRow};
use crate::intake;
use crate::notify::{self, Notice};
use crate::state::AppState;

/// Longest message or note, in characters.
pub const MAX_MESSAGE_CHARS: usize = 5000;

fn template_of(row: &WorkRow) -> Result<&'static Template, PipelineError> {
    template(&row.workflow).ok_or_else(|| {
        DbError::Data(format!(
            "request {} has workflow {:?}",
            row.number, row.workflow
        ))
        .into()
    })
}

fn status_of<'t>(t: &'t Template, row: &WorkRow) -> Result<&'t Status, PipelineError> {
    t.status(&row.status).ok_or_else(|| {
        DbError::Data(format!(
            "request {} has status {:?}",
            row.number, row.status
        ))
        .into()
    })
}

/// Opens the transaction of an agent's action. When the call carries an idempotency key, the
/// key is claimed in this transaction, so it is kept exactly when the action commits: a repeat
/// gets `PipelineError::Replayed` with the first answer and acts no more.
async fn begin(
    state: &AppState,
    agent: &Agent,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, PipelineError> {
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    let Some(key) = &agent.action_key else {
        return Ok(tx);
    };
    if let Some(done) = db::action_keys::claim(&mut tx, agent.id, key).await? {
        if done.method != key.method || done.path != key.path {
            return Err(PipelineError::KeyReused {
                method: done.method,
                path: done.path,
            });
        }
        return Err(PipelineError::Replayed {
            status: u16::try_from(done.status).unwrap_or(204),
            result: done.result,
        });
    }
    Ok(tx)
}

/// Keeps, with the action's idempotency key if it has one, an answer other than 204 for a
/// repeat of the call to get.
async fn record_answer(
    tx: &mut PgConnection,
    agent: &Agent,
    status: u16,
    answer: &serde_json::Value,
) -> Result<(), PipelineError> {
    if let Some(key) = &agent.action_key {
        db::action_keys::set_result(tx, agent.id, key, status, answer).await?;
    }
    Ok(())
}

/// Locks the request and checks that the agent may act on it (a team of theirs).
async fn lock_for_agent(
    tx: &mut PgConnection,
    agent: &Agent,
    number: &str,
) -> Result<WorkRow, PipelineError> {
    let row = db::workflow::lock_by_number(tx, number)
        .await?
        .ok_or(PipelineError::NotFound)?;
    if !agent.can_see_team(row.team_id) {
        return Err(PipelineError::Forbidden(format!(
            "request {number} belongs to a team you are not a member of"
        )));
    }
    Ok(row)
}

/// Triage (merging, splitting, recategorising) is office work: field agents update on site.
fn office_only(agent: &Agent, what: &str) -> Result<(), PipelineError> {
    if agent.role == Role::Field {
        Err(PipelineError::Forbidden(format!(
            "field agents cannot {what}"
        )))
    } else {
        Ok(())
    }
}

fn check_text(field: &str, text: &str) -> Result<String, PipelineError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(PipelineError::invalid(
            field,
            "required",
            format!("{field} is empty"),
        ));
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(PipelineError::invalid(
            field,
            "too-long",
            format!("{field} is limited to {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    Ok(text.to_owned())
}

fn open_or_conflict(row: &WorkRow) -> Result<(), PipelineError> {
    if row.phase.is_open() {
        Ok(())
    } else {
        Err(PipelineError::conflict(
            "request-closed",
            format!(
                "request {} is {}; reopen it first",
                row.number,
                row.phase.as_str()
            ),
        ))
    }
}

/// Records a status move and its notifications; `after_photos` (already stored) come with it.
async fn move_to(
    tx: &mut PgConnection,
    state: &AppState,
    row: &WorkRow,
    target: &Status,
    actor: Actor,
    message: Option<&str>,
    after_photos: &[EventPhoto],
) -> Result<(), PipelineError> {
    db::workflow::set_status(
        tx,
        row.id,
        target.name,
        target.phase.as_str(),
        target.outcome.map(|o| o.as_str()),
    )
    .await?;
    let mut data = json!({
        "from": row.status,
        "from_phase": row.phase,
        "to": target.name,
        "phase": target.phase,
        "outcome": target.outcome,
        "label_fr": target.label_fr,
        "label_en": target.label_en,
    });
    if let Some(m) = message {
        data["message"] = json!(m);
    }
    if !after_photos.is_empty() {
        data["photos"] = json!(after_photos);
    }
    db::events::insert(&mut *tx, row.id, EventKind::StatusChanged, actor, &data).await?;
    let urls: Vec<String> = after_photos
        .iter()
        .map(|p| state.photo_url(&p.display_key))
        .collect();
    notify::notify(
        tx,
        &state.config.notify,
        row.id,
        Notice::StatusChanged {
            from: &row.status,
            to: target.name,
            after_photos: &urls,
        },
    )
    .await?;
    Ok(())
}

pub async fn change_status(
    state: &AppState,
    agent: &Agent,
    number: &str,
    to: &str,
    message: Option<&str>,
) -> Result<(), PipelineError> {
    change_status_with_photos(state, agent, number, to, message, Vec::new()).await
}

/// A status move with the photos taken on site once the work was done (a field team closing
/// a pothole with its "after" photo): processed like reports' photos, shown in the public
/// timeline with the move and linked from the notice that tells reporters.
pub async fn change_status_with_photos(
    state: &AppState,
    agent: &Agent,
    number: &str,
    to: &str,
    message: Option<&str>,
    photos: Vec<Bytes>,
) -> Result<(), PipelineError> {
    let message = message.map(|m| check_text("message", m)).transpose()?;
    let processed = intake::prepare_photos(state, photos).await?;
    let mut tx = begin(state, agent).await?;
    let row = lock_for_agent(&mut tx, agent, number).await?;
    let t = template_of(&row)?;
    let target = t
        .check(&row.status, to, agent.role)
        .map_err(PipelineError::Transition)?;
    if target.phase == Phase::WaitingForCitizen {
        return Err(PipelineError::invalid(
            "status",
            "use-complement-request",
            format!(
                "ask the citizen with POST /api/v1/agent/requests/{number}/complement, naming the fields to complete"
            ),
        ));
    }
    let after: Vec<EventPhoto> = processed.iter().map(EventPhoto::of).collect();
    db::event_photos::insert_all(&mut tx, row.id, PhotoKind::After, Some(agent.id), &after).await?;
    move_to(
        &mut tx,
        state,
        &row,
        target,
        agent.actor(),
        message.as_deref(),
        &after,
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// How long after a request was closed as resolved its reporters may say the problem is back.
pub const NOT_FIXED_WINDOW: time::Duration = time::Duration::days(30);

/// A reporter (the filer, a co-reporter or a supporter) says that a problem closed as resolved
/// is back, within `NOT_FIXED_WINDOW`: the request reopens to its workflow's first
/// in-progress status, its SLA clock starts again, it is back on the map and in the team's
/// "for me" view (reopened), and every reporter is told. The words (`text`) are for the
/// agents; the photos show in the public timeline like the request's place.
pub async fn not_fixed(
    state: &AppState,
    number: &str,
    text: Option<&str>,
    photos: Vec<Bytes>,
) -> Result<(), PipelineError> {
    let text = text
        .filter(|t| !t.trim().is_empty())
        .map(|t| check_text("message", t))
        .transpose()?;
    let processed = intake::prepare_photos(state, photos).await?;
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    let row = db::workflow::lock_by_number(&mut tx, number)
        .await?
        .ok_or(PipelineError::NotFound)?;
    let closed_at = db::workflow::resolved_at(&mut tx, row.id)
        .await?
        .ok_or_else(|| {
            PipelineError::conflict(
                "not-reopenable",
                format!("request {number} is not closed as resolved: there is nothing to reopen"),
            )
        })?;
    if OffsetDateTime::now_utc() - closed_at > NOT_FIXED_WINDOW {
        return Err(PipelineError::conflict(
            "not-reopenable",
            format!(
                "request {number} was resolved more than {} days ago; report the problem anew",
                NOT_FIXED_WINDOW.whole_days()
            ),
        ));
    }
    let t = template_of(&row)?;
    let target = t
        .statuses
        .iter()
        .find(|s| s.phase == Phase::InProgress)
        .ok_or_else(|| {
            PipelineError::conflict(
                "not-reopenable",
                format!("the workflow of request {number} has no status to reopen it to"),
            )
        })?;
    let photos: Vec<EventPhoto> = processed.iter().map(EventPhoto::of).collect();
    db::event_photos::insert_all(&mut tx, row.id, PhotoKind::NotFixed, None, &photos).await?;
    let data = json!({ "text": text, "photos": photos });
    db::events::insert(&mut *tx, row.id, EventKind::NotFixed, Actor::Citizen, &data).await?;
    move_to(&mut tx, state, &row, target, Actor::Citizen, None, &[]).await?;
    db::workflow::restart_sla(&mut tx, row.id).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// A field agent went and could not act (no access, a parked car, the wrong place): the
/// request stays open and as it was, the reason goes to the agents' history, and it leaves
/// this agent's round (see `db::round`); if it was theirs, it is theirs no more, so that a
/// supervisor sees it needs someone.
pub async fn could_not_act(
    state: &AppState,
    agent: &Agent,
    number: &str,
    reason: &str,
) -> Result<(), PipelineError> {
    let reason = check_text("reason", reason)?;
    let mut tx = begin(state, agent).await?;
    let row = lock_for_agent(&mut tx, agent, number).await?;
    open_or_conflict(&row)?;
    let released = row.assignee_id == Some(agent.id);
    if released {
        db::workflow::assign(&mut tx, row.id, row.team_id, None).await?;
    }
    let data = json!({ "reason": reason, "released": released });
    db::events::insert(
        &mut *tx,
        row.id,
        EventKind::CouldNotAct,
        agent.actor(),
        &data,
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

pub async fn assign(
    state: &AppState,
    agent: &Agent,
    number: &str,
    team_code: Option<&str>,
    assignee_id: Option<i64>,
) -> Result<(), PipelineError> {
    if agent.role == Role::Field && team_code.is_some() {
        return Err(PipelineError::Forbidden(
            "field agents cannot hand a request to another team".to_owned(),
        ));
    }
    let team_id = match team_code {
        Some(code) => Some(
            db::workflow::team_by_code(&state.db, code)
                .await?
                .ok_or_else(|| {
                    PipelineError::invalid(
                        "team",
                        "unknown-team",
                        format!("no team has the code {code:?}"),
                    )
                })?,
        ),
        None => None,
    };
    let mut tx = begin(state, agent).await?;
    let row = lock_for_agent(&mut tx, agent, number).await?;
    open_or_conflict(&row)?;
    let new_team = team_id.or(row.team_id);
    if let Some(assignee) = assignee_id {
        let in_team = match new_team {
            Some(t) => db::workflow::agent_in_team(&mut tx, assignee, t).await?,
            None => false,
        };
        if !in_team {
            return Err(PipelineError::invalid(
                "assignee_id",
                "assignee-not-in-team",
                "the assignee must be an active member of the request's team",
            ));
        }
    }
    // A new team without a named assignee leaves the request unassigned in that team.
    let new_assignee = if team_id.is_some() && team_id != row.team_id {
        assignee_id
    } else {
        assignee_id.or(row.assignee_id)
    };
    db::workflow::assign(&mut tx, row.id, new_team, new_assignee).await?;
    let data = json!({
        "team_id": new_team, "previous_team_id": row.team_id,
        "assignee_id": new_assignee, "previous_assignee_id": row.assignee_id,
    });
    db::events::insert(&mut *tx, row.id, EventKind::Assigned, agent.actor(), &data).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// A public answer: to the filer (in their timeline, e-mailed to them), or, addressed to
/// all, to every reporter and supporter as well.
pub async fn reply(
    state: &AppState,
    agent: &Agent,
    number: &str,
    body: &str,
    audience: Audience,
) -> Result<(), PipelineError> {
    let body = check_text("message", body)?;
    let mut tx = begin(state, agent).await?;
    let row = lock_for_agent(&mut tx, agent, number).await?;
    let data = json!({ "message": body, "from": "agent", "audience": audience });
    db::events::insert(&mut *tx, row.id, EventKind::Message, agent.actor(), &data).await?;
    notify::notify(
        &mut tx,
        &state.config.notify,
        row.id,
        Notice::Reply {
            body: &body,
            audience,
        },
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// An internal note: agents only, never shown to citizens or sent anywhere.
pub async fn note(
    state: &AppState,
    agent: &Agent,
    number: &str,
    text: &str,
) -> Result<(), PipelineError> {
    let text = check_text("text", text)?;
    let mut tx = begin(state, agent).await?;
    let row = lock_for_agent(&mut tx, agent, number).await?;
    db::events::insert(
        &mut *tx,
        row.id,
        EventKind::Note,
        agent.actor(),
        &json!({ "text": text }),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

async fn form_of(tx: &mut PgConnection, row: &WorkRow) -> Result<FormDefinition, PipelineError> {
    let stored =
        db::catalogue::revision_form(tx, &row.demarche_code, row.demarche_revision).await?;
    Ok(super::form::parse(&row.demarche_code, stored.as_ref())?)
}

/// Asks the citizen for a complement: the request waits (SLA paused) until they answer,
/// and they may change only the fields named here.
pub async fn request_complement(
    state: &AppState,
    agent: &Agent,
    number: &str,
    fields: &[String],
    message: &str,
) -> Result<(), PipelineError> {
    let message = check_text("message", message)?;
    if fields.is_empty() {
        return Err(PipelineError::invalid(
            "fields",
            "required",
            "name the fields the citizen should complete",
        ));
    }
    let mut tx = begin(state, agent).await?;
    let row = lock_for_agent(&mut tx, agent, number).await?;
    let form = form_of(&mut tx, &row).await?;
    let known = forms::field_ids(&form);
    let errors: Vec<_> = fields
        .iter()
        .enumerate()
        .filter(|(_, f)| !known.contains(&f.as_str()))
        .map(|(i, f)| {
            guichet_shared::validation::FieldError::new(
                format!("fields[{i}]"),
                "unknown-field",
                format!("the form of {} has no field {f:?}", row.demarche_code),
            )
        })
        .collect();
    if !errors.is_empty() {
        return Err(PipelineError::Invalid(errors));
    }
    let t = template_of(&row)?;
    let waiting = t
        .waiting_status()
        .ok_or_else(|| DbError::Data(format!("workflow {} cannot wait", t.code)))?;
    let target = t
        .check(&row.status, waiting.name, agent.role)
        .map_err(PipelineError::Transition)?;
    let complement = json!({
        "fields": fields,
        "message": message,
        "requested_at": OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        "requested_by": agent.id,
    });
    db::workflow::set_status(&mut tx, row.id, target.name, target.phase.as_str(), None).await?;
    db::workflow::set_complement(&mut tx, row.id, &complement).await?;
    let data = json!({
        "from": row.status, "to": target.name, "phase": target.phase,
        "label_fr": target.label_fr, "label_en": target.label_en,
        "fields": fields, "message": message,
    });
    db::events::insert(
        &mut *tx,
        row.id,
        EventKind::ComplementRequested,
        agent.actor(),
        &data,
    )
    .await?;
    notify::notify(
        &mut tx,
        &state.config.notify,
        row.id,
        Notice::ComplementRequested {
            fields,
            message: &message,
        },
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// The citizen's answer to a complement request: only the named fields change, the whole is
/// checked again against the form, and the request goes back to the agents (SLA resumed).
pub async fn answer_complement(
    state: &AppState,
    row_number: &str,
    answer: &serde_json::Value,
    files: Vec<UploadedFile>,
    message: Option<&str>,
) -> Result<(), PipelineError> {
    let message = message.map(|m| check_text("message", m)).transpose()?;
    // Files go to the store before the transaction, so that no connection waits on disk
    // writes while holding the request's lock; the clean-up job removes those never used.
    let new_files = super::submit::metas_of(&files);
    let uploaded: Vec<_> = files.into_iter().zip(new_files.iter().cloned()).collect();
    let attached = super::submit::store_files(state, &uploaded).await?;
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    let row = db::workflow::lock_by_number(&mut tx, row_number)
        .await?
        .ok_or(PipelineError::NotFound)?;
    let Some(complement) = row
        .complement
        .clone()
        .filter(|_| row.phase == Phase::WaitingForCitizen)
    else {
        return Err(PipelineError::conflict(
            "no-complement-requested",
            format!("request {row_number} is not waiting for a complement"),
        ));
    };
    let allowed: Vec<String> = complement
        .get("fields")
        .and_then(|f| serde_json::from_value(f.clone()).ok())
        .unwrap_or_default();
    let form = form_of(&mut tx, &row).await?;
    let stored = row.data.as_object().cloned().unwrap_or_default();
    let kept = db::files::of_request(&state.db, row.id).await?;
    let stored_files: Vec<FileMeta> = kept
        .iter()
        .map(|f| FileMeta {
            field: f.field_id.clone(),
            filename: f.filename.clone(),
            mime: f.mime.clone(),
            bytes: f.bytes.max(0) as u64,
        })
        .collect();
    let completed = forms::validate_complement(
        &form,
        &forms::Complement {
            stored: &stored,
            stored_files: &stored_files,
            answer,
            new_files: &new_files,
            allowed: &allowed,
        },
        OffsetDateTime::now_utc().date(),
    )
    .map_err(PipelineError::Invalid)?;
    db::workflow::set_data(&mut tx, row.id, &serde_json::Value::Object(completed.data)).await?;
    // New files replace the field's previous ones; fields the answer made irrelevant lose theirs.
    let kept_fields = |field: &str| completed.files.iter().any(|f| f.field == field);
    let new: Vec<_> = attached
        .into_iter()
        .filter(|a| kept_fields(&a.field))
        .collect();
    let replaced = |field: &str| new.iter().any(|a| a.field == field);
    let mut gone = Vec::new();
    for old in &kept {
        if !kept_fields(&old.field_id) || replaced(&old.field_id) {
            gone.push(old.storage_key.clone());
        }
    }
    let mut cleared: Vec<&str> = kept
        .iter()
        .map(|old| old.field_id.as_str())
        .filter(|f| !kept_fields(f) || replaced(f))
        .collect();
    cleared.dedup();
    for field in cleared {
        db::files::delete_of_field(&mut tx, row.id, field).await?;
    }
    open::attach_files(&mut tx, row.id, &new).await?;
    // The bytes of replaced or dropped files go too, unless something else refers to them.
    crate::files::forget(&mut tx, gone).await?;
    let t = template_of(&row)?;
    let target = t
        .resume_status(&row.status)
        .ok_or_else(|| DbError::Data(format!("workflow {} cannot resume", t.code)))?;
    let mut event = json!({ "fields": allowed });
    if let Some(m) = &message {
        event["message"] = json!(m);
    }
    db::events::insert(
        &mut *tx,
        row.id,
        EventKind::ComplementAnswered,
        Actor::Citizen,
        &event,
    )
    .await?;
    move_to(&mut tx, state, &row, target, Actor::Citizen, None, &[]).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// A message from the filer to the service, in the request's timeline (theirs and the
/// agents' only).
pub async fn citizen_message(
    state: &AppState,
    number: &str,
    body: &str,
) -> Result<(), PipelineError> {
    let body = check_text("message", body)?;
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    let row = db::workflow::lock_by_number(&mut tx, number)
        .await?
        .ok_or(PipelineError::NotFound)?;
    let data = json!({ "message": body, "from": "citizen", "audience": Audience::Filer });
    db::events::insert(&mut *tx, row.id, EventKind::Message, Actor::Citizen, &data).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// The citizen withdraws the request, where the workflow allows it.
pub async fn withdraw(state: &AppState, number: &str) -> Result<(), PipelineError> {
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    let row = db::workflow::lock_by_number(&mut tx, number)
        .await?
        .ok_or(PipelineError::NotFound)?;
    let t = template_of(&row)?;
    let target = t
        .check(&row.status, "withdrawn", Role::Citizen)
        .map_err(PipelineError::Transition)?;
    move_to(&mut tx, state, &row, target, Actor::Citizen, None, &[]).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// Merges a request into another: it closes as a duplicate and its reports (with their
/// reporters, who are notified from then on) move to the target.
pub async fn merge(
    state: &AppState,
    agent: &Agent,
    number: &str,
    into: &str,
) -> Result<(), PipelineError> {
    office_only(agent, "merge requests")?;
    if number == into {
        return Err(PipelineError::invalid(
            "into",
            "same-request",
            "a request cannot be merged into itself",
        ));
    }
    let mut tx = begin(state, agent).await?;
    // Lock both in a fixed order so two opposite merges cannot deadlock.
    let (first, second) = if number < into {
        (number, into)
    } else {
        (into, number)
    };
    let a = lock_for_agent(&mut tx, agent, first).await;
    // A statement that failed (text PostgreSQL refuses, such as a NUL) aborts the transaction:
    // its error is the answer, not the "transaction aborted" of the next statement.
    if let Err(PipelineError::Db(e)) = a {
        return Err(PipelineError::Db(e));
    }
    let b = lock_for_agent(&mut tx, agent, second).await;
    let (source, target) = if number < into { (a, b) } else { (b, a) };
    let source = source?;
    let target = target.map_err(|e| match e {
        PipelineError::NotFound => {
            PipelineError::invalid("into", "unknown-request", format!("no request {into}"))
        }
        e => e,
    })?;
    open_or_conflict(&source)?;
    open_or_conflict(&target)?;
    let t = template_of(&source)?;
    let dup = t
        .duplicate_status()
        .ok_or_else(|| DbError::Data(format!("workflow {} has no duplicate status", t.code)))?;
    db::workflow::close_as_merged(&mut tx, source.id, target.id, dup.name).await?;
    let data = json!({
        "into": target.number, "from": source.status, "to": dup.name,
        "label_fr": dup.label_fr, "label_en": dup.label_en,
    });
    db::events::insert(&mut *tx, source.id, EventKind::Merged, agent.actor(), &data).await?;
    // Before the reports move: their reporters are told the number they now follow.
    notify::notify(
        &mut tx,
        &state.config.notify,
        source.id,
        Notice::Merged { into_id: target.id },
    )
    .await?;
    let count = db::reports::move_reports(&mut tx, source.id, target.id).await?;
    let data = json!({ "from_request": source.number, "report_count": count });
    db::events::insert(
        &mut *tx,
        target.id,
        EventKind::MergedFrom,
        agent.actor(),
        &data,
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// Splits a wrongly merged report out of a request: it becomes a request of its own, routed
/// and acknowledged like a new one, whose filer is that report's reporter. They keep the code
/// they hold, which now acts on the new request (a report from before reporters had codes
/// gets the new request's, handed out in the acknowledgement). Returns the new request's
/// number.
pub async fn split(
    state: &AppState,
    agent: &Agent,
    number: &str,
    report_id: i64,
) -> Result<String, PipelineError> {
    office_only(agent, "split requests")?;
    let mut tx = begin(state, agent).await?;
    let row = lock_for_agent(&mut tx, agent, number).await?;
    open_or_conflict(&row)?;
    if row.report_count < 2 {
        return Err(PipelineError::conflict(
            "single-report",
            "a request with one report has nothing to split out",
        ));
    }
    let report = db::reports::report_of(&mut tx, row.id, report_id)
        .await?
        .ok_or_else(|| {
            PipelineError::invalid(
                "report_id",
                "unknown-report",
                format!("request {number} has no report {report_id}"),
            )
        })?;
    let demarche = db::catalogue::find_for_intake(&state.db, &row.demarche_code)
        .await?
        .ok_or_else(|| DbError::Data(format!("démarche {} is gone", row.demarche_code)))?;
    let zone_id = db::zones::locate(&state.db, report.lat, report.lon)
        .await?
        .map(|z| z.id);
    let opened = open::open(
        &mut tx,
        &Opening {
            place: Some(Place {
                lat: report.lat,
                lon: report.lon,
                accuracy_m: report.accuracy_m,
                source: LocationSource::of_report(report.accuracy_m),
                zone_id,
            }),
            address: report.address.as_deref(),
            description: &report.description,
            context: Some(("split_from", json!(row.number))),
            ..Opening::new(
                &demarche,
                report.channel,
                agent.actor(),
                Lang::parse(&report.lang),
            )
        },
    )
    .await?;
    let (id, new_number) = (opened.id, opened.number);
    db::reports::move_report(&mut tx, report.id, row.id, id).await?;
    let new_code = match &report.tracking_code_digest {
        Some(digest) => {
            db::codes::set_request_digest(&mut tx, id, digest).await?;
            None
        }
        None => {
            let digest = codes::digest(&opened.tracking_code);
            db::codes::set_report_digest(&mut tx, report.id, &digest).await?;
            Some(opened.tracking_code.as_str())
        }
    };
    let data = json!({ "report_id": report.id, "to_request": new_number });
    db::events::insert(&mut *tx, row.id, EventKind::Split, agent.actor(), &data).await?;
    let notice = Notice::Created {
        tracking_code: new_code,
    };
    notify::notify(&mut tx, &state.config.notify, id, notice).await?;
    let answer = json!({ "request_number": new_number });
    record_answer(&mut tx, agent, 201, &answer).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(new_number)
}

/// Issues a new filer's code for a request, for an agent to give its filer (on the phone, at
/// the desk): agents never read codes, which are kept as digests. The old code stops working
/// wherever it was kept, and so do the follow links derived from it; an internal event
/// records who issued it. Returns the new code, for this answer only.
pub async fn reissue_tracking_code(
    state: &AppState,
    agent: &Agent,
    number: &str,
) -> Result<String, PipelineError> {
    office_only(agent, "issue tracking codes")?;
    let mut tx = begin(state, agent).await?;
    let row = lock_for_agent(&mut tx, agent, number).await?;
    let code = codes::new_code();
    if !db::codes::reissue(&mut tx, row.id, &codes::digest(&code)).await? {
        return Err(PipelineError::NotFound);
    }
    db::events::insert(
        &mut *tx,
        row.id,
        EventKind::TrackingCodeIssued,
        agent.actor(),
        &json!({}),
    )
    .await?;
    // A repeat of the call (same idempotency key) answers the same, without the code: it is
    // kept nowhere, as a receipt past its time keeps `tracking_code` empty.
    let answer = json!({ "request_number": row.number, "tracking_code": "" });
    record_answer(&mut tx, agent, 201, &answer).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(code)
}

/// Changes the démarche and/or the place of a request; routing runs again and is recorded.
pub async fn recategorise(
    state: &AppState,
    agent: &Agent,
    number: &str,
    demarche_code: Option<&str>,
    location: Option<(f64, f64)>,
) -> Result<(), PipelineError> {
    if demarche_code.is_none() && location.is_none() {
        return Err(PipelineError::invalid(
            "demarche",
            "required",
            "give a démarche, a location or both",
        ));
    }
    if let Some((lat, lon)) = location {
        let mut errors = Vec::new();
        guichet_shared::validation::validate_position(&mut errors, lat, lon);
        if !errors.is_empty() {
            return Err(PipelineError::Invalid(errors));
        }
    }
    // On site, a field agent may move the pin to where the problem really is.
    if demarche_code.is_some() {
        office_only(agent, "change a request's démarche")?;
    }
    let mut tx = begin(state, agent).await?;
    let row = lock_for_agent(&mut tx, agent, number).await?;
    open_or_conflict(&row)?;
    let code = demarche_code.unwrap_or(&row.demarche_code);
    if code != row.demarche_code && row.complement.is_some() {
        return Err(PipelineError::conflict(
            "complement-pending",
            "the citizen is completing this request under its démarche; change it once they answered",
        ));
    }
    let demarche = db::catalogue::find_for_intake(&state.db, code)
        .await?
        .ok_or_else(|| {
            PipelineError::invalid(
                "demarche",
                "unknown-demarche",
                format!("no démarche {code:?}"),
            )
        })?;
    let old = template_of(&row)?;
    let current = status_of(old, &row)?;
    let new = open::workflow_of(&demarche)?;
    // Same workflow: the status stays. Another workflow: the first status of the same phase.
    let status = if new.code == old.code {
        current
    } else {
        new.statuses
            .iter()
            .find(|s| s.phase == current.phase)
            .ok_or_else(|| {
                PipelineError::conflict(
                    "workflow-mismatch",
                    format!(
                        "{code} follows workflow {} which has no {} status",
                        new.code,
                        current.phase.as_str()
                    ),
                )
            })?
    };
    let (zone_id, point) = match location.or(row.lat.zip(row.lon)) {
        Some((lat, lon)) => {
            let zone = db::zones::locate(&state.db, lat, lon).await?;
            if zone.is_none() && location.is_some() {
                return Err(PipelineError::invalid(
                    "location",
                    "outside-service-area",
                    "the point is outside the service area",
                ));
            }
            (zone.map(|z| z.id).or(row.zone_id), location)
        }
        None => (row.zone_id, None),
    };
    if demarche.geolocated && point.is_none() && row.lat.is_none() {
        return Err(PipelineError::invalid(
            "location",
            "required",
            format!("{code} needs a location"),
        ));
    }
    let team_id = db::routing::team_for(&mut tx, &demarche.code, zone_id).await?;
    let revision = if code == row.demarche_code {
        row.demarche_revision
    } else {
        demarche.revision
    };
    db::workflow::recategorise(
        &mut tx,
        &db::workflow::Recategorise {
            id: row.id,
            demarche: &demarche.code,
            revision,
            workflow: new.code,
            status: status.name,
            location: point,
            zone_id,
            team_id,
            sla_days: demarche.sla_days,
        },
    )
    .await?;
    let data = json!({
        "from_demarche": row.demarche_code, "to_demarche": demarche.code,
        "location": point.map(|(lat, lon)| json!({ "lat": lat, "lon": lon })),
        "zone_id": zone_id, "previous_team_id": row.team_id, "team_id": team_id,
    });
    db::events::insert(&mut *tx, row.id, EventKind::Routed, agent.actor(), &data).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}
