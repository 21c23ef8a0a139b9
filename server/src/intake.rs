//! Incident reports: from a parsed report and its photo bytes to a stored report, either the
//! first of a new request or a co-report of an open one ("me too" included).
//!
//! Cheap checks come first (fields, a retry of a known client id, the service area), then the
//! photos are processed off the async threads and written to the store, and everything else
//! is stored in one transaction in which the dedup module decides where the report goes. The
//! photo files of a submission that fails are left to the clean-up job (`crate::files`).

use bytes::Bytes;
use guichet_shared::api::{Acknowledgement, Contact, PhotoLinks, ReportReceipt, ReportSubmission};
use guichet_shared::channel::Channel;
use guichet_shared::dedup::Outcome;
use guichet_shared::phase::Lang;
use guichet_shared::timeline::EventKind;
use guichet_shared::validation::{FieldError, validate_contact, validate_report};
use time::OffsetDateTime;

use crate::codes::{self, ReceiptOf};
use crate::db::{self, DbError, events::Actor, reports::PhotoRow};
use crate::dedup;
use crate::files::{self, FileError};
use crate::inflight::{self, Entry};
use crate::notify::{self, Notice};
use crate::photos::{self, GateBusy, PhotoError, ProcessedPhoto};
use crate::pipeline::acknowledgement::{self, Filed};
use crate::pipeline::admit::{Admitted, Door, Origin, admit};
use crate::pipeline::open::{self, AttachedFile, LocationSource, Opening, Place};
use crate::pipeline::{PipelineError, Receipt, Submitted};
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("the point is outside the service area")]
    OutsideServiceArea { lat: f64, lon: f64 },
    #[error("photo {index}: {source}")]
    Photo { index: usize, source: PhotoError },
    #[error("photo processing is saturated")]
    Busy(GateBusy),
    #[error("no open incident has this number")]
    RequestNotFound,
    #[error("the request is {phase}: it takes no more reports")]
    RequestClosed { phase: String },
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What a report filed through a démarche's whole form carries besides the report itself.
#[derive(Debug, Clone, Default)]
pub struct FormParts {
    /// The checked form data, stored with a new request and with the report.
    pub data: serde_json::Value,
    /// A phone number given with the submission.
    pub phone: Option<String>,
    /// Files of the form other than photos (already in the store), attached to the request.
    pub files: Vec<AttachedFile>,
}

/// The app's quick report (`POST /reports`), or a field agent's (`POST /agent/reports`):
/// checked, admitted, then stored.
pub async fn file_report(
    state: &AppState,
    report: ReportSubmission,
    photo_bytes: Vec<Bytes>,
    origin: Origin,
    lang: Lang,
) -> Result<Submitted, PipelineError> {
    check(&report).map_err(IntakeError::Invalid)?;
    let admitted = admit(
        &state.db,
        &report.category,
        None,
        &origin,
        Door::QuickReport,
    )
    .await?;
    Ok(store(
        state,
        &admitted,
        report,
        photo_bytes,
        FormParts::default(),
        lang,
    )
    .await?)
}

/// A report of an admitted geolocated démarche, filed through its whole form.
pub async fn submit(
    state: &AppState,
    admitted: &Admitted,
    report: ReportSubmission,
    photo_bytes: Vec<Bytes>,
    form: FormParts,
    lang: Lang,
) -> Result<Submitted, IntakeError> {
    check(&report).map_err(IntakeError::Invalid)?;
    store(state, admitted, report, photo_bytes, form, lang).await
}

