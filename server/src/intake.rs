//! Report intake: from a parsed submission and its photo bytes to a stored report.
//!
//! Cheap checks come first (fields, category, service area, a retry of a known client id), then
//! the photos are processed off the async threads, written to the store, and everything else is
//! stored in one transaction. If that transaction fails, the photo files it would have
//! referenced are removed again (unless another report uses the same content).

use bytes::Bytes;
use guichet_shared::api::{Contact, PhotoLinks, ReportReceipt, ReportSubmission};
use guichet_shared::phase::{Lang, Phase};
use guichet_shared::validation::{FieldError, validate_contact, validate_report};
use guichet_shared::workflow::{Template, template};
use rand::Rng;
use time::OffsetDateTime;

use crate::db::{self, DbError, catalogue::IntakeDemarche, intake::PhotoRow};
use crate::dedup;
use crate::inflight::{self, Entry};
use crate::notify::{self, Notice};
use crate::outbox;
use crate::photos::{self, GateBusy, PhotoError, ProcessedPhoto, StoreError};
use crate::state::AppState;
use guichet_shared::dedup::Outcome;

pub enum Submitted {
    /// A new report (201). `deduplicated` tells whether it joined an existing request.
    Created(serde_json::Value),
    /// The same client id was seen before: the first answer, unchanged (200).
    Replayed(serde_json::Value),
}

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
    #[error("no request has this number")]
    RequestNotFound,
    #[error("the request is {phase}: it takes no more reports")]
    RequestClosed { phase: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Who files a submission, beyond what the citizen typed.
#[derive(Debug, Clone)]
pub struct Filer {
    /// The logged-in citizen, if any.
    pub citizen_id: Option<i64>,
    /// The agent who entered it on the citizen's behalf (phone, desk, mail, e-mail).
    pub entered_by: Option<i64>,
    /// The actor recorded in events: `citizen` or `agent:<id>`.
    pub actor: String,
    /// The checked form data, stored with a new request and with the report.
    pub data: serde_json::Value,
    /// A phone number given with the submission.
    pub phone: Option<String>,
    /// Files of the form other than photos (already in the store), attached to the request.
    pub files: Vec<AttachedFile>,
}

/// A stored file to attach to the request a report lands in.
#[derive(Debug, Clone)]
pub struct AttachedFile {
    pub key: String,
    pub field: String,
    pub filename: String,
    pub mime: String,
    pub bytes: i32,
}

impl Filer {
    pub fn citizen(citizen_id: Option<i64>) -> Self {
        Self {
            citizen_id,
            entered_by: None,
            actor: "citizen".to_owned(),
            data: serde_json::json!({}),
            phone: None,
            files: Vec::new(),
        }
    }
}

/// How a report came in: its channel, the language of the answer, and who filed it.
#[derive(Clone, Copy)]
struct How<'a> {
    channel: &'static str,
    lang: Lang,
    filer: &'a Filer,
}

/// The workflow template a démarche's requests follow.
pub fn workflow_of(demarche: &IntakeDemarche) -> Result<&'static Template, DbError> {
    template(&demarche.workflow).ok_or_else(|| {
        DbError::Data(format!(
            "démarche {} names an unknown workflow {:?}",
            demarche.code, demarche.workflow
        ))
    })
}

