//! The in-memory index of open geolocated requests that serves "already reported?" and the
//! public map at microsecond cost.
//!
//! It is a cache, never the authority (dedup decisions read PostGIS). Every instance loads it
//! at start-up and keeps it in sync through PostgreSQL notifications: a trigger announces each
//! change of a request on the `guichet_requests` channel, and the listener re-reads that row.
//! Listening starts before the load so that nothing falls between the two; after a lost
//! connection, whose notifications are gone, the whole index is reloaded.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use guichet_shared::phase::Phase;
use guichet_shared::spatial::{Bbox, Incident, IncidentIndex, MapFeature};
use sqlx::PgPool;
use sqlx::postgres::PgListener;

use crate::db::{self, DbError, incidents::IncidentRow};

pub const CHANNEL: &str = "guichet_requests";

/// Open phases, as the small status codes stored in the index.
const OPEN_PHASES: [Phase; 3] = [Phase::Received, Phase::InProgress, Phase::WaitingForCitizen];

#[derive(Debug, Default)]
pub struct IncidentCache {
    index: RwLock<IncidentIndex>,
    /// False until the first load: an instance without its index is not ready.
    loaded: std::sync::atomic::AtomicBool,
    /// Démarche codes ↔ the compact category numbers stored in the index.
    categories: RwLock<Categories>,
    /// Whether changes are being heard: false while the listener is down, when this
    /// instance's map and "already reported?" may fall behind the others'.
    listening: std::sync::atomic::AtomicBool,
    /// Whole reloads since start (the first load, then one after each lost connection).
    reloads: std::sync::atomic::AtomicU64,
}

#[derive(Debug, Default)]
struct Categories {
    codes: Vec<String>,
    numbers: HashMap<String, u16>,
}

impl Categories {
    fn number(&mut self, code: &str) -> u16 {
        if let Some(n) = self.numbers.get(code) {
            return *n;
        }
        let n = u16::try_from(self.codes.len()).unwrap_or(u16::MAX);
        self.codes.push(code.to_owned());
        self.numbers.insert(code.to_owned(), n);
        n
    }
}

pub fn phase_code(phase: &str) -> u8 {
    OPEN_PHASES
        .iter()
        .position(|p| p.as_str() == phase)
        .map_or(u8::MAX, |i| i as u8)
}

pub fn phase_of_code(code: u8) -> Option<Phase> {
    OPEN_PHASES.get(usize::from(code)).copied()
}

impl IncidentCache {
    fn to_incident(&self, row: &IncidentRow) -> Incident {
        let category = self
            .categories
            .write()
            .map(|mut c| c.number(&row.demarche_code))
            .unwrap_or(u16::MAX);
        Incident {
            id: row.id,
            lat: row.lat,
            lon: row.lon,
            category,
            status: phase_code(&row.phase),
            created_at_unix: row.created_at_unix,
        }
    }

    /// Replaces the whole index with the open requests of the database.
    pub async fn reload(&self, pool: &PgPool) -> Result<usize, DbError> {
        self.reloads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let started = Instant::now();
        let mut incidents = Vec::new();
        let mut rows = db::incidents::open_incidents(pool);
        while let Some(row) = rows.try_next().await.map_err(DbError::from)? {
            incidents.push(self.to_incident(&row));
        }
        let (index, rejected) = IncidentIndex::bulk_load(incidents);
        for bad in rejected {
            tracing::warn!(
                id = bad.id,
                "request with an invalid position left out of the index"
            );
        }
        let n = index.len();
        if let Ok(mut current) = self.index.write() {
            *current = index;
        }
        self.loaded
            .store(true, std::sync::atomic::Ordering::Release);
        tracing::info!(
            incidents = n,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "incident index loaded"
        );
        Ok(n)
    }

    /// Re-reads one request after a change notification.
    pub async fn refresh(&self, pool: &PgPool, id: i64) -> Result<(), DbError> {
        let row = db::incidents::open_incident(pool, id).await?;
        let incident = row.as_ref().map(|r| self.to_incident(r));
        if let Ok(mut index) = self.index.write() {
            match incident {
                Some(incident) => {
                    if index.upsert(incident).is_err() {
                        index.remove(id);
                    }
                }
                None => {
                    index.remove(id);
                }
            }
        }
        Ok(())
    }

