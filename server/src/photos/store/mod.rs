//! Content-addressed storage of photos and attached files behind one interface: local disk by
//! default, or a bucket of an S3-compatible service when instances share no disk. Keys are the
//! SHA-256 of the bytes with an extension, so an object is never rewritten: that is what makes
//! one store safe to share between instances, and copies between stores simple.

mod local;
mod location;
mod migrate;
mod s3;

pub use local::LocalDiskStore;
pub use location::{StoreLocation, open};
pub use migrate::{CopySummary, copy_all};
pub use s3::S3Store;

use async_trait::async_trait;
use bytes::Bytes;
use guichet_shared::sniff;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("photo store I/O error on {key}: {source}")]
    Io { key: String, source: std::io::Error },
    #[error("invalid photo key {0:?}")]
    InvalidKey(String),
    /// The object storage service did not answer in time, refused the connection, or failed
    /// (5xx, denied credentials, a missing bucket): the call can be tried again later.
    #[error("object store unavailable ({key}): {source}")]
    Unavailable {
        key: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Settings that cannot give a store (checked again when it is opened).
    #[error("store settings: {0}")]
    Settings(String),
    /// Bytes that do not match their key (the SHA-256 it names): a damaged copy.
    #[error("object {0} does not match its key: its bytes were changed")]
    Damaged(String),
}

impl StoreError {
    /// Whether the store itself is out of reach, as opposed to a fault of ours.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}

#[async_trait]
pub trait PhotoStore: Send + Sync + std::fmt::Debug {
    /// Stores `bytes` under `key`. Returns false when the key already existed (same content).
    async fn put(&self, key: &str, bytes: Bytes) -> Result<bool, StoreError>;
    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError>;
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// The size in bytes of the object under `key`, without reading it.
    async fn size(&self, key: &str) -> Result<Option<u64>, StoreError>;
    /// Every key the store holds (for backups and copies between stores), in no set order.
    async fn keys(&self) -> Result<Vec<String>, StoreError>;
    /// Removes what a write of `key` cut short left behind (a process killed mid-write). Only
    /// called when no writer of `key` can still be at work.
    async fn discard_partial(&self, _key: &str) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A key is a hex SHA-256 and an extension; nothing else can reach the file system.
pub fn is_valid_key(key: &str) -> bool {
    match key.split_once('.') {
        Some((hash, "webp")) => is_hex_digest(hash),
        _ => false,
    }
}

/// Keys the store accepts: served photos and attached files (CV, consent, proof of address).
/// Only photos are public (`/media/`); attached files are read through the agent API.
pub fn is_storable_key(key: &str) -> bool {
    match key.split_once('.') {
        Some((hash, ext)) => {
            (ext == "bin" || sniff::Format::from_extension(ext).is_some()) && is_hex_digest(hash)
        }
        None => false,
    }
}

fn is_hex_digest(hash: &str) -> bool {
    hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether `bytes` are those `key` names: its hash part is their SHA-256.
pub fn matches_key(key: &str, bytes: &[u8]) -> bool {
    key.split_once('.').map(|(hash, _)| hash) == Some(super::hex_sha256(bytes).as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.webp";

    #[test]
    fn keys_cannot_escape_the_store() {
        assert!(is_valid_key(KEY));
        assert!(!is_valid_key("../../etc/passwd"));
        assert!(!is_valid_key(&KEY.replace(".webp", ".png")));
        assert!(!is_valid_key(&KEY.to_uppercase()));
        assert!(!is_valid_key(&KEY[1..]));
        assert!(is_storable_key(&KEY.replace(".webp", ".pdf")));
        assert!(!is_storable_key(&KEY.replace(".webp", ".exe")));
        assert!(!is_storable_key("ab/cd.webp"));
    }

    #[test]
    fn a_key_matches_the_bytes_it_was_made_from() {
        let key = format!("{}.bin", super::super::hex_sha256(b"abc"));
        assert!(matches_key(&key, b"abc"));
        assert!(!matches_key(&key, b"abd"));
        assert!(!matches_key("nokey", b"abc"));
    }
}
