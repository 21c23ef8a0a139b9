//! What every handler shares: configuration, the database pool, the photo store and gate,
//! the metrics registry, and what the service keeps in memory.

use std::sync::Arc;

use sqlx::PgPool;

use crate::config::Config;
use crate::demo::DemoPasswordCheck;
use crate::incidents::IncidentCache;
use crate::inflight::InFlight;
use crate::metrics::Metrics;
use crate::photos::{LocalDiskStore, PhotoGate, PhotoStore};

#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: PgPool,
    pub photos: Arc<dyn PhotoStore>,
    pub photo_gate: PhotoGate,
    pub metrics: Arc<Metrics>,
    pub in_flight: Arc<InFlight>,
    pub incidents: Arc<IncidentCache>,
    /// Which demo accounts still have the published password (reported by `/readyz`).
    pub demo_passwords: Arc<DemoPasswordCheck>,
}

impl AppState {
    pub fn new(config: Config, db: PgPool) -> Self {
        let store = LocalDiskStore::new(config.data_dir.join("photos"));
        Self::with_store(config, db, Arc::new(store))
    }

    pub fn with_store(config: Config, db: PgPool, photos: Arc<dyn PhotoStore>) -> Self {
        let photo_gate = PhotoGate::new(config.photos.workers, config.photos.queue);
        Self {
            config: Arc::new(config),
            db,
            photos,
            photo_gate,
            metrics: Arc::new(Metrics::default()),
            in_flight: Arc::new(InFlight::default()),
            incidents: Arc::new(IncidentCache::default()),
            demo_passwords: Arc::new(DemoPasswordCheck::default()),
        }
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
