//! Rate limits at the HTTP edge: who the client is, and the per-route guard.
//!
//! The client is the peer of the connection, unless that peer is one of the trusted proxies
//! (`GUICHET_TRUSTED_PROXIES`): then it is the last address of `X-Forwarded-For` that is not
//! itself a trusted proxy. Without trusted proxies the header is ignored, so nobody picks
//! their own address by sending it.
//!
//! `guard` limits a route per client address and leaves its `Limit` in the request, so that
//! the citizen and agent extractors (`http/auth.rs`) also count the call against the account
//! once they know it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;
use crate::limits::{Key, Limit};
use crate::state::AppState;

/// The client's address, as far as this service can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    fn of(parts_headers: &HeaderMap, peer: Option<IpAddr>, trusted: &[ipnet::IpNet]) -> ClientIp {
        // Without a socket (a router driven in-process), the peer is unknown: one key for all.
        let peer = peer
            .map(|ip| ip.to_canonical())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
        if !is_trusted(&peer) {
            return ClientIp(peer);
        }
        // Each proxy appends the address it got the request from: read from the right, past
        // our own proxies; the first other address is the client. A malformed entry stops the
        // walk, since whatever stands left of it cannot be trusted.
        let mut client = peer;
        let forwarded = parts_headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect::<Vec<_>>();
        for entry in forwarded.iter().rev() {
            match entry.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip.to_canonical();
                    if !is_trusted(&client) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        ClientIp(client)
    }
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(ip) = parts.extensions.get::<ClientIp>() {
            return Ok(*ip);
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientIp::of(
            &parts.headers,
            peer,
            &state.config.limits.trusted_proxies,
        ))
    }
}

/// Counts the call against `limit` for the client address; refused with 429 when spent.
pub fn check(state: &AppState, limit: Limit, key: &Key) -> Result<(), ApiError> {
    Ok(state.limits.check(limit, key)?)
}

/// The route layer: `axum::middleware::from_fn_with_state((state, limit), guard)`.
pub async fn guard(
    State((state, limit)): State<(AppState, Limit)>,
    mut req: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let Ok(ip) = ClientIp::from_request_parts(&mut parts, &state).await;
    req = Request::from_parts(parts, body);
    if let Err(e) = check(&state, limit, &Key::ip(ip.0)) {
        return e.into_response();
    }
    req.extensions_mut().insert(ip);
    req.extensions_mut().insert(limit);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let trusted = vec!["10.0.0.0/8".parse().unwrap()];
        let h = headers(&["198.51.100.7"]);
        // Sent straight to us: the header is the caller's own claim.
        assert_eq!(
            ClientIp::of(&h, Some(ip("203.0.113.9")), &trusted).0,
            ip("203.0.113.9")
        );
        assert_eq!(
            ClientIp::of(&h, Some(ip("10.1.1.1")), &trusted).0,
            ip("198.51.100.7")
        );
        // No trusted proxy at all: ignored.
        assert_eq!(
            ClientIp::of(&h, Some(ip("10.1.1.1")), &[]).0,
            ip("10.1.1.1")
        );
    }

    #[test]
    fn the_client_is_the_last_address_before_our_proxies() {
        let trusted = vec!["10.0.0.0/8".parse().unwrap()];
        // The client forged a first entry; our proxies appended the real one, then theirs.
        let h = headers(&["1.2.3.4, 198.51.100.7", "10.2.2.2"]);
        assert_eq!(
            ClientIp::of(&h, Some(ip("10.1.1.1")), &trusted).0,
            ip("198.51.100.7")
        );
        // Garbage stops the walk at the last good hop.
        let h = headers(&["198.51.100.7, nonsense, 10.2.2.2"]);
        assert_eq!(
            ClientIp::of(&h, Some(ip("10.1.1.1")), &trusted).0,
            ip("10.2.2.2")
        );
        // Only proxies: the leftmost one.
        let h = headers(&["10.3.3.3"]);
        assert_eq!(
            ClientIp::of(&h, Some(ip("10.1.1.1")), &trusted).0,
            ip("10.3.3.3")
        );
    }
}
