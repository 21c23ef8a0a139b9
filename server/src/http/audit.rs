//! The audit trail over HTTP: [`trace`], the route layer that applies `crate::audit::traced`
//! to every call of the API, and the admins' `GET /api/v1/admin/audit` (newest first, with
//! filters) and `GET /api/v1/admin/audit/export` (CSV or ODS).

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{MatchedPath, RawPathParams, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use guichet_shared::validation::FieldError;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ApiError;
use super::auth::require_admin;
use super::limit::ClientIp;
use crate::audit::{self, Trace};
use crate::auth::Agent;
use crate::db::{self, audit::TraceFilter};
use crate::exports::{self, Cell, Pages};
use crate::state::AppState;

/// Where the agent extractor leaves who is calling, for the trace written after the answer.
#[derive(Debug, Clone, Default)]
pub struct Caller(Arc<Mutex<Option<(i64, String)>>>);

impl Caller {
    /// Called by the agent extractor once the session is known.
    pub fn set(&self, agent_id: i64, email: &str) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some((agent_id, email.to_owned()));
        }
    }

    fn get(&self) -> Option<(i64, String)> {
        self.0.lock().ok().and_then(|slot| slot.clone())
    }
}

/// The route layer: runs the call, then writes its trace when the rule says so.
pub async fn trace(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    matched: Result<MatchedPath, axum::extract::rejection::MatchedPathRejection>,
    params: Result<RawPathParams, axum::extract::rejection::RawPathParamsRejection>,
    mut request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_owned();
    let Ok(route) = matched.map(|m| m.as_str().to_owned()) else {
        return next.run(request).await;
    };
    let Some(kind) = audit::traced(&method, &route) else {
        return next.run(request).await;
    };
    let caller = Caller::default();
    request.extensions_mut().insert(caller.clone());
    let target = params.ok().and_then(|p| {
        let all: Vec<(String, String)> = p
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        all.iter()
            .find(|(k, _)| k == "number")
            .map(|(_, v)| v.clone())
            .or_else(|| all.first().map(|(k, v)| format!("{k}={v}")))
    });
    let detail = (kind == audit::Kind::Read)
        .then(|| request.uri().query().map(str::to_owned))
        .flatten();
    let user_agent = user_agent(request.headers());
    let response = next.run(request).await;
    let (agent_id, actor) = match caller.get() {
        Some((id, email)) => (Some(id), email),
        None => (None, "anonymous".to_owned()),
    };
    // A call refused before any session was found says nothing about anyone's data.
    if agent_id.is_none() && kind == audit::Kind::Read {
        return response;
    }
    audit::record(
        &state.db,
        &Trace {
            kind,
            agent_id,
            actor,
            action: format!("{method} {route}"),
            target,
            detail,
            status: Some(response.status().as_u16()),
            ip: Some(ip),
            user_agent,
        },
    )
    .await;
    response
}

pub fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// `read`, `action` or `security`.
    kind: Option<String>,
    /// The agent whose traces to read.
    agent_id: Option<String>,
    /// A request number, or the e-mail given at a login.
    target: Option<String>,
    /// The first day, `YYYY-MM-DD`.
    from: Option<String>,
    /// The last day included, `YYYY-MM-DD`.
    to: Option<String>,
    /// The `next_before` of the page before.
    before: Option<String>,
    /// 1 to 500, 100 by default.
    limit: Option<String>,
}

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 500;
/// Rows an export reads at once.
const EXPORT_PAGE: i64 = 1000;

fn filter_of(q: AuditQuery) -> Result<TraceFilter, ApiError> {
    let mut errors = Vec::new();
    let text = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let kind = text(q.kind);
    if let Some(k) = &kind
        && !["read", "action", "security"].contains(&k.as_str())
    {
        errors.push(FieldError::new(
            "kind",
            "not-an-option",
            "`kind` is read, action or security",
        ));
    }
    let mut whole = |field: &str, v: Option<String>, min: i64, max: i64| -> Option<i64> {
        let v = text(v)?;
        match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                errors.push(FieldError::new(
                    field,
                    "out-of-range",
                    format!("`{field}` is a whole number from {min} to {max}"),
                ));
                None
            }
        }
    };
    let agent_id = whole("agent_id", q.agent_id, 1, i64::MAX);
    let before = whole("before", q.before, 1, i64::MAX);
    let limit = whole("limit", q.limit, 1, MAX_LIMIT).unwrap_or(DEFAULT_LIMIT);
    let from = super::params::day(&mut errors, "from", q.from.as_deref());
    let to = super::params::day(&mut errors, "to", q.to.as_deref());
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(TraceFilter {
        kind,
        agent_id,
        target: text(q.target),
        from: from.map(|d| d.midnight().assume_utc()),
        // `to` is the last day included.
        to: to
            .and_then(|d| d.next_day())
            .map(|d| d.midnight().assume_utc()),
        before,
        limit,
    })
}

