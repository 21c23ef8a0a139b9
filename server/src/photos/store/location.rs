//! Which store to open: the one the configuration names, or one given on the command line
//! (`guichet migrate-store --from SPEC --to SPEC`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{LocalDiskStore, PhotoStore, S3Store, StoreError};
use crate::config::{Config, S3Config, StoreKind, is_bucket_name};

#[derive(Debug, Clone, PartialEq)]
pub enum StoreLocation {
    /// The store folder of a data folder (`<data_dir>/photos`).
    Local(PathBuf),
    /// A bucket, reached with the configured S3 connection.
    S3 { settings: S3Config, bucket: String },
}

impl StoreLocation {
    /// The store the service uses.
    pub fn configured(config: &Config) -> Result<StoreLocation, StoreError> {
        match config.store.kind {
            StoreKind::Local => Ok(Self::of_data_dir(&config.data_dir)),
            StoreKind::S3 => {
                let bucket = config.store.s3.bucket.clone().ok_or_else(|| {
                    StoreError::Settings("GUICHET_STORE=s3 needs GUICHET_S3_BUCKET".to_owned())
                })?;
                Ok(StoreLocation::S3 {
                    settings: config.store.s3.clone(),
                    bucket,
                })
            }
        }
    }

    fn of_data_dir(dir: &Path) -> StoreLocation {
        StoreLocation::Local(dir.join("photos"))
    }

    /// `configured`, `local:DIR` (a data folder, as `GUICHET_DATA_DIR`) or `s3://BUCKET` (on
    /// the service that the `GUICHET_S3_*` settings reach).
    pub fn parse(spec: &str, config: &Config) -> Result<StoreLocation, StoreError> {
        if spec == "configured" {
            return Self::configured(config);
        }
        if let Some(dir) = spec.strip_prefix("local:").filter(|d| !d.is_empty()) {
            return Ok(Self::of_data_dir(Path::new(dir)));
        }
        if let Some(bucket) = spec.strip_prefix("s3://") {
            let bucket = bucket.trim_end_matches('/');
            if !is_bucket_name(bucket) {
                return Err(StoreError::Settings(format!(
                    "{spec:?}: a bucket name has 3 to 63 lower-case letters, digits, `.` and `-`"
                )));
            }
            return Ok(StoreLocation::S3 {
                settings: config.store.s3.clone(),
                bucket: bucket.to_owned(),
            });
        }
        Err(StoreError::Settings(format!(
            "{spec:?}: expected `configured`, `local:DIR` (a data folder) or `s3://BUCKET`"
        )))
    }
}

impl std::fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Local(root) => write!(f, "{}", root.display()),
            StoreLocation::S3 { settings, bucket } => write!(
                f,
                "s3://{bucket} on {}",
                settings.endpoint.as_deref().unwrap_or("AWS")
            ),
        }
    }
}

pub fn open(location: &StoreLocation) -> Result<Arc<dyn PhotoStore>, StoreError> {
    Ok(match location {
        StoreLocation::Local(root) => Arc::new(LocalDiskStore::new(root)),
        StoreLocation::S3 { settings, bucket } => Arc::new(S3Store::new(settings, bucket)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_name_a_data_folder_a_bucket_or_the_configured_store() {
        let config = Config::from_vars([
            ("DATABASE_URL", "postgres://x/y"),
            ("GUICHET_DATA_DIR", "/srv/guichet"),
            ("GUICHET_S3_ENDPOINT", "http://127.0.0.1:9000"),
        ])
        .expect("config");
        assert_eq!(
            StoreLocation::parse("configured", &config).ok(),
            Some(StoreLocation::Local(PathBuf::from("/srv/guichet/photos")))
        );
        assert_eq!(
            StoreLocation::parse("local:/tmp/data", &config).ok(),
            Some(StoreLocation::Local(PathBuf::from("/tmp/data/photos")))
        );
        match StoreLocation::parse("s3://guichet-photos", &config) {
            Ok(StoreLocation::S3 { settings, bucket }) => {
                assert_eq!(bucket, "guichet-photos");
                assert_eq!(settings.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
            }
            other => panic!("{other:?}"),
        }
        for bad in ["local:", "s3://A", "/tmp/data", "gs://bucket"] {
            assert!(StoreLocation::parse(bad, &config).is_err(), "{bad}");
        }
    }
}
