//! `guichet migrate-store`: every object of one store copied into another. Objects are
//! content-addressed, so a copy is checked against its key before it is written, and an
//! object already there with the same size is the same object: a second run copies only
//! what the first one missed.

use futures::{StreamExt, TryStreamExt};

use super::{PhotoStore, StoreError, matches_key};

/// Objects copied at once: enough to hide a remote store's latency, few enough to be gentle.
const PARALLEL: usize = 8;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CopySummary {
    /// Objects written into the target.
    pub copied: u64,
    /// Objects the target already held with the same size.
    pub skipped: u64,
    /// Bytes written.
    pub bytes: u64,
}

enum Outcome {
    Copied(u64),
    Skipped,
    /// Deleted from the source since it was listed (an orphan clean-up).
    Gone,
}

/// Copies every object of `from` that `to` does not hold with the same size.
pub async fn copy_all(
    from: &dyn PhotoStore,
    to: &dyn PhotoStore,
) -> Result<CopySummary, StoreError> {
    let keys = from.keys().await?;
    futures::stream::iter(keys)
        .map(|key| copy_one(from, to, key))
        .buffer_unordered(PARALLEL)
        .try_fold(CopySummary::default(), |mut summary, outcome| async move {
            match outcome {
                Outcome::Copied(bytes) => {
                    summary.copied += 1;
                    summary.bytes += bytes;
                }
                Outcome::Skipped => summary.skipped += 1,
                Outcome::Gone => {}
            }
            Ok(summary)
        })
        .await
}

async fn copy_one(
    from: &dyn PhotoStore,
    to: &dyn PhotoStore,
    key: String,
) -> Result<Outcome, StoreError> {
    let there = to.size(&key).await?;
    if there.is_some() && there == from.size(&key).await? {
        return Ok(Outcome::Skipped);
    }
    let Some(bytes) = from.get(&key).await? else {
        return Ok(Outcome::Gone);
    };
    if !matches_key(&key, &bytes) {
        return Err(StoreError::Damaged(key));
    }
    if there.is_some() {
        // A different size under the same key is a damaged copy in the target: replace it.
        to.delete(&key).await?;
    }
    let len = bytes.len() as u64;
    to.put(&key, bytes).await?;
    Ok(Outcome::Copied(len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photos::LocalDiskStore;
    use bytes::Bytes;

    fn key_of(bytes: &[u8]) -> String {
        format!("{}.bin", crate::photos::hex_sha256(bytes))
    }

    #[tokio::test]
    async fn a_second_copy_skips_what_the_first_wrote_and_a_damaged_source_stops_it() {
        let base = std::env::temp_dir().join(format!("guichet-copy-{}", uuid::Uuid::new_v4()));
        let from = LocalDiskStore::new(base.join("from"));
        let to = LocalDiskStore::new(base.join("to"));
        for bytes in [b"one".as_slice(), b"two", b"three"] {
            from.put(&key_of(bytes), Bytes::copy_from_slice(bytes))
                .await
                .unwrap();
        }
        let first = copy_all(&from, &to).await.unwrap();
        assert_eq!((first.copied, first.skipped, first.bytes), (3, 0, 11));
        let second = copy_all(&from, &to).await.unwrap();
        assert_eq!((second.copied, second.skipped), (0, 3));
        assert_eq!(
            to.get(&key_of(b"two")).await.unwrap(),
            Some(Bytes::from_static(b"two"))
        );

        // An object whose bytes no longer match its name is never copied.
        let damaged = key_of(b"four");
        from.put(&damaged, Bytes::from_static(b"f0ur"))
            .await
            .unwrap();
        assert!(matches!(
            copy_all(&from, &to).await,
            Err(StoreError::Damaged(k)) if k == damaged
        ));
        assert_eq!(to.get(&damaged).await.unwrap(), None);
        let _ = std::fs::remove_dir_all(base);
    }
}
