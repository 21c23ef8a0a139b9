//! `GET /api/v1/reports/nearby?lat=&lon=&category=[&radius_m=]`: "already reported?" — at
//! most 10 open requests of the category (or of its dedup group) around a point, nearest
//! first, from the in-memory index.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use guichet_shared::dedup::MAX_RADIUS_M;
use guichet_shared::phase::Phase;
use guichet_shared::validation::FieldError;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{ApiError, params};
use crate::db;
use crate::state::AppState;

pub const DEFAULT_RADIUS_M: f64 = 200.0;
const LIMIT: usize = 10;

#[derive(Deserialize)]
pub struct NearbyQuery {
    lat: Option<String>,
    lon: Option<String>,
    category: Option<String>,
    radius_m: Option<String>,
}

#[derive(Serialize)]
pub struct NearbyItem {
    request_number: String,
    demarche: guichet_shared::api::DemarcheRef,
    distance_m: f64,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    age_days: f64,
    status: String,
    phase: Phase,
    report_count: i32,
    thumbnail_url: Option<String>,
    lat: f64,
    lon: f64,
}

pub async fn nearby(
    State(state): State<AppState>,
    Query(q): Query<NearbyQuery>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let mut errors = Vec::new();
    let lat = params::required("lat", q.lat.as_deref()).and_then(|v| params::latitude("lat", v));
    let lon = params::required("lon", q.lon.as_deref()).and_then(|v| params::longitude("lon", v));
    let category = params::required("category", q.category.as_deref());
    let radius = match q.radius_m.as_deref() {
        None => Ok(DEFAULT_RADIUS_M),
        Some(v) => params::number("radius_m", v).and_then(|r| {
            if r <= 0.0 {
                Err(FieldError::new(
                    "radius_m",
                    "out-of-range",
                    "radius_m must be positive",
                ))
            } else if r > MAX_RADIUS_M {
                Err(FieldError::new(
                    "radius_m",
                    "radius-too-large",
                    format!("radius_m is capped at {MAX_RADIUS_M} metres"),
                ))
            } else {
                Ok(r)
            }
        }),
    };
    let (lat, lon, category, radius) = match (lat, lon, category, radius) {
        (Ok(a), Ok(b), Ok(c), Ok(d)) => (a, b, c, d),
        (a, b, c, d) => {
            errors.extend(a.err());
            errors.extend(b.err());
            errors.extend(c.err());
            errors.extend(d.err());
            return Err(problem(errors));
        }
    };
    let demarche = db::catalogue::find_for_intake(&state.db, category).await?;
    if !demarche.as_ref().is_some_and(|d| d.geolocated) {
        return Err(problem(vec![FieldError::new(
            "category",
            "unknown-category",
            format!("{category:?} is not a geolocated démarche of the catalogue"),
        )]));
    }
    let family = db::incidents::dedup_family(&state.db, category).await?;
    let numbers = state.incidents.category_numbers(&family);
    let found = state.incidents.nearby(lat, lon, radius, &numbers, LIMIT);

    let ids: Vec<i64> = found.iter().map(|(i, _)| i.id).collect();
    let details: HashMap<i64, db::incidents::IncidentDetail> = if ids.is_empty() {
        HashMap::new()
    } else {
        db::incidents::details(&state.db, &ids)
            .await?
            .into_iter()
            .map(|d| (d.id, d))
            .collect()
    };
    let lang = super::requests::lang_of(&headers);
    let now = OffsetDateTime::now_utc();
    let items: Vec<NearbyItem> = found
        .into_iter()
        .filter_map(|(incident, distance_m)| {
            // Closed since the index saw it: the database has the last word.
            let d = details.get(&incident.id)?;
            let phase = Phase::parse(&d.phase).filter(|p| p.is_open())?;
            Some(NearbyItem {
                request_number: d.number.clone(),
                demarche: guichet_shared::api::DemarcheRef {
                    code: d.demarche_code.clone(),
                    title: d.demarche_title.clone(),
                },
                distance_m: (distance_m * 10.0).round() / 10.0,
                created_at: d.created_at,
                age_days: ((now - d.created_at).as_seconds_f64() / 86_400.0 * 100.0).round()
                    / 100.0,
                status: phase.label(lang).to_owned(),
                phase,
                report_count: d.report_count,
                thumbnail_url: d.thumb_key.as_deref().map(|k| state.photo_url(k)),
                lat: incident.lat,
                lon: incident.lon,
            })
        })
        .collect();
    Ok((
        [(header::CACHE_CONTROL, "no-cache")],
        Json(serde_json::json!({ "items": items, "radius_m": radius })),
    ))
}

fn problem(errors: Vec<FieldError>) -> ApiError {
    let code = match errors.first().map(|e| e.code) {
        Some("unknown-category") => "unknown-category",
        Some("radius-too-large") if errors.len() == 1 => "radius-too-large",
        _ => "validation-failed",
    };
    let mut p = ApiError::validation(errors);
    p.code = code;
    p
}
