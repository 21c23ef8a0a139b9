//! The store on a bucket of an S3-compatible service (AWS S3, Scaleway, OVHcloud, Garage,
//! MinIO…), through the `object_store` crate. Each object is named by its key at the bucket's
//! root. An S3 PUT is atomic (the object appears whole or not at all), so a process killed
//! mid-write leaves nothing to discard.
//!
//! Every operation has one deadline, retries included: an unreachable or silent service gives
//! `StoreError::Unavailable` (503 for the caller) after `GUICHET_S3_TIMEOUT_SECS`, never a
//! request that hangs.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig};

use super::{PhotoStore, StoreError, is_storable_key};
use crate::config::S3Config;

#[derive(Debug)]
pub struct S3Store {
    inner: AmazonS3,
    bucket: String,
    deadline: Duration,
}

impl S3Store {
    /// The store on `bucket`, reached with `settings` (whose own bucket is ignored). Nothing is
    /// sent until the first operation.
    pub fn new(settings: &S3Config, bucket: &str) -> Result<S3Store, StoreError> {
        let allow_http = settings
            .endpoint
            .as_deref()
            .is_some_and(|e| e.starts_with("http://"));
        let deadline = settings.timeout;
        let options = ClientOptions::new()
            .with_timeout(deadline)
            .with_connect_timeout(deadline.min(Duration::from_secs(3)))
            .with_allow_http(allow_http);
        // A few quick retries for a dropped connection or a 503 of the service, all within the
        // deadline.
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(50),
                max_backoff: Duration::from_secs(1),
                base: 2.0,
            },
            max_retries: 2,
            retry_timeout: deadline,
        };
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(&settings.region)
            .with_virtual_hosted_style_request(false)
            .with_allow_http(allow_http)
            .with_client_options(options)
            .with_retry(retry);
        if let Some(endpoint) = &settings.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let (Some(id), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key) {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret);
        }
        let inner = builder
            .build()
            .map_err(|e| StoreError::Settings(e.to_string()))?;
        Ok(S3Store {
            inner,
            bucket: bucket.to_owned(),
            deadline,
        })
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn path_of(key: &str) -> Result<ObjectPath, StoreError> {
        if !is_storable_key(key) {
            return Err(StoreError::InvalidKey(key.to_owned()));
        }
        Ok(ObjectPath::from(key))
    }

    /// `operation` within the deadline; not found is `None`, any other failure `Unavailable`.
    async fn within<T>(
        &self,
        key: &str,
        operation: impl Future<Output = object_store::Result<T>>,
    ) -> Result<Option<T>, StoreError> {
        match tokio::time::timeout(self.deadline, operation).await {
            Ok(Ok(value)) => Ok(Some(value)),
            Ok(Err(object_store::Error::NotFound { .. })) => Ok(None),
            Ok(Err(e)) => Err(unavailable(key, e)),
            Err(_) => Err(self.timed_out(key)),
        }
    }

    fn timed_out(&self, key: &str) -> StoreError {
        unavailable(
            key,
            std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "no answer from bucket {} within {} s",
                    self.bucket,
                    self.deadline.as_secs_f32()
                ),
            ),
        )
    }
}

fn unavailable(key: &str, e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable {
        key: key.to_owned(),
        source: Box::new(e),
    }
}

#[async_trait]
impl PhotoStore for S3Store {
    async fn put(&self, key: &str, bytes: Bytes) -> Result<bool, StoreError> {
        let path = Self::path_of(key)?;
        // Same key, same bytes: an object already there stays as it is.
        if self.within(key, self.inner.head(&path)).await?.is_some() {
            return Ok(false);
        }
        self.within(key, self.inner.put(&path, bytes.into()))
            .await?
            .ok_or_else(|| {
                unavailable(
                    key,
                    std::io::Error::other("the bucket answered \"not found\" to a write"),
                )
            })?;
        Ok(true)
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        let path = Self::path_of(key)?;
        // The deadline covers the answer's body too.
        self.within(key, async { self.inner.get(&path).await?.bytes().await })
            .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = Self::path_of(key)?;
        self.within(key, self.inner.delete(&path)).await?;
        Ok(())
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, StoreError> {
        let path = Self::path_of(key)?;
        Ok(self
            .within(key, self.inner.head(&path))
            .await?
            .map(|meta| meta.size))
    }

    async fn keys(&self) -> Result<Vec<String>, StoreError> {
        // A listing comes a page (1,000 keys) at a time: the deadline applies to each page.
        let mut listing = self.inner.list(None);
        let mut keys = Vec::new();
        loop {
            match tokio::time::timeout(self.deadline, listing.next()).await {
                Err(_) => return Err(self.timed_out("")),
                Ok(None) => return Ok(keys),
                Ok(Some(Err(e))) => return Err(unavailable("", e)),
                Ok(Some(Ok(meta))) => {
                    let name = meta.location.as_ref();
                    // Anything else in the bucket is not ours.
                    if is_storable_key(name) {
                        keys.push(name.to_owned());
                    }
                }
            }
        }
    }
}
