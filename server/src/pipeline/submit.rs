//! Filing a request of any démarche, from any channel: the citizen's web form or app, an
//! integrator's API call, or an agent entering a phone, desk, mail or e-mail request.
//!
//! The form data is checked against the démarche's form at its current revision (which the
//! request then keeps). Geolocated démarches go through the incident intake, with its photo
//! pipeline and duplicate detection; the others are stored here. Either way the result is a
//! request of the same table, routed, acknowledged and announced to webhooks.

use bytes::Bytes;
use guichet_shared::forms::{self, FileMeta, FormDefinition, Kind};
use guichet_shared::phase::{Lang, Phase};
use guichet_shared::validation::{FieldError, validate_contact};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::PipelineError;
use super::form::first_of_kind;
use crate::db::{self, DbError, accounts::CitizenRow, catalogue::IntakeDemarche};
use crate::intake::{self, Filer, Submitted, new_tracking_code, workflow_of};
use crate::notify::{self, Notice};
use crate::outbox;
use crate::state::AppState;

/// Channels a citizen or an integrator files through themselves.
pub const SELF_SERVICE_CHANNELS: &[&str] = &["web", "app", "api"];
/// Channels an agent enters on a citizen's behalf.
pub const AGENT_CHANNELS: &[&str] = &["phone", "desk", "mail", "email"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSubmission {
    pub client_id: Uuid,
    pub demarche: String,
    #[serde(default = "empty_object")]
    pub data: serde_json::Value,
    #[serde(default)]
    pub contact: Option<RequestContact>,
    #[serde(default)]
    pub channel: Option<String>,
}

/// The default of a submission's `data`.
pub fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RequestContact {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// A file part of a multipart submission, named after its form field.
#[derive(Debug, Clone)]
pub struct UploadedFile {
    pub field: String,
    pub filename: String,
    pub bytes: Bytes,
}

/// Who is filing.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A citizen (logged in or not) or an integrator.
    SelfService { citizen: Option<CitizenRow> },
    /// An agent entering a request received by phone, at the desk, by mail or e-mail.
    Agent { agent_id: i64 },
}

/// The acknowledgement returned to the filer (and replayed unchanged on a retry).
#[derive(Debug, Clone, Serialize)]
pub struct RequestReceipt {
    pub request_number: String,
    pub tracking_code: String,
    pub demarche: String,
    pub demarche_title: String,
    pub status: String,
    pub status_label: String,
    pub phase: Phase,
    pub channel: String,
    /// The service in charge, as the acknowledgement names it.
    pub service: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub due_at: Option<OffsetDateTime>,
    pub status_url: String,
}

pub async fn submit(
    state: &AppState,
    sub: RequestSubmission,
    files: Vec<UploadedFile>,
    origin: Origin,
    lang: Lang,
) -> Result<Submitted, PipelineError> {
    let code = sub.demarche.trim();
    let demarche = db::catalogue::find_for_intake(&state.db, code)
        .await?
        .ok_or_else(|| {
            PipelineError::invalid(
                "demarche",
                "unknown-demarche",
                format!("no démarche has the code {code:?}; see GET /api/v1/catalogue"),
            )
        })?;
    let channel = check_channel(&sub, &demarche, &origin)?;
    let (citizen_id, entered_by, actor) = match &origin {
        Origin::SelfService { citizen } => {
            if demarche.auth == "account" {
                let citizen = citizen.as_ref().ok_or(PipelineError::AccountRequired)?;
                if citizen.email_verified_at.is_none() {
                    return Err(PipelineError::EmailNotVerified);
                }
            }
            (citizen.as_ref().map(|c| c.id), None, "citizen".to_owned())
        }
        Origin::Agent { agent_id } => (None, Some(*agent_id), format!("agent:{agent_id}")),
    };
    let contact = sub.contact.clone().unwrap_or_default();
    let mut errors = check_contact(&contact);

    let form = super::form::parse(&demarche.code, demarche.form.as_ref())?;
    let metas = metas_of(&files);
    let today = OffsetDateTime::now_utc().date();
    let data = match forms::validate(&form, &sub.data, &metas, today) {
        Ok(data) => Some(data),
        Err(mut form_errors) => {
            errors.append(&mut form_errors);
            None
        }
    };
    if !errors.is_empty() {
        return Err(PipelineError::Invalid(errors));
    }
    let data = data.unwrap_or_default();
    // The form's own e-mail and phone fields stand for the contact when none is given apart.
    let mut contact = contact;
    let form_value = |kind| {
        first_of_kind(&form, kind)
            .and_then(|id| data.get(id))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    if non_empty(&contact.email).is_none() {
        contact.email = form_value(Kind::Email);
    }
    if non_empty(&contact.phone).is_none() {
        contact.phone = form_value(Kind::Phone);
    }
    // Files of fields the answers leave out (a condition not met) are not kept.
    let active = forms::active_file_fields(&form, &data);
    let (files, metas): (Vec<UploadedFile>, Vec<FileMeta>) = files
        .into_iter()
        .zip(metas)
        .filter(|(f, _)| active.contains(&f.field.as_str()))
        .unzip();
    let filer = Filer {
        citizen_id,
        entered_by,
        actor,
        data: serde_json::Value::Object(data.clone()),
        phone: non_empty(&contact.phone).map(str::to_owned),
        files: Vec::new(),
    };

    let checked = Checked {
        state,
        sub: &sub,
        demarche: &demarche,
        form: &form,
        contact: &contact,
        channel,
        lang,
        filer: &filer,
    };
    if demarche.geolocated {
        return submit_report(&checked, data, files, metas).await;
    }
    submit_request(&checked, files, metas).await
}

/// A submission that passed every check, on its way to storage.
struct Checked<'a> {
    state: &'a AppState,
    sub: &'a RequestSubmission,
    demarche: &'a IntakeDemarche,
    form: &'a FormDefinition,
    contact: &'a RequestContact,
    channel: &'static str,
    lang: Lang,
    filer: &'a Filer,
}

/// What the form engine checks of uploaded files: their field, name, size, and the type their
/// bytes show (never the name or the client's claim).
pub fn metas_of(files: &[UploadedFile]) -> Vec<FileMeta> {
    files
        .iter()
        .map(|f| FileMeta {
            field: f.field.clone(),
            filename: f.filename.clone(),
            mime: forms::sniff_mime(&f.bytes)
                .unwrap_or("application/octet-stream")
                .to_owned(),
            bytes: f.bytes.len() as u64,
        })
        .collect()
}

fn check_channel(
    sub: &RequestSubmission,
    demarche: &IntakeDemarche,
    origin: &Origin,
) -> Result<&'static str, PipelineError> {
    let given = sub.channel.as_deref().map(str::trim);
    let channel = match origin {
        Origin::SelfService { .. } => {
            let given = given.unwrap_or("web");
            SELF_SERVICE_CHANNELS
                .iter()
                .find(|c| **c == given)
                .copied()
                .ok_or_else(|| {
                    if AGENT_CHANNELS.contains(&given) {
                        PipelineError::invalid(
                            "channel",
                            "channel-reserved-for-agents",
                            format!("{given:?} requests are entered by agents (POST /api/v1/agent/requests)"),
                        )
                    } else {
                        PipelineError::invalid(
                            "channel",
                            "unknown-channel",
                            format!("channel must be one of {SELF_SERVICE_CHANNELS:?}"),
                        )
                    }
                })?
        }
        Origin::Agent { .. } => {
            let given = given.ok_or_else(|| {
                PipelineError::invalid(
                    "channel",
                    "required",
                    format!("say how the request came in: one of {AGENT_CHANNELS:?}"),
                )
            })?;
            AGENT_CHANNELS
                .iter()
                .find(|c| **c == given)
                .copied()
                .ok_or_else(|| {
                    PipelineError::invalid(
                        "channel",
                        "unknown-channel",
                        format!("an agent enters requests of channel {AGENT_CHANNELS:?}"),
                    )
                })?
        }
    };
    // The app is the web UI in a shell: a démarche open on the web is open in the app.
    let offered = demarche.channels.iter().any(|c| c == channel)
        || (channel == "app" && demarche.channels.iter().any(|c| c == "web"));
    if !offered {
        return Err(PipelineError::invalid(
            "channel",
            "channel-not-offered",
            format!(
                "{} is not offered through {channel:?} (channels: {:?})",
                demarche.code, demarche.channels
            ),
        ));
    }
    Ok(channel)
}