/// A trace as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TraceView {
    id: i64,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    kind: String,
    agent_id: Option<i64>,
    actor: String,
    action: String,
    target: Option<String>,
    detail: Option<String>,
    status: Option<i16>,
    ip: Option<String>,
    user_agent: Option<String>,
}

impl From<db::audit::Trace> for TraceView {
    fn from(t: db::audit::Trace) -> Self {
        TraceView {
            id: t.id,
            at: t.at,
            kind: t.kind,
            agent_id: t.agent_id,
            actor: t.actor,
            action: t.action,
            target: t.target,
            detail: t.detail,
            status: t.status,
            ip: t.ip,
            user_agent: t.user_agent,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TracePage {
    items: Vec<TraceView>,
    /// Give it as `before` for the next, older page; `null` on the last one.
    next_before: Option<i64>,
}

/// `GET /api/v1/admin/audit`: the trail, newest first, for admins.
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit",
    tag = "administration",
    summary = "Le journal d'audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "Traces, newest first", body = TracePage),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn list(
    State(state): State<AppState>,
    agent: Agent,
    axum::extract::Query(q): axum::extract::Query<AuditQuery>,
) -> Result<Json<TracePage>, ApiError> {
    require_admin(&agent)?;
    let filter = filter_of(q)?;
    let rows = db::audit::list(&state.db, &filter).await?;
    let next_before = (rows.len() as i64 == filter.limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    Ok(Json(TracePage {
        items: rows.into_iter().map(TraceView::from).collect(),
        next_before,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportFormat {
    /// `csv` (default) or `ods`.
    format: Option<String>,
}

const EXPORT_HEADERS: [&str; 11] = [
    "id",
    "at",
    "kind",
    "agent_id",
    "actor",
    "action",
    "target",
    "detail",
    "status",
    "ip",
    "user_agent",
];

struct TracePages {
    pool: sqlx::PgPool,
    filter: TraceFilter,
    done: bool,
}

impl Pages for TracePages {
    async fn next(&mut self) -> Result<Option<Vec<Vec<Cell>>>, db::DbError> {
        if self.done {
            return Ok(None);
        }
        let rows = db::audit::list(&self.pool, &self.filter).await?;
        self.done = (rows.len() as i64) < self.filter.limit;
        self.filter.before = rows.last().map(|r| r.id);
        let text = |v: Option<String>| v.map_or(Cell::Empty, Cell::Text);
        Ok(Some(
            rows.into_iter()
                .map(|t| {
                    vec![
                        Cell::Integer(t.id),
                        Cell::Time(t.at),
                        Cell::Text(t.kind),
                        t.agent_id.map_or(Cell::Empty, Cell::Integer),
                        Cell::Text(t.actor),
                        Cell::Text(t.action),
                        text(t.target),
                        text(t.detail),
                        t.status.map_or(Cell::Empty, |s| Cell::Integer(s.into())),
                        text(t.ip),
                        text(t.user_agent),
                    ]
                })
                .collect(),
        ))
    }
}

/// `GET /api/v1/admin/audit/export?format=csv|ods&…`: the trail with the same filters, whole.
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit/export",
    tag = "administration",
    summary = "Exporter le journal d'audit (CSV ou ODS)",
    params(ExportFormat, AuditQuery),
    responses(
        (status = 200, description = "The spreadsheet, streamed", content(("text/csv"), ("application/vnd.oasis.opendocument.spreadsheet"))),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn export(
    State(state): State<AppState>,
    agent: Agent,
    axum::extract::Query(q): axum::extract::Query<AuditQuery>,
    axum::extract::Query(e): axum::extract::Query<ExportFormat>,
) -> Result<Response, ApiError> {
    require_admin(&agent)?;
    let format = super::exports::format_of(e.format.as_deref())?;
    let mut filter = filter_of(AuditQuery { limit: None, ..q })?;
    filter.limit = EXPORT_PAGE;
    let pages = TracePages {
        pool: state.db.clone(),
        filter,
        done: false,
    };
    let rows = exports::sheet(format, &EXPORT_HEADERS, pages);
    let date = OffsetDateTime::now_utc().date();
    Ok(super::exports::download(
        rows,
        format,
        &format!("journal-{date}"),
    ))
}
