//! The document wallet of a citizen's account (see `crate::wallet`):
//! - `GET /api/v1/citizen/me/documents`: the documents, the bytes used and the quota;
//! - `POST /api/v1/citizen/me/documents`: keep one (multipart: a `document` JSON part and a
//!   `file` part);
//! - `GET /api/v1/citizen/me/documents/{id}`: its file, for the account only;
//! - `DELETE /api/v1/citizen/me/documents/{id}`: let it go (filed requests keep theirs).
//!
//! Another account's document answers the same 404 as one that does not exist.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use guichet_shared::validation::FieldError;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::auth::AuthCitizen;
use super::extract::Path;
use super::{ApiError, body, download};
use crate::db;
use crate::db::wallet::DocumentRow;
use crate::state::AppState;
use crate::wallet::{self, WalletError};

/// A document of the wallet.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Document {
    pub id: i64,
    pub label: String,
    /// `identity`, `proof-of-address`, `income`, `family` or `other`.
    pub kind: String,
    pub filename: String,
    /// The type its bytes show.
    pub mime: String,
    pub bytes: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Where its holder downloads it (with the session's token).
    pub download_url: String,
}

impl From<DocumentRow> for Document {
    fn from(r: DocumentRow) -> Self {
        Document {
            download_url: format!("/api/v1/citizen/me/documents/{}", r.id),
            id: r.id,
            label: r.label,
            kind: r.kind,
            filename: r.filename,
            mime: r.mime,
            bytes: r.bytes,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Wallet {
    pub documents: Vec<Document>,
    pub used_bytes: i64,
    pub quota_bytes: u64,
}

/// The `document` part of an upload.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentFields {
    /// What the citizen calls it, 1 to 120 characters.
    label: String,
    /// `identity`, `proof-of-address`, `income`, `family` or `other`.
    kind: String,
}

/// An upload: the JSON in a `document` part, the file in a `file` part.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // the parts are read from the stream (`body::json_with_files`)
pub struct DocumentForm {
    document: DocumentFields,
    file: super::body::Upload,
}

impl From<WalletError> for ApiError {
    fn from(e: WalletError) -> Self {
        match e {
            WalletError::Invalid(errors) => ApiError::validation(errors),
            WalletError::QuotaExceeded {
                used,
                quota,
                needed,
            } => ApiError::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "wallet-quota-exceeded",
                "Document wallet full",
                "file",
                format!(
                    "the wallet holds {used} of its {quota} bytes and this document takes {needed}: delete a document first"
                ),
            ),
            WalletError::File(e) => e.into(),
            WalletError::Db(e) => e.into(),
        }
    }
}

fn not_found() -> ApiError {
    ApiError::not_found("document-not-found", "Your wallet has no such document.")
}

#[utoipa::path(
    get,
    path = "/api/v1/citizen/me/documents",
    tag = "compte citoyen",
    summary = "Mon porte-documents",
    responses((status = 200, description = "The documents, newest first, with the bytes used and the quota", body = Wallet)),
    security(("citizen_token" = [])),
)]
pub async fn list(
    State(state): State<AppState>,
    AuthCitizen(c): AuthCitizen,
) -> Result<Json<Wallet>, ApiError> {
    let rows = db::wallet::list(&state.db, c.id).await?;
    let used_bytes = rows.iter().map(|r| i64::from(r.bytes)).sum();
    Ok(Json(Wallet {
        documents: rows.into_iter().map(Document::from).collect(),
        used_bytes,
        quota_bytes: state.config.wallet_quota_bytes,
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/citizen/me/documents",
    tag = "compte citoyen",
    summary = "Ajouter un document au porte-documents",
    request_body(content((DocumentForm = "multipart/form-data"))),
    responses(
        (status = 201, description = "Kept", body = Document),
        (status = 403, description = "`email-not-verified`"),
        (status = 422, description = "`validation-failed` (`document.label`, `document.kind`, `file`: `file-type-not-accepted`), `wallet-quota-exceeded`"),
    ),
    security(("citizen_token" = [])),
)]
pub async fn add(
    State(state): State<AppState>,
    AuthCitizen(c): AuthCitizen,
    req: Request,
) -> Result<Response, ApiError> {
    if c.email_verified_at.is_none() {
        return Err(crate::pipeline::PipelineError::EmailNotVerified.into());
    }
    let max_bytes = state.config.photos.max_bytes;
    let (fields, files) =
        body::json_with_files::<DocumentFields>(req, &state, "document", max_bytes, 1).await?;
    let Some(file) = files.into_iter().find(|f| f.field == "file") else {
        return Err(ApiError::validation(vec![FieldError::new(
            "file",
            "required",
            "the document's file, in a `file` part",
        )]));
    };
    let row = wallet::add(
        &state,
        c.id,
        wallet::Upload {
            label: &fields.label,
            kind: &fields.kind,
            filename: &file.filename,
            bytes: file.bytes,
        },
    )
    .await?;
    let doc = Document::from(row);
    Ok((
        StatusCode::CREATED,
        [(axum::http::header::LOCATION, doc.download_url.clone())],
        Json(doc),
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/citizen/me/documents/{id}",
    tag = "compte citoyen",
    summary = "Télécharger un document du porte-documents",
    params(("id" = i64, Path, description = "The document's id")),
    responses(
        (status = 200, description = "The file, as a download, with its own content type", content(("*/*"))),
        (status = 404, description = "`document-not-found` (also for another account's document)"),
    ),
    security(("citizen_token" = [])),
)]
pub async fn download(
    State(state): State<AppState>,
    AuthCitizen(c): AuthCitizen,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let (row, bytes) = wallet::read(&state, c.id, id)
        .await?
        .ok_or_else(not_found)?;
    Ok(download::private_file(bytes, &row.filename, &row.mime))
}

#[utoipa::path(
    delete,
    path = "/api/v1/citizen/me/documents/{id}",
    tag = "compte citoyen",
    summary = "Retirer un document du porte-documents",
    params(("id" = i64, Path, description = "The document's id")),
    responses(
        (status = 204, description = "Gone from the wallet; requests that attached it keep their copy"),
        (status = 404, description = "`document-not-found`"),
    ),
    security(("citizen_token" = [])),
)]
pub async fn remove(
    State(state): State<AppState>,
    AuthCitizen(c): AuthCitizen,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    if wallet::remove(&state, c.id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found())
    }
}
