//! Browser protections on every answer: the security headers, and which other origins may call
//! which part of the API (CORS).
//!
//! - The citizen web app is served from this origin and loads only its own scripts and styles,
//!   so the policy allows no inline script and no third-party code; map tiles come from the
//!   host of `GUICHET_MAP_TILES`.
//! - The citizen app built with Tauri calls the citizen API from its own origins.
//! - Public read-only data (incidents map, catalogue, nearby reports) may be read by any origin,
//!   without credentials.
//! - Agent and administration routes answer no cross-origin call.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use tower::{Layer, ServiceExt};
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

use crate::config::Config;

/// Origins of the Tauri citizen app (macOS/Linux/iOS, then Windows/Android in both schemes).
pub const APP_ORIGINS: [&str; 3] = [
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
];

/// The headers every answer carries, computed once from the configuration.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl SecurityHeaders {
    pub fn new(config: &Config) -> Arc<Self> {
        let mut headers = vec![
            (
                header::CONTENT_SECURITY_POLICY,
                value(&content_security_policy(
                    config.http.map_tiles.as_ref().map(|t| t.origin.as_str()),
                )),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, value("nosniff")),
            (
                header::REFERRER_POLICY,
                value("strict-origin-when-cross-origin"),
            ),
            (header::X_FRAME_OPTIONS, value("DENY")),
            (
                HeaderName::from_static("cross-origin-opener-policy"),
                value("same-origin"),
            ),
            (
                HeaderName::from_static("permissions-policy"),
                value("camera=(self), geolocation=(self), microphone=(), payment=()"),
            ),
        ];
        if config.public_url.starts_with("https://") {
            headers.push((
                header::STRICT_TRANSPORT_SECURITY,
                value("max-age=31536000; includeSubDomains"),
            ));
        }
        Arc::new(Self { headers })
    }
}

/// The Content-Security-Policy: own scripts and styles only, images also from the tile host
/// and from photos being prepared (`blob:`, `data:`), and no framing.
pub fn content_security_policy(tile_origin: Option<&str>) -> String {
    let mut img_src = String::from("'self' data: blob:");
    if let Some(origin) = tile_origin {
        img_src.push(' ');
        img_src.push_str(origin);
    }
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src {img_src}; \
         connect-src 'self'; font-src 'self'; worker-src 'self'; manifest-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

fn value(text: &str) -> HeaderValue {
    // The texts are constants or checked origins (see `config::tile_origins`).
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
}

/// Adds the security headers to every answer that does not set its own.
pub async fn add_headers(
    State(security): State<Arc<SecurityHeaders>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in &security.headers {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
    response
}

/// Who may call a URL from another origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// Public read-only data: any origin, reading only.
    Anyone,
    /// The citizen API: the Tauri app's origins.
    CitizenApp,
    /// Same origin only (agents, administration, operations, anything else).
    SameOrigin,
}

fn audience(method: &Method, path: &str) -> Audience {
    let reading = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    // Open311's reads are public data; filing takes an API key, server to server.
    if path.starts_with("/open311/v2/") && reading {
        return Audience::Anyone;
    }
    let Some(api) = path.strip_prefix("/api/v1/") else {
        return Audience::SameOrigin;
    };
    let public_data = matches!(api, "incidents" | "catalogue" | "reports/nearby")
        || api.starts_with("catalogue/");
    if public_data && reading {
        return Audience::Anyone;
    }
    let citizen = public_data
        || matches!(api, "reports" | "requests")
        || api.starts_with("requests/")
        || api.starts_with("citizen/");
    if citizen {
        Audience::CitizenApp
    } else {
        Audience::SameOrigin
    }
}

static PUBLIC_CORS: LazyLock<CorsLayer> = LazyLock::new(|| {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD])
        .allow_headers([header::ACCEPT, header::ACCEPT_LANGUAGE])
        .expose_headers([header::RETRY_AFTER, HeaderName::from_static("x-request-id")])
        .max_age(Duration::from_secs(3600))
});

static APP_CORS: LazyLock<CorsLayer> = LazyLock::new(|| {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(APP_ORIGINS.map(HeaderValue::from_static)))
        .allow_methods([Method::GET, Method::HEAD, Method::POST])
        .allow_headers([
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::RETRY_AFTER,
            header::LOCATION,
            HeaderName::from_static("x-request-id"),
        ])
        .max_age(Duration::from_secs(3600))
});

/// Applies the CORS rules of the URL's audience; same-origin URLs get no CORS headers, so
/// browsers refuse other origins' calls and preflights.
pub async fn cors(request: Request, next: Next) -> Response {
    let layer = match audience(request.method(), request.uri().path()) {
        Audience::Anyone => &*PUBLIC_CORS,
        Audience::CitizenApp => &*APP_CORS,
        Audience::SameOrigin => return next.run(request).await,
    };
    match layer.layer(next).oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences() {
        assert_eq!(
            audience(&Method::GET, "/api/v1/incidents"),
            Audience::Anyone
        );
        assert_eq!(
            audience(&Method::OPTIONS, "/api/v1/catalogue/voirie"),
            Audience::Anyone
        );
        assert_eq!(
            audience(&Method::POST, "/api/v1/reports"),
            Audience::CitizenApp
        );
        assert_eq!(
            audience(&Method::GET, "/api/v1/citizen/me"),
            Audience::CitizenApp
        );
        assert_eq!(
            audience(&Method::GET, "/api/v1/agent/requests"),
            Audience::SameOrigin
        );
        assert_eq!(
            audience(&Method::GET, "/api/v1/admin/webhooks"),
            Audience::SameOrigin
        );
        assert_eq!(audience(&Method::GET, "/metrics"), Audience::SameOrigin);
    }

    #[test]
    fn policy_lists_tile_hosts() {
        let csp = content_security_policy(Some("https://tiles.example.org"));
        assert!(csp.contains("img-src 'self' data: blob: https://tiles.example.org;"));
        assert!(csp.contains("script-src 'self';"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }
}
