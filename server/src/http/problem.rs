//! The API's one error type, rendered as RFC 9457 `application/problem+json` with a stable
//! machine `code` (documented in docs/api.md) and, for validation, the offending fields.
//! Internal causes are logged, never shown to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use guichet_shared::validation::FieldError;
use serde::Serialize;

use crate::db::DbError;

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
}

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
        }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// 422 with one entry per broken rule.
    pub fn validation(errors: Vec<FieldError>) -> Self {
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
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
