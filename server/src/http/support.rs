//! `POST /api/v1/requests/{number}/support`: "me too" — one tap adds a co-report (without
//! photo) to an open request. JSON `{"client_id": uuid, "contact"?: {"email", "name"}}` of at most 4 KiB;
//! idempotent by client id. A contact left here is notified like the first reporter.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::response::Response;
use guichet_shared::api::{Contact, ReportReceipt};
use serde::Deserialize;
use uuid::Uuid;

use super::ApiError;
use super::body::{self, lang_of, submitted};
use super::extract::Path;
use crate::intake;
use crate::pipeline::Receipt;
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"client_id": "9a3e1c57-2b4d-4f6a-8e0c-1d2f3a4b5c6d"}))]
pub struct SupportBody {
    client_id: Uuid,
    #[serde(default)]
    contact: Option<Contact>,
}

/// The JSON of a "me too" is a client id and perhaps a contact: a few hundred bytes.
const MAX_SUPPORT_JSON_BYTES: usize = 4 * 1024;

#[utoipa::path(
    post,
    path = "/api/v1/requests/{number}/support",
    tag = "signalements",
    summary = "Moi aussi",
    params(("number" = String, Path, description = "Le numéro de la demande, `2026-SIG-000123`")),
    request_body = SupportBody,
    responses(
        (status = 201, description = "A co-report was added", body = ReportReceipt, headers(("Location" = String, description = "Where the filer follows the request"))),
        (status = 200, description = "The same `client_id` again: the first answer unchanged, whichever filing route gave it", body = Receipt),
        (status = 404, description = "`request-not-found`"),
        (status = 409, description = "`request-closed`"),
        (status = 413, description = "`json-too-large` (over 4 KiB)"),
    ),
    security(()),
)]
pub async fn support(
    State(state): State<AppState>,
    Path(number): Path<String>,
    headers: HeaderMap,
    req: Request,
) -> Result<Response, ApiError> {
    let body: SupportBody = body::json_within(req, MAX_SUPPORT_JSON_BYTES).await?;
    let lang = lang_of(&headers);
    let result =
        intake::support(&state, &number, body.client_id, body.contact.as_ref(), lang).await?;
    Ok(submitted(result))
}
