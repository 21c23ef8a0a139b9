//! `GET /api/v1/agent/round`: a field agent's round of the day, the open requests of their
//! teams that are theirs or nobody's, in the order of the shortest walk from where they are.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use guichet_shared::geo::{LatLon, bearing_deg};
use guichet_shared::phase::Phase;
use guichet_shared::round::order_round;
use guichet_shared::validation::{FieldError, validate_position};
use guichet_shared::workflow::template;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ApiError;
use super::body::lang_of;
use super::extract::Query;
use super::queue::{QueueQuery, parse_queue};
use crate::auth::Agent;
use crate::db;
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoundQuery {
    /// Where the field agent stands.
    #[param(value_type = f64, minimum = -90, maximum = 90, example = 48.1113, required = true)]
    lat: Option<String>,
    #[param(value_type = f64, minimum = -180, maximum = 180, example = -1.68, required = true)]
    lon: Option<String>,
    /// Every filter of the queue (team, démarche, status, phase, zone…) narrows the round.
    #[serde(flatten)]
    #[param(ignore)]
    queue: QueueQuery,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = RoundOrigin)]
pub struct Origin {
    lat: f64,
    lon: f64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RoundStop {
    request_number: String,
    lat: f64,
    lon: f64,
    demarche: String,
    demarche_title: String,
    status: String,
    status_label: String,
    phase: String,
    address: Option<String>,
    description: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    filed_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    due_at: Option<OffsetDateTime>,
    overdue: bool,
    assigned_to_me: bool,
    /// Straight-line metres from the previous stop (from the origin for the first).
    distance_m: f64,
    /// Initial bearing from the previous stop, degrees clockwise from north.
    bearing_deg: f64,
    thumbnail_url: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Round {
    origin: Origin,
    stops: Vec<RoundStop>,
    /// The length of the whole open path, in straight-line metres.
    total_m: f64,
    /// True when more requests matched than `limit`: the nearest were kept.
    truncated: bool,
}

fn coordinate(errors: &mut Vec<FieldError>, field: &str, v: Option<&str>) -> f64 {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => {
            errors.push(FieldError::new(
                field,
                "required",
                format!("`{field}` is where the round starts, in WGS84 degrees"),
            ));
            f64::NAN
        }
        Some(v) => v.parse::<f64>().unwrap_or_else(|_| {
            errors.push(FieldError::new(
                field,
                "invalid-type",
                format!("`{field}` is a number of degrees"),
            ));
            f64::NAN
        }),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/agent/round",
    tag = "agents",
    summary = "Ma tournée de terrain",
    params(RoundQuery, QueueQuery),
    responses(
        (status = 200, description = "The stops, in walking order", body = Round),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn round(
    State(state): State<AppState>,
    agent: Agent,
    headers: HeaderMap,
    Query(q): Query<RoundQuery>,
) -> Result<Json<Round>, ApiError> {
    let mut errors = Vec::new();
    let lat = coordinate(&mut errors, "lat", q.lat.as_deref());
    let lon = coordinate(&mut errors, "lon", q.lon.as_deref());
    if errors.is_empty() {
        validate_position(&mut errors, lat, lon);
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut filter = parse_queue(&state, &agent, q.queue).await?;
    // Nothing to do on site for a request that waits for its citizen.
    if filter.phases.is_empty() {
        filter.phases = vec![Phase::Received, Phase::InProgress];
    }
    filter.after = None;
    let mut rows = db::round::candidates(&state.db, agent.id, lat, lon, &filter).await?;
    let truncated = rows.len() as i64 > filter.limit;
    rows.truncate(usize::try_from(filter.limit).unwrap_or(usize::MAX));

    let origin = LatLon::new(lat, lon);
    let positions: Vec<LatLon> = rows.iter().map(|r| LatLon::new(r.lat, r.lon)).collect();
    let ordered = order_round(origin, &positions);
    let lang = lang_of(&headers);
    let mut previous = origin;
    let mut stops = Vec::with_capacity(ordered.order.len());
    for (&index, &leg) in ordered.order.iter().zip(&ordered.legs_m) {
        let r = &rows[index];
        let here = positions[index];
        let bearing = if leg > 0.0 {
            bearing_deg(previous, here)
        } else {
            0.0
        };
        previous = here;
        stops.push(RoundStop {
            request_number: r.number.clone(),
            lat: r.lat,
            lon: r.lon,
            demarche: r.demarche_code.clone(),
            demarche_title: r.demarche_title.clone(),
            status_label: template(&r.workflow)
                .and_then(|t| t.status(&r.status))
                .map_or(r.status.as_str(), |s| s.label(lang))
                .to_owned(),
            status: r.status.clone(),
            phase: r.phase.clone(),
            address: r.address.clone(),
            description: r.description.clone(),
            filed_at: r.created_at,
            due_at: r.due_at,
            overdue: r.overdue,
            assigned_to_me: r.assignee_id == Some(agent.id),
            distance_m: leg.round(),
            bearing_deg: bearing.round(),
            thumbnail_url: r.thumb_key.as_deref().map(|k| state.photo_url(k)),
        });
    }
    Ok(Json(Round {
        origin: Origin { lat, lon },
        total_m: ordered.total_m.round(),
        stops,
        truncated,
    }))
}
