//! Tracking codes and follow links: what lets someone without an account read or act on a
//! request, and what the service keeps of them.
//!
//! - **Tracking codes** (`7K2M-QX4P-9TZC`, 60 random bits) belong to one holder each. The filer's
//!   code is the request's: it reads the whole conversation and acts (message, complement,
//!   withdraw). A co-reporter or "me too" supporter gets a code of their own on their report,
//!   which only follows the request's status. The database keeps SHA-256 digests of codes, never
//!   the codes: a clear code is given once, in the filing's answer (its receipt) and in the
//!   first acknowledgement e-mail. An agent who must give a caller their code issues a new one
//!   (`reissue`), which replaces the old one wherever it was kept.
//! - **Receipts** are replayed to idempotent retries with the clear code for
//!   `Config::receipt_code_ttl` (24 h by default); then a [`FORGET_RECEIPT_CODE`] job blanks it.
//! - **Follow links** are what every later notice carries instead of a code: a token per
//!   recipient, `r<report id>.<mac>` for a reporter (their report) and `q<request id>.<mac>` for
//!   the request's own contact or account, where `mac` is an HMAC-SHA256, with the server's
//!   secret key, of the kind, the id and the digest of the code it stands for. The server
//!   derives it again when needed and stores none. A token reads only, with its holder's view
//!   (the filer's own, or a follower's); it stops working when the code it stands for is
//!   re-issued.
//! - **The secret key** is `GUICHET_SECRET_KEY` (required with `GUICHET_ENV=production`).
//!   Elsewhere, without it, a random key is generated once per database and kept in
//!   `server_secrets`, so that every instance derives the same links across restarts; a
//!   database dump then holds it, which is why production must not rely on it.

use std::fmt;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use rand::Rng;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use crate::db::{self, DbError, outbox::Job};
use crate::outbox::JobError;
use crate::state::AppState;

/// Outbox job kind: blank the clear code of one stored receipt (payload `{"report_id"}` or
/// `{"request_id"}`).
pub const FORGET_RECEIPT_CODE: &str = "receipts.forget_code";

/// The default time a receipt keeps its clear code for idempotent retries.
pub const DEFAULT_RECEIPT_CODE_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
/// The longest time a receipt may keep its clear code, whatever the setting.
pub const MAX_RECEIPT_CODE_TTL: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// A new tracking code: 60 random bits in Crockford's base 32 (no I, L, O, U), grouped for
/// reading aloud: `7K2M-QX4P-9TZC`.
pub fn new_code() -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::rng();
    let mut code = String::with_capacity(14);
    for i in 0..12 {
        if i > 0 && i % 4 == 0 {
            code.push('-');
        }
        code.push(char::from(ALPHABET[rng.random_range(0..32)]));
    }
    code
}

/// A tracking code as generated (`7K2M-QX4P-9TZC`), from what a citizen typed (any case,
/// dashes and spaces anywhere); `None` when it cannot be one.
pub fn canonical(given: &str) -> Option<String> {
    if given.len() > 64 {
        return None;
    }
    let chars: Vec<char> = given
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if chars.len() != 12 || !chars.iter().all(char::is_ascii_alphanumeric) {
        return None;
    }
    let groups: Vec<String> = chars.chunks(4).map(|g| g.iter().collect()).collect();
    Some(groups.join("-"))
}

/// The digest stored for a code (SHA-256 of its canonical form).
pub fn digest(code: &str) -> Vec<u8> {
    let canonical = canonical(code).unwrap_or_else(|| code.to_owned());
    Sha256::digest(canonical.as_bytes()).to_vec()
}

/// The digest of what a citizen typed, when it can be a code at all.
pub fn digest_of_given(given: &str) -> Option<Vec<u8>> {
    canonical(given).map(|c| Sha256::digest(c.as_bytes()).to_vec())
}

