//! Who is calling, and the secrets that prove it: the authenticated agent (what the domain
//! checks rights against), passwords and bearer tokens of agents and citizens.
//!
//! Passwords are hashed with argon2id (PHC strings, parameters inside, so they can be raised
//! later without breaking old hashes). Tokens are 256 random bits given once to the client;
//! the database keeps only their SHA-256, which is enough to look them up.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use guichet_shared::workflow::Role;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::{DbError, accounts::AgentRow, events::Actor};

/// An authenticated agent (any role), as every right is checked against.
#[derive(Debug, Clone)]
pub struct Agent {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub team_ids: Vec<i64>,
}

impl Agent {
    /// The actor its events record.
    pub fn actor(&self) -> Actor {
        Actor::Agent(self.id)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Admins see every team; everyone else only the teams they belong to.
    pub fn can_see_team(&self, team_id: Option<i64>) -> bool {
        self.is_admin() || team_id.is_some_and(|t| self.team_ids.contains(&t))
    }

    /// The teams whose queue this agent reads; `None` means all of them.
    pub fn visible_teams(&self) -> Option<&[i64]> {
        if self.is_admin() {
            None
        } else {
            Some(&self.team_ids)
        }
    }
}

/// The roles agents may hold (citizens and the system act through other doors).
pub fn agent_role(role: &str) -> Option<Role> {
    match role {
        "agent" => Some(Role::Agent),
        "field" => Some(Role::Field),
        "supervisor" => Some(Role::Supervisor),
        "admin" => Some(Role::Admin),
        _ => None,
    }
}

impl TryFrom<AgentRow> for Agent {
    type Error = DbError;

    fn try_from(row: AgentRow) -> Result<Self, DbError> {
        let role = agent_role(&row.role)
            .ok_or_else(|| DbError::Data(format!("agent {} has role {:?}", row.id, row.role)))?;
        Ok(Self {
            id: row.id,
            email: row.email,
            name: row.name,
            role,
            team_ids: row.team_ids,
        })
    }
}

/// Sessions last a working day for agents and a month for citizens (who log in rarely).
pub const AGENT_SESSION: time::Duration = time::Duration::hours(12);
pub const CITIZEN_SESSION: time::Duration = time::Duration::days(30);
/// E-mail verification links stay valid for two days.
pub const VERIFICATION_VALIDITY: time::Duration = time::Duration::days(2);

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 256;

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

fn hasher() -> Argon2<'static> {
    // OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password(password: &str) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| HashError(e.to_string()))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// False for a wrong password and for a malformed stored hash alike.
pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(hash) => hasher().verify_password(password.as_bytes(), &hash).is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the account does not exist, so that a login attempt takes
/// the same time whether the e-mail is known or not.
pub fn dummy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$QkJ8kZ0w7h2bM9o8tq3yP1m0Vg7q6tJkQm0m1cX5c2o"
}

/// A new random token (hex, 64 characters) and the digest to store.
pub fn new_token() -> (String, Vec<u8>) {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = hex::encode(raw);
    let digest = token_digest(&token);
    (token, digest)
}

pub fn token_digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("anything", "not a phc string"));
        assert!(!verify_password("anything", dummy_hash()));
    }

    #[test]
    fn tokens_are_random_and_stored_as_digests() {
        let (a, da) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(da, token_digest(&a));
        assert_ne!(da, a.as_bytes());
    }
}
