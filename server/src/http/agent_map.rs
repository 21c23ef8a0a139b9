//! `GET /api/v1/agent/map?bbox=…&zoom=…&<queue filters>`: the agent's queue on a map, as an
//! RFC 7946 GeoJSON FeatureCollection shaped like the public map's (clusters with `count` and
//! `expansion_zoom`; requests with their number), private requests of the agent's teams
//! included. Clusters come from a PostGIS grid of about 60 pixels; from zoom 16 on every
//! request is a point (at most 2,000, newest first).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use geojson::feature::Id;
use geojson::{Feature, FeatureCollection};
use guichet_shared::geo::LatLon;
use guichet_shared::validation::FieldError;
use serde::Deserialize;

use super::extract::Query;
use super::incidents::{geometry, parse_bbox, parse_zoom, properties};
use super::queue::{QueueQuery, parse_queue};
use super::{ApiError, params};
use crate::auth::Agent;
use crate::db::{self, agent_map::Viewport};
use crate::state::AppState;

/// From this zoom on, requests are points.
const POINTS_FROM_ZOOM: u8 = 16;
const MAX_POINTS: i64 = 2000;
/// A cluster covers about this many pixels of a 256-pixel tile grid.
const CLUSTER_PIXELS: f64 = 60.0;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MapQuery {
    /// `minLon,minLat,maxLon,maxLat`.
    #[param(value_type = String, required = true, min_length = 7, example = "-1.75,48.08,-1.62,48.14")]
    bbox: Option<String>,
    #[param(value_type = u8, required = true, minimum = 0, maximum = 22, example = 14)]
    zoom: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/agent/map",
    tag = "agents",
    summary = "La file sur une carte (GeoJSON)",
    params(MapQuery, QueueQuery),
    responses(
        (status = 200, description = "Clusters or requests", body = super::openapi::FeatureCollection, content_type = "application/geo+json"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn map(
    State(state): State<AppState>,
    agent: Agent,
    Query(m): Query<MapQuery>,
    Query(q): Query<QueueQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let bbox = params::required("bbox", m.bbox.as_deref()).and_then(parse_bbox);
    let zoom = params::required("zoom", m.zoom.as_deref()).and_then(parse_zoom);
    let (bbox, zoom) = match (bbox, zoom) {
        (Ok(b), Ok(z)) => (b, z),
        (b, z) => {
            let errors: Vec<FieldError> = b.err().into_iter().chain(z.err()).collect();
            return Err(ApiError::validation(errors));
        }
    };
    let filter = parse_queue(&state, &agent, q).await?;
    let viewport = Viewport {
        min_lon: bbox.min_lon,
        min_lat: bbox.min_lat,
        max_lon: bbox.max_lon,
        max_lat: bbox.max_lat,
    };
    let features: Vec<Feature> = if zoom >= POINTS_FROM_ZOOM {
        db::agent_map::points(&state.db, &filter, viewport, MAX_POINTS)
            .await?
            .into_iter()
            .filter_map(|r| {
                let at = LatLon::new(r.lat?, r.lon?);
                Some(Feature {
                    id: Some(Id::String(r.number.clone())),
                    geometry: Some(geometry(at)),
                    properties: Some(properties([
                        ("kind", "request".into()),
                        ("request_number", r.number.into()),
                        ("demarche", r.demarche_code.into()),
                        ("phase", r.phase.into()),
                        ("status", r.status.into()),
                        ("overdue", r.overdue.into()),
                        ("assignee_id", r.assignee_id.into()),
                    ])),
                    ..Feature::default()
                })
            })
            .collect()
    } else {
        let cell = CLUSTER_PIXELS * 360.0 / (256.0 * f64::from(1u32 << zoom));
        db::agent_map::groups(&state.db, &filter, viewport, cell)
            .await?
            .into_iter()
            .map(|g| Feature {
                geometry: Some(geometry(LatLon::new(g.lat, g.lon))),
                properties: Some(properties([
                    ("kind", "cluster".into()),
                    ("cluster", true.into()),
                    ("count", g.count.into()),
                    ("point_count", g.count.into()),
                    ("expansion_zoom", (zoom + 2).min(POINTS_FROM_ZOOM).into()),
                ])),
                ..Feature::default()
            })
            .collect()
    };
    let collection = FeatureCollection {
        bbox: None,
        features,
        foreign_members: None,
    };
    let body = serde_json::to_string(&collection).map_err(|e| ApiError::internal(&e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/geo+json"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        body,
    ))
}
