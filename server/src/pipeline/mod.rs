//! The one pipeline every request goes through, whatever its démarche and channel: admission
//! (`admit`: which démarche, through which channel, by whom), opening the request (`open`),
//! filing (`submit` for any démarche, `crate::intake` for incident reports), then the agents'
//! and citizens' actions on it (`actions`), for those `access` lets in. Each step runs in one transaction that changes the
//! request, appends its events and queues its notifications, so a crash never leaves a change
//! without its trace.
//!
//! The domain knows no HTTP: its errors are the enums below, which `http::problem` turns into
//! problem+json answers.

pub mod access;
pub mod acknowledgement;
pub mod actions;
pub mod admit;
pub mod form;
pub mod open;
pub mod public_view;
pub mod submit;

use guichet_shared::api::ReportReceipt;
use guichet_shared::validation::FieldError;
use guichet_shared::workflow::TransitionError;
use serde::Serialize;

use crate::db::DbError;
use crate::files::FileError;
use crate::intake::IntakeError;

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
    File(#[from] FileError),
    #[error(transparent)]
    Db(#[from] DbError),
    /// Not a failure: the action with this idempotency key took effect before, and this is
    /// what it answered then. Nothing was done again.
    #[error("already done")]
    Replayed {
        status: u16,
        result: Option<serde_json::Value>,
    },
    /// The idempotency key was used before for another action.
    #[error("idempotency key reused")]
    KeyReused { method: String, path: String },
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

/// What a filer is told: a report's receipt (incidents, "me too") or a request's.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Receipt {
    Report(ReportReceipt),
    Request(submit::RequestReceipt),
}

impl Receipt {
    /// Where the filer follows the request (the answer's `Location`).
    pub fn status_url(&self) -> &str {
        match self {
            Receipt::Report(r) => &r.status_url,
            Receipt::Request(r) => &r.status_url,
        }
    }

    pub fn to_json(&self) -> Result<serde_json::Value, DbError> {
        serde_json::to_value(self).map_err(|e| DbError::Data(e.to_string()))
    }
}

pub enum Submitted {
    /// A new submission (201). Boxed: a receipt with its acknowledgement is large, a replay
    /// small.
    Created(Box<Receipt>),
    /// The same client id was seen before: the first answer, unchanged (200).
    Replayed(serde_json::Value),
}