    pub fn is_loaded(&self) -> bool {
        self.loaded.load(std::sync::atomic::Ordering::Acquire)
    }

    pub fn is_listening(&self) -> bool {
        self.listening.load(std::sync::atomic::Ordering::Acquire)
    }

    fn set_listening(&self, on: bool) {
        self.listening
            .store(on, std::sync::atomic::Ordering::Release);
    }

    pub fn reloads(&self) -> u64 {
        self.reloads.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn len(&self) -> usize {
        self.index.read().map_or(0, |i| i.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn approx_memory_bytes(&self) -> usize {
        self.index.read().map_or(0, |i| i.approx_memory_bytes())
    }

    /// Category numbers of these démarche codes (unknown codes have none yet: no incident).
    pub fn category_numbers(&self, codes: &[String]) -> Vec<u16> {
        self.categories
            .read()
            .map(|c| {
                codes
                    .iter()
                    .filter_map(|code| c.numbers.get(code).copied())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn category_code(&self, number: u16) -> Option<String> {
        self.categories
            .read()
            .ok()
            .and_then(|c| c.codes.get(usize::from(number)).cloned())
    }

    /// Open incidents of the given categories within `radius_m`, nearest first.
    pub fn nearby(
        &self,
        lat: f64,
        lon: f64,
        radius_m: f64,
        categories: &[u16],
        created_since_unix: i64,
        limit: usize,
    ) -> Vec<(Incident, f64)> {
        self.index.read().map_or_else(
            |_| Vec::new(),
            |index| {
                index.nearby(
                    lat,
                    lon,
                    radius_m,
                    |i| categories.contains(&i.category) && i.created_at_unix >= created_since_unix,
                    limit,
                )
            },
        )
    }

    pub fn features(
        &self,
        bbox: Bbox,
        zoom: u8,
        category: Option<u16>,
        status: Option<u8>,
    ) -> Vec<MapFeature> {
        let Ok(index) = self.index.read() else {
            return Vec::new();
        };
        if category.is_none() && status.is_none() {
            return index.clusters(bbox, zoom, None);
        }
        let filter = move |i: &Incident| {
            category.is_none_or(|c| i.category == c) && status.is_none_or(|s| i.status == s)
        };
        index.clusters(bbox, zoom, Some(&filter))
    }
}

/// Keeps `cache` in sync until `shutdown` fires. Loads the index once listening.
pub async fn run_sync(
    cache: Arc<IncidentCache>,
    pool: PgPool,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let mut listener = match connect(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "incident index: cannot listen for changes; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => continue,
                    _ = shutdown.changed() => return,
                }
            }
        };
        if let Err(e) = cache.reload(&pool).await {
            tracing::warn!(error = %e, "incident index: load failed; retrying");
            tokio::time::sleep(Duration::from_secs(2)).await;
            continue;
        }
        cache.set_listening(true);
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                received = listener.try_recv() => match received {
                    Ok(Some(notification)) => {
                        if let Ok(id) = notification.payload().parse::<i64>()
                            && let Err(e) = cache.refresh(&pool, id).await
                        {
                            tracing::warn!(error = %e, id, "incident index: refresh failed");
                        }
                    }
                    // The connection dropped (and was re-established): notifications in
                    // between are lost, so everything is read again.
                    Ok(None) => {
                        cache.set_listening(false);
                        tracing::warn!("incident index: listener reconnected; reloading");
                        match cache.reload(&pool).await {
                            Ok(_) => cache.set_listening(true),
                            Err(e) => tracing::warn!(error = %e, "incident index: reload failed"),
                        }
                    }
                    Err(e) => {
                        cache.set_listening(false);
                        tracing::warn!(error = %e, "incident index: listener failed; reconnecting");
                        break;
                    }
                },
            }
        }
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