fn check(report: &ReportSubmission) -> Result<(), Vec<FieldError>> {
    let errors = validate_report(report, OffsetDateTime::now_utc());
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

async fn store(
    state: &AppState,
    admitted: &Admitted,
    report: ReportSubmission,
    photo_bytes: Vec<Bytes>,
    form: FormParts,
    lang: Lang,
) -> Result<Submitted, IntakeError> {
    let _claim = loop {
        if let Some(receipt) = db::receipts::stored(&state.db, report.client_id).await? {
            return Ok(Submitted::Replayed(receipt));
        }
        match state.in_flight.enter(report.client_id) {
            Entry::First(claim) => break claim,
            Entry::Retry(running) => inflight::finished(running).await,
        }
    };
    let zone = db::zones::locate(&state.db, report.lat, report.lon)
        .await?
        .ok_or(IntakeError::OutsideServiceArea {
            lat: report.lat,
            lon: report.lon,
        })?;

    let processed = prepare_photos(state, photo_bytes).await?;

    let place = Place {
        lat: report.lat,
        lon: report.lon,
        accuracy_m: report.accuracy_m,
        source: LocationSource::of_report(report.accuracy_m),
        zone_id: Some(zone.id),
    };
    Ok(store_report(state, admitted, &report, place, &processed, &form, lang).await?)
}

/// Checks, processes and stores photos (a report's, or those a field agent takes after the
/// work): refused at the first that is not a photo, before any takes a place in the queue.
/// The stored variants are claimed for clean-up until a row refers to them.
pub async fn prepare_photos(
    state: &AppState,
    photo_bytes: Vec<Bytes>,
) -> Result<Vec<ProcessedPhoto>, IntakeError> {
    if photo_bytes.is_empty() {
        return Ok(Vec::new());
    }
    for (index, bytes) in photo_bytes.iter().enumerate() {
        photos::sniff(bytes).map_err(|source| IntakeError::Photo { index, source })?;
    }
    let processed = process_photos(state, photo_bytes).await?;
    let variants: Vec<(String, Bytes)> = processed
        .iter()
        .flat_map(|p| [&p.display, &p.thumbnail])
        .map(|v| (v.key.clone(), Bytes::from(v.bytes.clone())))
        .collect();
    files::write(state, &variants).await?;
    Ok(processed)
}

async fn process_photos(
    state: &AppState,
    photo_bytes: Vec<Bytes>,
) -> Result<Vec<ProcessedPhoto>, IntakeError> {
    let jobs = photo_bytes.into_iter().map(|bytes| {
        let limits = state.config.photos.clone();
        state
            .photo_gate
            .run(move |effort| (effort, photos::process_with(&bytes, &limits, effort)))
    });
    let results = futures::future::join_all(jobs).await;
    let mut processed = Vec::with_capacity(results.len());
    for (index, result) in results.into_iter().enumerate() {
        match result {
            Err(busy) => {
                state.metrics.photo_busy();
                return Err(IntakeError::Busy(busy));
            }
            Ok((_, Err(source))) => return Err(IntakeError::Photo { index, source }),
            Ok((effort, Ok(photo))) => {
                state.metrics.photo_processed(effort);
                processed.push(photo);
            }
        }
    }
    Ok(processed)
}

async fn store_report(
    state: &AppState,
    admitted: &Admitted,
    report: &ReportSubmission,
    place: Place,
    processed: &[ProcessedPhoto],
    form: &FormParts,
    lang: Lang,
) -> Result<Submitted, DbError> {
    let mut tx = state.db.begin().await?;
    db::receipts::lock_client_id(&mut tx, report.client_id).await?;
    if let Some(receipt) = db::receipts::stored(&mut *tx, report.client_id).await? {
        return Ok(Submitted::Replayed(receipt));
    }

    let description = report.description.trim();
    let address = report
        .address
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    let hashes: Vec<u64> = processed.iter().map(|p| p.phash).collect();
    let outcome = dedup::decide(
        &mut tx,
        &admitted.demarche,
        &state.config.dedup,
        report.lat,
        report.lon,
        report.accuracy_m,
        &hashes,
    )
    .await?;
    let (request_id, report_code, co_report) = match outcome {
        Outcome::CoReport { request_id, score } => {
            open::attach_files(&mut tx, request_id, &form.files).await?;
            // A co-reporter gets a code of their own, which only follows the request.
            (request_id, codes::new_code(), Some(score))
        }
        Outcome::NewRequest | Outcome::PossibleDuplicate { .. } => {
            let possible_duplicate_of = match outcome {
                Outcome::PossibleDuplicate { request_id, score } => Some((request_id, score)),
                _ => None,
            };
            // The contact stays on the report, where every reporter keeps theirs.
            let opened = open::open(
                &mut tx,
                &Opening {
                    place: Some(place),
                    address,
                    description,
                    data: &form.data,
                    possible_duplicate_of,
                    files: &form.files,
                    ..Opening::admitted(admitted, lang)
                },
            )
            .await?;
            // The first reporter holds the request's own code.
            (opened.id, opened.tracking_code, None)
        }
    };
    let deduplicated = co_report.is_some();
    let request = db::requests::count_report(&mut tx, request_id).await?;
    let (report_id, received_at) = db::reports::insert(
        &mut tx,
        &db::reports::NewReport {
            client_id: report.client_id,
            request_id,
            channel: admitted.channel,
            lat: report.lat,
            lon: report.lon,
            accuracy_m: report.accuracy_m,
            description,
            address,
            observed_at: report.observed_at,
            contact_email: report.contact.as_ref().and_then(|c| c.email.as_deref()),
            contact_name: report.contact.as_ref().and_then(|c| c.name.as_deref()),
            deduplicated,
            lang: lang.as_str(),
            tracking_code_digest: &codes::digest(&report_code),
            data: &form.data,
            contact_phone: form.phone.as_deref(),
        },
    )
    .await?;
    let mut links = Vec::with_capacity(processed.len());
    for (position, photo) in processed.iter().enumerate() {
        let row = photo_row(photo);
        db::reports::insert_photo(&mut tx, report_id, position as i16, &row).await?;
        links.push(PhotoLinks {
            url: state.photo_url(&row.display_key),
            thumbnail_url: state.photo_url(&row.thumb_key),
            width: row.display_width,
            height: row.display_height,
        });
    }
    if let Some(score) = co_report {
        let data = serde_json::json!({ "report_count": request.report_count, "score": score });
        db::events::insert(
            &mut *tx,
            request_id,
            EventKind::CoReport,
            Actor::Citizen,
            &data,
        )
        .await?;
    }
    // After the report row: the acknowledgement goes to the contact it carries, with the
    // reporter's own code (the request's for its filer).
    let notice = if deduplicated {
        Notice::ReportAdded {
            report_id,
            tracking_code: Some(&report_code),
        }
    } else {
        Notice::Created {
            tracking_code: Some(&report_code),
        }
    };
    notify::notify(&mut tx, &state.config.notify, request_id, notice).await?;

    let filed = if deduplicated {
        Filed::Joined
    } else {
        Filed::Opened
    };
    let ack = acknowledgement::of(
        &mut tx,
        state,
        request_id,
        &report_code,
        received_at,
        filed,
        lang,
    )
    .await?;
    let receipt = report_receipt(
        state,
        request,
        &report_code,
        deduplicated,
        links,
        received_at,
        lang,
        ack,
    );
    let ttl = state.config.receipt_code_ttl;
    codes::keep_receipt(
        &mut tx,
        ttl,
        ReceiptOf::Report(report_id),
        &receipt.to_json()?,
    )
    .await?;
    tx.commit().await?;
    state.metrics.report_stored(deduplicated);
    Ok(Submitted::Created(Box::new(receipt)))
}

/// "Me too": a co-report without photo of an open incident, by its number. Idempotent by
/// client id like every report.
pub async fn support(
    state: &AppState,
    number: &str,
    client_id: uuid::Uuid,
    contact: Option<&Contact>,
    lang: Lang,
) -> Result<Submitted, IntakeError> {
    let mut errors = Vec::new();
    if let Some(contact) = contact {
        validate_contact(&mut errors, "contact", contact);
    }
    if !errors.is_empty() {
        return Err(IntakeError::Invalid(errors));
    }
    if let Some(receipt) = db::receipts::stored(&state.db, client_id).await? {
        return Ok(Submitted::Replayed(receipt));
    }
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    db::receipts::lock_client_id(&mut tx, client_id).await?;
    if let Some(receipt) = db::receipts::stored(&mut *tx, client_id).await? {
        return Ok(Submitted::Replayed(receipt));
    }
    let target = db::reports::support_target(&mut tx, number)
        .await?
        .ok_or(IntakeError::RequestNotFound)?;
    let (Some(lat), Some(lon)) = (target.lat, target.lon) else {
        return Err(IntakeError::RequestNotFound);
    };
    if !target.phase.is_open() {
        return Err(IntakeError::RequestClosed {
            phase: target.phase.as_str().to_owned(),
        });
    }
    // The supporter's own code: it follows the request, and acts on nothing.
    let report_code = codes::new_code();
    let request = db::requests::count_report(&mut tx, target.id).await?;
    let (report_id, received_at) = db::reports::insert(
        &mut tx,
        &db::reports::NewReport {
            client_id,
            request_id: target.id,
            channel: Channel::App,
            lat,
            lon,
            accuracy_m: None,
            description: "",
            address: None,
            observed_at: None,
            contact_email: contact.and_then(|c| c.email.as_deref()),
            contact_name: contact.and_then(|c| c.name.as_deref()),
            deduplicated: true,
            lang: lang.as_str(),
            tracking_code_digest: &codes::digest(&report_code),
            data: &serde_json::json!({}),
            contact_phone: None,
        },
    )
    .await?;
    let data = serde_json::json!({ "report_count": request.report_count, "support": true });
    db::events::insert(
        &mut *tx,
        target.id,
        EventKind::CoReport,
        Actor::Citizen,
        &data,
    )
    .await?;
    notify::notify(
        &mut tx,
        &state.config.notify,
        target.id,
        Notice::ReportAdded {
            report_id,
            tracking_code: Some(&report_code),
        },
    )
    .await?;
    let ack = acknowledgement::of(
        &mut tx,
        state,
        target.id,
        &report_code,
        received_at,
        Filed::Joined,
        lang,
    )
    .await?;
    let receipt = report_receipt(
        state,
        request,
        &report_code,
        true,
        Vec::new(),
        received_at,
        lang,
        ack,
    );
    let ttl = state.config.receipt_code_ttl;
    codes::keep_receipt(
        &mut tx,
        ttl,
        ReceiptOf::Report(report_id),
        &receipt.to_json()?,
    )
    .await?;
    tx.commit().await.map_err(DbError::from)?;
    state.metrics.report_stored(true);
    Ok(Submitted::Created(Box::new(receipt)))
}

/// What a reporter is told. `tracking_code` is the reporter's own: the request's for the one
/// who created it, a follow-only code for co-reporters and supporters.
#[allow(clippy::too_many_arguments)] // one value per fact of the receipt
fn report_receipt(
    state: &AppState,
    request: db::requests::AttachedRequest,
    tracking_code: &str,
    deduplicated: bool,
    photos: Vec<PhotoLinks>,
    received_at: OffsetDateTime,
    lang: Lang,
    acknowledgement: Acknowledgement,
) -> Receipt {
    Receipt::Report(ReportReceipt {
        acknowledgement: Some(acknowledgement),
        status_url: format!(
            "{}/api/v1/requests/{}?tracking_code={tracking_code}",
            state.config.public_url, request.number
        ),
        request_number: request.number,
        tracking_code: tracking_code.to_owned(),
        status: request.phase.label(lang).to_owned(),
        phase: request.phase,
        deduplicated,
        report_count: request.report_count,
        photos,
        received_at,
    })
}

fn photo_row(p: &ProcessedPhoto) -> PhotoRow {
    let int = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    let px = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    PhotoRow {
        source_sha256: p.source_sha256.clone(),
        source_format: p.source_format.as_str(),
        source_bytes: int(p.source_bytes),
        source_width: px(p.source_width),
        source_height: px(p.source_height),
        display_key: p.display.key.clone(),
        display_width: px(p.display.width),
        display_height: px(p.display.height),
        display_bytes: int(p.display.bytes.len()),
        thumb_key: p.thumbnail.key.clone(),
        thumb_width: px(p.thumbnail.width),
        thumb_height: px(p.thumbnail.height),
        thumb_bytes: int(p.thumbnail.bytes.len()),
        phash: p.phash as i64,
    }
}
