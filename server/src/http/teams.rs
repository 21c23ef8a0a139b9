//! Teams (`/api/v1/admin/teams`, admins) and the reply templates supervisors keep for them
//! (`/api/v1/agent/reply-templates`: every agent reads them; supervisors and admins write).

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use guichet_shared::validation::FieldError;
use guichet_shared::workflow::Role;
use serde::Deserialize;

use super::auth::{forbidden, require_admin};
use super::extract::{Path, Query};
use super::{ApiError, body};
use crate::auth::Agent;
use crate::db::{self, teams::ReplyTemplate, teams::TeamRow, teams::TemplateInput};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/v1/admin/teams",
    tag = "administration",
    summary = "Les équipes",
    responses(
        (status = 200, description = "Every team with its counts", body = Vec<TeamRow>),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn list(
    State(state): State<AppState>,
    agent: Agent,
) -> Result<Json<Vec<TeamRow>>, ApiError> {
    require_admin(&agent)?;
    Ok(Json(db::teams::list(&state.db).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Espaces verts", "email": "espaces-verts@guichet.example"}))]
pub struct TeamBody {
    name: String,
    #[serde(default)]
    email: Option<String>,
}

/// `PUT /api/v1/admin/teams/{code}`: creates the team (201) or renames it (200).
#[utoipa::path(
    put,
    path = "/api/v1/admin/teams/{code}",
    tag = "administration",
    summary = "Créer ou renommer une équipe",
    params(("code" = String, Path, description = "The team's code")),
    request_body = TeamBody,
    responses(
        (status = 201, description = "Created", body = TeamSaved),
        (status = 200, description = "Renamed", body = TeamSaved),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn put(
    State(state): State<AppState>,
    agent: Agent,
    Path(code): Path<String>,
    req: Request,
) -> Result<(StatusCode, Json<TeamSaved>), ApiError> {
    require_admin(&agent)?;
    let b: TeamBody = body::json(req).await?;
    let mut errors = Vec::new();
    let valid_code = code.len() <= 64
        && code
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid_code {
        errors.push(FieldError::new(
            "code",
            "invalid-format",
            "lower-case letters, digits and dashes, at most 64",
        ));
    }
    let name = b.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        errors.push(FieldError::new(
            "name",
            "out-of-range",
            "1 to 200 characters",
        ));
    }
    let email = b.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
    if email.is_some_and(|e| !e.contains('@') || e.len() > 254) {
        errors.push(FieldError::new(
            "email",
            "invalid-email",
            "an e-mail address",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let (id, created) = db::teams::upsert(&state.db, &code, name, email).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(TeamSaved {
            id,
            code,
            name: name.to_owned(),
            email: email.map(str::to_owned),
        }),
    ))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TeamSaved {
    id: i64,
    code: String,
    name: String,
    email: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplatesQuery {
    demarche: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/agent/reply-templates",
    tag = "agents",
    summary = "Les modèles de réponse",
    params(TemplatesQuery),
    responses(
        (status = 200, description = "The démarche's and those for any", body = Vec<ReplyTemplate>),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn templates(
    State(state): State<AppState>,
    _agent: Agent,
    Query(q): Query<TemplatesQuery>,
) -> Result<Json<Vec<ReplyTemplate>>, ApiError> {
    let demarche = q
        .demarche
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    Ok(Json(db::teams::templates(&state.db, demarche).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Intervention programmée", "body": "Une équipe interviendra sous huit jours.", "lang": "fr"}))]
pub struct TemplateBody {
    #[serde(default)]
    demarche: Option<String>,
    title: String,
    body: String,
    #[serde(default)]
    lang: Option<String>,
}

fn require_supervisor(agent: &Agent) -> Result<(), ApiError> {
    if matches!(agent.role, Role::Supervisor | Role::Admin) {
        Ok(())
    } else {
        Err(forbidden("reply templates are kept by supervisors"))
    }
}

async fn checked<'a>(
    state: &AppState,
    agent: &Agent,
    b: &'a TemplateBody,
) -> Result<TemplateInput<'a>, ApiError> {
    let mut errors = Vec::new();
    let demarche = b
        .demarche
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    if let Some(d) = demarche
        && !db::teams::demarche_exists(&state.db, d).await?
    {
        errors.push(FieldError::new(
            "demarche",
            "unknown-demarche",
            "no démarche has this code",
        ));
    }
    let title = b.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        errors.push(FieldError::new(
            "title",
            "out-of-range",
            "1 to 200 characters",
        ));
    }
    let text = b.body.trim();
    if text.is_empty() || text.chars().count() > 10_000 {
        errors.push(FieldError::new(
            "body",
            "out-of-range",
            "1 to 10,000 characters",
        ));
    }
    let lang = match b.lang.as_deref().map(str::trim) {
        None | Some("") | Some("fr") => "fr",
        Some("en") => "en",
        Some(_) => {
            errors.push(FieldError::new("lang", "not-an-option", "fr or en"));
            "fr"
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(TemplateInput {
        demarche,
        title,
        body: text,
        lang,
        agent_id: agent.id,
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/agent/reply-templates",
    tag = "agents",
    summary = "Ajouter un modèle de réponse (superviseurs)",
    request_body = TemplateBody,
    responses(
        (status = 201, description = "Created", body = ReplyTemplate),
        (status = 422, description = "`unknown-demarche`, `out-of-range`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn create_template(
    State(state): State<AppState>,
    agent: Agent,
    req: Request,
) -> Result<(StatusCode, Json<ReplyTemplate>), ApiError> {
    require_supervisor(&agent)?;
    let b: TemplateBody = body::json(req).await?;
    let input = checked(&state, &agent, &b).await?;
    let t = db::teams::create_template(&state.db, &input).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

fn not_found() -> ApiError {
    ApiError::not_found("template-not-found", "No reply template has this id.")
}

#[utoipa::path(
    put,
    path = "/api/v1/agent/reply-templates/{id}",
    tag = "agents",
    summary = "Modifier un modèle de réponse",
    params(("id" = i64, Path, description = "The template's id")),
    request_body = TemplateBody,
    responses(
        (status = 200, description = "Changed", body = ReplyTemplate),
        (status = 404, description = "`template-not-found`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn update_template(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Json<ReplyTemplate>, ApiError> {
    require_supervisor(&agent)?;
    let b: TemplateBody = body::json(req).await?;
    let input = checked(&state, &agent, &b).await?;
    db::teams::update_template(&state.db, id, &input)
        .await?
        .map(Json)
        .ok_or_else(not_found)
}

#[utoipa::path(
    delete,
    path = "/api/v1/agent/reply-templates/{id}",
    tag = "agents",
    summary = "Supprimer un modèle de réponse",
    params(("id" = i64, Path, description = "The template's id")),
    responses(
        (status = 204, description = "Fait"),
        (status = 404, description = "`template-not-found`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn delete_template(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    require_supervisor(&agent)?;
    if db::teams::delete_template(&state.db, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found())
    }
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TeamView {
    id: i64,
    code: String,
    name: String,
    /// A team of mine (admins: every team).
    mine: bool,
    /// Its members, for the teams I see only.
    #[serde(skip_serializing_if = "Option::is_none")]
    members: Option<Vec<Member>>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Member {
    id: i64,
    name: String,
    role: String,
}

/// `GET /api/v1/agent/teams`: every team (to hand a request over), with the members of mine
/// (to assign one of them).
#[utoipa::path(
    get,
    path = "/api/v1/agent/teams",
    tag = "agents",
    summary = "Les équipes, et les membres des miennes",
    responses(
        (status = 200, description = "Every team", body = Vec<TeamView>),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn agent_teams(
    State(state): State<AppState>,
    agent: Agent,
) -> Result<Json<Vec<TeamView>>, ApiError> {
    let rows = db::teams::with_members(&state.db).await?;
    let mut teams: Vec<TeamView> = Vec::new();
    for r in rows {
        if teams.last().is_none_or(|t| t.id != r.team_id) {
            let mine = agent.can_see_team(Some(r.team_id));
            teams.push(TeamView {
                id: r.team_id,
                code: r.team_code,
                name: r.team_name,
                mine,
                members: mine.then(Vec::new),
            });
        }
        if let (Some(team), Some(id), Some(name), Some(role)) =
            (teams.last_mut(), r.agent_id, r.agent_name, r.agent_role)
            && let Some(members) = team.members.as_mut()
        {
            members.push(Member { id, name, role });
        }
    }
    Ok(Json(teams))
}
