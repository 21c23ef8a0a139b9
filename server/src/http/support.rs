//! `POST /api/v1/requests/{number}/support`: "me too" — one tap adds a co-report (without
//! photo) to an open request. JSON `{"client_id": uuid, "contact"?: {"email", "name"}}`;
//! idempotent by client id. A contact left here is notified like the first reporter.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use guichet_shared::api::Contact;
use guichet_shared::validation::FieldError;
use serde::Deserialize;
use uuid::Uuid;

use super::ApiError;
use super::body::{lang_of, submitted};
use crate::intake;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct SupportBody {
    client_id: Uuid,
    #[serde(default)]
    contact: Option<Contact>,
}

pub async fn support(
    State(state): State<AppState>,
    Path(number): Path<String>,
    headers: HeaderMap,
    body: Result<Json<SupportBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body.map_err(json_rejection)?;
    let lang = lang_of(&headers);
    let result =
        intake::support(&state, &number, body.client_id, body.contact.as_ref(), lang).await?;
    Ok(submitted(result))
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Expected application/json",
            "send {\"client_id\": \"…\"} as application/json",
        ),
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            let field = if text.contains("client_id") {
                "client_id"
            } else {
                "body"
            };
            ApiError::validation(vec![FieldError::new(field, "invalid-type", text)])
        }
        other => ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "The body is not valid JSON",
            other.body_text(),
        ),
    }
}