fn check_contact(contact: &RequestContact) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let as_report_contact = guichet_shared::api::Contact {
        email: contact.email.clone(),
        name: contact.name.clone(),
    };
    validate_contact(&mut errors, "contact", &as_report_contact);
    if let Some(phone) = contact
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        let allowed = phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +.-()".contains(c));
        if !allowed || !(6..=15).contains(&digits) {
            errors.push(FieldError::new(
                "contact.phone",
                "invalid-phone",
                "a phone number has 6 to 15 digits, with optional spaces, dots, dashes and a leading +",
            ));
        }
    }
    errors
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A geolocated démarche: the form's place, text and photos become an incident report.
async fn submit_report(
    c: &Checked<'_>,
    data: serde_json::Map<String, serde_json::Value>,
    files: Vec<UploadedFile>,
    metas: Vec<FileMeta>,
) -> Result<Submitted, PipelineError> {
    let Checked {
        state,
        sub,
        form,
        contact,
        filer,
        ..
    } = *c;
    let place = first_of_kind(form, Kind::GeoPoint).and_then(|id| data.get(id));
    let Some(place) = place else {
        return Err(PipelineError::invalid(
            "data",
            "location-required",
            "a report of this démarche needs its place (a geo point)",
        ));
    };
    let coordinate = |k: &str| place.get(k).and_then(serde_json::Value::as_f64);
    let (Some(lat), Some(lon)) = (coordinate("lat"), coordinate("lon")) else {
        return Err(PipelineError::invalid(
            "data",
            "location-required",
            "the place needs lat and lon",
        ));
    };
    let text_of = |kind| {
        first_of_kind(form, kind)
            .and_then(|id| data.get(id))
            .and_then(|v| {
                v.as_str()
                    .or_else(|| v.get("text").and_then(|t| t.as_str()))
            })
            .map(str::to_owned)
    };
    let report = guichet_shared::api::ReportSubmission {
        client_id: sub.client_id,
        category: sub.demarche.trim().to_owned(),
        lat,
        lon,
        accuracy_m: coordinate("accuracy_m"),
        description: text_of(Kind::LongText).unwrap_or_default(),
        address: text_of(Kind::Address),
        observed_at: None,
        contact: (contact.email.is_some() || contact.name.is_some()).then(|| {
            guichet_shared::api::Contact {
                email: contact.email.clone(),
                name: contact.name.clone(),
            }
        }),
    };
    // Photos are the files of the form's public image fields; they go through the photo
    // pipeline and are shown. Anything else (a consent letter, a document) is attached to the
    // request for agents only.
    let is_photo_field = |id: &str| {
        form.fields.iter().any(|f| {
            f.id == id
                && !f.personal
                && f.file.as_ref().is_some_and(|r| {
                    !r.mime.is_empty() && r.mime.iter().all(|m| m.starts_with("image/"))
                })
        })
    };
    let mut photos = Vec::new();
    let mut filer = filer.clone();
    for (file, meta) in files.iter().zip(&metas) {
        if is_photo_field(&file.field) {
            photos.push(file.bytes.clone());
        } else {
            let stored = store_file(state, file, meta).await?;
            filer.files.push(intake::AttachedFile {
                key: stored.key,
                field: file.field.clone(),
                filename: file.filename.clone(),
                mime: meta.mime.clone(),
                bytes: i32::try_from(meta.bytes).unwrap_or(i32::MAX),
            });
        }
    }
    Ok(intake::submit(state, report, photos, c.channel, c.lang, &filer).await?)
}

