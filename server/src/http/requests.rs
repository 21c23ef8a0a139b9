//! `GET /api/v1/requests/{number}?tracking_code=…`: the public view of a request for whoever
//! holds its tracking code. Without the right code the answer is the same 404 as for a number
//! that does not exist, so numbers cannot be probed.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use guichet_shared::api::{DemarcheRef, PhotoLinks, Position, PublicRequest, TimelineEntry};
use guichet_shared::phase::{Lang, Outcome, Phase};
use guichet_shared::timeline::event_label;
use serde::Deserialize;

use super::ApiError;
use crate::db;
use crate::intake::tracking_code_matches;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct TrackingQuery {
    tracking_code: Option<String>,
}

fn not_found() -> ApiError {
    ApiError::not_found(
        "request-not-found",
        "No request matches this number and tracking code.",
    )
}

pub async fn public_view(
    State(state): State<AppState>,
    Path(number): Path<String>,
    Query(query): Query<TrackingQuery>,
    headers: HeaderMap,
) -> Result<Json<PublicRequest>, ApiError> {
    let given = query.tracking_code.unwrap_or_default();
    if number.len() > 32 || given.is_empty() || given.len() > 64 {
        return Err(not_found());
    }
    let row = db::requests::by_number(&state.db, &number).await?;
    let Some(row) = row.filter(|r| tracking_code_matches(&given, &r.tracking_code)) else {
        return Err(not_found());
    };
    let lang = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Lang::Fr, Lang::from_accept_language);

    let photos = db::requests::photos(&state.db, row.id).await?;
    let events = db::requests::public_events(&state.db, row.id).await?;
    let phase = Phase::parse(&row.phase).unwrap_or(Phase::Received);
    let outcome = row
        .outcome
        .as_deref()
        .and_then(|o| serde_json::from_value::<Outcome>(serde_json::Value::from(o)).ok());
    Ok(Json(PublicRequest {
        number: row.number,
        demarche: DemarcheRef {
            code: row.demarche_code,
            title: row.demarche_title,
        },
        status: phase.label(lang).to_owned(),
        status_label: phase.label(lang).to_owned(),
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
            .map(|e| TimelineEntry {
                at: e.created_at,
                label: event_label(&e.kind, lang).to_owned(),
                message: e
                    .data
                    .get("message")
                    .and_then(|m| m.as_str())
                    .map(str::to_owned),
                kind: e.kind,
            })
            .collect(),
    }))
}
