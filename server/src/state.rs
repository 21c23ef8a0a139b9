//! What every handler shares: configuration, the database pool, the photo store and gate,
//! the metrics registry, and what the service keeps in memory.

use std::sync::Arc;

use sqlx::PgPool;

use crate::auth::Hasher;
use crate::config::Config;
use crate::demo::DemoPasswordCheck;
use crate::incidents::IncidentCache;
use crate::inflight::InFlight;
use crate::limits::Limits;
use crate::live::LiveFeed;
use crate::metrics::Metrics;
use crate::photos::{PhotoGate, PhotoStore, StoreError, StoreLocation};

#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: PgPool,
    pub photos: Arc<dyn PhotoStore>,
    pub photo_gate: PhotoGate,
    pub metrics: Arc<Metrics>,
    pub in_flight: Arc<InFlight>,
    pub incidents: Arc<IncidentCache>,
    /// Changes of requests, for the back office's open streams.
    pub live: Arc<LiveFeed>,
    /// Which demo accounts still have the published password (reported by `/readyz`).
    pub demo_passwords: Arc<DemoPasswordCheck>,
    /// Rate limits of this instance.
    pub limits: Arc<Limits>,
    /// Password hashing, bounded.
    pub hasher: Hasher,
}

impl AppState {
    pub fn new(config: Config, db: PgPool) -> Result<Self, StoreError> {
        let store = Self::store_of(&config)?;
        Ok(Self::with_store(config, db, store))
    }

    /// The store that the configuration names (photos and attached files).
    pub fn store_of(config: &Config) -> Result<Arc<dyn PhotoStore>, StoreError> {
        crate::photos::store::open(&StoreLocation::configured(config)?)
    }

    pub fn with_store(config: Config, db: PgPool, photos: Arc<dyn PhotoStore>) -> Self {
        let photo_gate = PhotoGate::new(config.photos.workers, config.photos.queue);
        let limits = Arc::new(Limits::new(&config.limits));
        let hasher = Hasher::new(config.accounts.hash_workers);
        Self {
            config: Arc::new(config),
            db,
            photos,
            photo_gate,
            metrics: Arc::new(Metrics::default()),
            in_flight: Arc::new(InFlight::default()),
            incidents: Arc::new(IncidentCache::default()),
            live: Arc::new(LiveFeed::default()),
            demo_passwords: Arc::new(DemoPasswordCheck::default()),
            limits,
            hasher,
        }
    }

    /// This state with a key for follow links: the configured one, else the database's own.
    pub async fn with_follow_key(mut self) -> Result<Self, crate::db::DbError> {
        if self.config.notify.follow_key.is_none() {
            let key = crate::codes::database_key(&self.db).await?;
            let mut config = (*self.config).clone();
            config.notify.follow_key = Some(key);
            self.config = Arc::new(config);
        }
        Ok(self)
    }

    pub fn photo_url(&self, key: &str) -> String {
        format!("{}/media/{key}", self.config.public_url)
    }

    /// Largest body accepted by the report route: every photo at its limit plus the JSON.
    pub fn report_body_limit(&self) -> usize {
        let p = &self.config.photos;
        p.max_count * p.max_bytes + 1024 * 1024
    }
}
