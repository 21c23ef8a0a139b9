//! What protects the accounts of agents and citizens beyond their passwords:
//! - failed logins, counted per account and client address in the database, so that every
//!   instance sees them and nobody can lock a named account out from another address;
//! - the periodic clean-up of what expires (sessions, used links, old failures, idle limiter
//!   keys).

use std::net::IpAddr;
use std::time::Duration;

use time::OffsetDateTime;

use crate::config::Config;
use crate::db::{self, DbError};
use crate::limits::Throttled;
use crate::state::AppState;

/// Which door a login failure was at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Realm {
    Agent,
    Citizen,
    /// A wrong second-factor code after a right password: counted per account, whatever the
    /// address, since only the password's holder gets there.
    AgentSecondFactor,
}

impl Realm {
    fn as_str(self) -> &'static str {
        match self {
            Realm::Agent => "agent",
            Realm::Citizen => "citizen",
            Realm::AgentSecondFactor => "agent-second-factor",
        }
    }
}

/// One account knocking from one client address.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub realm: Realm,
    /// The e-mail address as typed, lower-cased (it may have no account).
    pub account: String,
    client: String,
    ip: IpAddr,
}

impl Attempt {
    pub fn new(realm: Realm, account: &str, ip: IpAddr) -> Attempt {
        let client = match realm {
            Realm::AgentSecondFactor => "*".to_owned(),
            _ => crate::limits::subscriber(ip).to_string(),
        };
        Attempt {
            realm,
            account: account.trim().to_lowercase(),
            client,
            ip,
        }
    }

    /// Refused while the account has had too many failures from this client lately.
    pub async fn check(&self, state: &AppState) -> Result<(), LoginError> {
        let limits = &state.config.limits;
        if !limits.enabled {
            return Ok(());
        }
        let until = db::accounts::login_blocked_until(
            &state.db,
            self.realm.as_str(),
            &self.account,
            &self.client,
            i64::from(limits.login_failures.count),
            limits.login_failures.per.as_secs_f64(),
        )
        .await?;
        match until {
            Some(until) => {
                let wait = (until - OffsetDateTime::now_utc()).max(time::Duration::ZERO);
                Err(LoginError::Throttled(Throttled {
                    retry_after: Duration::try_from(wait).unwrap_or_default(),
                }))
            }
            None => Ok(()),
        }
    }

    /// Leaves a security trace (`agent.authentication-failed`…) and counts the failure.
    pub async fn failed(&self, state: &AppState) -> Result<(), DbError> {
        self.trace(state, "authentication-failed").await;
        if !state.config.limits.enabled {
            return Ok(());
        }
        db::accounts::record_login_failure(
            &state.db,
            self.realm.as_str(),
            &self.account,
            &self.client,
        )
        .await
    }

    /// Leaves a security trace (`agent.authenticated`…) and forgets the failures.
    pub async fn succeeded(&self, state: &AppState) -> Result<(), DbError> {
        self.trace(state, "authenticated").await;
        if !state.config.limits.enabled {
            return Ok(());
        }
        db::accounts::clear_login_failures(
            &state.db,
            self.realm.as_str(),
            &self.account,
            &self.client,
        )
        .await
    }
}

impl Attempt {
    async fn trace(&self, state: &AppState, outcome: &str) {
        let event = format!("{}.{outcome}", self.realm.as_str());
        crate::audit::security_event(&state.db, &event, &self.account, self.ip).await;
    }
}

/// Why a login (or a check of the current password) was refused.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("too many failed attempts")]
    Throttled(Throttled),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Purges, every `Config::accounts.purge_interval` until `shutdown` fires, what no longer
/// counts: expired or idle sessions, used or expired links, failed logins out of their window,
/// agents' idempotency keys older than a month, audit traces past their retention, and
/// limiter keys whose allowance is whole; and anonymises closed requests past their
/// démarche's retention (`crate::retention`).
pub async fn run_housekeeping(state: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(e) = purge(&state.db, &state.config).await {
            tracing::warn!(error = %e, "accounts: cannot purge expired records");
        }
        match crate::retention::run(&state).await {
            Ok(s) if s != crate::retention::Swept::default() => tracing::info!(
                anonymised = s.anonymised,
                files_dropped = s.files_dropped,
                "retention: requests past their period anonymised"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention: cannot anonymise"),
        }
        state.limits.forget_idle();
        tokio::select! {
            _ = tokio::time::sleep(state.config.accounts.purge_interval) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// How long an agent's action key answers a repeat, in days.
const ACTION_KEY_DAYS: i32 = 30;

/// One purge; returns how many rows went.
pub async fn purge(pool: &sqlx::PgPool, config: &Config) -> Result<u64, DbError> {
    let sessions =
        db::accounts::purge_sessions(pool, config.accounts.agent_idle.as_secs_f64()).await?;
    let failures =
        db::accounts::purge_login_failures(pool, config.limits.login_failures.per.as_secs_f64())
            .await?;
    let keys = db::action_keys::purge(pool, ACTION_KEY_DAYS).await?;
    let traces = crate::audit::purge(pool, config.accounts.audit_retention_days).await?;
    Ok(sessions + failures + keys + traces)
}

/// What closing an account did with its open requests.
#[derive(Debug, Default)]
pub struct Closed {
    /// Withdrawn at the holder's choice.
    pub withdrawn: Vec<String>,
    /// Left open for the service, detached (also those whose workflow no longer allows a
    /// withdrawal).
    pub kept: Vec<String>,
}

/// Closes a citizen's account (see `http::citizen::delete_me`), and traces it.
pub async fn close_citizen(
    state: &AppState,
    citizen_id: i64,
    email: &str,
    withdraw: bool,
) -> Result<Closed, crate::pipeline::PipelineError> {
    let mut closed = Closed::default();
    for number in db::accounts::open_requests_of(&state.db, citizen_id).await? {
        if !withdraw {
            closed.kept.push(number);
            continue;
        }
        match crate::pipeline::actions::withdraw(state, &number).await {
            Ok(()) => closed.withdrawn.push(number),
            // Its workflow allows no withdrawal any more: the service keeps it.
            Err(crate::pipeline::PipelineError::Transition(_)) => closed.kept.push(number),
            Err(e) => return Err(e),
        }
    }
    let mut tx = state.db.begin().await.map_err(db::DbError::from)?;
    // The wallet goes with the account; its files once nothing else refers to them.
    let documents = db::wallet::delete_all(&mut tx, citizen_id).await?;
    db::accounts::erase_citizen(&mut tx, citizen_id).await?;
    crate::files::forget(&mut tx, documents).await?;
    tx.commit().await.map_err(db::DbError::from)?;
    crate::audit::record(
        &state.db,
        &crate::audit::Trace {
            kind: crate::audit::Kind::Security,
            agent_id: None,
            actor: email.to_owned(),
            action: "citizen.account-closed".to_owned(),
            target: Some(email.to_owned()),
            detail: Some(format!(
                "withdrawn: {}; kept: {}",
                closed.withdrawn.len(),
                closed.kept.len()
            )),
            status: None,
            ip: None,
            user_agent: None,
        },
    )
    .await;
    Ok(closed)
}
