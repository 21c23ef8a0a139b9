//! The audit trail: who read personal data or acted, when, on what, from where. The rule of
//! what is traced lives here, in [`traced`]; the HTTP layer applies it to every agent and
//! admin call (`http::audit::trace`), and the login handlers add the security events that no
//! session names yet ([`security_event`]). Traces are append-only (a trigger refuses any change)
//! and kept `GUICHET_AUDIT_RETENTION_DAYS`.

use std::net::IpAddr;

use sqlx::PgPool;

use crate::db::{self, audit::NewTrace};

/// What kind of trace a call leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A read of personal data.
    Read,
    /// A change made by an agent or an admin.
    Action,
    /// Logins, their failures, password and second-factor changes.
    Security,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Read => "read",
            Kind::Action => "action",
            Kind::Security => "security",
        }
    }
}

/// The reads that show people's data to an agent: a request's detail, contact and files, the
/// lists that carry names and addresses, searches for a caller, exports, the agents' own
/// list, and the trail itself.
const PERSONAL_READS: [&str; 10] = [
    "/api/v1/agent/requests",
    "/api/v1/agent/requests/{number}",
    "/api/v1/agent/requests/{number}/files/{id}",
    "/api/v1/agent/requests/{number}/candidates",
    "/api/v1/agent/requests/export",
    "/api/v1/agent/search",
    "/api/v1/agent/round",
    "/api/v1/admin/agents",
    "/api/v1/admin/audit",
    "/api/v1/admin/audit/export",
];

/// Calls that change credentials: traced as security events rather than plain actions.
const SECURITY_ACTIONS: [&str; 6] = [
    "/api/v1/agent/logout",
    "/api/v1/agent/password",
    "/api/v1/agent/totp",
    "/api/v1/agent/totp/confirm",
    "/api/v1/admin/agents/{id}/totp/reset",
    "/api/v1/agent/requests/{number}/tracking-code",
];

/// Whether a call to `route` (the router's template) with `method` is traced, and how. Every
/// change under `/api/v1/agent/` and `/api/v1/admin/` is; reads only when they show personal
/// data. Logins are traced by their handler, which knows the outcome and the e-mail given.
pub fn traced(method: &str, route: &str) -> Option<Kind> {
    let agent_side = route.starts_with("/api/v1/agent/") || route.starts_with("/api/v1/admin/");
    if !agent_side || route == "/api/v1/agent/login" {
        return None;
    }
    match method {
        "GET" | "HEAD" => PERSONAL_READS.contains(&route).then_some(Kind::Read),
        "OPTIONS" => None,
        _ if SECURITY_ACTIONS.contains(&route) => Some(Kind::Security),
        _ => Some(Kind::Action),
    }
}

/// One trace, as the HTTP layer or a handler gives it.
#[derive(Debug, Clone)]
pub struct Trace {
    pub kind: Kind,
    pub agent_id: Option<i64>,
    /// The agent's e-mail, or the e-mail given at a login; `anonymous` otherwise.
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
    pub status: Option<u16>,
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

/// The longest query string or user agent kept in a trace.
const MAX_TEXT: usize = 500;

fn clipped(text: Option<&str>) -> Option<&str> {
    text.map(|t| match t.char_indices().nth(MAX_TEXT) {
        Some((end, _)) => &t[..end],
        None => t,
    })
}

/// Writes a trace. A failure is logged, not returned: the call it traces has already been
/// answered by then, and the database being down is alerted on by other means.
pub async fn record(pool: &PgPool, t: &Trace) {
    let new = NewTrace {
        kind: t.kind.as_str(),
        agent_id: t.agent_id,
        actor: &t.actor,
        action: &t.action,
        target: t.target.as_deref(),
        detail: clipped(t.detail.as_deref()),
        status: t.status.map(|s| s as i16),
        ip: t.ip,
        user_agent: clipped(t.user_agent.as_deref()),
    };
    if let Err(e) = db::audit::insert(pool, &new).await {
        tracing::error!(error = %e, action = %t.action, "audit: a trace could not be written");
    }
}

/// A security event that no session names yet: an authentication and its outcome, about the
/// account whose e-mail was given.
pub async fn security_event(pool: &PgPool, event: &str, account: &str, ip: IpAddr) {
    record(
        pool,
        &Trace {
            kind: Kind::Security,
            agent_id: None,
            actor: account.to_owned(),
            action: event.to_owned(),
            target: Some(account.to_owned()),
            detail: None,
            status: None,
            ip: Some(ip),
            user_agent: None,
        },
    )
    .await;
}

/// Removes the traces past their retention.
pub async fn purge(pool: &PgPool, retention_days: u32) -> Result<u64, db::DbError> {
    db::audit::purge(pool, retention_days.min(i32::MAX as u32) as i32).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_of_people_s_data_and_every_change_are_traced() {
        assert_eq!(
            traced("GET", "/api/v1/agent/requests/{number}"),
            Some(Kind::Read)
        );
        assert_eq!(traced("GET", "/api/v1/agent/search"), Some(Kind::Read));
        assert_eq!(
            traced("POST", "/api/v1/agent/requests/{number}/status"),
            Some(Kind::Action)
        );
        assert_eq!(
            traced("PUT", "/api/v1/admin/teams/{code}"),
            Some(Kind::Action)
        );
        assert_eq!(
            traced("POST", "/api/v1/agent/password"),
            Some(Kind::Security)
        );
    }

    #[test]
    fn counts_public_calls_and_logins_are_not_traced_here() {
        assert_eq!(traced("GET", "/api/v1/agent/requests/counts"), None);
        assert_eq!(traced("GET", "/api/v1/agent/dashboard"), None);
        assert_eq!(traced("POST", "/api/v1/agent/login"), None);
        assert_eq!(traced("POST", "/api/v1/reports"), None);
        assert_eq!(traced("GET", "/api/v1/requests/{number}"), None);
    }

    #[test]
    fn long_texts_are_clipped_on_a_character_boundary() {
        let long = "é".repeat(600);
        assert_eq!(clipped(Some(&long)).map(|t| t.chars().count()), Some(500));
        assert_eq!(clipped(Some("q=martin")), Some("q=martin"));
    }
}
