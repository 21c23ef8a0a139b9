//! The OpenAPI 3.1 document of `/api/v1`, made from the code: each handler carries its
//! `#[utoipa::path]` (URL, parameters, body, answers) and each type its schema. What every
//! route of a kind shares is added once, by [`Conventions`], rather than repeated on each
//! handler: the problem+json body of every error, the answers any route may give, those of
//! authenticated routes and of routes that read a body, and the agents' `Idempotency-Key`.
//!
//! Served at `GET /api/v1/openapi.json`; the page at `/api/docs` shows it. A test compares the
//! document's operations with the router's, so a new route cannot be left out.

use std::sync::LazyLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Required, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use super::{
    agent, agent_map, agents_admin, audit, bulk, catalogue, citizen, dashboard, demarches, exports,
    geocode, incidents, live, map_settings, nearby, preferences, queue, reports, requests, round,
    routing, second_factor, support, teams, wallet, webhooks,
};

const DESCRIPTION: &str = "\
L'API du guichet numérique : le catalogue des démarches, les signalements et les demandes des \
citoyens et leur suivi, les comptes citoyens, et l'API des agents (le back office) et des \
administrateurs.

Toute erreur est un `application/problem+json` (RFC 9457) avec un `code` stable ; une erreur de \
validation nomme aussi le champ fautif (`field`) et liste chaque règle enfreinte dans `errors`. \
Les libellés publics sont en français, ou en anglais quand `Accept-Language` le demande. La \
référence, avec chaque code d'erreur, est `docs/api.md`.

Authentification : les citoyens et les clients de l'API envoient `Authorization: Bearer <jeton>` \
(reçu de `POST /api/v1/citizen/login` ou `POST /api/v1/agent/login`). La session du back office \
dans un navigateur est le cookie `guichet_agent` (HttpOnly) ; un appel qui modifie quelque chose \
l'accompagne de l'en-tête `X-Requested-With: guichet`.";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Guichet",
        description = DESCRIPTION,
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    paths(
        openapi_json,
        catalogue::list,
        catalogue::one,
        reports::submit,
        nearby::nearby,
        requests::file,
        requests::public_view,
        support::support,
        requests::message,
        requests::complement,
        requests::withdraw,
        requests::not_fixed,
        incidents::incidents,
        geocode::reverse,
        geocode::search,
        map_settings::settings,
        citizen::register,
        citizen::verify_page,
        citizen::verify,
        citizen::resend,
        citizen::login,
        citizen::forgot,
        citizen::reset_page,
        citizen::reset,
        citizen::change_password,
        citizen::logout,
        citizen::me,
        citizen::delete_me,
        citizen::my_data,
        wallet::list,
        wallet::add,
        wallet::download,
        wallet::remove,
        citizen::my_requests,
        citizen::my_request,
        agent::login,
        agent::logout,
        agent::me,
        agent::change_password,
        second_factor::enrol,
        second_factor::confirm,
        queue::queue,
        agent::enter,
        queue::counts,
        exports::export,
        bulk::bulk,
        queue::search,
        live::stream,
        dashboard::dashboard,
        agent_map::map,
        teams::agent_teams,
        round::round,
        reports::field_report,
        preferences::get,
        preferences::put,
        teams::templates,
        teams::create_template,
        teams::update_template,
        teams::delete_template,
        agent::detail,
        agent::edit,
        agent::file,
        agent::change_status,
        agent::could_not_act,
        agent::assign,
        agent::reply,
        agent::note,
        agent::complement,
        agent::merge,
        agent::candidates,
        agent::split,
        agent::tracking_code,
        webhooks::list,
        webhooks::create,
        webhooks::deactivate,
        webhooks::deliveries,
        audit::list,
        audit::export,
        routing::list,
        routing::create,
        routing::delete,
        teams::list,
        teams::put,
        agents_admin::list,
        agents_admin::save,
        agents_admin::deactivate,
        agents_admin::activate,
        agents_admin::reset_second_factor,
        demarches::get,
        demarches::put,
        demarches::revisions,
    ),
    // Problem is named by `Conventions`, not by a handler.
    components(schemas(Problem)),
    modifiers(&Conventions),
    tags(
        (name = "catalogue", description = "Les démarches et leurs formulaires"),
        (name = "signalements", description = "Signalements, demandes et leur suivi par les citoyens"),
        (name = "adresses", description = "Adresses de la Base Adresse Nationale"),
        (name = "compte citoyen", description = "Comptes des citoyens"),
        (name = "agents", description = "L'API du back office : file, demande, actions"),
        (name = "administration", description = "Équipes, agents, routage, démarches, webhooks (admins)"),
        (name = "documentation", description = "Ce document"),
    ),
)]
struct ApiDoc;

