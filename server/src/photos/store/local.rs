//! The store on local disk: one file per object under `<root>/ab/cd/<key>`.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;

use super::{PhotoStore, StoreError, is_storable_key};

/// Files under `<root>/ab/cd/<key>`, written to a temporary name and renamed, so a reader
/// never sees half a file.
#[derive(Debug, Clone)]
pub struct LocalDiskStore {
    root: PathBuf,
}

impl LocalDiskStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, StoreError> {
        if !is_storable_key(key) {
            return Err(StoreError::InvalidKey(key.to_owned()));
        }
        Ok(self.root.join(&key[0..2]).join(&key[2..4]).join(key))
    }
}

fn io(key: &str) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        key: key.to_owned(),
        source,
    }
}

#[async_trait]
impl PhotoStore for LocalDiskStore {
    async fn put(&self, key: &str, bytes: Bytes) -> Result<bool, StoreError> {
        let path = self.path_of(key)?;
        if tokio::fs::try_exists(&path).await.map_err(io(key))? {
            return Ok(false);
        }
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io(key))?;
        }
        let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&tmp, &bytes).await.map_err(io(key))?;
        if let Err(e) = tokio::fs::rename(&tmp, &path).await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(io(key)(e));
        }
        Ok(true)
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        let path = self.path_of(key)?;
        match tokio::fs::read(&path).await {
            Ok(data) => Ok(Some(Bytes::from(data))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(key)(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(key)(e)),
        }
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, StoreError> {
        let path = self.path_of(key)?;
        match tokio::fs::metadata(&path).await {
            Ok(meta) => Ok(Some(meta.len())),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(key)(e)),
        }
    }

    async fn discard_partial(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path_of(key)?;
        let Some(dir) = path.parent() else {
            return Ok(());
        };
        // `put` writes `<hash>.tmp-<uuid>` before renaming it to `<hash>.<ext>`.
        let hash = key.split_once('.').map_or(key, |(hash, _)| hash);
        let prefix = format!("{hash}.tmp-");
        let mut entries = match tokio::fs::read_dir(dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io(key)(e)),
        };
        while let Some(entry) = entries.next_entry().await.map_err(io(key))? {
            if entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&prefix))
            {
                match tokio::fs::remove_file(entry.path()).await {
                    Ok(()) => {}
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => return Err(io(key)(e)),
                }
            }
        }
        Ok(())
    }

    async fn keys(&self) -> Result<Vec<String>, StoreError> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || keys_under(&root))
            .await
            .map_err(|e| StoreError::Io {
                key: String::new(),
                source: std::io::Error::other(e),
            })?
    }
}

/// The keys of the files two levels under `root` (`ab/cd/<key>`); half-written temporary
/// files and anything else are not keys.
fn keys_under(root: &Path) -> Result<Vec<String>, StoreError> {
    let read = |dir: &Path| -> Result<Vec<std::fs::DirEntry>, StoreError> {
        match std::fs::read_dir(dir) {
            Ok(entries) => entries.collect::<Result<_, _>>().map_err(io("")),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(io("")(e)),
        }
    };
    let dirs = |entries: Vec<std::fs::DirEntry>| {
        entries
            .into_iter()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
    };
    let mut keys = Vec::new();
    for first in dirs(read(root)?) {
        for second in dirs(read(&first.path())?) {
            for file in read(&second.path())? {
                if let Some(name) = file.file_name().to_str()
                    && is_storable_key(name)
                {
                    keys.push(name.to_owned());
                }
            }
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.webp";

    #[tokio::test]
    async fn put_get_delete_round_trip() {
        let dir = std::env::temp_dir().join(format!("guichet-store-{}", uuid::Uuid::new_v4()));
        let store = LocalDiskStore::new(&dir);
        assert_eq!(
            store.put(KEY, Bytes::from_static(b"abc")).await.ok(),
            Some(true)
        );
        assert_eq!(
            store.put(KEY, Bytes::from_static(b"abc")).await.ok(),
            Some(false)
        );
        assert_eq!(
            store.get(KEY).await.ok().flatten(),
            Some(Bytes::from_static(b"abc"))
        );
        assert_eq!(store.size(KEY).await.ok(), Some(Some(3)));
        assert!(store.delete(KEY).await.is_ok());
        assert_eq!(store.size(KEY).await.ok(), Some(None));
        assert_eq!(store.get(KEY).await.ok(), Some(None));
        assert!(matches!(
            store.get("x").await,
            Err(StoreError::InvalidKey(_))
        ));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn keys_list_what_is_stored_and_partial_writes_are_discarded() {
        let dir = std::env::temp_dir().join(format!("guichet-store-{}", uuid::Uuid::new_v4()));
        let store = LocalDiskStore::new(&dir);
        let other = KEY.replace("0123", "4567");
        store.put(KEY, Bytes::from_static(b"abc")).await.unwrap();
        store.put(&other, Bytes::from_static(b"def")).await.unwrap();
        // What a process killed between write and rename leaves.
        let partial = dir
            .join(&KEY[0..2])
            .join(&KEY[2..4])
            .join(format!("{}.tmp-0000", &KEY[..64]));
        std::fs::write(&partial, b"ab").unwrap();
        let mut keys = store.keys().await.unwrap();
        keys.sort();
        let mut expected = vec![KEY.to_owned(), other.clone()];
        expected.sort();
        assert_eq!(keys, expected, "a partial write is no key");
        store.discard_partial(KEY).await.unwrap();
        assert!(!partial.exists());
        assert_eq!(
            store.get(KEY).await.ok().flatten(),
            Some(Bytes::from_static(b"abc"))
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
