//! `GET /api/v1/map`: what both apps' maps draw under the outlines and pins, from the server's
//! settings (`GUICHET_MAP_TILES`, `GUICHET_MAP_TILES_ATTRIBUTION`), so that a deployment
//! changes its tiles in one place, the Content-Security-Policy following.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use guichet_shared::phase::Lang;
use serde::Serialize;

use super::body::lang_of;
use crate::config::{DEFAULT_MAP_TILES, MapTiles};
use crate::state::AppState;

/// Settings change only with a restart.
const CACHE: &str = "public, max-age=300";
const OSM_COPYRIGHT: &str = "https://www.openstreetmap.org/copyright";

#[derive(Serialize, utoipa::ToSchema)]
pub struct MapSettings {
    /// The background tiles; `null`: none, the maps show the communes' outlines only.
    tiles: Option<Tiles>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Tiles {
    /// A URL template with `{z}`, `{x}`, `{y}` (and `{s}` for a subdomain).
    #[schema(example = "https://tile.openstreetmap.org/{z}/{x}/{y}.png")]
    url: String,
    /// The credit the tiles' licence asks for, shown on the map (plain text).
    #[schema(example = "© les contributeurs d'OpenStreetMap")]
    attribution: Option<String>,
    /// Where the credit links to.
    #[schema(example = "https://www.openstreetmap.org/copyright")]
    attribution_url: Option<String>,
}

fn tiles(t: &MapTiles, lang: Lang) -> Tiles {
    let osm = t.url == DEFAULT_MAP_TILES;
    let attribution = t.attribution.clone().or_else(|| {
        osm.then(|| match lang {
            Lang::Fr => "© les contributeurs d'OpenStreetMap".to_owned(),
            Lang::En => "© OpenStreetMap contributors".to_owned(),
        })
    });
    Tiles {
        url: t.url.clone(),
        attribution,
        attribution_url: (osm && t.attribution.is_none()).then(|| OSM_COPYRIGHT.to_owned()),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/map",
    tag = "adresses",
    summary = "Le fond de carte",
    responses(
        (status = 200, description = "The tiles the maps show and their credit, in the language of `Accept-Language` (cached 5 minutes)", body = MapSettings),
    ),
    security(()),
)]
pub async fn settings(State(state): State<AppState>, headers: HeaderMap) -> impl IntoResponse {
    let lang = lang_of(&headers);
    (
        [
            (header::CACHE_CONTROL, CACHE),
            (header::VARY, "Accept-Language"),
        ],
        Json(MapSettings {
            tiles: state.config.http.map_tiles.as_ref().map(|t| tiles(t, lang)),
        }),
    )
}
