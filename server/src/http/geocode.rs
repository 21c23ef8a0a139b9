//! `GET /api/v1/geocode/reverse?lat=&lon=`: the address of a pin; `GET
//! /api/v1/geocode/search?q=[&lat=&lon=][&limit=]`: addresses and streets matching what was
//! typed. Both read the Base Adresse Nationale as `guichet import-addresses` loaded it.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use guichet_shared::validation::FieldError;
use serde::{Deserialize, Serialize};

use super::extract::Query;
use super::{ApiError, params};
use crate::addresses::{self, TypedAddress};
use crate::db;
use crate::state::AppState;

/// How far from a pin its address may be.
pub const REVERSE_RADIUS_M: f64 = 150.0;
const Q_MIN_CHARS: usize = 3;
const Q_MAX_CHARS: usize = 200;
const DEFAULT_LIMIT: i64 = 5;
const MAX_LIMIT: i64 = 20;
/// Addresses change only when they are imported again.
const CACHE: &str = "public, max-age=300";

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReverseQuery {
    #[param(value_type = f64, minimum = -90, maximum = 90, example = 48.1113, required = true)]
    lat: Option<String>,
    #[param(value_type = f64, minimum = -180, maximum = 180, example = -1.68, required = true)]
    lon: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// What was typed: a number, the street and the commune.
    #[param(value_type = String, required = true, min_length = 3, max_length = 200, example = "12 rue de paris rennes")]
    q: Option<String>,
    /// With `lon`: favours what is near.
    #[param(value_type = Option<f64>, minimum = -90, maximum = 90, example = 48.1113)]
    lat: Option<String>,
    #[param(value_type = Option<f64>, minimum = -180, maximum = 180, example = -1.68)]
    lon: Option<String>,
    #[param(value_type = Option<u8>, minimum = 1, maximum = 20, example = 5)]
    limit: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    results: Vec<Place>,
}

/// An address (`kind: "address"`) or, when no number was typed, a street (`kind: "street"`,
/// without `id` nor `housenumber`, placed at its address nearest to its middle).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Place {
    label: String,
    kind: &'static str,
    /// The BAN id of an address.
    id: Option<String>,
    housenumber: Option<String>,
    street: String,
    postcode: Option<String>,
    city: String,
    citycode: String,
    lat: f64,
    lon: f64,
    /// From the point given, in metres.
    distance_m: Option<f64>,
}

impl Place {
    fn of(p: db::addresses::Place) -> Place {
        let housenumber = addresses::housenumber(p.number, p.rep.as_deref());
        Place {
            label: addresses::label(housenumber.as_deref(), &p.street, &p.postcode, &p.city),
            kind: if p.id.is_some() { "address" } else { "street" },
            id: p.id,
            housenumber,
            street: p.street,
            postcode: Some(p.postcode).filter(|c| !c.is_empty()),
            city: p.city,
            citycode: p.citycode,
            lat: p.lat,
            lon: p.lon,
            distance_m: p.distance_m.map(|d| (d * 10.0).round() / 10.0),
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/geocode/reverse",
    tag = "adresses",
    summary = "L'adresse d'un point",
    params(ReverseQuery),
    responses(
        (status = 200, description = "The nearest address within 150 m (cached 5 minutes)", body = Place),
        (status = 404, description = "`no-address-nearby`"),
    ),
    security(()),
)]
pub async fn reverse(
    State(state): State<AppState>,
    Query(q): Query<ReverseQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let lat = params::required("lat", q.lat.as_deref()).and_then(|v| params::latitude("lat", v));
    let lon = params::required("lon", q.lon.as_deref()).and_then(|v| params::longitude("lon", v));
    let (lat, lon) = match (lat, lon) {
        (Ok(lat), Ok(lon)) => (lat, lon),
        (lat, lon) => {
            return Err(ApiError::validation(
                lat.err().into_iter().chain(lon.err()).collect(),
            ));
        }
    };
    let place = db::addresses::nearest(&state.db, lat, lon, REVERSE_RADIUS_M)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "no-address-nearby",
                format!("no address is known within {REVERSE_RADIUS_M} m of this point"),
            )
        })?;
    Ok(([(header::CACHE_CONTROL, CACHE)], Json(Place::of(place))))
}

#[utoipa::path(
    get,
    path = "/api/v1/geocode/search",
    tag = "adresses",
    summary = "Rechercher une adresse",
    params(SearchQuery),
    responses(
        (status = 200, description = "Addresses or streets, best first (cached 5 minutes)", body = SearchResults),
    ),
    security(()),
)]
pub async fn search(
    State(state): State<AppState>,
    Query(q): Query<SearchQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let mut errors = Vec::new();
    let text = q.q.as_deref().unwrap_or_default().trim();
    let chars = text.chars().count();
    if chars < Q_MIN_CHARS {
        errors.push(FieldError::new(
            "q",
            if text.is_empty() {
                "required"
            } else {
                "too-short"
            },
            format!("type at least {Q_MIN_CHARS} characters of the address"),
        ));
    } else if chars > Q_MAX_CHARS {
        errors.push(FieldError::new(
            "q",
            "too-long",
            format!("at most {Q_MAX_CHARS} characters"),
        ));
    }
    let point = |field: &str, value: Option<&str>| -> Result<Option<f64>, FieldError> {
        value
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| {
                if field == "lat" {
                    params::latitude(field, v)
                } else {
                    params::longitude(field, v)
                }
            })
            .transpose()
    };
    let near = match (
        point("lat", q.lat.as_deref()),
        point("lon", q.lon.as_deref()),
    ) {
        (Ok(Some(lat)), Ok(Some(lon))) => Some((lat, lon)),
        (Ok(None), Ok(None)) => None,
        (lat, lon) => {
            for (field, value) in [("lat", lat), ("lon", lon)] {
                match value {
                    Err(e) => errors.push(e),
                    Ok(None) => errors.push(FieldError::new(
                        field,
                        "required",
                        "`lat` and `lon` go together: give both, or neither",
                    )),
                    Ok(Some(_)) => {}
                }
            }
            None
        }
    };
    let limit = match q.limit.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                errors.push(FieldError::new(
                    "limit",
                    "out-of-range",
                    format!("`limit` is a whole number from 1 to {MAX_LIMIT}"),
                ));
                DEFAULT_LIMIT
            }
        },
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let typed = TypedAddress::parse(text);
    let results: Vec<Place> = if typed.words.trim().is_empty() {
        // Only a number or a postcode: nothing to match a street with.
        Vec::new()
    } else {
        db::addresses::search(
            &state.db,
            &db::addresses::Search {
                words: typed.words,
                number: typed.number,
                rep: typed.rep,
                postcode: typed.postcode,
                near,
                limit,
            },
        )
        .await?
        .into_iter()
        .map(Place::of)
        .collect()
    };
    Ok((
        [(header::CACHE_CONTROL, CACHE)],
        Json(SearchResults { results }),
    ))
}
