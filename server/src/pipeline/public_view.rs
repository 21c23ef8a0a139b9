//! What a citizen may see of a request: its public status, place, photos and public timeline.
//! Never contacts, internal events or attached files.
//!
//! The filer sees all of it. A follower (co-reporter, supporter, or the filer of a request
//! merged into this one) sees the status, not the conversation: the timeline as
//! `EventKind::shown_to` decides, no complement asked of the filer, none of the filer's own
//! words (description, address), and the place and photos only of incidents, whose place
//! in public space is what they reported themselves.

use guichet_shared::api::{
    ComplementAsk, DemarcheRef, PhotoLinks, Position, PublicRequest, TimelineEntry,
};
use guichet_shared::phase::{Lang, Outcome, Phase};
use guichet_shared::timeline::{Audience, EventKind, Reader, Shown};
use guichet_shared::workflow::template;

use crate::db::{self, DbError, event_photos::EventPhoto, requests::RequestRow};
use crate::state::AppState;

/// What `reader` may see of a request: public status, place, photos and public timeline.
pub async fn of(
    state: &AppState,
    row: RequestRow,
    lang: Lang,
    reader: Reader,
) -> Result<PublicRequest, DbError> {
    let filer = reader == Reader::Filer;
    let shows_place = filer || row.public_incident;
    let photos = if shows_place {
        db::requests::photos(&state.db, row.id).await?
    } else {
        Vec::new()
    };
    let events = db::requests::public_events(&state.db, row.id).await?;
    let phase = row.phase;
    let outcome = row
        .outcome
        .as_deref()
        .and_then(|o| serde_json::from_value::<Outcome>(serde_json::Value::from(o)).ok());
    let status_label = template(&row.workflow)
        .and_then(|t| t.status(&row.status))
        .map_or_else(|| phase.label(lang), |s| s.label(lang))
        .to_owned();
    let complement = row
        .complement
        .as_ref()
        .filter(|_| filer && phase == Phase::WaitingForCitizen)
        .map(|c| ComplementAsk {
            fields: c
                .get("fields")
                .and_then(|f| serde_json::from_value(f.clone()).ok())
                .unwrap_or_default(),
            message: c
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or_default()
                .to_owned(),
        });
    Ok(PublicRequest {
        number: row.number,
        demarche: DemarcheRef {
            code: row.demarche_code,
            title: row.demarche_title,
        },
        status: status_label.clone(),
        status_label,
        phase,
        outcome,
        location: row
            .lat
            .zip(row.lon)
            .filter(|_| shows_place)
            .map(|(lat, lon)| Position { lat, lon }),
        address: row.address.filter(|_| filer),
        zone: row.zone_name.filter(|_| shows_place),
        description: row.description.filter(|_| filer),
        report_count: row.report_count,
        photos: photos
            .into_iter()
            .map(|p| PhotoLinks {
                url: state.photo_url(&p.display_key),
                thumbnail_url: state.photo_url(&p.thumb_key),
                width: p.display_width,
                height: p.display_height,
            })
            .collect(),
        created_at: row.created_at,
        updated_at: row.updated_at,
        timeline: events
            .into_iter()
            .filter_map(|e| {
                let shown = e.kind.shown_to(reader, Audience::of_event(&e.data))?;
                // A status change reads as its new public label.
                let label = match (e.kind, lang) {
                    (EventKind::StatusChanged, Lang::Fr) => e.data.get("label_fr"),
                    (EventKind::StatusChanged, Lang::En) => e.data.get("label_en"),
                    _ => None,
                }
                .and_then(|l| l.as_str())
                .map_or_else(|| e.kind.label(lang).to_owned(), str::to_owned);
                let message = match shown {
                    Shown::Whole => e.data.get("message").and_then(|m| m.as_str()),
                    Shown::LabelOnly => None,
                };
                // After-photos show a place: to those who may see it.
                let photos = if shows_place {
                    after_photos(state, &e.data)
                } else {
                    Vec::new()
                };
                Some(TimelineEntry {
                    at: e.created_at,
                    label,
                    message: message.map(str::to_owned),
                    kind: e.kind.as_str().to_owned(),
                    photos,
                })
            })
            .collect(),
        complement,
        merged_into: row.merged_into,
    })
}

/// The links of the photos an event's data records (an agent's after-photos, a reporter's
/// "not fixed" ones).
fn after_photos(state: &AppState, data: &serde_json::Value) -> Vec<PhotoLinks> {
    let Some(list) = data.get("photos") else {
        return Vec::new();
    };
    serde_json::from_value::<Vec<EventPhoto>>(list.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|p| PhotoLinks {
            url: state.photo_url(&p.display_key),
            thumbnail_url: state.photo_url(&p.thumb_key),
            width: p.display_width,
            height: p.display_height,
        })
        .collect()
}

/// Whether a reporter may still say "not fixed": the request is closed as resolved, and
/// less than `actions::NOT_FIXED_WINDOW` ago.
pub async fn not_fixed_open(state: &AppState, request_id: i64) -> Result<bool, DbError> {
    let mut conn = state.db.acquire().await?;
    let resolved = db::workflow::resolved_at(&mut conn, request_id).await?;
    Ok(resolved
        .is_some_and(|at| time::OffsetDateTime::now_utc() - at <= super::actions::NOT_FIXED_WINDOW))
}
