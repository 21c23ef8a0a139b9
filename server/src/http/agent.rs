//! The agents' JSON API (`/api/v1/agent/…`), on which the back office is built. Every call is
//! authenticated (bearer token from `POST /agent/login`) and checked against the agent's role
//! and teams: an agent sees and acts on the requests of their teams only; admins on all.

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use guichet_shared::channel::Channel;
use guichet_shared::phase::Phase;
use guichet_shared::validation::FieldError;
use guichet_shared::workflow::template;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::agent_detail::RequestDetail;
use super::auth::{SessionView, bad_credentials};
use super::auth::{bearer_token, forbidden};
use super::body::{MAX_FILES, lang_of, submitted};
use super::{ApiError, body};
use crate::auth::{self, AGENT_SESSION, Agent};
use crate::db::{self, queue::QueueFilter};
use crate::pipeline::actions;
use crate::pipeline::admit::Origin;
use crate::pipeline::submit::{self, RequestSubmission};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    email: String,
    password: String,
}

#[derive(Serialize)]
pub struct AgentView {
    id: i64,
    email: String,
    name: String,
    role: guichet_shared::workflow::Role,
    team_ids: Vec<i64>,
}

impl From<Agent> for AgentView {
    fn from(a: Agent) -> Self {
        Self {
            id: a.id,
            email: a.email,
            name: a.name,
            role: a.role,
            team_ids: a.team_ids,
        }
    }
}

pub async fn login(
    State(state): State<AppState>,
    req: Request,
) -> Result<Json<SessionView<AgentView>>, ApiError> {
    let b: Login = body::json(req, &state).await?;
    let agent = db::accounts::agent_by_email(&state.db, b.email.trim()).await?;
    let stored = agent
        .as_ref()
        .map_or(auth::dummy_hash(), |a| a.password_hash.as_str())
        .to_owned();
    let password = b.password;
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &stored))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let agent = agent
        .filter(|a| ok && a.active)
        .ok_or_else(bad_credentials)?;
    let (token, digest) = auth::new_token();
    let expires_at = OffsetDateTime::now_utc() + AGENT_SESSION;
    db::accounts::create_agent_session(&state.db, agent.id, &digest, expires_at).await?;
    Ok(Json(SessionView {
        token,
        expires_at,
        who: Agent::try_from(agent)?.into(),
    }))
}

