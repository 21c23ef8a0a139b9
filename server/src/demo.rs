//! `guichet demo`: `guichet setup` with the shipped files, plus the demo agents of
//! `assets/demo-agents.json`, who all share a published password.
//!
//! Demo accounts are created when missing and never reset: an account whose password was
//! changed keeps it. Whether any of them still has the published password is checked against
//! the stored hashes ([`DemoPasswordCheck`]): `serve` warns about it at every start and refuses
//! to start in production, and `/readyz` reports it.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Deserialize;
use sqlx::PgPool;

use crate::addresses::ImportSummary;
use crate::db::{self, DbError};
use crate::setup::{self, Input, SetupError, SetupSummary, Sources};

// The demo loads the shipped files, which the test kit fingerprints under these names.
pub use crate::setup::{CATALOGUE_JSON, COMMUNES_GEOJSON, TEAMS_JSON};

pub const AGENTS_JSON: &str = include_str!("../../assets/demo-agents.json");

/// A small address sample in the BAN's CSV format (streets around a few town halls, numbers
/// and positions made up for the demo): see assets/README.md.
pub const ADDRESSES_CSV: &str = include_str!("../../assets/addresses-sample.csv");

const AGENTS: Input<'static> = Input {
    origin: "assets/demo-agents.json",
    text: AGENTS_JSON,
};

#[derive(Deserialize)]
struct AgentsFile {
    /// One password for every demo account, published in the README.
    password: String,
    agents: Vec<DemoAgent>,
}

#[derive(Deserialize)]
struct DemoAgent {
    email: String,
    name: String,
    role: String,
    teams: Vec<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub setup: SetupSummary,
    /// Demo agents created by this run.
    pub agents_created: usize,
    /// Demo agents that existed already and were left as they are.
    pub agents_kept: usize,
    pub addresses: ImportSummary,
}

/// Sets up the shipped catalogue, teams and communes, adds the missing demo agents and loads
/// the address sample, in one transaction.
pub async fn load(pool: &PgPool) -> Result<DemoSummary, SetupError> {
    let agents: AgentsFile = setup::parse(AGENTS, "demo agents")?;
    // Hashing is slow on purpose: once for every account, before taking the loaders' lock.
    let password = agents.password.clone();
    let password_hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&password))
        .await
        .map_err(|e| SetupError::Inconsistent(e.to_string()))?
        .map_err(|e| SetupError::Inconsistent(e.to_string()))?;

    let mut tx = pool.begin().await?;
    let mut summary = DemoSummary {
        setup: setup::load(&mut tx, &Sources::shipped()).await?,
        ..DemoSummary::default()
    };
    for a in &agents.agents {
        let created = db::accounts::insert_agent_if_missing(
            &mut tx,
            &db::accounts::NewAgent {
                email: &a.email,
                name: &a.name,
                role: &a.role,
                password_hash: &password_hash,
                team_codes: &a.teams,
            },
        )
        .await?;
        match created {
            Some(_) => summary.agents_created += 1,
            None => summary.agents_kept += 1,
        }
    }
    summary.addresses = crate::addresses::import(
        &mut tx,
        "assets/addresses-sample.csv",
        ADDRESSES_CSV.as_bytes(),
    )
    .await?;
    tx.commit().await?;
    Ok(summary)
}

/// Tells which demo accounts can still be opened with the published password.
///
/// It verifies that password against the stored hashes rather than trusting a flag, so any
/// way a password changes (the admin API, `guichet agent`, a restored backup) is seen, and
/// setting the published password again is caught too. Verifying is slow on purpose, so each
/// hash is verified once, off the async threads, and the answer kept: a new password makes a
/// new hash, verified on the next call.
#[derive(Debug, Default)]
pub struct DemoPasswordCheck {
    /// Stored hash → whether the published password opens it.
    verified: Mutex<HashMap<String, bool>>,
}

impl DemoPasswordCheck {
    /// The e-mails of the active demo agents whose password is still the published one.
    pub async fn accounts(&self, pool: &PgPool) -> Result<Vec<String>, SetupError> {
        let agents: AgentsFile = setup::parse(AGENTS, "demo agents")?;
        let emails: Vec<String> = agents
            .agents
            .iter()
            .map(|a| a.email.to_lowercase())
            .collect();
        let stored = db::accounts::active_password_hashes(pool, &emails).await?;
        let mut unknown: Vec<String> = {
            let verified = self.lock();
            stored
                .iter()
                .filter(|(_, hash)| !verified.contains_key(hash))
                .map(|(_, hash)| hash.clone())
                .collect()
        };
        unknown.sort();
        unknown.dedup();
        if !unknown.is_empty() {
            let password = agents.password;
            let results = tokio::task::spawn_blocking(move || {
                unknown
                    .into_iter()
                    .map(|hash| (crate::auth::verify_password(&password, &hash), hash))
                    .collect::<Vec<_>>()
            })
            .await
            .map_err(|e| DbError::Data(e.to_string()))?;
            let mut verified = self.lock();
            for (opens, hash) in results {
                verified.insert(hash, opens);
            }
        }
        let mut verified = self.lock();
        // Forget the hashes no demo account has any more.
        verified.retain(|hash, _| stored.iter().any(|(_, h)| h == hash));
        Ok(stored
            .into_iter()
            .filter(|(_, hash)| verified.get(hash).copied().unwrap_or(false))
            .map(|(email, _)| email)
            .collect())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, bool>> {
        // The map holds finished verifications only: still sound after a panic elsewhere.
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
