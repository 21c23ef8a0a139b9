//! `GET /api/v1/reports/nearby?lat=&lon=&category=[&accuracy_m=][&radius_m=]`: "already
//! reported?" — at most 10 open requests around a point, nearest first, from the in-memory
//! index. By default it shows what the duplicate decision would consider for a report made
//! there without photo: the same démarches (the category's dedup family), within the
//! démarche's own radius widened by the position's accuracy, filed within its window.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use guichet_shared::dedup::MAX_RADIUS_M;
use guichet_shared::phase::Phase;
use guichet_shared::validation::FieldError;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::extract::Query;
use super::{ApiError, params};
use crate::db;
use crate::dedup;
use crate::state::AppState;

const LIMIT: usize = 10;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NearbyQuery {
    /// WGS84 latitude of the place.
    #[param(value_type = f64, minimum = -90, maximum = 90, example = 48.1113, required = true)]
    lat: Option<String>,
    /// WGS84 longitude of the place.
    #[param(value_type = f64, minimum = -180, maximum = 180, example = -1.68, required = true)]
    lon: Option<String>,
    /// The démarche of the report about to be made.
    #[param(value_type = String, required = true, min_length = 1, example = "voirie")]
    category: Option<String>,
    /// The position's accuracy in metres: widens the radius by at most 50 m.
    #[param(value_type = Option<f64>, minimum = 0, example = 8)]
    accuracy_m: Option<String>,
    /// Replaces the démarche's radius (metres).
    #[param(value_type = Option<f64>, exclusive_minimum = 0, maximum = 500)]
    radius_m: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NearbyAnswer {
    items: Vec<NearbyItem>,
    /// The radius searched, in metres.
    radius_m: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
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

#[utoipa::path(
    get,
    path = "/api/v1/reports/nearby",
    tag = "signalements",
    summary = "Déjà signalé ? Les demandes ouvertes autour d'un point",
    params(NearbyQuery),
    responses(
        (status = 200, description = "At most 10 open requests, nearest first", body = NearbyAnswer),
        (status = 422, description = "`validation-failed`, `unknown-category`, `radius-too-large`"),
    ),
    security(()),
)]
pub async fn nearby(
    State(state): State<AppState>,
    Query(q): Query<NearbyQuery>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let mut errors = Vec::new();
    let lat = params::required("lat", q.lat.as_deref()).and_then(|v| params::latitude("lat", v));
    let lon = params::required("lon", q.lon.as_deref()).and_then(|v| params::longitude("lon", v));
    let category = params::required("category", q.category.as_deref());
    let accuracy = match q.accuracy_m.as_deref() {
        None => Ok(None),
        Some(v) => params::number("accuracy_m", v).and_then(|a| {
            if a >= 0.0 {
                Ok(Some(a))
            } else {
                Err(FieldError::new(
                    "accuracy_m",
                    "out-of-range",
                    "accuracy_m is a distance in metres",
                ))
            }
        }),
    };
    let radius = match q.radius_m.as_deref() {
        None => Ok(None),
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
                Ok(Some(r))
            }
        }),
    };
    let (lat, lon, category, accuracy, radius) = match (lat, lon, category, accuracy, radius) {
        (Ok(a), Ok(b), Ok(c), Ok(d), Ok(e)) => (a, b, c, d, e),
        (a, b, c, d, e) => {
            errors.extend(a.err());
            errors.extend(b.err());
            errors.extend(c.err());
            errors.extend(d.err());
            errors.extend(e.err());
            return Err(problem(errors));
        }
    };
    let Some(demarche) = db::catalogue::find_for_intake(&state.db, category)
        .await?
        .filter(|d| d.public_incident)
    else {
        return Err(problem(vec![FieldError::new(
            "category",
            "unknown-category",
            format!("{category:?} is not a public incident démarche of the catalogue"),
        )]));
    };
    let policy = dedup::policy_of(&demarche);
    let radius = radius.unwrap_or_else(|| policy.search_radius_m(accuracy));
    let family = db::dedup::family(&state.db, category).await?;
    let numbers = state.incidents.category_numbers(&family);
    let window = time::Duration::days(i64::from(policy.window_days));
    let since = (OffsetDateTime::now_utc() - window).unix_timestamp();
    let found = state
        .incidents
        .nearby(lat, lon, radius, &numbers, since, LIMIT);

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
    let lang = super::body::lang_of(&headers);
    let now = OffsetDateTime::now_utc();
    let items: Vec<NearbyItem> = found
        .into_iter()
        .filter_map(|(incident, distance_m)| {
            // Closed since the index saw it: the database has the last word.
            let d = details.get(&incident.id)?;
            let phase = Some(d.phase).filter(|p| p.is_open())?;
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
        Json(NearbyAnswer {
            items,
            radius_m: radius,
        }),
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
