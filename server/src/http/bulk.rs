//! `POST /api/v1/agent/requests/bulk`: one action (assign, or a status change) on a selection
//! of the queue. Each request goes through the same action as alone, in its own transaction,
//! so one refusal (another team's request, a move its workflow has not) stops nothing else;
//! the answer says, request by request, what happened.

use axum::Json;
use axum::extract::{Request, State};
use guichet_shared::validation::FieldError;
use serde::{Deserialize, Serialize};

use super::{ApiError, body};
use crate::auth::{ActionKey, Agent};
use crate::pipeline::actions;
use crate::state::AppState;

/// Requests in one selection.
const MAX_SELECTION: usize = 200;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    numbers: Vec<String>,
    #[serde(default)]
    assign: Option<Assign>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    #[serde(default)]
    team: Option<String>,
    #[serde(default)]
    assignee_id: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ItemResult {
    number: String,
    ok: bool,
    /// The HTTP status the action alone would have answered.
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkResult {
    done: usize,
    failed: usize,
    results: Vec<ItemResult>,
}

enum Action {
    Assign(Option<String>, Option<i64>),
    Status(String, Option<String>),
}

fn check(b: BulkBody) -> Result<(Vec<String>, Action), ApiError> {
    let mut errors = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let numbers: Vec<String> = b
        .numbers
        .iter()
        .map(|n| n.trim().to_owned())
        .filter(|n| seen.insert(n.clone()))
        .collect();
    if numbers.is_empty() || numbers.len() > MAX_SELECTION {
        errors.push(FieldError::new(
            "numbers",
            "out-of-range",
            format!("select 1 to {MAX_SELECTION} requests"),
        ));
    }
    let action = match (b.assign, b.status) {
        (Some(a), None) if a.team.is_some() || a.assignee_id.is_some() => {
            Some(Action::Assign(a.team, a.assignee_id))
        }
        (Some(_), None) => {
            errors.push(FieldError::new(
                "assign",
                "required",
                "give a team, an assignee_id or both",
            ));
            None
        }
        (None, Some(s)) if !s.trim().is_empty() => {
            Some(Action::Status(s.trim().to_owned(), b.message))
        }
        _ => {
            errors.push(FieldError::new(
                "body",
                "one-action",
                "give either `assign` or `status`",
            ));
            None
        }
    };
    match action {
        Some(action) if errors.is_empty() => Ok((numbers, action)),
        _ => Err(ApiError::validation(errors)),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/agent/requests/bulk",
    tag = "agents",
    summary = "La même action sur plusieurs demandes",
    request_body = BulkBody,
    responses(
        (status = 200, description = "Each request's result", body = BulkResult),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn bulk(
    State(state): State<AppState>,
    agent: Agent,
    req: Request,
) -> Result<Json<BulkResult>, ApiError> {
    let (numbers, action) = check(body::json(req).await?)?;
    let mut results = Vec::with_capacity(numbers.len());
    for number in numbers {
        // Each item counts once under a key of its own, so a bulk sent again with the same
        // key does again only what did not take effect the first time.
        let mut agent = agent.clone();
        agent.action_key = agent.action_key.take().map(|k| ActionKey {
            key: format!("{}/{number}", k.key),
            ..k
        });
        let done = match &action {
            Action::Assign(team, assignee) => {
                actions::assign(&state, &agent, &number, team.as_deref(), *assignee).await
            }
            Action::Status(status, message) => {
                actions::change_status(&state, &agent, &number, status, message.as_deref()).await
            }
        };
        results.push(match done {
            Ok(_) => ItemResult {
                number,
                ok: true,
                status: 204,
                code: None,
                detail: None,
            },
            Err(e) => match ApiError::from(e) {
                e if e.replay.is_some() => ItemResult {
                    number,
                    ok: true,
                    status: 204,
                    code: None,
                    detail: None,
                },
                e => ItemResult {
                    number,
                    ok: false,
                    status: e.status.as_u16(),
                    code: Some(e.code),
                    detail: Some(e.detail),
                },
            },
        });
    }
    let failed = results.iter().filter(|r| !r.ok).count();
    Ok(Json(BulkResult {
        done: results.len() - failed,
        failed,
        results,
    }))
}
