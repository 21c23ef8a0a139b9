//! axum's `Path` and `Query`, with their rejections as this API's problems. axum answers a
//! path segment or a query string it cannot read with plain text, which no client of this API
//! expects:
//! - a path segment that is not of its type (an id that is not a number, bytes that are not
//!   UTF-8) is a 404 `not-found`, like an id that does not exist;
//! - a query string that cannot be read (a parameter given twice) is a 400 `malformed-query`.

use axum::extract::FromRequestParts;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::StatusCode;

use super::ApiError;

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        match rejection {
            PathRejection::FailedToDeserializePathParams(_) => {
                ApiError::not_found("not-found", "There is nothing at this address.")
            }
            other => ApiError::internal(&other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed-query",
            "Malformed query string",
            rejection.body_text(),
        )
    }
}
