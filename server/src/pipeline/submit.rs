//! Filing a request of any démarche, from any channel: the citizen's web form or app, an
//! integrator's API call, or an agent entering a phone, desk, mail or e-mail request.
//!
//! The form data is checked against the démarche's form at its current revision (which the
//! request then keeps). Geolocated démarches go through the incident intake, with its photo
//! pipeline and duplicate detection; the others are opened here. Either way the result is a
//! request of the same table, routed, acknowledged and announced to webhooks.

use bytes::Bytes;
use guichet_shared::forms::{self, FileMeta, Kind};
use guichet_shared::phase::{Lang, Phase};
use guichet_shared::validation::{FieldError, validate_contact};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::admit::{Admitted, Door, Origin, admit};
use super::form::first_of_kind;
use super::open::{self, AttachedFile, Contact, LocationSource, Opening, Place};
use super::{PipelineError, Receipt, Submitted};
use crate::codes::{self, ReceiptOf};
use crate::db::{self, DbError};
use crate::files;
use crate::intake::{self, FormParts};
use crate::notify::{self, Notice};
use crate::state::AppState;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "client_id": "5d0c2a59-8f3e-4b8a-9c61-0e7a1d2b3c4f", "demarche": "demande-contact",
    "channel": "web",
    "data": {"subject": "information", "message": "Quels sont les horaires de la mairie le samedi ?",
             "last_name": "Martin", "first_name": "Léa", "contact_email": "lea.martin@example.org",
             "reply_channel": "email"},
    "contact": {"name": "Léa Martin", "email": "lea.martin@example.org"}
}))]
pub struct RequestSubmission {
    pub client_id: Uuid,
    pub demarche: String,
    #[serde(default = "empty_object")]
    pub data: serde_json::Value,
    #[serde(default)]
    pub contact: Option<RequestContact>,
    #[serde(default)]
    pub channel: Option<String>,
    /// Documents of the filer's wallet put in the form's file fields, instead of uploading
    /// them again (a logged-in citizen's filing only).
    #[serde(default)]
    pub documents: Vec<crate::wallet::DocumentRef>,
}

/// The default of a submission's `data`.
pub fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
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

/// The acknowledgement returned to the filer (and replayed unchanged on a retry).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestReceipt {
    pub request_number: String,
    pub tracking_code: String,
    pub demarche: String,
    pub demarche_title: String,
    pub status: String,
    pub status_label: String,
    pub phase: Phase,
    pub channel: guichet_shared::channel::Channel,
    /// The service in charge, as the acknowledgement names it.
    pub service: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub due_at: Option<OffsetDateTime>,
    pub status_url: String,
    pub acknowledgement: guichet_shared::api::Acknowledgement,
}

