//! `POST /api/v1/reports`: a citizen's incident report, multipart: one `report` part (JSON)
//! and up to N `photo` parts.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use guichet_shared::api::{ReportReceipt, ReportSubmission};
use guichet_shared::validation::FieldError;

use super::ApiError;
use super::auth::MaybeCitizen;
use super::body::{Upload, body_too_large, drain, lang_of, multipart_error, read_field, submitted};
use crate::auth::Agent;
use crate::intake;
use crate::pipeline::Receipt;
use crate::pipeline::admit::Origin;
use crate::state::AppState;

/// The multipart body of a report, as the OpenAPI document describes it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // the parts are read from the stream (`read_report`)
pub struct ReportForm {
    /// JSON, at most 64 KiB.
    report: ReportSubmission,
    /// 0 to `GUICHET_PHOTO_MAX_COUNT` JPEG, PNG or WebP photos (the format is read from the bytes).
    photo: Vec<Upload>,
}

/// The JSON part is small; anything bigger is not a report.
const MAX_REPORT_JSON_BYTES: usize = 64 * 1024;

#[utoipa::path(
    post,
    path = "/api/v1/reports",
    tag = "signalements",
    summary = "Signaler un problème (photo et position)",
    request_body(content = ReportForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The report was filed: a new request, or a co-report of an open one", body = ReportReceipt, headers(("Location" = String, description = "Where the filer follows the request"))),
        (status = 200, description = "The same `client_id` again: the first answer unchanged, whichever filing route gave it", body = Receipt),
        (status = 401, description = "`unauthenticated`: an unknown or expired citizen token"),
        (status = 403, description = "`email-not-verified`"),
        (status = 413, description = "`photo-too-large`, `report-too-large`, `body-too-large`"),
        (status = 415, description = "`unsupported-media-type`, `photo-unsupported-format`, `photo-heic-unsupported`"),
        (status = 422, description = "`validation-failed`, `unknown-category`, `outside-service-area`, `too-many-photos`, `photo-corrupt`, `account-required`, `use-requests-endpoint`…"),
    ),
    security((), ("citizen_token" = [])),
)]
pub async fn submit(
    State(state): State<AppState>,
    MaybeCitizen(citizen): MaybeCitizen,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let (report, photos) = read_report(&state, &headers, multipart).await?;
    let lang = lang_of(&headers);
    let origin = Origin::SelfService { citizen };
    let result = intake::file_report(&state, report, photos, origin, lang).await?;
    Ok(submitted(result))
}

/// `POST /api/v1/agent/reports`: a field agent reports what they see on site (channel
/// `field`), with the same body and the same idempotency by client id as a citizen's report.
#[utoipa::path(
    post,
    path = "/api/v1/agent/reports",
    tag = "agents",
    summary = "Signalement fait sur place par un agent de terrain",
    request_body(content = ReportForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Filed with channel `field`", body = ReportReceipt, headers(("Location" = String, description = "Where the filer follows the request"))),
        (status = 200, description = "The same `client_id` again: the first answer unchanged, whichever filing route gave it", body = Receipt),
        (status = 413, description = "`photo-too-large`, `report-too-large`, `body-too-large`"),
        (status = 415, description = "`unsupported-media-type`, `photo-unsupported-format`"),
        (status = 422, description = "`validation-failed` (`contact` is `not-for-agents`), `unknown-category`, `outside-service-area`…"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn field_report(
    State(state): State<AppState>,
    agent: Agent,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let (report, photos) = read_report(&state, &headers, multipart).await?;
    if report.contact.is_some() {
        return Err(ApiError::validation(vec![FieldError::new(
            "contact",
            "not-for-agents",
            "a report filed by an agent has no citizen contact",
        )]));
    }
    let lang = lang_of(&headers);
    let origin = Origin::Agent { agent_id: agent.id };
    let result = intake::file_report(&state, report, photos, origin, lang).await?;
    Ok(submitted(result))
}

/// The report and its photos from a multipart body, checked against the route's limits.
async fn read_report(
    state: &AppState,
    headers: &HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(ReportSubmission, Vec<Bytes>), ApiError> {
    let limit = state.report_body_limit();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(body_too_large(limit));
    }
    let mut multipart = multipart.map_err(|rejection| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Expected multipart/form-data",
            format!(
                "send the report as multipart/form-data with a `report` part (JSON) and `photo` parts ({})",
                rejection.body_text()
            ),
        )
    })?;

    let parts = match read_parts(state, &mut multipart, limit).await {
        Ok(parts) => parts,
        Err(e) => {
            // Read what the client is still sending, so it receives our answer instead of a
            // reset connection. Bounded by the route's body limit.
            drain(&mut multipart).await;
            return Err(e);
        }
    };
    let report_json = parts.report.ok_or_else(|| {
        ApiError::validation(vec![FieldError::new(
            "report",
            "required",
            "the multipart body needs a `report` part holding the report as JSON",
        )])
    })?;
    Ok((parse_report(&report_json)?, parts.photos))
}

