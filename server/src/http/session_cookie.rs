//! The back office's browser session: an agent's token kept in a cookie that page scripts
//! cannot read (HttpOnly, SameSite=Strict, Secure when the service is on https), beside the
//! bearer tokens that API clients send.
//!
//! - A login sent with `X-Guichet-Session: cookie` gets its token as that cookie; the JSON
//!   answer then carries no token.
//! - On the agent and admin routes, a request without `Authorization` but with the cookie is
//!   handled as if it had sent the token as a bearer, so every extractor stays as it is.
//!   A state-changing call (anything but GET, HEAD, OPTIONS) made with the cookie must also
//!   send `X-Requested-With: guichet`: a cross-site form cannot set that header, and
//!   cross-site scripts cannot send it without a CORS preflight that this service refuses.
//! - Logging out clears the cookie.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use crate::auth::AGENT_SESSION;

pub const COOKIE: &str = "guichet_agent";
/// Asks a login for the cookie instead of a token in the answer.
pub const SESSION_HEADER: &str = "x-guichet-session";
/// What a state-changing call made with the cookie must send.
pub const CSRF_HEADER: &str = "x-requested-with";
pub const CSRF_VALUE: &str = "guichet";

/// The largest login answer this rewrites (an agent's view: a few hundred bytes).
const MAX_LOGIN_ANSWER: usize = 64 * 1024;

#[derive(Clone, Copy)]
pub struct CookieSettings {
    secure: bool,
}

impl CookieSettings {
    pub fn new(public_url: &str) -> Self {
        Self {
            secure: public_url.starts_with("https://"),
        }
    }

    fn set(self, token: &str, max_age_secs: i64) -> Option<HeaderValue> {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{COOKIE}={token}; Path=/api/v1; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
        ))
        .ok()
    }
}

pub async fn agent_cookie(
    State(settings): State<CookieSettings>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    let is_login = path == "/api/v1/agent/login";
    let is_logout = path == "/api/v1/agent/logout";
    let agent_area = path.starts_with("/api/v1/agent/") || path.starts_with("/api/v1/admin/");
    let wants_cookie = is_login
        && req
            .headers()
            .get(SESSION_HEADER)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cookie"));

    if agent_area
        && !is_login
        && !req.headers().contains_key(header::AUTHORIZATION)
        && let Some(token) = cookie_token(req.headers())
    {
        let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
        let declared = req
            .headers()
            .get(CSRF_HEADER)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(CSRF_VALUE.as_bytes()));
        if !safe && !declared {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf-header-missing",
                "Missing request header",
                "a call made with the session cookie must send X-Requested-With: guichet",
            )
            .into_response();
        }
        if let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) {
            req.headers_mut().insert(header::AUTHORIZATION, value);
        }
    }

    let response = next.run(req).await;
    if wants_cookie && response.status() == StatusCode::OK {
        return into_cookie(settings, response).await;
    }
    if is_logout && response.status().is_success() {
        let mut response = response;
        if let Some(clear) = settings.set("", 0) {
            response.headers_mut().append(header::SET_COOKIE, clear);
        }
        return response;
    }
    response
}

/// The token of the session cookie, if the request carries one.
fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|t| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Moves the token of a successful login's answer into the cookie.
async fn into_cookie(settings: CookieSettings, response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_LOGIN_ANSWER).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Ok(serde_json::Value::Object(mut answer)) = serde_json::from_slice(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let Some(serde_json::Value::String(token)) = answer.remove("token") else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let Some(cookie) = settings.set(&token, AGENT_SESSION.whole_seconds()) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    parts.headers.append(header::SET_COOKIE, cookie);
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = serde_json::to_vec(&answer).unwrap_or_default();
    Response::from_parts(parts, Body::from(body))
}
