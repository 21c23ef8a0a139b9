//! The API's one error type, rendered as RFC 9457 `application/problem+json` with a stable
//! machine `code` (documented in docs/api.md) and, for validation, the offending fields.
//! Internal causes are logged, never shown to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use guichet_shared::validation::FieldError;
use serde::Serialize;

use crate::accounts::LoginError;
use crate::db::DbError;
use crate::files::FileError;
use crate::intake::IntakeError;
use crate::limits::Throttled;
use crate::photos::{PhotoError, StoreError};
use crate::pipeline::PipelineError;
use guichet_shared::workflow::TransitionError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub retry_after_secs: Option<u64>,
    /// 401 answers say which scheme to use.
    pub www_authenticate: bool,
    /// Set when the call repeats an action that took effect before (same `Idempotency-Key`):
    /// the answer is then that first success, not a problem.
    pub replay: Option<Box<Replay>>,
}

/// The stored answer of an action repeated with its idempotency key.
#[derive(Debug)]
pub struct Replay {
    pub status: StatusCode,
    pub body: Option<serde_json::Value>,
}

/// Marks the answer to a repeated action (see `Replay`).
pub const REPLAYED: &str = "idempotent-replayed";

#[derive(Serialize)]
struct ProblemBody<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after_secs: None,
            www_authenticate: false,
            replay: None,
        }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// 422 with one entry per broken rule. An unknown category alone has its own code, which
    /// the app branches on.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        if !errors.is_empty() && errors.iter().all(|f| f.code == "unknown-category") {
            let mut problem = Self::validation_failed(errors);
            problem.code = "unknown-category";
            problem.title = "Unknown category";
            return problem;
        }
        Self::validation_failed(errors)
    }

    fn validation_failed(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation-failed",
            "Some fields are invalid",
            detail,
        )
        .with_errors(errors)
    }

    pub fn field(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        field: &str,
        detail: impl Into<String>,
    ) -> Self {
        let detail = detail.into();
        Self::new(status, code, title, detail.clone())
            .with_errors(vec![FieldError::new(field, code, detail)])
    }

    pub fn not_found(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, "Not found", detail)
    }

    pub fn busy(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server-busy",
            "Too many photos are being processed",
            "The server is processing as many photos as it can; send the report again shortly.",
        );
        e.retry_after_secs = Some(retry_after_secs);
        e
    }

    /// 429: an allowance is spent (a rate limit, or too many failed logins).
    pub fn too_many(throttled: Throttled) -> Self {
        let secs = throttled.retry_after_secs();
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            format!("too many requests of this kind for now; try again in {secs} s"),
        );
        e.retry_after_secs = Some(secs);
        e
    }

    /// A fault of ours. The cause goes to the log with the request id; the client gets a code.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal-error",
            "Internal error",
            "Something went wrong on our side; nothing was recorded. Please try again.",
        )
    }

    pub fn unavailable(cause: &dyn std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "service unavailable");
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service-unavailable",
            "Service temporarily unavailable",
            "The service cannot reach its database right now; nothing was recorded. Please try again.",
        );
        e.retry_after_secs = Some(5);
        e
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        if e.is_bad_text() {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid-characters",
                "Invalid characters",
                "the request holds characters that are not text (such as NUL)",
            );
        }
        if e.is_unavailable() {
            ApiError::unavailable(&e)
        } else {
            ApiError::internal(&e)
        }
    }
}

impl From<Throttled> for ApiError {
    fn from(t: Throttled) -> Self {
        ApiError::too_many(t)
    }
}

impl From<LoginError> for ApiError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::Throttled(t) => ApiError::too_many(t),
            LoginError::Db(e) => e.into(),
        }
    }
}

impl From<IntakeError> for ApiError {
    fn from(e: IntakeError) -> Self {
        match e {
            IntakeError::Invalid(errors) => ApiError::validation(errors),
            IntakeError::OutsideServiceArea { lat, lon } => {
                let detail = format!(
                    "the point ({lat}, {lon}) is outside the area this service covers (the communes of the metropolitan area); check the position or report to the commune concerned"
                );
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "outside-service-area",
                    "Outside the service area",
                    detail.clone(),
                )
                .with_errors(vec![
                    FieldError::new("lat", "outside-service-area", detail.clone()),
                    FieldError::new("lon", "outside-service-area", detail),
                ])
            }
            IntakeError::Photo { index, source } => photo_error(index, &source),
            IntakeError::Busy(busy) => ApiError::busy(busy.retry_after_secs),
            IntakeError::File(e) => e.into(),
            IntakeError::Db(e) => e.into(),
            IntakeError::RequestNotFound => {
                ApiError::not_found("request-not-found", "No open incident has this number.")
            }
            IntakeError::RequestClosed { phase } => ApiError::new(
                StatusCode::CONFLICT,
                "request-closed",
                "This request is closed",
                format!(
                    "the request is {phase} and takes no more reports; report the problem anew if it is back"
                ),
            ),
        }
    }
}

