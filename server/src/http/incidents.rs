//! `GET /api/v1/incidents?bbox=minLon,minLat,maxLon,maxLat&zoom=Z[&category=][&status=]`:
//! open incidents of a map viewport as an RFC 7946 GeoJSON FeatureCollection. At low zoom the
//! server clusters them (count, position, the zoom at which each cluster splits), so no answer
//! has more than about 2,000 features whatever the viewport.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use geojson::feature::Id;
use geojson::{Feature, FeatureCollection, Geometry, JsonObject, JsonValue};
use guichet_shared::geo::LatLon;
use guichet_shared::phase::Phase;
use guichet_shared::spatial::{Bbox, MapFeature};
use guichet_shared::validation::FieldError;
use serde::Deserialize;

use super::extract::Query;
use super::{ApiError, params};
use crate::db;
use crate::incidents::{phase_code, phase_of_code};
use crate::state::AppState;

/// Larger viewports are not a city map: 5° is a French region.
pub const MAX_BBOX_SPAN_DEG: f64 = 5.0;
pub const MAX_ZOOM: u8 = 22;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentsQuery {
    /// `minLon,minLat,maxLon,maxLat`, at most 5° wide.
    #[param(value_type = String, required = true, min_length = 7, example = "-1.75,48.08,-1.62,48.14")]
    bbox: Option<String>,
    #[param(value_type = u8, required = true, minimum = 0, maximum = 22, example = 14)]
    zoom: Option<String>,
    /// A public incident démarche.
    #[param(example = "voirie")]
    category: Option<String>,
    /// An open phase: `received`, `in_progress` or `waiting_for_citizen`.
    #[param(example = "received")]
    status: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/incidents",
    tag = "signalements",
    summary = "La carte des incidents ouverts (GeoJSON)",
    params(IncidentsQuery),
    responses(
        (status = 200, description = "Clusters or single incidents, at most 2,000 features (cached 15 s)", body = super::openapi::FeatureCollection, content_type = "application/geo+json"),
        (status = 422, description = "`invalid-bbox`, `bbox-too-large`, `zoom-out-of-range`, `unknown-category`, `validation-failed`"),
    ),
    security(()),
)]
pub async fn incidents(
    State(state): State<AppState>,
    Query(q): Query<IncidentsQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let bbox = params::required("bbox", q.bbox.as_deref()).and_then(parse_bbox);
    let zoom = params::required("zoom", q.zoom.as_deref()).and_then(parse_zoom);
    let (bbox, zoom) = match (bbox, zoom) {
        (Ok(b), Ok(z)) => (b, z),
        (b, z) => {
            let errors: Vec<FieldError> = b.err().into_iter().chain(z.err()).collect();
            let code = errors.first().map_or("validation-failed", |e| e.code);
            let mut p = ApiError::validation(errors);
            if matches!(
                code,
                "invalid-bbox" | "bbox-too-large" | "zoom-out-of-range"
            ) {
                p.code = code;
            }
            return Err(p);
        }
    };
    let category = match q
        .category
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        None => None,
        Some(code) => {
            let known = db::catalogue::find_for_intake(&state.db, code)
                .await?
                .is_some_and(|d| d.public_incident);
            if !known {
                let mut p = ApiError::validation(vec![FieldError::new(
                    "category",
                    "unknown-category",
                    format!("{code:?} is not a public incident démarche of the catalogue"),
                )]);
                p.code = "unknown-category";
                return Err(p);
            }
            // No number yet: no open incident of that category anywhere.
            Some(
                state
                    .incidents
                    .category_numbers(&[code.to_owned()])
                    .first()
                    .copied()
                    .unwrap_or(u16::MAX),
            )
        }
    };
    let status = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match Phase::parse(s).filter(|p| p.is_open()) {
            Some(p) => Some(phase_code(p.as_str())),
            None => {
                return Err(ApiError::validation(vec![FieldError::new(
                    "status",
                    "invalid-status",
                    "status must be one of received, in_progress, waiting_for_citizen (the map shows open incidents)",
                )]));
            }
        },
    };

    let features = state.incidents.features(bbox, zoom, category, status);
    let point_ids: Vec<i64> = features
        .iter()
        .filter_map(|f| match f {
            MapFeature::Point(i) => Some(i.id),
            MapFeature::Cluster { .. } => None,
        })
        .collect();
    let info: HashMap<i64, db::incidents::MapPointInfo> = if point_ids.is_empty() {
        HashMap::new()
    } else {
        db::incidents::map_points(&state.db, &point_ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect()
    };
    let collection = feature_collection(features, &info, |n| state.incidents.category_code(n));
    let body = serde_json::to_string(&collection).map_err(|e| ApiError::internal(&e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/geo+json"),
            (header::CACHE_CONTROL, "public, max-age=15"),
        ],
        body,
    ))
}

