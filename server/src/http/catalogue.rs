//! `GET /api/v1/catalogue`: every active démarche at its current revision.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use guichet_shared::api::Catalogue;

use super::ApiError;
use crate::db;
use crate::state::AppState;

pub async fn list(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let demarches = db::catalogue::list(&state.db).await?;
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=60")],
        Json(Catalogue { demarches }),
    ))
}
