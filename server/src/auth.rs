//! Who is calling, and the secrets that prove it: the authenticated agent (what the domain
//! checks rights against), passwords and bearer tokens of agents and citizens.
//!
//! Passwords are hashed with argon2id (PHC strings, parameters inside, so they can be raised
//! later without breaking old hashes). Hashing takes ~20 MiB and tens of milliseconds of one
//! core: it runs on the blocking pool, never on the async workers, and `Hasher` bounds how
//! many run at once. Tokens are 256 random bits given once to the client; the database keeps
//! only their SHA-256, which is enough to look them up.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, Version};
use guichet_shared::workflow::Role;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::Environment;
use crate::db::{DbError, accounts::AgentRow, events::Actor};

/// An authenticated agent (any role), as every right is checked against.
#[derive(Debug, Clone)]
pub struct Agent {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub team_ids: Vec<i64>,
    /// Whether the agent has a second factor enrolled.
    pub totp_enrolled: bool,
    /// The `Idempotency-Key` this call carries, if any: the action it asks for takes effect
    /// once, however often the call is repeated (an offline outbox sending again).
    pub action_key: Option<ActionKey>,
}

/// The key a client gives an action so that repeating the call does not repeat the action,
/// with the method and path it was first used for (the same key elsewhere is a client bug).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionKey {
    pub key: String,
    pub method: String,
    pub path: String,
}

impl ActionKey {
    /// Longest key accepted, in bytes: a UUID is 36.
    pub const MAX_LEN: usize = 100;

    /// A key of visible ASCII characters (what the HTTP header can carry), 1 to 100 of them.
    pub fn parse(key: &str, method: &str, path: &str) -> Option<ActionKey> {
        let key = key.trim();
        let fine = !key.is_empty()
            && key.len() <= Self::MAX_LEN
            && key.bytes().all(|b| b.is_ascii_graphic());
        fine.then(|| ActionKey {
            key: key.to_owned(),
            method: method.to_owned(),
            path: path.to_owned(),
        })
    }
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

    /// Whether this agent must have a second factor before doing anything else: admins and
    /// supervisors in production.
    pub fn needs_second_factor(&self, environment: Environment) -> bool {
        environment == Environment::Production
            && matches!(self.role, Role::Admin | Role::Supervisor)
            && !self.totp_enrolled
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
            totp_enrolled: row.totp_enrolled,
            action_key: None,
        })
    }
}

/// Sessions last a working day for agents and a month for citizens (who log in rarely).
pub const AGENT_SESSION: time::Duration = time::Duration::hours(12);
pub const CITIZEN_SESSION: time::Duration = time::Duration::days(30);
/// E-mail verification links stay valid for two days.
pub const VERIFICATION_VALIDITY: time::Duration = time::Duration::days(2);
/// Password-reset links stay valid for an hour (and work once).
pub const RESET_VALIDITY: time::Duration = time::Duration::hours(1);

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

/// Hashes and checks passwords off the async workers, at most `workers` at once; further
/// calls wait their turn (logins are rate-limited upstream, so the wait stays short).
#[derive(Debug, Clone)]
pub struct Hasher {
    permits: Arc<tokio::sync::Semaphore>,
}

impl Hasher {
    pub fn new(workers: usize) -> Hasher {
        Hasher {
            permits: Arc::new(tokio::sync::Semaphore::new(workers.max(1))),
        }
    }

    /// Runs `work` on the blocking pool once a permit is free. The permit goes with the work,
    /// so a caller that gives up does not free a slot while its hash still runs.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| HashError(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|e| HashError(e.to_string()))
    }

    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        self.run(move || hash_password(&password)).await?
    }

    /// False for a wrong password, a malformed stored hash, or a failure to run the check.
    pub async fn verify(&self, password: String, stored: String) -> bool {
        self.run(move || verify_password(&password, &stored))
            .await
            .unwrap_or(false)
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

/// Agents' second factor: RFC 6238 codes of 6 digits every 30 s, HMAC-SHA1 (what every
/// authenticator app reads), a code of the step before or after accepted for clock drift.
pub mod totp {
    use rand::RngCore;
    use totp_rs::{Algorithm, TOTP};

    pub const DIGITS: usize = 6;
    pub const STEP_SECS: u64 = 30;
    pub const ISSUER: &str = "Guichet";

    /// A new secret of 160 bits, as RFC 4226 recommends.
    pub fn new_secret() -> Vec<u8> {
        let mut secret = vec![0u8; 20];
        rand::rng().fill_bytes(&mut secret);
        secret
    }

    fn totp(secret: &[u8], account: &str) -> TOTP {
        TOTP::new_unchecked(
            Algorithm::SHA1,
            DIGITS,
            0,
            STEP_SECS,
            secret.to_vec(),
            Some(ISSUER.to_owned()),
            account.replace(':', "_"),
        )
    }

    /// The secret in base32, to type into an app.
    pub fn secret_base32(secret: &[u8]) -> String {
        totp(secret, "").get_secret_base32()
    }

    /// The `otpauth://` URL that apps read from a QR code.
    pub fn otpauth_url(secret: &[u8], account: &str) -> String {
        totp(secret, account).get_url()
    }

    /// The time step `code` belongs to (the current one, or the one before or after), if any.
    pub fn matching_step(secret: &[u8], code: &str, now_secs: u64) -> Option<i64> {
        let code = code.trim();
        if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let t = totp(secret, "");
        let step = now_secs / STEP_SECS;
        [step.saturating_sub(1), step, step + 1]
            .into_iter()
            .find(|s| t.check(code, s * STEP_SECS))
            .and_then(|s| i64::try_from(s).ok())
    }

    pub fn now_secs() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
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

    #[test]
    fn a_totp_code_matches_its_step_and_its_neighbours_only() {
        let secret = totp::new_secret();
        let t = totp_rs::TOTP::new(
            totp_rs::Algorithm::SHA1,
            6,
            1,
            30,
            secret.clone(),
            None,
            String::new(),
        )
        .unwrap();
        let now = 1_800_000_000;
        let code = t.generate(now);
        assert_eq!(totp::matching_step(&secret, &code, now), Some(60_000_000));
        assert_eq!(
            totp::matching_step(&secret, &code, now + 30),
            Some(60_000_000)
        );
        assert_eq!(totp::matching_step(&secret, &code, now + 90), None);
        assert_eq!(totp::matching_step(&secret, "12345", now), None);
        assert_eq!(totp::matching_step(&secret, "abcdef", now), None);
        let url = totp::otpauth_url(&secret, "agent@mairie.example");
        assert!(
            url.starts_with("otpauth://totp/Guichet:agent%40mairie.example?"),
            "{url}"
        );
        assert!(url.contains(&totp::secret_base32(&secret)), "{url}");
    }
}