/// The document, as served.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Built once: the document depends on the code only.
static DOCUMENT_JSON: LazyLock<String> = LazyLock::new(|| {
    serde_json::to_string(&document()).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the OpenAPI document does not serialise");
        String::from("{}")
    })
});

/// `GET /api/v1/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "documentation",
    summary = "Ce document OpenAPI 3.1",
    responses((status = 200, description = "The OpenAPI document of `/api/v1`", body = Object)),
)]
pub async fn openapi_json() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        DOCUMENT_JSON.as_str(),
    )
        .into_response()
}

/// An error, as every route answers it (RFC 9457). The Rust side is `problem::ApiError`.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // describes `problem::ApiError`'s body for the document
pub struct Problem {
    /// `urn:guichet:problem:<code>`.
    #[serde(rename = "type")]
    kind: String,
    title: String,
    status: u16,
    detail: String,
    /// Stable and documented: clients branch on it.
    code: String,
    /// The first offending field, for validation errors.
    field: Option<String>,
    /// Every broken rule, for validation errors.
    #[serde(default)]
    errors: Vec<guichet_shared::validation::FieldError>,
}

/// A GeoJSON `FeatureCollection` (RFC 7946) of points, as the maps answer it.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // describes the `geojson` crate's output for the document
pub struct FeatureCollection {
    #[serde(rename = "type")]
    #[schema(pattern = "^FeatureCollection$")]
    kind: String,
    features: Vec<Feature>,
}

#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Feature {
    #[serde(rename = "type")]
    #[schema(pattern = "^Feature$")]
    kind: String,
    /// A request's number, for a single request; absent for a cluster.
    #[schema(value_type = Option<String>)]
    id: Option<serde_json::Value>,
    geometry: Point,
    /// `kind` says which: `cluster` (`count`, `point_count`, `expansion_zoom`) or one request
    /// (`incident` on the public map, `request` on the agents').
    #[schema(value_type = Object)]
    properties: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Point {
    #[serde(rename = "type")]
    #[schema(pattern = "^Point$")]
    kind: String,
    /// Longitude, latitude (WGS84).
    #[schema(min_items = 2, max_items = 2)]
    coordinates: Vec<f64>,
}

/// The conventions every route of a kind follows (see the module's comment).
struct Conventions;

const PROBLEM: &str = "application/problem+json";
const AGENT_SCHEMES: [&str; 2] = ["agent_token", "agent_cookie"];

impl Modify for Conventions {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        for (name, scheme) in security_schemes() {
            components.add_security_scheme(name, scheme);
        }
        for item in doc.paths.paths.values_mut() {
            let operations = [
                (&mut item.get, false),
                (&mut item.post, true),
                (&mut item.put, true),
                (&mut item.patch, true),
                (&mut item.delete, true),
            ];
            for (operation, changes) in operations {
                if let Some(operation) = operation.as_mut() {
                    shared_answers(operation, changes);
                    problem_bodies(operation);
                }
            }
        }
    }
}

