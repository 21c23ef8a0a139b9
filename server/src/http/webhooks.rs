//! `/api/v1/admin/webhooks`: administrators subscribe the city's other systems to request
//! events and see which deliveries fail.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use guichet_shared::validation::FieldError;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::ApiError;
use super::auth::require_admin;
use super::body;
use super::extract::{Path, Query};
use crate::auth::Agent;
use crate::config::NotifyConfig;
use crate::db::{self, webhooks::DeliveryRow, webhooks::SubscriptionRow};
use crate::notify::webhooks::{EVENT_TYPES, TargetError, resolve_target};
use crate::state::AppState;

const MAX_URL_CHARS: usize = 2048;
const MIN_SECRET_CHARS: usize = 16;
const MAX_SECRET_CHARS: usize = 256;
const MAX_DESCRIPTION_CHARS: usize = 500;
const DELIVERY_STATUSES: [&str; 3] = ["pending", "delivered", "failed"];

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewWebhook)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    url: String,
    #[serde(default)]
    secret: Option<String>,
    events: Vec<String>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SubscriptionOut {
    id: i64,
    url: String,
    events: Vec<String>,
    active: bool,
    description: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    pending_deliveries: i64,
    failed_deliveries: i64,
    /// Only in the answer to the creation: it is never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl From<SubscriptionRow> for SubscriptionOut {
    fn from(row: SubscriptionRow) -> Self {
        Self {
            id: row.id,
            url: row.url,
            events: row.events,
            active: row.active,
            description: row.description,
            created_at: row.created_at,
            pending_deliveries: row.pending,
            failed_deliveries: row.failed,
            secret: None,
        }
    }
}

