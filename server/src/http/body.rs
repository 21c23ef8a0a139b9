//! What every handler shares to read a request and shape its answer: JSON and multipart
//! bodies into typed values, with field-level problems (a wrong type names its path, 422;
//! broken JSON is a 400), the caller's language, and the answer to a filing.

use axum::Json;
use axum::body::Bytes;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::BytesMut;
use futures::StreamExt;
use guichet_shared::phase::Lang;
use guichet_shared::validation::FieldError;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ApiError;
use crate::pipeline::Submitted;
use crate::pipeline::submit::UploadedFile;
use crate::state::AppState;

/// Largest JSON document of a submission (form data, not files).
pub const MAX_JSON_BYTES: usize = 256 * 1024;

/// Parses JSON into `T`; type errors name the offending path (`data.items[1].quantity`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            match inner.classify() {
                serde_json::error::Category::Data => {
                    let message = inner.to_string();
                    let (field, code) = if let Some(rest) = message.strip_prefix("missing field `")
                    {
                        let name = rest.split('`').next().unwrap_or("body");
                        let field = if path == "." {
                            name.to_owned()
                        } else {
                            format!("{path}.{name}")
                        };
                        (field, "required")
                    } else if message.starts_with("unknown field") {
                        let name = message
                            .split('`')
                            .nth(1)
                            .map(str::to_owned)
                            .unwrap_or_else(|| path.clone());
                        let field = if path == "." { name } else { path.clone() };
                        (field, "unknown-field")
                    } else {
                        let field = if path == "." { "body".to_owned() } else { path };
                        (field, "invalid-type")
                    };
                    Err(ApiError::validation(vec![FieldError::new(
                        field, code, message,
                    )]))
                }
                _ => Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed-json",
                    "The body is not valid JSON",
                    inner.to_string(),
                )),
            }
        }
    }
}

/// An HTML form's body (`application/x-www-form-urlencoded`), parsed into `T`; a body that
/// does not read as one is a `malformed-form` problem.
pub async fn form<T: DeserializeOwned>(req: Request, state: &AppState) -> Result<T, ApiError> {
    let axum::Form(value) = axum::Form::<T>::from_request(req, state)
        .await
        .map_err(|e| {
            ApiError::new(
                e.status(),
                "malformed-form",
                "Malformed form",
                e.body_text(),
            )
        })?;
    Ok(value)
}

/// A JSON body (`application/json`) of at most [`MAX_JSON_BYTES`], parsed into `T`.
pub async fn json<T: DeserializeOwned>(req: Request) -> Result<T, ApiError> {
    json_within(req, MAX_JSON_BYTES).await
}

/// A JSON body of at most `cap` bytes, parsed into `T`. A larger body is refused with 413
/// before anything is parsed: from its declared length without reading a byte, or as soon as
/// the bytes read pass the cap, so one request never holds more than `cap` in memory (what
/// the client still sends is thrown away by [`super::linger`]).
pub async fn json_within<T: DeserializeOwned>(req: Request, cap: usize) -> Result<T, ApiError> {
    if !is_content_type(&req, "application/json") {
        return Err(unsupported("send the body as application/json"));
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > cap as u64) {
        return Err(json_too_large("body", cap));
    }
    let mut stream = req.into_body().into_data_stream();
    let mut buf = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "body-unreadable",
                "Body unreadable",
                e.to_string(),
            )
        })?;
        if buf.len() + chunk.len() > cap {
            return Err(json_too_large("body", cap));
        }
        buf.extend_from_slice(&chunk);
    }
    parse_json(&buf)
}

/// 413 for a JSON document (a body, or a multipart part named `field`) over its cap.
fn json_too_large(field: &str, cap: usize) -> ApiError {
    ApiError::field(
        StatusCode::PAYLOAD_TOO_LARGE,
        "json-too-large",
        "JSON document too large",
        field,
        format!("the `{field}` JSON is limited to {cap} bytes"),
    )
}

fn is_content_type(req: &Request, expected: &str) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(expected))
}

fn unsupported(detail: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        "Unsupported media type",
        detail,
    )
}

