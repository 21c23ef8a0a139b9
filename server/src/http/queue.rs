//! The queue of the agent's teams (`GET /api/v1/agent/requests`), its counts per phase, and
//! the phone desk's search: the lists the back office opens on.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use guichet_shared::channel::Channel;
use guichet_shared::phase::Phase;
use guichet_shared::validation::FieldError;
use guichet_shared::workflow::{Role, template};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ApiError;
use super::auth::forbidden;
use super::body::lang_of;
use super::extract::Query;
use crate::auth::Agent;
use crate::db::{self, queue::QueueFilter, queue::QueueRow, queue::Sort};
use crate::state::AppState;

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    team: Option<String>,
    demarche: Option<String>,
    status: Option<String>,
    /// Comma-separated phases; default the open ones.
    #[param(example = "received,in_progress")]
    phase: Option<String>,
    zone: Option<String>,
    #[param(value_type = Option<bool>)]
    overdue: Option<String>,
    #[param(value_type = Option<bool>)]
    possible_duplicate: Option<String>,
    #[param(value_type = Option<bool>)]
    reopened: Option<String>,
    /// First day, city time, inclusive.
    #[param(format = Date)]
    filed_from: Option<String>,
    /// Last day, inclusive.
    #[param(format = Date)]
    filed_to: Option<String>,
    channel: Option<String>,
    /// `me`, `none` or an agent's id.
    #[param(example = "me")]
    assignee: Option<String>,
    /// `newest` (default), `oldest` or `due`.
    #[param(example = "newest")]
    sort: Option<String>,
    cursor: Option<String>,
    #[param(value_type = Option<u8>, minimum = 1, maximum = 200, example = 50)]
    limit: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
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