async fn submit_request(
    c: &Checked<'_>,
    files: Vec<UploadedFile>,
    metas: Vec<FileMeta>,
) -> Result<Submitted, PipelineError> {
    let Checked { state, sub, .. } = *c;
    {
        let mut conn = state.db.acquire().await.map_err(DbError::from)?;
        if let Some(receipt) = db::pipeline::stored_receipt(&mut conn, sub.client_id).await? {
            return Ok(Submitted::Replayed(receipt));
        }
    }
    let mut stored = Vec::with_capacity(files.len());
    let mut created = Vec::new();
    for (file, meta) in files.iter().zip(&metas) {
        let s = store_file(state, file, meta).await?;
        if s.created {
            created.push(s.key.clone());
        }
        stored.push((s.key, file, meta));
    }
    let result = store_request(c, &stored).await;
    if result.is_err() || matches!(result, Ok(Submitted::Replayed(_))) {
        for key in &created {
            if let Ok(false) = db::intake::photo_key_in_use(&state.db, key).await {
                let _ = state.photos.delete(key).await;
            }
        }
    }
    result
}

/// An attached file once in the store.
pub struct StoredFile {
    pub key: String,
    /// False when the same content was already there (so a failure must not remove it).
    pub created: bool,
}

/// Stores an attached file under the SHA-256 of its bytes. Files are written before the
/// transaction that refers to them; a clean-up job, committed first, removes them later if
/// that transaction never commits.
pub async fn store_file(
    state: &AppState,
    file: &UploadedFile,
    meta: &FileMeta,
) -> Result<StoredFile, PipelineError> {
    let key = file_key(&file.bytes, &meta.mime);
    let payload = serde_json::to_value(outbox::PhotosCleanup {
        keys: vec![key.clone()],
    })
    .map_err(|e| DbError::Data(e.to_string()))?;
    db::outbox::enqueue(
        &state.db,
        outbox::PHOTOS_CLEANUP,
        &payload,
        outbox::PHOTOS_CLEANUP_DELAY,
    )
    .await?;
    let created = state.photos.put(&key, file.bytes.clone()).await?;
    Ok(StoredFile { key, created })
}