pub async fn submit(
    state: &AppState,
    report: ReportSubmission,
    photo_bytes: Vec<Bytes>,
    channel: &'static str,
    lang: Lang,
    filer: &Filer,
) -> Result<Submitted, IntakeError> {
    let errors = validate_report(&report, OffsetDateTime::now_utc());
    if !errors.is_empty() {
        return Err(IntakeError::Invalid(errors));
    }
    let category = report.category.trim();
    let demarche = db::catalogue::find_for_intake(&state.db, category)
        .await?
        .ok_or_else(|| {
            IntakeError::Invalid(vec![FieldError::new(
                "category",
                "unknown-category",
                format!("no démarche has the code {category:?}; see GET /api/v1/catalogue"),
            )])
        })?;
    if !demarche.geolocated {
        return Err(IntakeError::Invalid(vec![FieldError::new(
            "category",
            "not-a-report-category",
            format!(
                "{category:?} is not a geolocated démarche; file it with POST /api/v1/requests"
            ),
        )]));
    }
    let _claim = loop {
        if let Some(receipt) = db::intake::stored_receipt(&state.db, report.client_id).await? {
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

    // Refuse files that are not images before they take a place in the photo queue.
    for (index, bytes) in photo_bytes.iter().enumerate() {
        photos::sniff(bytes).map_err(|source| IntakeError::Photo { index, source })?;
    }
    let processed = process_photos(state, photo_bytes).await?;
    if !processed.is_empty() {
        schedule_cleanup(state, &processed).await?;
    }
    let written = write_photos(state, &processed).await?;

    let how = How {
        channel,
        lang,
        filer,
    };
    let outcome = store_report(state, &report, &demarche, zone.id, &processed, &how).await;
    if outcome.is_err() || matches!(outcome, Ok(Submitted::Replayed(_))) {
        remove_unreferenced(state, &written).await;
    }
    Ok(outcome?)
}

async fn process_photos(
    state: &AppState,
    photo_bytes: Vec<Bytes>,
) -> Result<Vec<ProcessedPhoto>, IntakeError> {
    let jobs = photo_bytes.into_iter().map(|bytes| {
        let limits = state.config.photos.clone();
        state
            .photo_gate
            .run(move || photos::process(&bytes, &limits))
    });
    let results = futures::future::join_all(jobs).await;
    let mut processed = Vec::with_capacity(results.len());
    for (index, result) in results.into_iter().enumerate() {
        match result {
            Err(busy) => {
                state.metrics.photo_busy();
                return Err(IntakeError::Busy(busy));
            }
            Ok(Err(source)) => return Err(IntakeError::Photo { index, source }),
            Ok(Ok(photo)) => {
                state.metrics.photo_processed();
                processed.push(photo);
            }
        }
    }
    Ok(processed)
}

/// Files are written before the transaction that refers to them commits. Should the process
/// die in between, this job (committed first) removes them later if nothing refers to them.
async fn schedule_cleanup(
    state: &AppState,
    processed: &[ProcessedPhoto],
) -> Result<(), IntakeError> {
    let keys = processed
        .iter()
        .flat_map(|p| [p.display.key.clone(), p.thumbnail.key.clone()])
        .collect();
    let payload = serde_json::to_value(outbox::PhotosCleanup { keys })
        .map_err(|e| DbError::Data(e.to_string()))?;
    db::outbox::enqueue(
        &state.db,
        outbox::PHOTOS_CLEANUP,
        &payload,
        outbox::PHOTOS_CLEANUP_DELAY,
    )
    .await?;
    Ok(())
}

/// Writes every variant; returns the keys this call created (not those already present).
async fn write_photos(
    state: &AppState,
    processed: &[ProcessedPhoto],
) -> Result<Vec<String>, IntakeError> {
    let mut created = Vec::new();
    for photo in processed {
        for variant in [&photo.display, &photo.thumbnail] {
            match state
                .photos
                .put(&variant.key, Bytes::from(variant.bytes.clone()))
                .await
            {
                Ok(true) => created.push(variant.key.clone()),
                Ok(false) => {}
                Err(e) => {
                    remove_unreferenced(state, &created).await;
                    return Err(e.into());
                }
            }
        }
    }
    Ok(created)
}

/// Clean-up after a failed or replayed submission: files nobody references are deleted.
async fn remove_unreferenced(state: &AppState, keys: &[String]) {
    for key in keys {
        match db::intake::photo_key_in_use(&state.db, key).await {
            Ok(false) => {
                if let Err(e) = state.photos.delete(key).await {
                    tracing::warn!(%key, error = %e, "could not remove an unreferenced photo");
                }
            }
            Ok(true) => {}
            Err(e) => tracing::warn!(%key, error = %e, "could not check a photo before removal"),
        }
    }
}

async fn store_report(
    state: &AppState,
    report: &ReportSubmission,
    demarche: &IntakeDemarche,
    zone_id: i64,
    processed: &[ProcessedPhoto],
    how: &How<'_>,
) -> Result<Submitted, DbError> {
    let How {
        channel,
        lang,
        filer: extra,
    } = *how;
    let mut tx = state.db.begin().await?;
    db::intake::lock_client_id(&mut tx, report.client_id).await?;
    if let Some(receipt) = db::intake::stored_receipt_in_tx(&mut tx, report.client_id).await? {
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
        demarche,
        &state.config.dedup,
        report.lat,
        report.lon,
        report.accuracy_m,
        &hashes,
    )
    .await?;
    // The chosen request may have been closed or merged since the candidates were read (agents
    // take no grid lock): then this report starts a request of its own.
    let outcome = match outcome {
        Outcome::CoReport { request_id, .. }
            if !db::intake::lock_if_open(&mut tx, request_id).await? =>
        {
            Outcome::NewRequest
        }
        other => other,
    };
    // The first reporter shares the request's code; a co-reporter gets one that only follows.
    let report_code = new_tracking_code();
    let (request_id, deduplicated) = match outcome {
        Outcome::CoReport { request_id, .. } => (request_id, true),
        Outcome::NewRequest | Outcome::PossibleDuplicate { .. } => {
            let possible_duplicate_of = match outcome {
                Outcome::PossibleDuplicate { request_id, score } => Some((request_id, score)),
                _ => None,
            };
            let number = db::intake::next_request_number(&mut tx, &demarche.number_prefix).await?;
            let team_id = db::intake::route(&mut tx, &demarche.code, Some(zone_id)).await?;
            let tracking_code = report_code.clone();
            let template = workflow_of(demarche)?;
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
                    zone_id: Some(zone_id),
                    location: Some((report.lat, report.lon)),
                    accuracy_m: report.accuracy_m,
                    location_source: Some(if report.accuracy_m.is_some() {
                        "gps"
                    } else {
                        "map"
                    }),
                    address,
                    description,
                    data: &extra.data,
                    sla_days: demarche.sla_days,
                    possible_duplicate_of,
                    client_id: None,
                    citizen_id: extra.citizen_id,
                    entered_by: extra.entered_by,
                    contact_name: None,
                    contact_email: None,
                    contact_phone: None,
                    lang: lang.as_str(),
                },
            )
            .await?;
            let data = serde_json::json!({ "channel": channel, "team_id": team_id });
            db::intake::insert_event(&mut tx, id, "created", true, &extra.actor, &data).await?;
            if let Some((of, score)) = possible_duplicate_of {
                let data = serde_json::json!({ "request_id": of, "score": score });
                db::intake::insert_event(&mut tx, id, "possible_duplicate", false, "system", &data)
                    .await?;
            }
            (id, false)
        }
    };
    let request = db::intake::count_report(&mut tx, request_id).await?;
    let (report_id, received_at) = db::intake::insert_report(
        &mut tx,
        &db::intake::NewReportRow {
            client_id: report.client_id,
            request_id,
            channel,
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
            tracking_code: &report_code,
            data: &extra.data,
            contact_phone: extra.phone.as_deref(),
        },
    )
    .await?;
    let mut links = Vec::with_capacity(processed.len());
    for (position, photo) in processed.iter().enumerate() {
        let row = photo_row(photo);
        db::intake::insert_photo(&mut tx, report_id, position as i16, &row).await?;
        links.push(PhotoLinks {
            url: state.photo_url(&row.display_key),
            thumbnail_url: state.photo_url(&row.thumb_key),
            width: row.display_width,
            height: row.display_height,
        });
    }
    if let Outcome::CoReport { score, .. } = outcome {
        let data = serde_json::json!({ "report_count": request.report_count, "score": score });
        db::intake::insert_event(&mut tx, request_id, "co_report", true, "citizen", &data).await?;
    }
    let mut positions = std::collections::HashMap::<&str, i16>::new();
    for f in &extra.files {
        let position = positions.entry(f.field.as_str()).or_insert(0);
        db::pipeline::insert_file(
            &mut tx,
            &db::pipeline::NewFile {
                request_id,
                field_id: &f.field,
                position: *position,
                storage_key: &f.key,
                filename: &f.filename,
                mime: &f.mime,
                bytes: f.bytes,
            },
        )
        .await?;
        *position += 1;
    }
    // After the report row: the acknowledgement goes to the contact it carries.
    let notice = if deduplicated {
        Notice::ReportAdded { report_id }
    } else {
        Notice::Created
    };
    notify::notify(&mut tx, &state.config.notify, request_id, notice).await?;

    let receipt = receipt_json(
        state,
        request,
        &report_code,
        deduplicated,
        links,
        received_at,
        lang,
    )?;
    db::intake::set_receipt(&mut tx, report_id, &receipt).await?;
    tx.commit().await?;
    state.metrics.report_stored(deduplicated);
    Ok(Submitted::Created(receipt))
}

