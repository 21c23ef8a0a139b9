//! The store a test runs on, local disk or a bucket of the test S3 server ([`crate::s3`]), so
//! that one test body checks both.

use std::path::PathBuf;
use std::sync::Arc;

use guichet_server::Config;
use guichet_server::config::{StoreConfig, StoreKind};
use guichet_server::photos::{PhotoStore, StoreLocation, store};

use crate::s3::{self, Bucket};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    LocalDisk,
    S3,
}

/// A fresh, empty store of one backend; its folder or bucket goes when it is dropped.
pub enum TestStore {
    /// A data folder (`GUICHET_DATA_DIR`); the objects are under `photos/`.
    Local(PathBuf),
    S3(Bucket),
}

impl TestStore {
    pub fn new(backend: Backend) -> TestStore {
        match backend {
            Backend::LocalDisk => {
                let dir =
                    std::env::temp_dir().join(format!("guichet-store-{}", uuid::Uuid::new_v4()));
                std::fs::create_dir_all(&dir).expect("data folder");
                TestStore::Local(dir)
            }
            Backend::S3 => TestStore::S3(s3::shared().bucket()),
        }
    }

    /// Points a server's configuration at this store.
    pub fn configure(&self, config: &mut Config) {
        match self {
            TestStore::Local(dir) => {
                config.data_dir = dir.clone();
                config.store = StoreConfig::default();
            }
            TestStore::S3(bucket) => {
                config.store = StoreConfig {
                    kind: StoreKind::S3,
                    s3: bucket.settings(),
                };
            }
        }
    }

    /// The settings of a `guichet` process using this store.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        match self {
            TestStore::Local(dir) => vec![("GUICHET_DATA_DIR", dir.display().to_string())],
            TestStore::S3(bucket) => bucket.env(),
        }
    }

    /// How `guichet migrate-store` names this store.
    pub fn spec(&self) -> String {
        match self {
            TestStore::Local(dir) => format!("local:{}", dir.display()),
            TestStore::S3(bucket) => format!("s3://{}", bucket.name),
        }
    }

    /// The store itself, to look at what a server wrote.
    pub fn open(&self) -> Arc<dyn PhotoStore> {
        let location = match self {
            TestStore::Local(dir) => StoreLocation::Local(dir.join("photos")),
            TestStore::S3(bucket) => StoreLocation::S3 {
                settings: bucket.settings(),
                bucket: bucket.name.clone(),
            },
        };
        store::open(&location).expect("open the test store")
    }

    /// Every key, sorted.
    pub async fn keys(&self) -> Vec<String> {
        let mut keys = self.open().keys().await.expect("list the store");
        keys.sort();
        keys
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let TestStore::Local(dir) = self {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
