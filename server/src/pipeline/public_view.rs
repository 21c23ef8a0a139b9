//! What a citizen may see of a request they follow: its public status, place, photos and
//! public timeline. Never contacts, internal events or attached files.

use guichet_shared::api::{
    ComplementAsk, DemarcheRef, PhotoLinks, Position, PublicRequest, TimelineEntry,
};
use guichet_shared::phase::{Lang, Outcome, Phase};
use guichet_shared::timeline::EventKind;
use guichet_shared::workflow::template;

use crate::db::{self, DbError, requests::RequestRow};
use crate::state::AppState;

/// What a citizen may see of a request: public status, place, photos and public timeline.
pub async fn of(state: &AppState, row: RequestRow, lang: Lang) -> Result<PublicRequest, DbError> {
    let photos = db::requests::photos(&state.db, row.id).await?;
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
        .filter(|_| phase == Phase::WaitingForCitizen)
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
        location: row.lat.zip(row.lon).map(|(lat, lon)| Position { lat, lon }),
        address: row.address,
        zone: row.zone_name,
        description: row.description,
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
            .map(|e| {
                // A status change reads as its new public label.
                let label = match (e.kind, lang) {
                    (EventKind::StatusChanged, Lang::Fr) => e.data.get("label_fr"),
                    (EventKind::StatusChanged, Lang::En) => e.data.get("label_en"),
                    _ => None,
                }
                .and_then(|l| l.as_str())
                .map_or_else(|| e.kind.label(lang).to_owned(), str::to_owned);
                TimelineEntry {
                    at: e.created_at,
                    label,
                    message: e
                        .data
                        .get("message")
                        .and_then(|m| m.as_str())
                        .map(str::to_owned),
                    kind: e.kind.as_str().to_owned(),
                }
            })
            .collect(),
        complement,
        merged_into: row.merged_into,
    })
}