/// `POST /api/v1/admin/webhooks` → 201 with the subscription and its secret.
#[utoipa::path(
    post,
    path = "/api/v1/admin/webhooks",
    tag = "administration",
    summary = "S'abonner aux événements des demandes",
    request_body = CreateBody,
    responses(
        (status = 201, description = "The subscription, with its secret (shown this once)", body = SubscriptionOut, headers(("Location" = String))),
        (status = 422, description = "`invalid-url`, `unknown-event`, `invalid-secret`, `webhook-target-forbidden`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn create(
    State(state): State<AppState>,
    agent: Agent,
    req: Request,
) -> Result<Response, ApiError> {
    require_admin(&agent)?;
    let body: CreateBody = body::json(req).await?;
    let url = check_url(&body.url)?;
    check_target(&url, &state.config.notify).await?;
    let events = check_events(&body.events)?;
    let secret = match body.secret {
        Some(s) => check_secret(s)?,
        None => new_secret(),
    };
    let description = body.description.unwrap_or_default().trim().to_owned();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "too-long",
            "Description too long",
            "description",
            format!("at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    let row = db::webhooks::create(
        &state.db,
        &db::webhooks::NewSubscription {
            url: url.as_str(),
            secret: &secret,
            events: &events,
            description: &description,
        },
    )
    .await?;
    // The origin only: a receiver's URL may carry a token in its path or query.
    let origin = url.origin().ascii_serialization();
    tracing::info!(subscription = row.id, admin = agent.id, %origin, "webhook subscription created");
    let location = format!("/api/v1/admin/webhooks/{}", row.id);
    let mut out = SubscriptionOut::from(row);
    out.secret = Some(secret);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(out),
    )
        .into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SubscriptionList {
    webhooks: Vec<SubscriptionOut>,
}

/// `GET /api/v1/admin/webhooks`: every subscription, active or not, without secrets.
#[utoipa::path(
    get,
    path = "/api/v1/admin/webhooks",
    tag = "administration",
    summary = "Les abonnements webhook",
    responses(
        (status = 200, description = "Every subscription, never its secret", body = SubscriptionList),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn list(
    State(state): State<AppState>,
    agent: Agent,
) -> Result<Json<SubscriptionList>, ApiError> {
    require_admin(&agent)?;
    let rows = db::webhooks::list(&state.db).await?;
    Ok(Json(SubscriptionList {
        webhooks: rows.into_iter().map(SubscriptionOut::from).collect(),
    }))
}

/// `DELETE /api/v1/admin/webhooks/{id}`: deactivates; past deliveries stay readable.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/webhooks/{id}",
    tag = "administration",
    summary = "Désactiver un abonnement",
    params(("id" = i64, Path, description = "The subscription's id")),
    responses(
        (status = 204, description = "Fait"),
        (status = 404, description = "`webhook-not-found`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [], "csrf_header" = [])),
)]
pub async fn deactivate(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    require_admin(&agent)?;
    let id = parse_id(&id)?;
    if db::webhooks::deactivate(&state.db, id).await? {
        tracing::info!(
            subscription = id,
            admin = agent.id,
            "webhook subscription deactivated"
        );
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found())
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// `pending`, `delivered` or `failed`.
    #[param(example = "failed")]
    status: Option<String>,
    #[param(value_type = Option<u16>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryOut {
    id: i64,
    event_id: Uuid,
    event_type: String,
    request_number: Option<String>,
    status: String,
    attempts: i32,
    /// HTTP status of the last answer; absent when there was none (network error).
    last_status: Option<i32>,
    last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    next_attempt_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    delivered_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    failed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

impl From<DeliveryRow> for DeliveryOut {
    fn from(d: DeliveryRow) -> Self {
        Self {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            request_number: d.request_number,
            status: d.status,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            next_attempt_at: d.next_attempt_at,
            delivered_at: d.delivered_at,
            failed_at: d.failed_at,
            created_at: d.created_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryList {
    deliveries: Vec<DeliveryOut>,
}

/// `GET /api/v1/admin/webhooks/{id}/deliveries[?status=pending|delivered|failed][&limit=N]`:
/// newest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/webhooks/{id}/deliveries",
    tag = "administration",
    summary = "Les envois d'un abonnement",
    params(("id" = i64, Path, description = "The subscription's id"), DeliveriesQuery),
    responses(
        (status = 200, description = "Newest first", body = DeliveryList),
        (status = 404, description = "`webhook-not-found`"),
        (status = 422, description = "`invalid-status`, `out-of-range`"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn deliveries(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<String>,
    Query(query): Query<DeliveriesQuery>,
) -> Result<Json<DeliveryList>, ApiError> {
    require_admin(&agent)?;
    let id = parse_id(&id)?;
    let status = match query.status.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) if DELIVERY_STATUSES.contains(&s) => Some(s),
        Some(s) => {
            return Err(ApiError::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-status",
                "Unknown delivery status",
                "status",
                format!("{s:?} is not one of pending, delivered, failed"),
            ));
        }
    };
    let limit = match query.limit.as_deref() {
        None => 100,
        Some(text) => match text.trim().parse::<i64>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(ApiError::field(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "out-of-range",
                    "Invalid limit",
                    "limit",
                    "limit must be an integer from 1 to 1000",
                ));
            }
        },
    };
    if db::webhooks::get(&state.db, id).await?.is_none() {
        return Err(not_found());
    }
    let rows = db::webhooks::deliveries(&state.db, id, status, limit).await?;
    Ok(Json(DeliveryList {
        deliveries: rows.into_iter().map(DeliveryOut::from).collect(),
    }))
}

fn not_found() -> ApiError {
    ApiError::not_found("webhook-not-found", "No webhook subscription has this id.")
}

fn parse_id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(not_found)
}

/// An absolute `http` or `https` URL with a host and no user name or password (the
/// signature is what authenticates Guichet to the receiver). Plain `http` is allowed for
/// receivers on the city's internal network.
fn check_url(url: &str) -> Result<reqwest::Url, ApiError> {
    let url = url.trim();
    if url.chars().count() > MAX_URL_CHARS {
        return Err(invalid_url("the URL is too long"));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid_url(&format!("not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid_url("the URL must start with https:// (or http://)"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid_url("the URL has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid_url(
            "the URL must not carry a user name or password: the signature authenticates the sender",
        ));
    }
    if parsed.fragment().is_some() {
        return Err(invalid_url("the URL must not have a #fragment"));
    }
    Ok(parsed)
}

fn invalid_url(detail: &str) -> ApiError {
    ApiError::field(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-url",
        "Invalid webhook URL",
        "url",
        detail.to_owned(),
    )
}

/// Refuses a URL whose host is, or resolves to, an address webhooks must not reach (this
/// machine, private or link-local networks...) unless `GUICHET_WEBHOOK_ALLOW` names it. A
/// name that does not resolve yet is accepted: every delivery checks again.
async fn check_target(url: &reqwest::Url, notify: &NotifyConfig) -> Result<(), ApiError> {
    let checked = tokio::time::timeout(
        notify.webhook_timeout,
        resolve_target(url, &notify.webhook_allow),
    )
    .await;
    match checked {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(TargetError::Forbidden(ip))) => Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "webhook-target-forbidden",
            "Webhook target not allowed",
            "url",
            format!(
                "the URL leads to {ip}, an address of this machine or of a private, link-local or otherwise non-public network; an internal receiver must be allowed in the server's configuration"
            ),
        )),
        Ok(Err(TargetError::Invalid(why))) => Err(invalid_url(why)),
        Ok(Err(e @ TargetError::Unresolved { .. })) => {
            tracing::info!(error = %e, "webhook host not resolved; each delivery checks it");
            Ok(())
        }
        Err(_) => {
            let origin = url.origin().ascii_serialization();
            tracing::info!(%origin, "webhook host not resolved in time; each delivery checks it");
            Ok(())
        }
    }
}