/// The RFC 7946 FeatureCollection of a viewport: clusters (no id; count, and the zoom at which
/// they split) and incidents (their request number as id). No `crs` (RFC 7946 has none) and
/// no `bbox`. Incidents missing from `points` closed since the index saw them: left out.
fn feature_collection(
    features: Vec<MapFeature>,
    points: &HashMap<i64, db::incidents::MapPointInfo>,
    category_code: impl Fn(u16) -> Option<String>,
) -> FeatureCollection {
    features
        .into_iter()
        .filter_map(|f| match f {
            MapFeature::Cluster {
                count,
                lat,
                lon,
                expansion_zoom,
            } => Some(Feature {
                geometry: Some(geometry(LatLon::new(lat, lon))),
                properties: Some(properties([
                    ("kind", "cluster".into()),
                    ("cluster", true.into()),
                    ("count", count.into()),
                    ("point_count", count.into()),
                    ("expansion_zoom", expansion_zoom.into()),
                ])),
                ..Feature::default()
            }),
            MapFeature::Point(i) => {
                let p = points.get(&i.id)?;
                Some(Feature {
                    id: Some(Id::String(p.number.clone())),
                    geometry: Some(geometry(i.position())),
                    properties: Some(properties([
                        ("kind", "incident".into()),
                        ("request_number", p.number.clone().into()),
                        ("category", category_code(i.category).into()),
                        (
                            "phase",
                            phase_of_code(i.status).map(|ph| ph.as_str()).into(),
                        ),
                        ("report_count", p.report_count.into()),
                    ])),
                    ..Feature::default()
                })
            }
        })
        .collect()
}

/// A GeoJSON point from a `geo` one, so that the position is [longitude, latitude] as RFC 7946
/// wants, rounded to 7 decimals (about 1 cm) as it advises.
pub(super) fn geometry(at: LatLon) -> Geometry {
    let p = at.point();
    Geometry::from(&geo::Point::new(round7(p.x()), round7(p.y())))
}

