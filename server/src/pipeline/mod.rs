//! The one pipeline every request goes through, whatever its démarche and channel: filing
//! (`submit`), then the agents' and citizens' actions on it (`actions`). Each action runs in
//! one transaction that changes the request, appends its events and queues its
//! notifications, so a crash never leaves a change without its trace.

pub mod actions;
pub mod form;
pub mod submit;

use axum::http::StatusCode;
use guichet_shared::validation::FieldError;
use guichet_shared::workflow::TransitionError;

use crate::db::DbError;
use crate::http::ApiError;
use crate::intake::IntakeError;
use crate::photos::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("no request has this number")]
    NotFound,
    #[error("{0}")]
    Transition(TransitionError),
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("this démarche needs an account")]
    AccountRequired,
    #[error("the account's e-mail address is not verified yet")]
    EmailNotVerified,
    #[error(transparent)]
    Intake(#[from] IntakeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for PipelineError {
    fn from(e: sqlx::Error) -> Self {
        PipelineError::Db(DbError::from(e))
    }
}

impl PipelineError {
    pub fn invalid(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        PipelineError::Invalid(vec![FieldError::new(field, code, message)])
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        PipelineError::Conflict {
            code,
            detail: detail.into(),
        }
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
            PipelineError::Forbidden(detail) => crate::http::auth::forbidden(&detail),
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
            PipelineError::Intake(e) => crate::http::intake_error(e),
            PipelineError::Store(e) => ApiError::internal(&e),
            PipelineError::Db(e) => e.into(),
        }
    }
}