fn check_events(events: &[String]) -> Result<Vec<String>, ApiError> {
    if events.is_empty() {
        return Err(ApiError::validation(vec![FieldError::new(
            "events",
            "required",
            format!(
                "name at least one event type among {}",
                EVENT_TYPES.join(", ")
            ),
        )]));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let e = e.trim();
        if !EVENT_TYPES.contains(&e) {
            return Err(ApiError::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown-event",
                "Unknown event type",
                &format!("events[{i}]"),
                format!("{e:?} is not one of {}", EVENT_TYPES.join(", ")),
            ));
        }
        if !out.iter().any(|o| o == e) {
            out.push(e.to_owned());
        }
    }
    Ok(out)
}

fn check_secret(secret: String) -> Result<String, ApiError> {
    let n = secret.chars().count();
    if !(MIN_SECRET_CHARS..=MAX_SECRET_CHARS).contains(&n) || secret.chars().any(char::is_control) {
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-secret",
            "Invalid secret",
            "secret",
            format!(
                "the secret must have {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} characters, none of them control characters"
            ),
        ));
    }
    Ok(secret)
}

/// 256 random bits, hex, with a prefix that says what it is when found in a config file.
fn new_secret() -> String {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    format!("whsec_{}", hex::encode(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_or_https_with_a_host_and_no_credentials() {
        assert!(check_url("https://erp.example.org/hooks/guichet").is_ok());
        assert!(check_url(" http://erp.mairie.local:8080/in ").is_ok());
        for bad in [
            "ftp://example.org/",
            "file:///etc/passwd",
            "gopher://example.org:6379/_INFO",
            "example.org/hook",
            "https://",
            "javascript:alert(1)",
            "https://user:secret@erp.example.org/in",
            "https://token@erp.example.org/in",
            "https://erp.example.org/in#frag",
        ] {
            let e = check_url(bad).err().map(|e| e.code);
            assert_eq!(e, Some("invalid-url"), "{bad}");
        }
    }

    #[test]
    fn events_are_known_and_deduplicated() {
        let ok = check_events(&["request.created".into(), "request.created".into()]);
        assert_eq!(ok.ok(), Some(vec!["request.created".to_owned()]));
        let bad = check_events(&["request.created".into(), "request.deleted".into()]).err();
        assert_eq!(bad.as_ref().map(|e| e.code), Some("unknown-event"));
        assert_eq!(
            bad.and_then(|e| e.errors.first().map(|f| f.field.clone())),
            Some("events[1]".to_owned())
        );
        assert!(check_events(&[]).is_err());
    }

    #[test]
    fn generated_secrets_are_long_and_distinct() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 6 + 64);
        assert!(check_secret(a).is_ok());
        assert!(check_secret("short".to_owned()).is_err());
    }
}