pub async fn logout(
    State(state): State<AppState>,
    _agent: Agent,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    if let Some(token) = bearer_token(&headers) {
        db::accounts::delete_session(&state.db, &auth::token_digest(token)).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

pub async fn me(agent: Agent) -> Json<AgentView> {
    Json(agent.into())
}

/// Query of the queue. Everything is text first so that bad values are field errors.
#[derive(Deserialize, Default)]
pub struct QueueQuery {
    team: Option<String>,
    demarche: Option<String>,
    status: Option<String>,
    phase: Option<String>,
    zone: Option<String>,
    overdue: Option<String>,
    possible_duplicate: Option<String>,
    channel: Option<String>,
    assignee: Option<String>,
    cursor: Option<String>,
    limit: Option<String>,
}

#[derive(Serialize)]
pub struct QueueItem {
    number: String,
    demarche: String,
    demarche_title: String,
    status: String,
    status_label: String,
    phase: String,
    channel: String,
    team: Option<String>,
    assignee_id: Option<i64>,
    zone: Option<String>,
    address: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    report_count: i32,
    possible_duplicate_of: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    due_at: Option<OffsetDateTime>,
    overdue: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
}

#[derive(Serialize)]
pub struct QueuePage {
    items: Vec<QueueItem>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

fn flag(errors: &mut Vec<FieldError>, field: &str, v: Option<&str>) -> bool {
    match v.map(str::trim) {
        None | Some("") | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(_) => {
            errors.push(FieldError::new(
                field,
                "invalid-type",
                format!("`{field}` is true or false"),
            ));
            false
        }
    }
}

fn encode_cursor(at: OffsetDateTime, id: i64) -> String {
    format!("{}_{id}", at.unix_timestamp_nanos())
}

fn decode_cursor(s: &str) -> Option<(OffsetDateTime, i64)> {
    let (nanos, id) = s.split_once('_')?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(nanos.parse().ok()?).ok()?;
    // Requests are filed between 1970 and the distant future; anything else is forged.
    if !(1970..=9000).contains(&at.year()) {
        return None;
    }
    Some((at, id.parse().ok()?))
}

async fn parse_queue(
    state: &AppState,
    agent: &Agent,
    q: QueueQuery,
) -> Result<QueueFilter, ApiError> {
    let mut errors = Vec::new();
    let mut f = QueueFilter {
        limit: DEFAULT_LIMIT,
        teams: agent.visible_teams().map(<[i64]>::to_vec),
        ..QueueFilter::default()
    };
    if let Some(code) = q.team.as_deref().filter(|t| !t.is_empty()) {
        match db::workflow::team_by_code(&state.db, code).await? {
            Some(id) if agent.can_see_team(Some(id)) => f.teams = Some(vec![id]),
            Some(_) => return Err(forbidden("you are not a member of this team")),
            None => errors.push(FieldError::new(
                "team",
                "unknown-team",
                format!("no team {code:?}"),
            )),
        }
    }
    f.demarche = q.demarche.filter(|d| !d.is_empty());
    f.status = q.status.filter(|s| !s.is_empty());
    if let Some(phases) = q.phase.filter(|p| !p.is_empty()) {
        for p in phases.split(',') {
            match Phase::parse(p.trim()) {
                Some(p) => f.phases.push(p),
                None => errors.push(FieldError::new(
                    "phase",
                    "unknown-phase",
                    format!("no phase {p:?}"),
                )),
            }
        }
    }
    if let Some(z) = q.zone.filter(|z| !z.is_empty()) {
        match db::zones::id_by_code(&state.db, &z).await? {
            Some(id) => f.zone_id = Some(id),
            None => errors.push(FieldError::new(
                "zone",
                "unknown-zone",
                format!("no zone {z:?}"),
            )),
        }
    }
    f.overdue = flag(&mut errors, "overdue", q.overdue.as_deref());
    f.possible_duplicate = flag(
        &mut errors,
        "possible_duplicate",
        q.possible_duplicate.as_deref(),
    );
    if let Some(c) = q.channel.filter(|c| !c.is_empty()) {
        if let Some(channel) = Channel::parse(&c) {
            f.channel = Some(channel);
        } else {
            errors.push(FieldError::new(
                "channel",
                "unknown-channel",
                format!("no channel {c:?}"),
            ));
        }
    }
    match q.assignee.as_deref().map(str::trim) {
        None | Some("") => {}
        Some("me") => f.assignee_id = Some(agent.id),
        Some("none") => f.unassigned = true,
        Some(other) => match other.parse() {
            Ok(id) => f.assignee_id = Some(id),
            Err(_) => errors.push(FieldError::new(
                "assignee",
                "invalid-type",
                "`assignee` is an agent id, `me` or `none`",
            )),
        },
    }
    if let Some(c) = q.cursor.filter(|c| !c.is_empty()) {
        match decode_cursor(&c) {
            Some(after) => f.after = Some(after),
            None => errors.push(FieldError::new(
                "cursor",
                "invalid-cursor",
                "pass back a `next_cursor` unchanged",
            )),
        }
    }
    if let Some(l) = q.limit.filter(|l| !l.is_empty()) {
        match l.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => f.limit = n,
            _ => errors.push(FieldError::new(
                "limit",
                "out-of-range",
                format!("`limit` is between 1 and {MAX_LIMIT}"),
            )),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(f)
}

pub async fn queue(
    State(state): State<AppState>,
    agent: Agent,
    Query(q): Query<QueueQuery>,
    headers: HeaderMap,
) -> Result<Json<QueuePage>, ApiError> {
    let lang = lang_of(&headers);
    let filter = parse_queue(&state, &agent, q).await?;
    let rows = db::queue::queue(&state.db, &filter).await?;
    let next_cursor = (rows.len() as i64 == filter.limit)
        .then(|| rows.last().map(|r| encode_cursor(r.created_at, r.id)))
        .flatten();
    let items = rows
        .into_iter()
        .map(|r| QueueItem {
            status_label: template(&r.workflow)
                .and_then(|t| t.status(&r.status))
                .map_or(r.status.as_str(), |s| s.label(lang))
                .to_owned(),
            number: r.number,
            demarche: r.demarche_code,
            demarche_title: r.demarche_title,
            status: r.status,
            phase: r.phase,
            channel: r.channel,
            team: r.team_code,
            assignee_id: r.assignee_id,
            zone: r.zone_name,
            address: r.address,
            lat: r.lat,
            lon: r.lon,
            report_count: r.report_count,
            possible_duplicate_of: r.possible_duplicate_of,
            due_at: r.due_at,
            overdue: r.overdue,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect();
    Ok(Json(QueuePage { items, next_cursor }))
}

/// A request filed by an agent on a citizen's behalf (phone, desk, mail, e-mail).
pub async fn enter(
    State(state): State<AppState>,
    agent: Agent,
    req: Request,
) -> Result<Response, ApiError> {
    if agent.role == guichet_shared::workflow::Role::Field {
        return Err(forbidden("field agents do not enter requests"));
    }
    let lang = lang_of(req.headers());
    let max_bytes = state.config.photos.max_bytes;
    let (sub, files) =
        body::json_with_files::<RequestSubmission>(req, &state, "request", max_bytes, MAX_FILES)
            .await?;
    let result = submit::submit(
        &state,
        sub,
        files,
        Origin::Agent { agent_id: agent.id },
        lang,
    )
    .await?;
    Ok(submitted(result))
}

pub async fn detail(
    State(state): State<AppState>,
    agent: Agent,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> Result<Json<RequestDetail>, ApiError> {
    let lang = lang_of(&headers);
    let row = db::queue::detail(&state.db, &number)
        .await?
        .ok_or_else(|| ApiError::not_found("request-not-found", "No request has this number."))?;
    if !agent.can_see_team(row.team_id) {
        return Err(forbidden(
            "this request belongs to a team you are not a member of",
        ));
    }
    let events = db::queue::all_events(&state.db, row.id).await?;
    let reports = db::queue::reports(&state.db, row.id).await?;
    let files = db::files::of_request(&state.db, row.id).await?;
    Ok(Json(RequestDetail::new(
        row, &agent, lang, events, reports, files,
    )))
}

/// An attached file, for agents of the request's team only (never public).
pub async fn file(
    State(state): State<AppState>,
    agent: Agent,
    Path((number, file_id)): Path<(String, i64)>,
) -> Result<Response, ApiError> {
    let row = db::queue::detail(&state.db, &number)
        .await?
        .ok_or_else(|| ApiError::not_found("request-not-found", "No request has this number."))?;
    if !agent.can_see_team(row.team_id) {
        return Err(forbidden(
            "this request belongs to a team you are not a member of",
        ));
    }
    let files = db::files::of_request(&state.db, row.id).await?;
    let f = files
        .into_iter()
        .find(|f| f.id == file_id)
        .ok_or_else(|| ApiError::not_found("file-not-found", "This request has no such file."))?;
    let bytes = state
        .photos
        .get(&f.storage_key)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ApiError::not_found("file-not-found", "The file is no longer stored."))?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        f.filename.replace(['"', '\\'], "_")
    );
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&f.mime)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    status: String,
    #[serde(default)]
    message: Option<String>,
}

pub async fn change_status(
    State(state): State<AppState>,
    agent: Agent,
    Path(number): Path<String>,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let b: StatusBody = body::json(req, &state).await?;
    actions::change_status(
        &state,
        &agent,
        &number,
        b.status.trim(),
        b.message.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    #[serde(default)]
    team: Option<String>,
    #[serde(default)]
    assignee_id: Option<i64>,
}

pub async fn assign(
    State(state): State<AppState>,
    agent: Agent,
    Path(number): Path<String>,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let b: AssignBody = body::json(req, &state).await?;
    if b.team.is_none() && b.assignee_id.is_none() {
        return Err(ApiError::validation(vec![FieldError::new(
            "team",
            "required",
            "give a team, an assignee_id or both",
        )]));
    }
    actions::assign(&state, &agent, &number, b.team.as_deref(), b.assignee_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    message: String,
}

pub async fn reply(
    State(state): State<AppState>,
    agent: Agent,
    Path(number): Path<String>,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let b: ReplyBody = body::json(req, &state).await?;
    actions::reply(&state, &agent, &number, &b.message).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    text: String,
}

pub async fn note(
    State(state): State<AppState>,
    agent: Agent,
    Path(number): Path<String>,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let b: NoteBody = body::json(req, &state).await?;
    actions::note(&state, &agent, &number, &b.text).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplementBody {
    fields: Vec<String>,
    message: String,
}

pub async fn complement(
    State(state): State<AppState>,
    agent: Agent,
    Path(number): Path<String>,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let b: ComplementBody = body::json(req, &state).await?;
    actions::request_complement(&state, &agent, &number, &b.fields, &b.message).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    into: String,
}

pub async fn merge(
    State(state): State<AppState>,
    agent: Agent,
    Path(number): Path<String>,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let b: MergeBody = body::json(req, &state).await?;
    actions::merge(&state, &agent, &number, b.into.trim()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitBody {
    report_id: i64,
}

pub async fn split(
    State(state): State<AppState>,
    agent: Agent,
    Path(number): Path<String>,
    req: Request,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let b: SplitBody = body::json(req, &state).await?;
    let new_number = actions::split(&state, &agent, &number, b.report_id).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "request_number": new_number })),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    lat: f64,
    lon: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    #[serde(default)]
    demarche: Option<String>,
    #[serde(default)]
    location: Option<Location>,
}

/// Changes the démarche and/or the place; the request is routed again.
pub async fn edit(
    State(state): State<AppState>,
    agent: Agent,
    Path(number): Path<String>,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let b: EditBody = body::json(req, &state).await?;
    actions::recategorise(
        &state,
        &agent,
        &number,
        b.demarche.as_deref().map(str::trim),
        b.location.map(|l| (l.lat, l.lon)),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
