//! `GET /api/v1/agent/requests/export?format=csv|ods&…`: the queue, with any of its filters,
//! as a spreadsheet download for supervisors and admins. Streamed: the answer starts at once
//! and the server holds one page of rows at a time, whatever the size of the export.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use guichet_shared::validation::FieldError;
use guichet_shared::workflow::Role;
use serde::Deserialize;

use super::ApiError;
use super::auth::forbidden;
use super::body::lang_of;
use super::extract::Query;
use super::queue::{QueueQuery, parse_queue};
use crate::auth::Agent;
use crate::exports::{self, Format};
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` (default) or `ods`.
    #[param(example = "csv")]
    format: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/agent/requests/export",
    tag = "agents",
    summary = "Exporter la file (CSV ou ODS)",
    params(ExportQuery, QueueQuery),
    responses(
        (status = 200, description = "The spreadsheet, streamed", content(("text/csv"), ("application/vnd.oasis.opendocument.spreadsheet"))),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn export(
    State(state): State<AppState>,
    agent: Agent,
    Query(q): Query<QueueQuery>,
    Query(e): Query<ExportQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !matches!(agent.role, Role::Supervisor | Role::Admin) {
        return Err(forbidden("exports are for supervisors and admins"));
    }
    let format = format_of(e.format.as_deref())?;
    let filter = parse_queue(&state, &agent, q).await?;
    let lang = lang_of(&headers);
    let rows = exports::export(state.db.clone(), filter, format, lang);
    let date = time::OffsetDateTime::now_utc().date();
    Ok(download(rows, format, &format!("demandes-{date}")))
}

/// The `format` parameter: CSV unless it says `ods`.
pub fn format_of(format: Option<&str>) -> Result<Format, ApiError> {
    match format.map(str::trim) {
        None | Some("") => Ok(Format::Csv),
        Some(f) => Format::parse(f).ok_or_else(|| {
            ApiError::validation(vec![FieldError::new(
                "format",
                "not-an-option",
                "`format` is csv or ods",
            )])
        }),
    }
}

/// A streamed spreadsheet as a download named `stem` plus the format's extension.
pub fn download(
    mut rows: tokio::sync::mpsc::Receiver<std::io::Result<bytes::Bytes>>,
    format: Format,
    stem: &str,
) -> Response {
    let disposition = format!("attachment; filename=\"{stem}.{}\"", format.extension());
    let mut response =
        Body::from_stream(futures::stream::poll_fn(move |cx| rows.poll_recv(cx))).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
