//! What agents and citizens do to a filed request: move it through its workflow, assign it,
//! write to the citizen or note internally, ask for a complement and answer it, merge and
//! split, change its démarche or place (which routes it again).

use guichet_shared::forms::{self, FileMeta, FormDefinition};
use guichet_shared::phase::{Lang, Phase};
use guichet_shared::timeline::EventKind;
use guichet_shared::workflow::{Role, Status, Template, template};
use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;

use super::PipelineError;
use super::open::{self, LocationSource, Opening, Place};
use super::submit::UploadedFile;
use crate::auth::Agent;
use crate::db::{self, DbError, events::Actor, workflow::WorkRow};
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

/// Records a status move and its notifications.
async fn move_to(
    tx: &mut PgConnection,
    state: &AppState,
    row: &WorkRow,
    target: &Status,
    actor: Actor,
    message: Option<&str>,
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
        "to": target.name,
        "phase": target.phase,
        "outcome": target.outcome,
        "label_fr": target.label_fr,
        "label_en": target.label_en,
    });
    if let Some(m) = message {
        data["message"] = json!(m);
    }
    db::events::insert(&mut *tx, row.id, EventKind::StatusChanged, actor, &data).await?;
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
    agent: &Agent,
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
        agent.actor(),
        message.as_deref(),
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
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
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

/// A public answer to the citizen: in the timeline and e-mailed to every contact.
pub async fn reply(
    state: &AppState,
    agent: &Agent,
    number: &str,
    body: &str,
) -> Result<(), PipelineError> {
    let body = check_text("message", body)?;
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    let row = lock_for_agent(&mut tx, agent, number).await?;
    let data = json!({ "message": body, "from": "agent" });
    db::events::insert(&mut *tx, row.id, EventKind::Message, agent.actor(), &data).await?;
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
    agent: &Agent,
    number: &str,
    text: &str,
) -> Result<(), PipelineError> {
    let text = check_text("text", text)?;
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
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
    move_to(&mut tx, state, &row, target, Actor::Citizen, None).await?;
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
    let row = db::workflow::lock_by_number(&mut tx, number)
        .await?
        .ok_or(PipelineError::NotFound)?;
    let data = json!({ "message": body, "from": "citizen" });
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
    move_to(&mut tx, state, &row, target, Actor::Citizen, None).await?;
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
/// and acknowledged like a new one. Returns the new request's number.
pub async fn split(
    state: &AppState,
    agent: &Agent,
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
    let data = json!({ "report_id": report.id, "to_request": new_number });
    db::events::insert(&mut *tx, row.id, EventKind::Split, agent.actor(), &data).await?;
    notify::notify(&mut tx, &state.config.notify, id, Notice::Created).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(new_number)
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