pub(super) fn properties<const N: usize>(pairs: [(&str, JsonValue); N]) -> JsonObject {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

pub(super) fn parse_bbox(text: &str) -> Result<Bbox, FieldError> {
    let parts: Vec<&str> = text.split(',').collect();
    if parts.len() != 4 {
        return Err(FieldError::new(
            "bbox",
            "invalid-bbox",
            "bbox is minLon,minLat,maxLon,maxLat",
        ));
    }
    let invalid = |m: &str| FieldError::new("bbox", "invalid-bbox", m.to_owned());
    let n = |s: &str| {
        params::number("bbox", s).map_err(|_| invalid("bbox values must be finite numbers"))
    };
    let (min_lon, min_lat, max_lon, max_lat) =
        (n(parts[0])?, n(parts[1])?, n(parts[2])?, n(parts[3])?);
    for lon in [min_lon, max_lon] {
        if !(-180.0..=180.0).contains(&lon) {
            return Err(invalid("longitudes must be between -180 and 180"));
        }
    }
    for lat in [min_lat, max_lat] {
        if !(-90.0..=90.0).contains(&lat) {
            return Err(invalid("latitudes must be between -90 and 90"));
        }
    }
    if min_lon >= max_lon || min_lat >= max_lat {
        return Err(invalid(
            "bbox is inverted or empty: minLon < maxLon and minLat < maxLat",
        ));
    }
    if max_lon - min_lon > MAX_BBOX_SPAN_DEG || max_lat - min_lat > MAX_BBOX_SPAN_DEG {
        return Err(FieldError::new(
            "bbox",
            "bbox-too-large",
            format!("a viewport spans at most {MAX_BBOX_SPAN_DEG}° in each direction"),
        ));
    }
    Ok(Bbox {
        min_lon,
        min_lat,
        max_lon,
        max_lat,
    })
}

pub(super) fn parse_zoom(text: &str) -> Result<u8, FieldError> {
    text.trim()
        .parse::<u8>()
        .ok()
        .filter(|z| *z <= MAX_ZOOM)
        .ok_or_else(|| {
            FieldError::new(
                "zoom",
                "zoom-out-of-range",
                format!("zoom must be an integer from 0 to {MAX_ZOOM}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_parsing_refuses_inverted_nan_and_world_boxes() {
        assert!(parse_bbox("-1.75,48.08,-1.60,48.15").is_ok());
        let code = |t: &str| parse_bbox(t).err().map(|e| e.code);
        assert_eq!(code("-1.60,48.08,-1.75,48.15"), Some("invalid-bbox"));
        assert_eq!(code("-1.75,NaN,-1.60,48.15"), Some("invalid-bbox"));
        assert_eq!(code("-180,-90,180,90"), Some("bbox-too-large"));
        assert_eq!(code("1,2,3"), Some("invalid-bbox"));
        assert_eq!(
            parse_zoom("23").err().map(|e| e.code),
            Some("zoom-out-of-range")
        );
        assert_eq!(
            parse_zoom("-1").err().map(|e| e.code),
            Some("zoom-out-of-range")
        );
        assert_eq!(parse_zoom("14").ok(), Some(14));
    }

    #[test]
    fn the_feature_collection_is_rfc_7946_with_the_documented_properties() {
        use guichet_shared::spatial::Incident;
        let incident = Incident {
            id: 7,
            lat: 48.111_339_04,
            lon: -1.680_020_06,
            category: 0,
            status: phase_code("in_progress"),
            created_at_unix: 0,
        };
        let gone = Incident { id: 8, ..incident };
        let features = vec![
            MapFeature::Cluster {
                count: 12,
                lat: 48.1,
                lon: -1.7,
                expansion_zoom: 14,
            },
            MapFeature::Point(incident),
            MapFeature::Point(gone),
        ];
        let points = HashMap::from([(
            7,
            db::incidents::MapPointInfo {
                id: 7,
                number: "2026-SIG-0000007".to_owned(),
                report_count: 3,
            },
        )]);
        let collection =
            feature_collection(features, &points, |n| (n == 0).then(|| "voirie".to_owned()));
        let json: serde_json::Value =
            serde_json::from_str(&serde_json::to_string(&collection).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": { "type": "Point", "coordinates": [-1.7, 48.1] },
                        "properties": {
                            "kind": "cluster",
                            "cluster": true,
                            "count": 12,
                            "point_count": 12,
                            "expansion_zoom": 14,
                        },
                    },
                    {
                        "type": "Feature",
                        "id": "2026-SIG-0000007",
                        "geometry": { "type": "Point", "coordinates": [-1.6800201, 48.111339] },
                        "properties": {
                            "kind": "incident",
                            "request_number": "2026-SIG-0000007",
                            "category": "voirie",
                            "phase": "in_progress",
                            "report_count": 3,
                        },
                    },
                ],
            })
        );
    }
}