/// Equality of two digests in time independent of where they differ.
pub fn same_digest(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The server's secret key: the HMAC key of follow links. Never printed.
#[derive(Clone)]
pub struct SecretKey(Arc<[u8]>);

impl SecretKey {
    /// Shortest accepted `GUICHET_SECRET_KEY`, in bytes.
    pub const MIN_LEN: usize = 32;

    /// A key given in the configuration: at least [`Self::MIN_LEN`] bytes, used as they are.
    pub fn from_setting(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.len() < Self::MIN_LEN {
            return Err(format!(
                "at least {} characters (e.g. `openssl rand -hex 32`)",
                Self::MIN_LEN
            ));
        }
        Ok(Self(Arc::from(text.as_bytes())))
    }

    fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(Arc::from(bytes))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        same_digest(&self.0, &other.0)
    }
}

/// The key of this database, for deployments without `GUICHET_SECRET_KEY`: created at the
/// first call (by whichever instance comes first), read back afterwards.
pub async fn database_key(db: &sqlx::PgPool) -> Result<SecretKey, DbError> {
    let mut fresh = vec![0u8; 32];
    rand::rng().fill(&mut fresh[..]);
    let key = db::codes::secret(db, "follow_key", &fresh).await?;
    Ok(SecretKey::from_bytes(key))
}

/// What a follow token stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    /// The request's own contact or its account: the filer, reading.
    Request(i64),
    /// One report's contact: its reporter.
    Report(i64),
}

impl Follow {
    fn prefix(self) -> (char, i64) {
        match self {
            Follow::Request(id) => ('q', id),
            Follow::Report(id) => ('r', id),
        }
    }
}

const MAC_BYTES: usize = 16;

fn mac(key: &SecretKey, what: Follow, code_digest: Option<&[u8]>) -> [u8; MAC_BYTES] {
    let (kind, id) = what.prefix();
    // A key of any length is accepted by HMAC: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.0)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("guichet-follow-v1\0{kind}\0{id}\0").as_bytes());
    mac.update(code_digest.unwrap_or_default());
    let full = mac.finalize().into_bytes();
    let mut out = [0u8; MAC_BYTES];
    out.copy_from_slice(&full[..MAC_BYTES]);
    out
}

/// The follow token of `what`, whose code has `code_digest` (none for a report from before
/// reporters had codes).
pub fn follow_token(key: &SecretKey, what: Follow, code_digest: Option<&[u8]>) -> String {
    let (kind, id) = what.prefix();
    format!("{kind}{id}.{}", hex::encode(mac(key, what, code_digest)))
}

/// A token as given: what it claims to stand for, and its MAC, still to be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenToken {
    pub what: Follow,
    mac: [u8; MAC_BYTES],
}

impl GivenToken {
    /// Reads `r42.<32 hex digits>`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let (head, mac_hex) = text.trim().split_once('.')?;
        let mut chars = head.chars();
        let kind = chars.next()?;
        let id_text = chars.as_str();
        if id_text.is_empty() || id_text.len() > 18 || !id_text.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let id: i64 = id_text.parse().ok()?;
        let what = match kind {
            'q' => Follow::Request(id),
            'r' => Follow::Report(id),
            _ => return None,
        };
        if mac_hex.len() != MAC_BYTES * 2 {
            return None;
        }
        let mut mac = [0u8; MAC_BYTES];
        hex::decode_to_slice(mac_hex, &mut mac).ok()?;
        Some(Self { what, mac })
    }

    /// Whether the token was made by this server for a code with `code_digest`.
    pub fn verify(&self, key: &SecretKey, code_digest: Option<&[u8]>) -> bool {
        same_digest(&mac(key, self.what, code_digest), &self.mac)
    }
}

/// Whose receipt a stored receipt is.
#[derive(Debug, Clone, Copy)]
pub enum ReceiptOf {
    Report(i64),
    Request(i64),
}

#[derive(serde::Serialize, Deserialize)]
struct ForgetJob {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    report_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request_id: Option<i64>,
}

/// Stores a receipt for idempotent retries and schedules the end of its clear code.
pub async fn keep_receipt(
    tx: &mut PgConnection,
    ttl: std::time::Duration,
    of: ReceiptOf,
    receipt: &serde_json::Value,
) -> Result<(), DbError> {
    let job = match of {
        ReceiptOf::Report(id) => {
            db::receipts::set_for_report(tx, id, receipt).await?;
            ForgetJob {
                report_id: Some(id),
                request_id: None,
            }
        }
        ReceiptOf::Request(id) => {
            db::receipts::set_for_request(tx, id, receipt).await?;
            ForgetJob {
                report_id: None,
                request_id: Some(id),
            }
        }
    };
    let payload = serde_json::to_value(&job).map_err(|e| DbError::Data(e.to_string()))?;
    let delay = time::Duration::try_from(ttl).unwrap_or(time::Duration::DAY);
    db::outbox::enqueue_in_tx(tx, FORGET_RECEIPT_CODE, &payload, delay, 10).await?;
    Ok(())
}

