//! The agents' JSON API (`/api/v1/agent/…`), on which the back office is built. Every call is
//! authenticated (bearer token from `POST /agent/login`) and checked against the agent's role
//! and teams: an agent sees and acts on the requests of their teams only; admins on all.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use guichet_shared::timeline::Audience;
use guichet_shared::validation::FieldError;
use guichet_shared::workflow::Role;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::agent_detail::{Parts, RequestDetail, is_personal_field};
use super::auth::{
    EnrollingAgent, PasswordChange, SessionView, bad_credentials, new_password_hash,
};
use super::auth::{bearer_token, forbidden};
use super::body::{MAX_FILES, Upload, lang_of, submitted};
use super::extract::{Path, Query};
use super::limit::ClientIp;
use super::requests::RequestForm;
use super::{ApiError, body, second_factor};
use crate::accounts::{Attempt, Realm};
use crate::auth::{self, AGENT_SESSION, Agent};
use crate::config::Environment;
use crate::db;
use crate::db::event_photos::PhotoKind;
use crate::pipeline::Receipt;
use crate::pipeline::actions;
use crate::pipeline::admit::Origin;
use crate::pipeline::submit::{self, RequestSubmission};
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = AgentLogin)]
#[serde(deny_unknown_fields)]
pub struct Login {
    email: String,
    password: String,
    /// The second factor's current code, for agents who enrolled one.
    #[serde(default)]
    totp: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AgentView {
    id: i64,
    email: String,
    name: String,
    role: guichet_shared::workflow::Role,
    team_ids: Vec<i64>,
    /// Whether a second factor is enrolled.
    second_factor: bool,
    /// True while the agent must enrol a second factor before anything else.
    second_factor_required: bool,
}

impl AgentView {
    fn new(a: Agent, environment: Environment) -> Self {
        Self {
            second_factor_required: a.needs_second_factor(environment),
            second_factor: a.totp_enrolled,
            id: a.id,
            email: a.email,
            name: a.name,
            role: a.role,
            team_ids: a.team_ids,
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/agent/login",
    tag = "agents",
    summary = "Connexion d'un agent",
    params(("X-Guichet-Session" = Option<String>, Header, description = "`cookie`: the session comes as the `guichet_agent` cookie and the answer carries no token")),
    request_body = Login,
    responses(
        (status = 200, description = "The session (without `token` when it came as a cookie)", body = SessionView<AgentView>),
        (status = 401, description = "`invalid-credentials`, `second-factor-required`, `invalid-second-factor`"),
    ),
    security(()),
)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    req: Request,
) -> Result<Json<SessionView<AgentView>>, ApiError> {
    let b: Login = body::json(req).await?;
    let attempt = Attempt::new(Realm::Agent, &b.email, ip);
    attempt.check(&state).await?;
    let agent = db::accounts::agent_by_email(&state.db, &attempt.account).await?;
    let stored = agent
        .as_ref()
        .map_or(auth::dummy_hash(), |a| a.password_hash.as_str())
        .to_owned();
    let ok = state.hasher.verify(b.password, stored).await;
    let Some(agent) = agent.filter(|a| ok && a.active) else {
        attempt.failed(&state).await?;
        return Err(bad_credentials());
    };
    if agent.totp_enrolled {
        second_factor::check_login_code(&state, agent.id, &attempt.account, b.totp.as_deref())
            .await?;
    }
    attempt.succeeded(&state).await?;
    let (token, digest) = auth::new_token();
    let expires_at = OffsetDateTime::now_utc() + AGENT_SESSION;
    db::accounts::create_agent_session(&state.db, agent.id, &digest, expires_at).await?;
    Ok(Json(SessionView {
        token,
        expires_at,
        who: AgentView::new(Agent::try_from(agent)?, state.config.environment),
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/agent/logout",
    tag = "agents",
    summary = "Déconnexion",
    responses(
        (status = 204, description = "Fait"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn logout(
    State(state): State<AppState>,
    _agent: EnrollingAgent,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    if let Some(token) = bearer_token(&headers) {
        db::accounts::delete_session(&state.db, &auth::token_digest(token)).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /agent/password`: an agent changes their password with the current one; their other
/// sessions end at once.
#[utoipa::path(
    post,
    path = "/api/v1/agent/password",
    tag = "agents",
    summary = "Changer son mot de passe",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Fait"),
        (status = 403, description = "`wrong-password`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn change_password(
    State(state): State<AppState>,
    agent: Agent,
    ClientIp(ip): ClientIp,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let keep = bearer_token(req.headers()).map(auth::token_digest);
    let b: PasswordChange = body::json(req).await?;
    let stored = db::accounts::agent_by_id(&state.db, agent.id)
        .await?
        .map(|a| a.password_hash)
        .unwrap_or_default();
    let attempt = Attempt::new(Realm::Agent, &agent.email, ip);
    let hash = new_password_hash(&state, &attempt, &stored, b).await?;
    db::accounts::set_agent_password(&state.db, agent.id, &hash, keep.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/api/v1/agent/me",
    tag = "agents",
    summary = "Qui suis-je",
    responses(
        (status = 200, description = "The agent of the session", body = AgentView),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn me(
    State(state): State<AppState>,
    EnrollingAgent(agent): EnrollingAgent,
) -> Json<AgentView> {
    Json(AgentView::new(agent, state.config.environment))
}

/// Query of the queue. Everything is text first so that bad values are field errors.
/// A request filed by an agent on a citizen's behalf (phone, desk, mail, e-mail).
#[utoipa::path(
    post,
    path = "/api/v1/agent/requests",
    tag = "agents",
    summary = "Saisir une demande reçue par téléphone, au guichet, par courrier ou courriel",
    request_body(content((RequestSubmission = "application/json"), (RequestForm = "multipart/form-data"))),
    responses(
        (status = 201, description = "Filed: the acknowledgement", body = Receipt, headers(("Location" = String, description = "Where the filer follows the request"))),
        (status = 200, description = "The same `client_id` again: the first answer unchanged, whichever filing route gave it", body = Receipt),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
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

#[utoipa::path(
    get,
    path = "/api/v1/agent/requests/{number}",
    tag = "agents",
    summary = "Une demande, en entier",
    params(("number" = String, Path, description = "Le numéro de la demande, `2026-SIG-000123`")),
    responses(
        (status = 200, description = "Data, files, reports, SLA, allowed moves and the whole timeline", body = RequestDetail),
        (status = 404, description = "`request-not-found`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
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
    let form = match agent.role {
        Role::Field => Some(filed_form(&state, &row).await?),
        _ => None,
    };
    let mut conn = state.db.acquire().await.map_err(db::DbError::from)?;
    let parts = Parts {
        events: db::queue::all_events(&state.db, row.id).await?,
        reports: db::queue::reports(&state.db, row.id).await?,
        files: db::files::of_request(&state.db, row.id).await?,
        photos: db::queue::photos(&state.db, row.id).await?,
        after_photos: db::event_photos::of_request(&state.db, row.id, PhotoKind::After).await?,
        form: db::catalogue::revision_form(&mut conn, &row.demarche_code, row.demarche_revision)
            .await?,
    };
    drop(conn);
    let detail = RequestDetail::new(row, &agent, lang, parts, |key| state.photo_url(key));
    Ok(Json(match form {
        Some(form) => detail.for_field(&form),
        None => detail,
    }))
}

/// The form a request was filed under.
async fn filed_form(
    state: &AppState,
    row: &db::queue::DetailRow,
) -> Result<guichet_shared::forms::FormDefinition, ApiError> {
    let mut conn = state.db.acquire().await.map_err(db::DbError::from)?;
    let stored =
        db::catalogue::revision_form(&mut conn, &row.demarche_code, row.demarche_revision).await?;
    Ok(crate::pipeline::form::parse(
        &row.demarche_code,
        stored.as_ref(),
    )?)
}

/// An attached file, for agents of the request's team only (never public).
#[utoipa::path(
    get,
    path = "/api/v1/agent/requests/{number}/files/{id}",
    tag = "agents",
    summary = "Une pièce jointe",
    params(("number" = String, Path, description = "Le numéro de la demande, `2026-SIG-000123`"), ("id" = i64, Path, description = "The file's id")),
    responses(
        (status = 200, description = "The file, as an attachment, with its own content type", content(("*/*"))),
        (status = 404, description = "`request-not-found`, `file-not-found`"),
        (status = 503, description = "`store-unavailable`: the file storage cannot be reached; try again"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
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
    if agent.role == Role::Field && is_personal_field(&filed_form(&state, &row).await?, &f.field_id)
    {
        return Err(forbidden(
            "field agents do not get the personal documents of a request",
        ));
    }
    // Read through the service and never redirected to the store: the file is personal data.
    let bytes =
        state.photos.get(&f.storage_key).await?.ok_or_else(|| {
            ApiError::not_found("file-not-found", "The file is no longer stored.")
        })?;
    Ok(super::download::private_file(bytes, &f.filename, &f.mime))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "acknowledged", "message": "Nous avons bien reçu votre signalement."}))]
pub struct StatusBody {
    status: String,
    #[serde(default)]
    message: Option<String>,
}

/// A move with "after" photos: the JSON in a `status` part and 1 to
/// `GUICHET_PHOTO_MAX_COUNT` `photo` parts.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // the parts are read from the stream (`body::json_with_photos`)
pub struct StatusForm {
    status: StatusBody,
    photo: Vec<Upload>,
}

/// A status move: JSON, or `multipart/form-data` with the same JSON in a `status` part and
/// up to five `photo` parts, the photos taken once the work was done.
#[utoipa::path(
    post,
    path = "/api/v1/agent/requests/{number}/status",
    tag = "agents",
    summary = "Faire avancer la demande dans son circuit",
    params(("number" = String, Path, description = "Le numéro de la demande, `2026-SIG-000123`")),
    request_body(content((StatusBody = "application/json"), (StatusForm = "multipart/form-data"))),
    responses(
        (status = 204, description = "Fait"),
        (status = 404, description = "`request-not-found`"),
        (status = 409, description = "`invalid-transition`"),
        (status = 403, description = "`transition-forbidden`"),
        (status = 422, description = "`unknown-status`, `use-complement-request`"),
        (status = 415, description = "`unsupported-media-type`, `photo-unsupported-format`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn change_status(
    State(state): State<AppState>,
    agent: Agent,
    Path(number): Path<String>,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let (b, photos): (StatusBody, _) = body::json_with_photos(req, &state, "status").await?;
    actions::change_status_with_photos(
        &state,
        &agent,
        &number,
        b.status.trim(),
        b.message.as_deref(),
        photos,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Une voiture est garée sur le trou."}))]
pub struct CouldNotActBody {
    reason: String,
}

/// A field agent could not act on site; the request stays open and leaves their round.
#[utoipa::path(
    post,
    path = "/api/v1/agent/requests/{number}/could-not-act",
    tag = "agents",
    summary = "Passé, mais rien pu faire",
    params(("number" = String, Path, description = "Le numéro de la demande, `2026-SIG-000123`")),
    request_body = CouldNotActBody,
    responses(
        (status = 204, description = "Fait"),
        (status = 404, description = "`request-not-found`"),
        (status = 409, description = "`request-closed`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn could_not_act(
    State(state): State<AppState>,
    agent: Agent,
    Path(number): Path<String>,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let b: CouldNotActBody = body::json(req).await?;
    actions::could_not_act(&state, &agent, &number, &b.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"team": "voirie"}))]
pub struct AssignBody {
    #[serde(default)]
    team: Option<String>,
    #[serde(default)]
    assignee_id: Option<i64>,
}

#[utoipa::path(
    post,
    path = "/api/v1/agent/requests/{number}/assign",
    tag = "agents",
    summary = "Confier à une équipe ou à un agent",
    params(("number" = String, Path, description = "Le numéro de la demande, `2026-SIG-000123`")),
    request_body = AssignBody,
    responses(
        (status = 204, description = "Fait"),
        (status = 404, description = "`request-not-found`"),
        (status = 422, description = "`assignee-not-in-team`, `unknown-team`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn assign(
    State(state): State<AppState>,
    agent: Agent,
    Path(number): Path<String>,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let b: AssignBody = body::json(req).await?;
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"message": "Merci, une équipe passera lundi.", "audience": "filer"}))]
pub struct ReplyBody {
    message: String,
    /// `filer` (default): the conversation with the filer; `all`: every reporter too.
    #[serde(default)]
    audience: Audience,
}

#[utoipa::path(
    post,
    path = "/api/v1/agent/requests/{number}/reply",
    tag = "agents",
    summary = "Répondre au déposant (ou à tous)",
    params(("number" = String, Path, description = "Le numéro de la demande, `2026-SIG-000123`")),
    request_body = ReplyBody,
    responses(
        (status = 204, description = "Fait"),
        (status = 404, description = "`request-not-found`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn reply(
    State(state): State<AppState>,
    agent: Agent,
    Path(number): Path<String>,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let b: ReplyBody = body::json(req).await?;
    actions::reply(&state, &agent, &number, &b.message, b.audience).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"text": "Vu sur place, à traiter cette semaine."}))]
pub struct NoteBody {
    text: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/agent/requests/{number}/notes",
    tag = "agents",
    summary = "Note interne",
    params(("number" = String, Path, description = "Le numéro de la demande, `2026-SIG-000123`")),
    request_body = NoteBody,
    responses(
        (status = 204, description = "Fait"),
        (status = 404, description = "`request-not-found`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn note(
    State(state): State<AppState>,
    agent: Agent,
    Path(number): Path<String>,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let b: NoteBody = body::json(req).await?;
    actions::note(&state, &agent, &number, &b.text).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ComplementRequest)]
#[serde(deny_unknown_fields)]
pub struct ComplementBody {
    fields: Vec<String>,
    message: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/agent/requests/{number}/complement",
    tag = "agents",
    summary = "Demander un complément",
    params(("number" = String, Path, description = "Le numéro de la demande, `2026-SIG-000123`")),
    request_body = ComplementBody,
    responses(
        (status = 204, description = "Fait"),
        (status = 404, description = "`request-not-found`"),
        (status = 409, description = "`invalid-transition`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn complement(
    State(state): State<AppState>,
    agent: Agent,
    Path(number): Path<String>,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let b: ComplementBody = body::json(req).await?;
    actions::request_complement(&state, &agent, &number, &b.fields, &b.message).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    into: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/agent/requests/{number}/merge",
    tag = "agents",
    summary = "Fusionner dans une autre demande",
    params(("number" = String, Path, description = "Le numéro de la demande, `2026-SIG-000123`")),
    request_body = MergeBody,
    responses(
        (status = 204, description = "Fait"),
        (status = 404, description = "`request-not-found`"),
        (status = 409, description = "`request-closed`"),
        (status = 422, description = "`same-request`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn merge(
    State(state): State<AppState>,
    agent: Agent,
    Path(number): Path<String>,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let b: MergeBody = body::json(req).await?;
    actions::merge(&state, &agent, &number, b.into.trim()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitBody {
    report_id: i64,
}

#[utoipa::path(
    post,
    path = "/api/v1/agent/requests/{number}/split",
    tag = "agents",
    summary = "Séparer un signalement en une nouvelle demande",
    params(("number" = String, Path, description = "Le numéro de la demande, `2026-SIG-000123`")),
    request_body = SplitBody,
    responses(
        (status = 201, description = "The new request", body = NewRequest),
        (status = 404, description = "`request-not-found`"),
        (status = 409, description = "`single-report`"),
        (status = 422, description = "`unknown-report`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn split(
    State(state): State<AppState>,
    agent: Agent,
    Path(number): Path<String>,
    req: Request,
) -> Result<(StatusCode, Json<NewRequest>), ApiError> {
    let b: SplitBody = body::json(req).await?;
    let new_number = actions::split(&state, &agent, &number, b.report_id).await?;
    Ok((
        StatusCode::CREATED,
        Json(NewRequest {
            request_number: new_number,
        }),
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NewRequest {
    request_number: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NewTrackingCode {
    request_number: String,
    tracking_code: String,
}

/// A new filer's code for the request, to give its filer: the old one stops working. The
/// answer is the only place it appears (`Cache-Control: no-store`).
#[utoipa::path(
    post,
    path = "/api/v1/agent/requests/{number}/tracking-code",
    tag = "agents",
    summary = "Nouveau code de suivi pour le déposant",
    params(("number" = String, Path, description = "Le numéro de la demande, `2026-SIG-000123`")),
    responses(
        (status = 201, description = "The new code, shown once (`Cache-Control: no-store`); a repeat with the same `Idempotency-Key` answers the same with `tracking_code` empty", body = NewTrackingCode),
        (status = 404, description = "`request-not-found`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn tracking_code(
    State(state): State<AppState>,
    agent: Agent,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    let code = actions::reissue_tracking_code(&state, &agent, &number).await?;
    let body = NewTrackingCode {
        request_number: number,
        tracking_code: code,
    };
    let mut answer = (StatusCode::CREATED, Json(body)).into_response();
    answer
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(answer)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewLocation)]
#[serde(deny_unknown_fields)]
pub struct Location {
    lat: f64,
    lon: f64,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"location": {"lat": 48.1115, "lon": -1.6795}}))]
pub struct EditBody {
    #[serde(default)]
    demarche: Option<String>,
    #[serde(default)]
    location: Option<Location>,
}

/// Changes the démarche and/or the place; the request is routed again.
#[utoipa::path(
    patch,
    path = "/api/v1/agent/requests/{number}",
    tag = "agents",
    summary = "Changer la démarche ou le lieu",
    params(("number" = String, Path, description = "Le numéro de la demande, `2026-SIG-000123`")),
    request_body = EditBody,
    responses(
        (status = 204, description = "Fait"),
        (status = 404, description = "`request-not-found`"),
        (status = 409, description = "`workflow-mismatch`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn edit(
    State(state): State<AppState>,
    agent: Agent,
    Path(number): Path<String>,
    req: Request,
) -> Result<StatusCode, ApiError> {
    let b: EditBody = body::json(req).await?;
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CandidatesQuery {
    #[param(value_type = Option<u16>, minimum = 1, maximum = 2000, example = 200)]
    radius_m: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MergeCandidate {
    number: String,
    demarche: String,
    status: String,
    status_label: String,
    report_count: i32,
    description: Option<String>,
    distance_m: f64,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    thumbnail_url: Option<String>,
}

const CANDIDATES_RADIUS_M: f64 = 200.0;
const CANDIDATES_MAX_RADIUS_M: f64 = 2000.0;

/// `GET /api/v1/agent/requests/{number}/candidates`: what this request could be merged into,
/// nearest first: open requests of the same dedup family nearby, among my teams.
#[utoipa::path(
    get,
    path = "/api/v1/agent/requests/{number}/candidates",
    tag = "agents",
    summary = "Les demandes dans lesquelles la fusionner",
    params(("number" = String, Path, description = "Le numéro de la demande, `2026-SIG-000123`"), CandidatesQuery),
    responses(
        (status = 200, description = "Nearest first, at most 20", body = Vec<MergeCandidate>),
        (status = 404, description = "`request-not-found`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn candidates(
    State(state): State<AppState>,
    agent: Agent,
    Path(number): Path<String>,
    Query(q): Query<CandidatesQuery>,
    headers: HeaderMap,
) -> Result<Json<Vec<MergeCandidate>>, ApiError> {
    let radius = match q
        .radius_m
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        None => CANDIDATES_RADIUS_M,
        Some(r) => r
            .parse::<f64>()
            .ok()
            .filter(|r| (1.0..=CANDIDATES_MAX_RADIUS_M).contains(r))
            .ok_or_else(|| {
                ApiError::validation(vec![FieldError::new(
                    "radius_m",
                    "out-of-range",
                    format!("`radius_m` is between 1 and {CANDIDATES_MAX_RADIUS_M}"),
                )])
            })?,
    };
    let scope = db::requests::scope(&state.db, &number)
        .await?
        .ok_or_else(|| ApiError::not_found("request-not-found", "No request has this number."))?;
    if !agent.can_see_team(scope.team_id) {
        return Err(forbidden(
            "this request belongs to a team you are not a member of",
        ));
    }
    let family = db::dedup::family(&state.db, &scope.demarche_code).await?;
    let lang = lang_of(&headers);
    let rows = db::dedup::merge_candidates(
        &state.db,
        scope.id,
        &family,
        radius,
        agent.visible_teams(),
        20,
    )
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(|c| MergeCandidate {
                status_label: guichet_shared::workflow::template(&c.workflow)
                    .and_then(|t| t.status(&c.status))
                    .map_or(c.status.as_str(), |s| s.label(lang))
                    .to_owned(),
                number: c.number,
                demarche: c.demarche_code,
                status: c.status,
                report_count: c.report_count,
                description: c.description,
                distance_m: (c.distance_m * 10.0).round() / 10.0,
                created_at: c.created_at,
                thumbnail_url: c.thumb_key.as_deref().map(|k| state.photo_url(k)),
            })
            .collect(),
    ))
}