struct Parts {
    report: Option<Bytes>,
    photos: Vec<Bytes>,
}

async fn read_parts(
    state: &AppState,
    multipart: &mut Multipart,
    limit: usize,
) -> Result<Parts, ApiError> {
    let max_count = state.config.photos.max_count;
    let max_bytes = state.config.photos.max_bytes;
    let mut parts = Parts {
        report: None,
        photos: Vec::new(),
    };
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(e, limit))?
    {
        match field.name() {
            Some("report") => {
                if parts.report.is_some() {
                    return Err(ApiError::field(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "duplicate-part",
                        "Only one report per submission",
                        "report",
                        "the body holds more than one `report` part",
                    ));
                }
                let bytes = read_field(field, MAX_REPORT_JSON_BYTES, limit)
                    .await?
                    .ok_or_else(|| {
                        ApiError::field(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "report-too-large",
                            "Report JSON too large",
                            "report",
                            format!(
                                "the `report` part is limited to {MAX_REPORT_JSON_BYTES} bytes"
                            ),
                        )
                    })?;
                parts.report = Some(bytes);
            }
            Some("photo") => {
                let index = parts.photos.len();
                if index == max_count {
                    return Err(ApiError::field(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "too-many-photos",
                        "Too many photos",
                        "photo",
                        format!("a report may carry at most {max_count} photos"),
                    ));
                }
                let bytes = read_field(field, max_bytes, limit).await?.ok_or_else(|| {
                    ApiError::field(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "photo-too-large",
                        "Photo too large",
                        &format!("photo[{index}]"),
                        format!("each photo is limited to {max_bytes} bytes"),
                    )
                })?;
                parts.photos.push(bytes);
            }
            other => {
                let name = other.unwrap_or("").to_owned();
                return Err(ApiError::field(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown-part",
                    "Unexpected part",
                    &name,
                    format!(
                        "unexpected multipart part {name:?}: only `report` and `photo` are accepted"
                    ),
                ));
            }
        }
    }
    Ok(parts)
}

/// Parses the `report` part, telling syntax errors (400) from well-formed JSON with wrong or
/// missing fields (422, with the field's path).
fn parse_report(bytes: &[u8]) -> Result<ReportSubmission, ApiError> {
    // serde would accept an array for a struct; a report is an object.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        if let Err(e) = serde_json::from_slice::<serde_json::Value>(bytes) {
            return Err(json_error(bytes, ".", &e));
        }
        return Err(ApiError::validation(vec![FieldError::new(
            "report",
            "invalid-type",
            "the report must be a JSON object",
        )]));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed: Result<ReportSubmission, _> = serde_path_to_error::deserialize(&mut de);
    let report = match parsed {
        Ok(report) => report,
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            return Err(json_error(bytes, &path, &inner));
        }
    };
    de.end().map_err(|e| json_error(bytes, ".", &e))?;
    Ok(report)
}

fn json_error(bytes: &[u8], path: &str, e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data => {
            let field = if path == "." {
                missing_field_name(&e.to_string()).unwrap_or_else(|| "report".to_owned())
            } else {
                path.to_owned()
            };
            let code = if e.to_string().starts_with("missing field") {
                "required"
            } else {
                "invalid-type"
            };
            ApiError::validation(vec![FieldError::new(field, code, e.to_string())])
        }
        Category::Syntax | Category::Eof | Category::Io => {
            let mut problem = ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "The report is not valid JSON",
                format!("{e} (JSON has no NaN or Infinity; numbers are plain decimals)"),
            );
            // Point at the key whose value broke the syntax, e.g. `"lat": NaN`.
            if let Some(key) = key_before(bytes, e.line(), e.column()) {
                problem = problem.with_errors(vec![FieldError::new(
                    key,
                    "malformed-json",
                    e.to_string(),
                )]);
            }
            problem
        }
    }
}

fn missing_field_name(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_owned())
}

/// The last object key written before the error position (1-based line and column).
fn key_before(bytes: &[u8], line: usize, column: usize) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            offset += column.min(l.len());
            break;
        }
        offset += l.len();
    }
    let before = text.get(..offset.min(text.len()))?;
    let colon = before.rfind(':')?;
    let key_end = before[..colon].trim_end().strip_suffix('"')?;
    let key_start = key_end.rfind('"')?;
    let key = &key_end[key_start + 1..];
    (!key.is_empty() && key.len() <= 64).then(|| key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_point_at_the_key_of_the_bad_value() {
        let json = br#"{"client_id": "x", "lat": NaN, "lon": 1}"#;
        let e = serde_json::from_slice::<serde_json::Value>(json).err();
        let key = e.and_then(|e| key_before(json, e.line(), e.column()));
        assert_eq!(key.as_deref(), Some("lat"));
    }

    #[test]
    fn missing_fields_are_named() {
        assert_eq!(
            missing_field_name("missing field `lat` at line 1").as_deref(),
            Some("lat")
        );
        assert_eq!(missing_field_name("invalid type"), None);
    }
}