/// The [`FORGET_RECEIPT_CODE`] job: a retry of the same client id now gets the receipt with an
/// empty `tracking_code` and a `status_url` without it.
pub async fn forget_receipt_code(state: &AppState, job: &Job) -> Result<(), JobError> {
    let task: ForgetJob = serde_json::from_value(job.payload.clone())
        .map_err(|e| JobError::GiveUp(format!("bad payload: {e}")))?;
    if let Some(id) = task.report_id {
        db::receipts::forget_report_code(&state.db, id)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?;
    }
    if let Some(id) = task.request_id {
        db::receipts::forget_request_code(&state.db, id)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_grouped_and_unambiguous() {
        let code = new_code();
        assert_eq!(code.len(), 14);
        assert_eq!(code.matches('-').count(), 2);
        assert!(!code.contains(['I', 'L', 'O', 'U']));
        assert_ne!(code, new_code());
    }

    #[test]
    fn digests_forgive_case_dashes_and_spaces_only() {
        let stored = digest("7K2M-QX4P-9TZC");
        for typed in ["7k2m qx4p 9tzc", "7K2MQX4P9TZC", " 7K2M-QX4P-9TZC "] {
            assert_eq!(
                digest_of_given(typed).as_deref(),
                Some(&stored[..]),
                "{typed}"
            );
        }
        assert_ne!(digest_of_given("7K2M-QX4P-9TZD").unwrap(), stored);
        assert_eq!(digest_of_given(""), None);
        assert_eq!(digest_of_given("7K2M-QX4P"), None);
        assert_eq!(digest_of_given("r12.00"), None);
    }

    fn key(text: &str) -> SecretKey {
        SecretKey::from_setting(text).unwrap()
    }

    #[test]
    fn follow_tokens_verify_with_their_key_code_and_target_only() {
        let k = key("0123456789abcdef0123456789abcdef");
        let d = digest("7K2M-QX4P-9TZC");
        let token = follow_token(&k, Follow::Report(42), Some(&d));
        assert!(token.starts_with("r42."), "{token}");
        let given = GivenToken::parse(&token).unwrap();
        assert_eq!(given.what, Follow::Report(42));
        assert!(given.verify(&k, Some(&d)));
        // Another key, another code (re-issued), another report or kind: refused.
        assert!(!given.verify(&key("another key, long enough to be accepted"), Some(&d)));
        assert!(!given.verify(&k, Some(&digest("7K2M-QX4P-9TZD"))));
        let forged = token.replacen("r42", "r43", 1);
        assert!(!GivenToken::parse(&forged).unwrap().verify(&k, Some(&d)));
        let forged = token.replacen("r42", "q42", 1);
        assert!(!GivenToken::parse(&forged).unwrap().verify(&k, Some(&d)));
        // The same inputs give the same token: the server derives it again.
        assert_eq!(token, follow_token(&k, Follow::Report(42), Some(&d)));
    }

    #[test]
    fn only_well_formed_tokens_parse() {
        for bad in [
            "",
            "r42",
            "x42.00112233445566778899aabbccddeeff",
            "r.00112233445566778899aabbccddeeff",
            "r-1.00112233445566778899aabbccddeeff",
            "r42.0011",
            "r42.zz112233445566778899aabbccddeeff",
            "7K2M-QX4P-9TZC",
        ] {
            assert_eq!(GivenToken::parse(bad), None, "{bad}");
        }
        assert!(GivenToken::parse("q7.00112233445566778899aabbccddeeff").is_some());
    }

    #[test]
    fn short_keys_are_refused_and_keys_never_printed() {
        assert!(SecretKey::from_setting("short").is_err());
        let k = key("0123456789abcdef0123456789abcdef");
        assert_eq!(format!("{k:?}"), "SecretKey(***)");
    }
}