fn security_schemes() -> [(&'static str, SecurityScheme); 4] {
    let bearer = |description: &str| {
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(description))
                .build(),
        )
    };
    let key = |name: &str, description: &str| {
        let mut value = ApiKeyValue::new(name);
        value.description = Some(description.to_owned());
        value
    };
    [
        (
            "citizen_token",
            bearer("A citizen's session: the `token` of `POST /api/v1/citizen/login`."),
        ),
        (
            "agent_token",
            bearer(
                "An agent's session: the `token` of `POST /api/v1/agent/login`. It ends after 12 \
                 hours, or after `GUICHET_AGENT_IDLE_MINUTES` without a call.",
            ),
        ),
        (
            "agent_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(key(
                super::session_cookie::COOKIE,
                "The back office's session: a login sent with `X-Guichet-Session: cookie` gets it \
                 (HttpOnly, SameSite=Strict). Taken when no `Authorization` is sent.",
            ))),
        ),
        (
            "csrf_header",
            SecurityScheme::ApiKey(ApiKey::Header(key(
                "X-Requested-With",
                "`guichet`: required beside the cookie on every call but GET, HEAD and OPTIONS \
                 (403 `csrf-header-missing` otherwise).",
            ))),
        ),
    ]
}

/// The answers an operation may give whatever its own: the shared failures, and those of its
/// authentication and of its body.
fn shared_answers(operation: &mut Operation, changes: bool) {
    let schemes: Vec<String> = operation
        .security
        .iter()
        .flatten()
        .filter_map(|requirement| serde_json::to_value(requirement).ok())
        .filter_map(|value| {
            value
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>())
        })
        .flatten()
        .collect();
    let agent = schemes.iter().any(|s| AGENT_SCHEMES.contains(&s.as_str()));
    let citizen = schemes.iter().any(|s| s == "citizen_token");
    let mut add = |status: &str, description: &str| {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(ResponseBuilder::new().description(description).build()));
    };
    if agent || citizen {
        add(
            "401",
            "`unauthenticated`: no session, or an unknown or expired one",
        );
    }
    if agent {
        add(
            "403",
            "`forbidden` (a role or team that may not), `csrf-header-missing`, or \
             `second-factor-enrolment-required`",
        );
    }
    if agent && changes {
        add(
            "422",
            "`invalid-idempotency-key`, `idempotency-key-reused`, or invalid fields",
        );
    }
    if operation.request_body.is_some() {
        add(
            "400",
            "`malformed-json`, `malformed-multipart`, or `invalid-characters` (text such as a NUL \
             byte)",
        );
        add(
            "413",
            "`json-too-large`, `body-too-large` or a file over its limit",
        );
        add(
            "415",
            "`unsupported-media-type`: not a content type this route reads",
        );
        add(
            "422",
            "`validation-failed`: `errors` lists every broken rule",
        );
    }
    let located = |place: ParameterIn| {
        operation
            .parameters
            .iter()
            .flatten()
            .any(|p| p.parameter_in == place)
    };
    let (in_path, in_query) = (located(ParameterIn::Path), located(ParameterIn::Query));
    if in_path {
        add("404", "`not-found`: no such resource");
    }
    if in_query {
        add(
            "400",
            "`malformed-query`: a query string that cannot be read",
        );
        add(
            "422",
            "`validation-failed`: a parameter is missing or invalid (`field`)",
        );
    }
    add("429", "`rate-limited`: retry after `Retry-After` seconds");
    add("500", "`internal-error`: nothing was recorded");
    add(
        "503",
        "`service-unavailable` (the database) or `server-busy`",
    );
    if agent && changes {
        let parameters = operation.parameters.get_or_insert_with(Vec::new);
        parameters.push(idempotency_key());
    }
}

fn idempotency_key() -> Parameter {
    ParameterBuilder::new()
        .name(super::auth::IDEMPOTENCY_KEY)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes the action count once: 1 to 100 visible ASCII characters (a UUID). The same \
             call again answers the first success again, with `Idempotent-Replayed: true`.",
        ))
        .schema(Some(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .min_length(Some(1))
                .max_length(Some(100))
                .pattern(Some("^[!-~]+$")),
        ))
        .build()
}

/// Every error answer carries a problem+json body.
fn problem_bodies(operation: &mut Operation) {
    for (status, answer) in &mut operation.responses.responses {
        let RefOr::T(answer) = answer else { continue };
        let error = status.starts_with('4') || status.starts_with('5');
        if error && !answer.content.contains_key(PROBLEM) {
            answer.content.insert(
                PROBLEM.to_owned(),
                Content::new(Some(Ref::from_schema_name("Problem"))),
            );
        }
    }
}