/// "Me too": a co-report without photo of an open request, by its number. Idempotent by
/// client id like every report.
pub async fn support(
    state: &AppState,
    number: &str,
    client_id: uuid::Uuid,
    contact: Option<&Contact>,
    channel: &'static str,
    lang: Lang,
) -> Result<Submitted, IntakeError> {
    let mut errors = Vec::new();
    if let Some(contact) = contact {
        validate_contact(&mut errors, "contact", contact);
    }
    if !errors.is_empty() {
        return Err(IntakeError::Invalid(errors));
    }
    if let Some(receipt) = db::intake::stored_receipt(&state.db, client_id).await? {
        return Ok(Submitted::Replayed(receipt));
    }
    let mut tx = state.db.begin().await.map_err(DbError::from)?;
    db::intake::lock_client_id(&mut tx, client_id).await?;
    if let Some(receipt) = db::intake::stored_receipt_in_tx(&mut tx, client_id).await? {
        return Ok(Submitted::Replayed(receipt));
    }
    let target = db::intake::support_target(&mut tx, number)
        .await?
        .ok_or(IntakeError::RequestNotFound)?;
    let phase = Phase::parse(&target.phase).unwrap_or(Phase::Closed);
    let (Some(lat), Some(lon)) = (target.lat, target.lon) else {
        return Err(IntakeError::RequestNotFound);
    };
    if !phase.is_open() {
        return Err(IntakeError::RequestClosed {
            phase: target.phase,
        });
    }
    let report_code = new_tracking_code();
    let request = db::intake::count_report(&mut tx, target.id).await?;
    let (report_id, received_at) = db::intake::insert_report(
        &mut tx,
        &db::intake::NewReportRow {
            client_id,
            request_id: target.id,
            channel,
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
            tracking_code: &report_code,
            data: &serde_json::json!({}),
            contact_phone: None,
        },
    )
    .await?;
    let data = serde_json::json!({ "report_count": request.report_count, "support": true });
    db::intake::insert_event(&mut tx, target.id, "co_report", true, "citizen", &data).await?;
    notify::notify(
        &mut tx,
        &state.config.notify,
        target.id,
        Notice::ReportAdded { report_id },
    )
    .await?;
    let receipt = receipt_json(
        state,
        request,
        &report_code,
        true,
        Vec::new(),
        received_at,
        lang,
    )?;
    db::intake::set_receipt(&mut tx, report_id, &receipt).await?;
    tx.commit().await.map_err(DbError::from)?;
    state.metrics.report_stored(true);
    Ok(Submitted::Created(receipt))
}