/// A submission: either JSON, or multipart with the JSON in the part `json_part` and files in
/// parts named after their form field.
pub async fn json_with_files<T: DeserializeOwned>(
    req: Request,
    state: &AppState,
    json_part: &'static str,
    max_file_bytes: usize,
    max_files: usize,
) -> Result<(T, Vec<UploadedFile>), ApiError> {
    if is_content_type(&req, "application/json") {
        return Ok((json(req).await?, Vec::new()));
    }
    if !is_content_type(&req, "multipart/form-data") {
        return Err(unsupported(&format!(
            "send application/json, or multipart/form-data with a `{json_part}` part (JSON) and one part per file named after its field"
        )));
    }
    let limit = max_file_bytes * max_files + MAX_JSON_BYTES;
    let mut multipart = Multipart::from_request(req, state)
        .await
        .map_err(|e| unsupported(&e.body_text()))?;
    match read_parts(&mut multipart, json_part, max_file_bytes, max_files, limit).await {
        Ok((json, files)) => {
            let json = json.ok_or_else(|| {
                ApiError::validation(vec![FieldError::new(
                    json_part,
                    "required",
                    format!("the multipart body needs a `{json_part}` part holding JSON"),
                )])
            })?;
            Ok((parse_json(&json)?, files))
        }
        Err(e) => {
            drain(&mut multipart).await;
            Err(e)
        }
    }
}

/// JSON, or multipart with the JSON in `json_part` and photos in `photo` parts (at most the
/// configured count and size): an agent's after-photos, a reporter's "not fixed" ones.
pub async fn json_with_photos<T: DeserializeOwned>(
    req: Request,
    state: &AppState,
    json_part: &'static str,
) -> Result<(T, Vec<Bytes>), ApiError> {
    let limits = &state.config.photos;
    let (json, files) =
        json_with_files(req, state, json_part, limits.max_bytes, limits.max_count).await?;
    let mut photos = Vec::with_capacity(files.len());
    for f in files {
        if f.field != "photo" {
            return Err(ApiError::validation(vec![FieldError::new(
                &f.field,
                "unknown-part",
                format!("only a `{json_part}` part and `photo` parts are accepted"),
            )]));
        }
        photos.push(f.bytes);
    }
    Ok((json, photos))
}

async fn read_parts(
    multipart: &mut Multipart,
    json_part: &'static str,
    max_file_bytes: usize,
    max_files: usize,
    limit: usize,
) -> Result<(Option<Bytes>, Vec<UploadedFile>), ApiError> {
    let mut json = None;
    let mut files = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(e, limit))?
    {
        let name = field.name().unwrap_or("").to_owned();
        if name == json_part {
            let bytes = read_field(field, MAX_JSON_BYTES, limit)
                .await?
                .ok_or_else(|| json_too_large(json_part, MAX_JSON_BYTES))?;
            json = Some(bytes);
            continue;
        }
        if name.is_empty() {
            return Err(ApiError::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown-part",
                "Unnamed part",
                "body",
                "every file part must be named after its form field",
            ));
        }
        if files.len() == max_files {
            return Err(ApiError::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "too-many-files",
                "Too many files",
                &format!("files.{name}"),
                format!("a submission carries at most {max_files} files"),
            ));
        }
        let filename = field
            .file_name()
            .map(|f| f.chars().filter(|c| !c.is_control()).take(200).collect())
            .unwrap_or_else(|| name.clone());
        let bytes = read_field(field, max_file_bytes, limit)
            .await?
            .ok_or_else(|| {
                ApiError::field(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "file-too-large",
                    "File too large",
                    &format!("files.{name}"),
                    format!("each file is limited to {max_file_bytes} bytes"),
                )
            })?;
        files.push(UploadedFile {
            field: name,
            filename,
            bytes,
        });
    }
    Ok((json, files))
}

/// Files per submission, whatever their fields.
pub const MAX_FILES: usize = 10;

pub fn lang_of(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Lang::Fr, Lang::from_accept_language)
}

/// The id of what a call created or saved.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: i64,
}

/// A file part of a multipart body (a photo, a document), as the OpenAPI document names it.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // describes a part for the document; parts are read from the stream
pub struct Upload(Vec<u8>);

/// 201 with a `Location` for a new request, 200 with the same receipt for a retry.
pub fn submitted(result: Submitted) -> Response {
    match result {
        Submitted::Created(receipt) => {
            let location = HeaderValue::from_str(receipt.status_url()).ok();
            let mut response = (StatusCode::CREATED, Json(receipt)).into_response();
            if let Some(location) = location {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        Submitted::Replayed(receipt) => (StatusCode::OK, Json(receipt)).into_response(),
    }
}

/// Reads a part, stopping as soon as it exceeds `max` bytes (`None` then).
pub async fn read_field(
    mut field: Field<'_>,
    max: usize,
    limit: usize,
) -> Result<Option<Bytes>, ApiError> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, limit))? {
        if buf.len() + chunk.len() > max {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Some(buf.freeze()))
}

pub async fn drain(multipart: &mut Multipart) {
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
}

pub fn body_too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body-too-large",
        "Request body too large",
        format!("this route accepts at most {limit} bytes"),
    )
}

pub fn multipart_error(e: MultipartError, limit: usize) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return body_too_large(limit);
    }
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "malformed-multipart",
        "Malformed multipart body",
        e.body_text(),
    )
}