fn photo_error(index: usize, e: &PhotoError) -> ApiError {
    let field = format!("photo[{index}]");
    let (status, code, title) = match e {
        PhotoError::UnsupportedFormat { .. } => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "photo-unsupported-format",
            "Unsupported photo format",
        ),
        PhotoError::Heic => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "photo-heic-unsupported",
            "HEIC photos are not accepted",
        ),
        PhotoError::TooManyPixels { .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "photo-too-many-pixels",
            "Photo has too many pixels",
        ),
        PhotoError::TooLarge { .. } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "photo-too-large",
            "Photo too large",
        ),
        PhotoError::Corrupt(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "photo-corrupt",
            "Damaged photo",
        ),
        PhotoError::Encode(_) => return ApiError::internal(e),
    };
    ApiError::field(status, code, title, &field, e.to_string())
}

impl From<FileError> for ApiError {
    fn from(e: FileError) -> Self {
        match e {
            FileError::Db(e) => e.into(),
            FileError::Store(e) => e.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if !e.is_unavailable() {
            return ApiError::internal(&e);
        }
        tracing::warn!(error = %e, "object store unavailable");
        let mut problem = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store-unavailable",
            "Storage temporarily unavailable",
            "The service cannot reach its file storage right now; nothing was recorded. Please try again.",
        );
        problem.retry_after_secs = Some(5);
        problem
    }
}

impl From<PipelineError> for ApiError {
    fn from(e: PipelineError) -> Self {
        match e {
            PipelineError::Invalid(errors) => ApiError::validation(errors),
            PipelineError::NotFound => {
                ApiError::not_found("request-not-found", "No request has this number.")
            }
            PipelineError::Transition(t) => {
                let (status, code) = match &t {
                    TransitionError::Forbidden { .. } => {
                        (StatusCode::FORBIDDEN, "transition-forbidden")
                    }
                    TransitionError::UnknownStatus(_) => {
                        (StatusCode::UNPROCESSABLE_ENTITY, "unknown-status")
                    }
                    TransitionError::NotAllowed { .. } => {
                        (StatusCode::CONFLICT, "invalid-transition")
                    }
                };
                let mut err =
                    ApiError::new(status, code, "This move is not possible", t.to_string());
                if status == StatusCode::UNPROCESSABLE_ENTITY {
                    err = err.with_errors(vec![FieldError::new("status", code, t.to_string())]);
                }
                err
            }
            PipelineError::Conflict { code, detail } => {
                ApiError::new(StatusCode::CONFLICT, code, "Conflict", detail)
            }
            PipelineError::Forbidden(detail) => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
            }
            PipelineError::AccountRequired => {
                let mut e = ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "account-required",
                    "This démarche needs an account",
                    "log in (POST /api/v1/citizen/login) and send the request with the token",
                );
                e.www_authenticate = true;
                e
            }
            PipelineError::EmailNotVerified => ApiError::new(
                StatusCode::FORBIDDEN,
                "email-not-verified",
                "E-mail address not verified",
                "follow the link sent to your e-mail address, then file the request again",
            ),
            PipelineError::Intake(e) => e.into(),
            PipelineError::File(e) => e.into(),
            PipelineError::Db(e) => e.into(),
            PipelineError::Replayed { status, result } => {
                let mut e = ApiError::new(StatusCode::OK, "replayed", "Already done", "");
                e.replay = Some(Box::new(Replay {
                    status: StatusCode::from_u16(status).unwrap_or(StatusCode::NO_CONTENT),
                    body: result,
                }));
                e
            }
            PipelineError::KeyReused { method, path } => ApiError::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency key already used",
                "idempotency-key",
                format!(
                    "this Idempotency-Key was already used for {method} {path}; give each action a key of its own"
                ),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(replay) = self.replay {
            let Replay { status, body } = *replay;
            let mut response = match body {
                Some(body) => (status, axum::Json(body)).into_response(),
                None => status.into_response(),
            };
            response
                .headers_mut()
                .insert(REPLAYED, HeaderValue::from_static("true"));
            return response;
        }
        let body = ProblemBody {
            kind: format!("urn:guichet:problem:{}", self.code),
            title: self.title,
            status: self.status.as_u16(),
            detail: &self.detail,
            code: self.code,
            field: self.errors.first().map(|e| e.field.as_str()),
            errors: &self.errors,
        };
        let json = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (self.status, json).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.www_authenticate {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"guichet\""),
            );
        }
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