/// What a reporter is told. `tracking_code` is the reporter's own: the request's for the one
/// who created it, a follow-only code for co-reporters and supporters.
fn receipt_json(
    state: &AppState,
    request: db::intake::AttachedRequest,
    tracking_code: &str,
    deduplicated: bool,
    photos: Vec<PhotoLinks>,
    received_at: OffsetDateTime,
    lang: Lang,
) -> Result<serde_json::Value, DbError> {
    let phase = Phase::parse(&request.phase).unwrap_or(Phase::Received);
    let receipt = ReportReceipt {
        status_url: format!(
            "{}/api/v1/requests/{}?tracking_code={tracking_code}",
            state.config.public_url, request.number
        ),
        request_number: request.number,
        tracking_code: tracking_code.to_owned(),
        status: phase.label(lang).to_owned(),
        phase,
        deduplicated,
        report_count: request.report_count,
        photos,
        received_at,
    };
    serde_json::to_value(&receipt).map_err(|e| DbError::Data(e.to_string()))
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

/// Tracking codes are what anonymous filers hold instead of an account: 60 random bits in
/// Crockford's base 32 (no I, L, O, U), grouped for reading aloud: `7K2M-QX4P-9TZC`.
pub fn new_tracking_code() -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::rng();
    let mut code = String::with_capacity(14);
    for i in 0..12 {
        if i > 0 && i % 4 == 0 {
            code.push('-');
        }
        code.push(char::from(ALPHABET[rng.random_range(0..32)]));
    }
    code
}

/// A tracking code as stored (`7K2M-QX4P-9TZC`), from what a citizen typed; `None` when it
/// cannot be one.
pub fn canonical_tracking_code(given: &str) -> Option<String> {
    let chars: Vec<char> = given
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if chars.len() != 12 || !chars.iter().all(char::is_ascii_alphanumeric) {
        return None;
    }
    let groups: Vec<String> = chars.chunks(4).map(|g| g.iter().collect()).collect();
    Some(groups.join("-"))
}

/// Compares a given tracking code with the stored one, ignoring case and dashes, in time
/// independent of where they differ.
pub fn tracking_code_matches(given: &str, stored: &str) -> bool {
    let norm = |s: &str| -> Vec<u8> {
        s.bytes()
            .filter(|b| *b != b'-' && !b.is_ascii_whitespace())
            .map(|b| b.to_ascii_uppercase())
            .collect()
    };
    let (a, b) = (norm(given), norm(stored));
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(&b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_codes_are_grouped_and_unambiguous() {
        let code = new_tracking_code();
        assert_eq!(code.len(), 14);
        assert_eq!(code.matches('-').count(), 2);
        assert!(!code.contains(['I', 'L', 'O', 'U']));
        assert_ne!(code, new_tracking_code());
    }

    #[test]
    fn tracking_code_comparison_forgives_case_and_dashes_only() {
        assert!(tracking_code_matches("7k2m qx4p 9tzc", "7K2M-QX4P-9TZC"));
        assert!(tracking_code_matches("7K2MQX4P9TZC", "7K2M-QX4P-9TZC"));
        assert!(!tracking_code_matches("7K2M-QX4P-9TZD", "7K2M-QX4P-9TZC"));
        assert!(!tracking_code_matches("", "7K2M-QX4P-9TZC"));
    }
}
