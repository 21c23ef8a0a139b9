//! `GET /media/{key}`: processed photos, and nothing else of the store. Content-addressed, so they never change: cached for a
//! year and revalidated by their key.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::ApiError;
use super::extract::Path;
use crate::photos::is_valid_key;
use crate::state::AppState;

pub async fn photo(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !is_valid_key(&key) {
        return Err(ApiError::not_found(
            "photo-not-found",
            "No photo has this address.",
        ));
    }
    let etag = format!("\"{}\"", &key[..64]);
    let cache = [
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ),
        (
            header::ETAG,
            HeaderValue::from_str(&etag).map_err(|e| ApiError::internal(&e))?,
        ),
    ];
    let revalidating = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if revalidating {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    // Only photos: attachments and wallet documents share the store but are never public.
    if !crate::db::files::is_photo(&state.db, &key).await? {
        return Err(ApiError::not_found(
            "photo-not-found",
            "No photo has this address.",
        ));
    }
    // Proxied, whatever the store: the address stays this service's own, cached for a year,
    // and the bucket is never exposed (README, "Object storage").
    let bytes = state
        .photos
        .get(&key)
        .await?
        .ok_or_else(|| ApiError::not_found("photo-not-found", "No photo has this address."))?;
    Ok((
        cache,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/webp")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        bytes,
    )
        .into_response())
}
