//! What agents and citizens do to a filed request: move it through its workflow, assign it,
//! write to the citizen or note internally, ask for a complement and answer it, merge and
//! split, change its démarche or place (which routes it again).

use guichet_shared::forms::{self, FileMeta, FormDefinition};
use guichet_shared::phase::Phase;
use guichet_shared::workflow::{Role, Status, Template, template};
use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;

use super::PipelineError;
use super::submit::UploadedFile;
use crate::db::{self, DbError, pipeline::WorkRow};
use crate::http::auth::AuthAgent;
use crate::intake::new_tracking_code;
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

/// Locks the request and checks that the agent may act on it (a team of theirs).
async fn lock_for_agent(
    tx: &mut PgConnection,
    agent: &AuthAgent,
    number: &str,
) -> Result<WorkRow, PipelineError> {
    let row = db::pipeline::lock_by_number(tx, number)
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
fn office_only(agent: &AuthAgent, what: &str) -> Result<(), PipelineError> {
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
    match Phase::parse(&row.phase) {
        Some(p) if p.is_open() => Ok(()),
        _ => Err(PipelineError::conflict(
            "request-closed",
            format!("request {} is {}; reopen it first", row.number, row.phase),
        )),
    }
}

/// Records a status move and its notifications.
async fn move_to(
    tx: &mut PgConnection,
    state: &AppState,
    row: &WorkRow,
    target: &Status,
    actor: &str,
    message: Option<&str>,
) -> Result<(), PipelineError> {
    db::pipeline::set_status(
        tx,
        row.id,
        target.name,
        target.phase.as_str(),
        target.outcome.map(|o| o.as_str()),
    )
    .await?;
    let mut data = json!({
        "from": row.status,
        "to": target.name,
        "phase": target.phase,
        "outcome": target.outcome,
        "label_fr": target.label_fr,
        "label_en": target.label_en,
    });
    if let Some(m) = message {
        data["message"] = json!(m);
    }
    db::intake::insert_event(tx, row.id, "status_changed", true, actor, &data).await?;
    notify::notify(
        tx,
        &state.config.notify,
        row.id,
        Notice::StatusChanged {
            from: &row.status,
            to: target.name,
        },
    )
    .await?;
    Ok(())
}

pub async fn change_status(
    state: &AppState,
    agent: &AuthAgent,
    number: &str,
    to: &str,
    message: Option<&str>,
) -> Result<(), PipelineError> {
    let message = message.map(|m| check_text("message", m)).transpose()?;
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
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
    move_to(
        &mut tx,
        state,
        &row,
        target,
        &agent.actor(),
        message.as_deref(),
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

pub async fn assign(
    state: &AppState,
    agent: &AuthAgent,
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
            db::pipeline::team_by_code(&state.db, code)
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
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    let row = lock_for_agent(&mut tx, agent, number).await?;
    open_or_conflict(&row)?;
    let new_team = team_id.or(row.team_id);
    if let Some(assignee) = assignee_id {
        let in_team = match new_team {
            Some(t) => db::pipeline::agent_in_team(&mut tx, assignee, t).await?,
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
    db::pipeline::assign(&mut tx, row.id, new_team, new_assignee).await?;
    let data = json!({
        "team_id": new_team, "previous_team_id": row.team_id,
        "assignee_id": new_assignee, "previous_assignee_id": row.assignee_id,
    });
    db::intake::insert_event(&mut tx, row.id, "assigned", false, &agent.actor(), &data).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// A public answer to the citizen: in the timeline and e-mailed to every contact.
pub async fn reply(
    state: &AppState,
    agent: &AuthAgent,
    number: &str,
    body: &str,
) -> Result<(), PipelineError> {
    let body = check_text("message", body)?;
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    let row = lock_for_agent(&mut tx, agent, number).await?;
    let data = json!({ "message": body, "from": "agent" });
    db::intake::insert_event(&mut tx, row.id, "message", true, &agent.actor(), &data).await?;
    notify::notify(
        &mut tx,
        &state.config.notify,
        row.id,
        Notice::Reply { body: &body },
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// An internal note: agents only, never shown to citizens or sent anywhere.
pub async fn note(
    state: &AppState,
    agent: &AuthAgent,
    number: &str,
    text: &str,
) -> Result<(), PipelineError> {
    let text = check_text("text", text)?;
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    let row = lock_for_agent(&mut tx, agent, number).await?;
    db::intake::insert_event(
        &mut tx,
        row.id,
        "note",
        false,
        &agent.actor(),
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
    agent: &AuthAgent,
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
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
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
    db::pipeline::set_status(&mut tx, row.id, target.name, target.phase.as_str(), None).await?;
    db::pipeline::set_complement(&mut tx, row.id, &complement).await?;
    let data = json!({
        "from": row.status, "to": target.name, "phase": target.phase,
        "label_fr": target.label_fr, "label_en": target.label_en,
        "fields": fields, "message": message,
    });
    db::intake::insert_event(
        &mut tx,
        row.id,
        "complement_requested",
        true,
        &agent.actor(),
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
    let mut keys = Vec::with_capacity(files.len());
    for (file, meta) in files.iter().zip(&new_files) {
        keys.push(super::submit::store_file(state, file, meta).await?.key);
    }
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    let row = db::pipeline::lock_by_number(&mut tx, row_number)
        .await?
        .ok_or(PipelineError::NotFound)?;
    let Some(complement) = row
        .complement
        .clone()
        .filter(|_| row.phase == "waiting_for_citizen")
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
    let kept = db::pipeline::files(&state.db, row.id).await?;
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
    db::pipeline::set_data(&mut tx, row.id, &serde_json::Value::Object(completed.data)).await?;
    // New files replace the field's previous ones; fields the answer made irrelevant lose theirs.
    let mut positions = std::collections::HashMap::<&str, i16>::new();
    for ((file, meta), key) in files.iter().zip(&new_files).zip(&keys) {
        if !completed.files.iter().any(|f| f.field == file.field) {
            continue;
        }
        let next = positions.entry(file.field.as_str()).or_insert(0);
        if *next == 0 {
            db::pipeline::delete_files_of(&mut tx, row.id, &file.field).await?;
        }
        let position = *next;
        *next += 1;
        db::pipeline::insert_file(
            &mut tx,
            &db::pipeline::NewFile {
                request_id: row.id,
                field_id: &file.field,
                position,
                storage_key: key,
                filename: &file.filename,
                mime: &meta.mime,
                bytes: i32::try_from(meta.bytes).unwrap_or(i32::MAX),
            },
        )
        .await?;
    }
    for old in &kept {
        if !completed.files.iter().any(|f| f.field == old.field_id) {
            db::pipeline::delete_files_of(&mut tx, row.id, &old.field_id).await?;
        }
    }
    // The bytes of replaced or dropped files go too, unless something else refers to them.
    let gone: Vec<String> = kept
        .iter()
        .filter(|old| {
            !completed.files.iter().any(|f| f.field == old.field_id)
                || positions.contains_key(old.field_id.as_str())
        })
        .map(|old| old.storage_key.clone())
        .collect();
    if !gone.is_empty() {
        let payload = serde_json::to_value(crate::outbox::PhotosCleanup { keys: gone })
            .map_err(|e| DbError::Data(e.to_string()))?;
        db::outbox::enqueue_in_tx(
            &mut tx,
            crate::outbox::PHOTOS_CLEANUP,
            &payload,
            time::Duration::ZERO,
            10,
        )
        .await?;
    }
    let t = template_of(&row)?;
    let target = t
        .resume_status(&row.status)
        .ok_or_else(|| DbError::Data(format!("workflow {} cannot resume", t.code)))?;
    let mut event = json!({ "fields": allowed });
    if let Some(m) = &message {
        event["message"] = json!(m);
    }
    db::intake::insert_event(
        &mut tx,
        row.id,
        "complement_answered",
        true,
        "citizen",
        &event,
    )
    .await?;
    move_to(&mut tx, state, &row, target, "citizen", None).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// A message from the citizen to the service, in the request's timeline.
pub async fn citizen_message(
    state: &AppState,
    number: &str,
    body: &str,
) -> Result<(), PipelineError> {
    let body = check_text("message", body)?;
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    let row = db::pipeline::lock_by_number(&mut tx, number)
        .await?
        .ok_or(PipelineError::NotFound)?;
    let data = json!({ "message": body, "from": "citizen" });
    db::intake::insert_event(&mut tx, row.id, "message", true, "citizen", &data).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// The citizen withdraws the request, where the workflow allows it.
pub async fn withdraw(state: &AppState, number: &str) -> Result<(), PipelineError> {
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    let row = db::pipeline::lock_by_number(&mut tx, number)
        .await?
        .ok_or(PipelineError::NotFound)?;
    let t = template_of(&row)?;
    let target = t
        .check(&row.status, "withdrawn", Role::Citizen)
        .map_err(PipelineError::Transition)?;
    move_to(&mut tx, state, &row, target, "citizen", None).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// Merges a request into another: it closes as a duplicate and its reports (with their
/// reporters, who are notified from then on) move to the target.
pub async fn merge(
    state: &AppState,
    agent: &AuthAgent,
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
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    // Lock both in a fixed order so two opposite merges cannot deadlock.
    let (first, second) = if number < into {
        (number, into)
    } else {
        (into, number)
    };
    let a = lock_for_agent(&mut tx, agent, first).await;
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
    db::pipeline::close_as_merged(&mut tx, source.id, target.id, dup.name).await?;
    let data = json!({
        "into": target.number, "from": source.status, "to": dup.name,
        "label_fr": dup.label_fr, "label_en": dup.label_en,
    });
    db::intake::insert_event(&mut tx, source.id, "merged", true, &agent.actor(), &data).await?;
    // Before the reports move: their reporters are told the number they now follow.
    notify::notify(
        &mut tx,
        &state.config.notify,
        source.id,
        Notice::Merged { into_id: target.id },
    )
    .await?;
    let count = db::pipeline::move_reports(&mut tx, source.id, target.id).await?;
    let data = json!({ "from_request": source.number, "report_count": count });
    db::intake::insert_event(
        &mut tx,
        target.id,
        "merged_from",
        true,
        &agent.actor(),
        &data,
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// Splits a wrongly merged report out of a request: it becomes a request of its own, routed
/// and acknowledged like a new one. Returns the new request's number.
pub async fn split(
    state: &AppState,
    agent: &AuthAgent,
    number: &str,
    report_id: i64,
) -> Result<String, PipelineError> {
    office_only(agent, "split requests")?;
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    let row = lock_for_agent(&mut tx, agent, number).await?;
    open_or_conflict(&row)?;
    if row.report_count < 2 {
        return Err(PipelineError::conflict(
            "single-report",
            "a request with one report has nothing to split out",
        ));
    }
    let report = db::pipeline::report_of(&mut tx, row.id, report_id)
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
    let t = template_of(&row)?;
    let zone_id = db::zones::locate(&state.db, report.lat, report.lon)
        .await?
        .map(|z| z.id);
    let new_number = db::intake::next_request_number(&mut tx, &demarche.number_prefix).await?;
    let team_id = db::intake::route(&mut tx, &demarche.code, zone_id).await?;
    let tracking_code = new_tracking_code();
    let id = db::intake::insert_request(
        &mut tx,
        &db::intake::NewRequest {
            number: &new_number,
            tracking_code: &tracking_code,
            demarche: &demarche.code,
            revision: demarche.revision,
            workflow: t.code,
            channel: &report.channel,
            status: t.initial,
            phase: Phase::Received.as_str(),
            team_id,
            zone_id,
            location: Some((report.lat, report.lon)),
            accuracy_m: report.accuracy_m,
            location_source: Some("gps"),
            address: report.address.as_deref(),
            description: &report.description,
            data: &json!({}),
            sla_days: demarche.sla_days,
            possible_duplicate_of: None,
            client_id: None,
            citizen_id: None,
            entered_by: None,
            contact_name: None,
            contact_email: None,
            contact_phone: None,
            lang: &report.lang,
        },
    )
    .await?;
    db::pipeline::move_report(&mut tx, report.id, row.id, id).await?;
    let data = json!({ "report_id": report.id, "to_request": new_number });
    db::intake::insert_event(&mut tx, row.id, "split", false, &agent.actor(), &data).await?;
    let data = json!({ "split_from": row.number, "team_id": team_id });
    db::intake::insert_event(&mut tx, id, "created", true, &agent.actor(), &data).await?;
    notify::notify(&mut tx, &state.config.notify, id, Notice::Created).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(new_number)
}

/// Changes the démarche and/or the place of a request; routing runs again and is recorded.
pub async fn recategorise(
    state: &AppState,
    agent: &AuthAgent,
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
    office_only(agent, "change a request's démarche or place")?;
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
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
    let new = crate::intake::workflow_of(&demarche)?;
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
    let team_id = db::intake::route(&mut tx, &demarche.code, zone_id).await?;
    let revision = if code == row.demarche_code {
        row.demarche_revision
    } else {
        demarche.revision
    };
    db::pipeline::recategorise(
        &mut tx,
        &db::pipeline::Recategorise {
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
    db::intake::insert_event(&mut tx, row.id, "routed", false, &agent.actor(), &data).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}