fn file_key(bytes: &[u8], mime: &str) -> String {
    let ext = match mime {
        "application/pdf" => "pdf",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "image/heic" => "heic",
        "text/plain" => "txt",
        "application/zip" => "zip",
        _ => "bin",
    };
    format!("{}.{ext}", hex::encode(Sha256::digest(bytes)))
}

async fn store_request(
    c: &Checked<'_>,
    stored: &[(String, &UploadedFile, &FileMeta)],
) -> Result<Submitted, PipelineError> {
    let Checked {
        state,
        sub,
        demarche,
        form,
        contact,
        channel,
        lang,
        filer,
    } = *c;
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    db::intake::lock_client_id(&mut tx, sub.client_id).await?;
    if let Some(receipt) = db::pipeline::stored_receipt(&mut tx, sub.client_id).await? {
        return Ok(Submitted::Replayed(receipt));
    }
    // A place given in the form (a geo point, or an address with coordinates) routes by zone.
    let place = first_of_kind(form, Kind::GeoPoint)
        .or_else(|| first_of_kind(form, Kind::Address))
        .and_then(|id| filer.data.get(id))
        .and_then(|v| {
            let lat = v.get("lat").and_then(serde_json::Value::as_f64)?;
            let lon = v.get("lon").and_then(serde_json::Value::as_f64)?;
            Some((lat, lon))
        });
    let zone_id = match place {
        Some((lat, lon)) => db::zones::locate(&state.db, lat, lon).await?.map(|z| z.id),
        None => None,
    };
    let address = first_of_kind(form, Kind::Address)
        .and_then(|id| filer.data.get(id))
        .and_then(|v| {
            v.get("text")
                .and_then(|t| t.as_str())
                .or_else(|| v.as_str())
        })
        .map(str::to_owned);
    let template = workflow_of(demarche)?;
    let number = db::intake::next_request_number(&mut tx, &demarche.number_prefix).await?;
    let team_id = db::intake::route(&mut tx, &demarche.code, zone_id).await?;
    let tracking_code = new_tracking_code();
    let id = db::intake::insert_request(
        &mut tx,
        &db::intake::NewRequest {
            number: &number,
            tracking_code: &tracking_code,
            demarche: &demarche.code,
            revision: demarche.revision,
            workflow: template.code,
            channel,
            status: template.initial,
            phase: Phase::Received.as_str(),
            team_id,
            zone_id,
            location: place,
            accuracy_m: None,
            location_source: place.map(|_| "address"),
            address: address.as_deref(),
            description: "",
            data: &filer.data,
            sla_days: demarche.sla_days,
            possible_duplicate_of: None,
            client_id: Some(sub.client_id),
            citizen_id: filer.citizen_id,
            entered_by: filer.entered_by,
            contact_name: non_empty(&contact.name),
            contact_email: non_empty(&contact.email),
            contact_phone: non_empty(&contact.phone),
            lang: lang.as_str(),
        },
    )
    .await?;
    let positions = &mut std::collections::HashMap::<&str, i16>::new();
    for (key, file, meta) in stored {
        let position = positions.entry(file.field.as_str()).or_insert(0);
        db::pipeline::insert_file(
            &mut tx,
            &db::pipeline::NewFile {
                request_id: id,
                field_id: &file.field,
                position: *position,
                storage_key: key,
                filename: &file.filename,
                mime: &meta.mime,
                bytes: i32::try_from(meta.bytes).unwrap_or(i32::MAX),
            },
        )
        .await?;
        *position += 1;
    }
    let event = serde_json::json!({ "channel": channel, "team_id": team_id, "entered_by": filer.entered_by });
    db::intake::insert_event(&mut tx, id, "created", true, &filer.actor, &event).await?;
    notify::notify(&mut tx, &state.config.notify, id, Notice::Created).await?;

    let (received_at, due_at) = db::pipeline::filed_at(&mut tx, id).await?;
    let service = db::pipeline::team_name(&mut tx, team_id).await?;
    let initial = template.status(template.initial);
    let receipt = RequestReceipt {
        status_url: format!(
            "{}/api/v1/requests/{number}?tracking_code={tracking_code}",
            state.config.public_url
        ),
        request_number: number,
        tracking_code,
        demarche: demarche.code.clone(),
        demarche_title: demarche.title.clone(),
        status: template.initial.to_owned(),
        status_label: initial.map_or("", |s| s.label(lang)).to_owned(),
        phase: Phase::Received,
        channel: channel.to_owned(),
        service,
        received_at,
        due_at,
    };
    let receipt = serde_json::to_value(&receipt).map_err(|e| DbError::Data(e.to_string()))?;
    db::pipeline::set_receipt(&mut tx, id, &receipt).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(Submitted::Created(receipt))
}
