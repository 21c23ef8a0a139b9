//! The dedup decision inside the intake transaction: is this report a new incident, a
//! co-report of an open request, or a possible duplicate for an agent to judge?
//!
//! The scoring is a pure function (`guichet_shared::dedup`); this module gathers its input
//! from PostGIS (the authority: the in-memory index never decides) and makes the decision
//! race-free across instances: before reading candidates it takes transaction-scoped advisory
//! locks on every grid cell that the search disc touches, in sorted order so that two
//! transactions never wait on each other in a cycle. Two reports of one incident arriving at
//! once on two instances therefore see each other: the second waits for the first to commit.

use guichet_shared::dedup::{Candidate, DedupPolicy, NewReport, Outcome, Thresholds};
use sqlx::PgConnection;

use crate::db::{self, DbError, catalogue::IntakeDemarche};

/// Lock grid: cells of 0.01° × 0.01° (about 1.1 km × 0.75 km at Rennes). The largest search
/// disc (500 m + widening, × 1.5 with matching photos) touches at most 3 × 4 cells.
const CELL_DEG: f64 = 0.01;
const METRES_PER_DEG_LAT: f64 = 111_320.0;

pub fn policy_of(d: &IntakeDemarche) -> DedupPolicy {
    DedupPolicy::new(d.dedup_radius_m, d.dedup_window_days, d.dedup_group.clone())
}

/// Decides within `tx`; the locks it takes are held until the transaction ends, which must
/// include the insert that follows. A co-report's target comes back locked and open: one
/// closed or merged since the candidates were read (agents take no grid lock) is dropped and
/// the decision is made again on the others, so the report joins the next candidate, is
/// flagged as a possible duplicate of it, or starts a request of its own.
pub async fn decide(
    tx: &mut PgConnection,
    demarche: &IntakeDemarche,
    thresholds: &Thresholds,
    lat: f64,
    lon: f64,
    accuracy_m: Option<f64>,
    photo_hashes: &[u64],
) -> Result<Outcome, DbError> {
    let policy = policy_of(demarche);
    let radius = policy.fetch_radius_m(accuracy_m, !photo_hashes.is_empty());
    // Reports that may merge share a lock scope: the dedup group, or the démarche alone.
    let scope = policy.group.as_deref().unwrap_or(&demarche.code);
    db::dedup::advisory_xact_locks(tx, &lock_keys(scope, lat, lon, radius)).await?;
    // One indexed query per démarche of the family (a group has a handful).
    let mut rows = Vec::new();
    let family = match policy.group {
        Some(_) => db::dedup::family(&mut *tx, &demarche.code).await?,
        None => vec![demarche.code.clone()],
    };
    for code in family {
        rows.extend(db::dedup::candidates(tx, &code, lat, lon, radius, policy.window_days).await?);
    }
    let mut candidates: Vec<Candidate> = rows
        .into_iter()
        .map(|r| Candidate {
            request_id: r.id,
            demarche: r.demarche_code,
            group: r.dedup_group,
            distance_m: r.distance_m,
            age_days: r.age_days,
            open: true,
            photo_hashes: r.photo_hashes.into_iter().map(|h| h as u64).collect(),
        })
        .collect();
    let new = NewReport {
        demarche: demarche.code.clone(),
        group: policy.group.clone(),
        accuracy_m,
        photo_hashes: photo_hashes.to_vec(),
    };
    loop {
        let outcome = guichet_shared::dedup::decide(&policy, thresholds, &new, &candidates);
        match outcome {
            Outcome::CoReport { request_id, .. }
                if !db::requests::lock_if_open(tx, request_id).await? =>
            {
                candidates.retain(|c| c.request_id != request_id);
            }
            other => return Ok(other),
        }
    }
}

/// The advisory-lock keys of the grid cells that a disc of `radius_m` around the point
/// touches, sorted. Keys are a stable 64-bit hash of `scope:cell`, the same on every instance.
pub fn lock_keys(scope: &str, lat: f64, lon: f64, radius_m: f64) -> Vec<i64> {
    let dlat = radius_m / METRES_PER_DEG_LAT;
    let cos = lat.to_radians().cos().max(0.01);
    let dlon = (radius_m / (METRES_PER_DEG_LAT * cos)).min(180.0);
    let cell = |v: f64| (v / CELL_DEG).floor() as i64;
    let mut keys = Vec::new();
    for cy in cell(lat - dlat)..=cell(lat + dlat) {
        for cx in cell(lon - dlon)..=cell(lon + dlon) {
            keys.push(fnv1a(format!("dedup:{scope}:{cx}:{cy}").as_bytes()));
        }
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

fn fnv1a(bytes: &[u8]) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use guichet_shared::geo::{LatLon, destination};

    #[test]
    fn nearby_points_share_a_lock_and_far_points_do_not() {
        let here = LatLon::new(48.1113, -1.6800);
        let near = destination(here, 45.0, 10.0);
        let a = lock_keys("voirie", here.lat, here.lon, 60.0);
        let b = lock_keys("voirie", near.lat, near.lon, 60.0);
        assert!(
            a.iter().any(|k| b.contains(k)),
            "reports 10 m apart must contend"
        );
        let far = destination(here, 90.0, 5_000.0);
        let c = lock_keys("voirie", far.lat, far.lon, 60.0);
        assert!(!a.iter().any(|k| c.contains(k)));
        // Another scope never contends.
        let d = lock_keys("eclairage-public", here.lat, here.lon, 60.0);
        assert!(!a.iter().any(|k| d.contains(k)));
    }

    #[test]
    fn every_pair_of_overlapping_discs_shares_a_cell() {
        // Two discs of radius r whose centres are less than r apart both cover the midpoint.
        let origin = LatLon::new(48.105, -1.675);
        for i in 0..200 {
            let a = destination(origin, f64::from(i) * 7.3, f64::from(i) * 11.0);
            let b = destination(a, f64::from(i) * 37.0, 80.0);
            let ka = lock_keys("g", a.lat, a.lon, 100.0);
            let kb = lock_keys("g", b.lat, b.lon, 100.0);
            assert!(ka.iter().any(|k| kb.contains(k)), "{i}");
        }
    }

    #[test]
    fn the_largest_disc_takes_a_handful_of_sorted_locks() {
        let keys = lock_keys("voirie", 48.1, -1.68, 900.0);
        assert!(keys.len() <= 12, "{}", keys.len());
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
    }
}