impl QueueItem {
    fn of(r: QueueRow, lang: guichet_shared::phase::Lang) -> Self {
        QueueItem {
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
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
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

/// A `YYYY-MM-DD` day.
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

pub(super) async fn parse_queue(
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
    f.reopened = flag(&mut errors, "reopened", q.reopened.as_deref());
    f.filed_from = super::params::day(&mut errors, "filed_from", q.filed_from.as_deref());
    f.filed_to = super::params::day(&mut errors, "filed_to", q.filed_to.as_deref());
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
    match q.sort.as_deref().map(str::trim) {
        None | Some("") | Some("newest") => {}
        Some("oldest") => f.sort = Sort::Oldest,
        Some("due") => f.sort = Sort::Due,
        Some(_) => errors.push(FieldError::new(
            "sort",
            "not-an-option",
            "`sort` is newest, oldest or due",
        )),
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

#[utoipa::path(
    get,
    path = "/api/v1/agent/requests",
    tag = "agents",
    summary = "La file de mes équipes",
    params(QueueQuery),
    responses(
        (status = 200, description = "A page of the queue", body = QueuePage),
        (status = 422, description = "A filter that is not valid (`unknown-team`, `unknown-zone`, `out-of-range`…)"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
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
        .then(|| {
            rows.last()
                .map(|r| encode_cursor(filter.sort.key_of(r), r.id))
        })
        .flatten();
    let items = rows.into_iter().map(|r| QueueItem::of(r, lang)).collect();
    Ok(Json(QueuePage { items, next_cursor }))
}

/// `GET /api/v1/agent/requests/counts`: the queue's filters, counted per phase.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Counts {
    total: i64,
    overdue: i64,
    phases: std::collections::BTreeMap<&'static str, i64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/agent/requests/counts",
    tag = "agents",
    summary = "Les comptes de la file",
    params(QueueQuery),
    responses(
        (status = 200, description = "Totals per phase", body = Counts),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn counts(
    State(state): State<AppState>,
    agent: Agent,
    Query(q): Query<QueueQuery>,
) -> Result<Json<Counts>, ApiError> {
    let filter = parse_queue(&state, &agent, q).await?;
    let rows = db::queue::counts(&state.db, &filter).await?;
    let mut phases: std::collections::BTreeMap<&'static str, i64> =
        Phase::ALL.iter().map(|p| (p.as_str(), 0)).collect();
    let (mut total, mut overdue) = (0, 0);
    for row in rows {
        if let Some(phase) = Phase::parse(&row.phase) {
            phases.insert(phase.as_str(), row.count);
        }
        total += row.count;
        overdue += row.overdue;
    }
    Ok(Json(Counts {
        total,
        overdue,
        phases,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// A number, an e-mail, a phone number or words.
    #[param(value_type = String, required = true, min_length = 1, max_length = 200, example = "trottoir")]
    q: Option<String>,
    #[param(value_type = Option<u8>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SearchPage {
    items: Vec<QueueItem>,
}

const SEARCH_DEFAULT_LIMIT: i64 = 20;
const SEARCH_MAX_LIMIT: i64 = 100;
const SEARCH_MAX_CHARS: usize = 200;

/// `GET /api/v1/agent/search?q=…`: a caller's requests, newest first, among my teams. Not for
/// field agents: searching by name, e-mail or phone tells who filed what, which the work on
/// site does not need (docs/security.md, need to know).
#[utoipa::path(
    get,
    path = "/api/v1/agent/search",
    tag = "agents",
    summary = "Recherche du guichet téléphonique",
    params(SearchQuery),
    responses(
        (status = 200, description = "Matching requests, newest first", body = SearchPage),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn search(
    State(state): State<AppState>,
    agent: Agent,
    Query(query): Query<SearchQuery>,
    headers: HeaderMap,
) -> Result<Json<SearchPage>, ApiError> {
    if agent.role == Role::Field {
        return Err(forbidden(
            "the phone desk's search is for desk agents; field agents use their queue and map",
        ));
    }
    let text = query.q.as_deref().unwrap_or_default().trim();
    let mut errors = Vec::new();
    // One digit is a request's sequence ("7" for …-000007); a word needs two letters.
    let digits_only = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if text.chars().count() < 2 && !digits_only {
        errors.push(FieldError::new(
            "q",
            "too-short",
            "type at least 2 characters, or the digits of a request number",
        ));
    } else if text.chars().count() > SEARCH_MAX_CHARS {
        errors.push(FieldError::new(
            "q",
            "too-long",
            format!("at most {SEARCH_MAX_CHARS} characters"),
        ));
    }
    let limit = match query
        .limit
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        None => SEARCH_DEFAULT_LIMIT,
        Some(l) => match l.parse::<i64>() {
            Ok(n) if (1..=SEARCH_MAX_LIMIT).contains(&n) => n,
            _ => {
                errors.push(FieldError::new(
                    "limit",
                    "out-of-range",
                    format!("`limit` is between 1 and {SEARCH_MAX_LIMIT}"),
                ));
                SEARCH_DEFAULT_LIMIT
            }
        },
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let search = db::search::Search {
        text: search_text(text),
        sequence: sequence_of(text),
        teams: agent.visible_teams().map(<[i64]>::to_vec),
        limit,
    };
    let lang = lang_of(&headers);
    let rows = db::search::search(&state.db, &search).await?;
    Ok(Json(SearchPage {
        items: rows.into_iter().map(|r| QueueItem::of(r, lang)).collect(),
    }))
}

/// A phone number as it is stored (E.164), whatever way the caller reads it out; any other
/// text as typed.
fn search_text(text: &str) -> String {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let phone_like = digits >= 8
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || " +.-()".contains(c));
    match phone_like.then(|| guichet_shared::forms::normalise_phone(text)) {
        Some(Ok(e164)) => e164,
        _ => text.to_owned(),
    }
}

/// "123" → "000123", the sequence part of a request number; `None` for anything else.
fn sequence_of(text: &str) -> Option<String> {
    (text.len() <= 6 && text.bytes().all(|b| b.is_ascii_digit())).then(|| format!("{text:0>6}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_searched_in_their_stored_form() {
        assert_eq!(search_text("06 12 34 56 78"), "+33612345678");
        assert_eq!(search_text("+33 6 12 34 56 78"), "+33612345678");
        assert_eq!(search_text("Martin"), "Martin");
        assert_eq!(search_text("rue 12"), "rue 12");
    }

    #[test]
    fn short_digit_runs_are_request_sequences() {
        assert_eq!(sequence_of("123").as_deref(), Some("000123"));
        assert_eq!(sequence_of("000123").as_deref(), Some("000123"));
        assert_eq!(sequence_of("1234567"), None);
        assert_eq!(sequence_of("12a"), None);
    }
}