pub async fn submit(
    state: &AppState,
    sub: RequestSubmission,
    files: Vec<UploadedFile>,
    origin: Origin,
    lang: Lang,
) -> Result<Submitted, PipelineError> {
    let citizen_id = match &origin {
        Origin::SelfService { citizen: Some(c) } => Some(c.id),
        _ => None,
    };
    let admitted = admit(
        &state.db,
        &sub.demarche,
        sub.channel.as_deref(),
        &origin,
        Door::Form,
    )
    .await?;
    let form = &admitted.form;
    let wallet = crate::wallet::attachments(
        state,
        citizen_id,
        form,
        admitted.demarche.geolocated,
        &sub.documents,
    )
    .await?;
    let mut contact = sub.contact.clone().unwrap_or_default();
    let mut errors = check_contact(&mut contact);
    let metas = metas_of(&files);
    // The form checks uploaded and wallet files alike (types, sizes, counts per field).
    let all_metas: Vec<FileMeta> = metas
        .iter()
        .cloned()
        .chain(wallet.iter().map(|w| w.meta.clone()))
        .collect();
    let today = OffsetDateTime::now_utc().date();
    let data = match forms::validate(form, &sub.data, &all_metas, today) {
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
    let form_value = |kind| {
        first_of_kind(form, kind)
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
    let active = forms::active_file_fields(form, &data);
    let (files, metas): (Vec<UploadedFile>, Vec<FileMeta>) = files
        .into_iter()
        .zip(metas)
        .filter(|(f, _)| active.contains(&f.field.as_str()))
        .unzip();
    let wallet: Vec<AttachedFile> = wallet
        .into_iter()
        .filter(|w| active.contains(&w.meta.field.as_str()))
        .map(|w| w.attached)
        .collect();
    let checked = Checked {
        state,
        sub: &sub,
        admitted: &admitted,
        contact: &contact,
        data: serde_json::Value::Object(data),
        wallet,
        lang,
    };
    if admitted.demarche.geolocated {
        return submit_report(&checked, files, metas).await;
    }
    submit_request(&checked, files, metas).await
}

/// A submission that passed every check, on its way to storage.
struct Checked<'a> {
    state: &'a AppState,
    sub: &'a RequestSubmission,
    admitted: &'a Admitted,
    contact: &'a RequestContact,
    data: serde_json::Value,
    /// Wallet documents attached, already in the store.
    wallet: Vec<AttachedFile>,
    lang: Lang,
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

/// Checks the contact given apart from the form; its phone number is kept in E.164 form, by
/// the same rule as the form's phone fields.
fn check_contact(contact: &mut RequestContact) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let as_report_contact = guichet_shared::api::Contact {
        email: contact.email.clone(),
        name: contact.name.clone(),
    };
    validate_contact(&mut errors, "contact", &as_report_contact);
    if let Some(phone) = non_empty(&contact.phone) {
        match forms::normalise_phone(phone) {
            Ok(e164) => contact.phone = Some(e164),
            Err(e) => errors.push(e.field_error("contact.phone")),
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
    files: Vec<UploadedFile>,
    metas: Vec<FileMeta>,
) -> Result<Submitted, PipelineError> {
    let Checked {
        state,
        sub,
        admitted,
        contact,
        data,
        wallet,
        lang,
    } = c;
    let form = &admitted.form;
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
        category: admitted.demarche.code.clone(),
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
    let (photos, documents): (Vec<_>, Vec<_>) = files
        .into_iter()
        .zip(metas)
        .partition(|(f, _)| crate::wallet::is_public_photo_field(form, &f.field));
    let mut attached = store_files(state, &documents).await?;
    attached.extend(wallet.iter().cloned());
    let parts = FormParts {
        data: data.clone(),
        phone: non_empty(&contact.phone).map(str::to_owned),
        files: attached,
    };
    let photos = photos.into_iter().map(|(f, _)| f.bytes).collect();
    Ok(intake::submit(state, admitted, report, photos, parts, *lang).await?)
}

/// Writes uploaded files to the store (see `crate::files`) and describes them for the request.
pub async fn store_files(
    state: &AppState,
    files: &[(UploadedFile, FileMeta)],
) -> Result<Vec<AttachedFile>, PipelineError> {
    let attached: Vec<AttachedFile> = files
        .iter()
        .map(|(file, meta)| AttachedFile {
            key: files::key_for(&file.bytes, &meta.mime),
            field: file.field.clone(),
            filename: file.filename.clone(),
            mime: meta.mime.clone(),
            bytes: i32::try_from(meta.bytes).unwrap_or(i32::MAX),
        })
        .collect();
    let writes: Vec<(String, Bytes)> = attached
        .iter()
        .zip(files)
        .map(|(a, (file, _))| (a.key.clone(), file.bytes.clone()))
        .collect();
    files::write(state, &writes).await?;
    Ok(attached)
}

async fn submit_request(
    c: &Checked<'_>,
    files: Vec<UploadedFile>,
    metas: Vec<FileMeta>,
) -> Result<Submitted, PipelineError> {
    if let Some(receipt) = db::receipts::stored(&c.state.db, c.sub.client_id).await? {
        return Ok(Submitted::Replayed(receipt));
    }
    let files: Vec<(UploadedFile, FileMeta)> = files.into_iter().zip(metas).collect();
    let mut attached = store_files(c.state, &files).await?;
    attached.extend(c.wallet.iter().cloned());
    store_request(c, &attached).await
}

async fn store_request(
    c: &Checked<'_>,
    files: &[AttachedFile],
) -> Result<Submitted, PipelineError> {
    let Checked {
        state,
        sub,
        admitted,
        contact,
        data,
        lang,
        ..
    } = c;
    let form = &admitted.form;
    let demarche = &admitted.demarche;
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    db::receipts::lock_client_id(&mut tx, sub.client_id).await?;
    if let Some(receipt) = db::receipts::stored(&mut *tx, sub.client_id).await? {
        return Ok(Submitted::Replayed(receipt));
    }
    // A place given in the form (a geo point, or an address with coordinates) routes by zone.
    let coordinates = first_of_kind(form, Kind::GeoPoint)
        .or_else(|| first_of_kind(form, Kind::Address))
        .and_then(|id| data.get(id))
        .and_then(|v| {
            let lat = v.get("lat").and_then(serde_json::Value::as_f64)?;
            let lon = v.get("lon").and_then(serde_json::Value::as_f64)?;
            Some((lat, lon))
        });
    let place = match coordinates {
        Some((lat, lon)) => Some(Place {
            lat,
            lon,
            accuracy_m: None,
            source: LocationSource::Address,
            zone_id: db::zones::locate(&state.db, lat, lon).await?.map(|z| z.id),
        }),
        None => None,
    };
    let address = first_of_kind(form, Kind::Address)
        .and_then(|id| data.get(id))
        .and_then(|v| {
            v.get("text")
                .and_then(|t| t.as_str())
                .or_else(|| v.as_str())
        });
    let opened = open::open(
        &mut tx,
        &Opening {
            place,
            address,
            data,
            contact: Contact {
                name: non_empty(&contact.name),
                email: non_empty(&contact.email),
                phone: non_empty(&contact.phone),
            },
            client_id: Some(sub.client_id),
            files,
            ..Opening::admitted(admitted, *lang)
        },
    )
    .await?;
    let notice = Notice::Created {
        tracking_code: Some(&opened.tracking_code),
    };
    notify::notify(&mut tx, &state.config.notify, opened.id, notice).await?;

    let (received_at, due_at) = db::requests::filed_at(&mut tx, opened.id).await?;
    let service = db::workflow::team_name(&mut tx, opened.team_id).await?;
    let initial = opened.workflow.status(opened.workflow.initial);
    let acknowledgement = super::acknowledgement::of(
        &mut tx,
        state,
        opened.id,
        &opened.tracking_code,
        received_at,
        super::acknowledgement::Filed::Opened,
        *lang,
    )
    .await?;
    let receipt = Receipt::Request(RequestReceipt {
        acknowledgement,
        status_url: format!(
            "{}/api/v1/requests/{}?tracking_code={}",
            state.config.public_url, opened.number, opened.tracking_code
        ),
        request_number: opened.number,
        tracking_code: opened.tracking_code,
        demarche: demarche.code.clone(),
        demarche_title: demarche.title.clone(),
        status: opened.workflow.initial.to_owned(),
        status_label: initial.map_or("", |s| s.label(*lang)).to_owned(),
        phase: Phase::Received,
        channel: admitted.channel,
        service,
        received_at,
        due_at,
    });
    let (ttl, of) = (state.config.receipt_code_ttl, ReceiptOf::Request(opened.id));
    codes::keep_receipt(&mut tx, ttl, of, &receipt.to_json()?).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(Submitted::Created(Box::new(receipt)))
}
