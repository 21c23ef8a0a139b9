//! Deterministic synthetic data around Rennes, for tests and benchmarks (incidents for the
//! index, rounds of stops for [`crate::round`]): the same data on every run and machine,
//! without a random-number dependency.

use std::f64::consts::PI;

use crate::geo::{EARTH_RADIUS_M, LatLon, destination};
use crate::spatial::{Bbox, Incident};

/// Rennes town hall.
pub const RENNES: LatLon = LatLon {
    lat: 48.111_339,
    lon: -1.680_020,
};

/// A 0.35° × 0.25° box around the city.
pub const CITY: Bbox = Bbox {
    min_lon: -1.85,
    min_lat: 48.00,
    max_lon: -1.50,
    max_lat: 48.25,
};

/// SplitMix64.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn range(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Standard normal (Box–Muller).
    pub fn gaussian(&mut self) -> f64 {
        let u = self.unit().max(1e-300);
        (-2.0 * u.ln()).sqrt() * (2.0 * PI * self.unit()).cos()
    }
}

/// `n` incidents: 30 % spread over [`CITY`], 70 % in 25 hotspots of 100–600 m (normal
/// spread); 30 categories and 4 statuses.
pub fn incidents(n: usize, seed: u64) -> Vec<Incident> {
    let mut rng = Rng(seed);
    let hotspots: Vec<(LatLon, f64)> = (0..25)
        .map(|_| {
            let centre = LatLon::new(rng.range(48.05, 48.20), rng.range(-1.78, -1.57));
            (centre, rng.range(100.0, 600.0))
        })
        .collect();
    (0..n)
        .map(|i| {
            let at = if rng.unit() < 0.3 {
                LatLon::new(
                    rng.range(CITY.min_lat, CITY.max_lat),
                    rng.range(CITY.min_lon, CITY.max_lon),
                )
            } else {
                let (centre, sigma) = hotspots[rng.below(25) as usize];
                let bearing = rng.range(0.0, 360.0);
                destination(centre, bearing, (rng.gaussian() * sigma).abs())
            };
            Incident {
                id: i as i64 + 1,
                lat: at.lat,
                lon: at.lon,
                category: rng.below(30) as u16,
                status: rng.below(4) as u8,
                created_at_unix: 1_700_000_000 + i as i64,
            }
        })
        .collect()
}

/// A field agent's round for the benchmarks of [`crate::round`]: a start and `n` stops, all
/// uniform in a square of ±10 km (north–south and east–west) around [`RENNES`].
pub fn round(n: usize, seed: u64) -> (LatLon, Vec<LatLon>) {
    const HALF_SIDE_M: f64 = 10_000.0;
    let half_lat = (HALF_SIDE_M / EARTH_RADIUS_M).to_degrees();
    let half_lon = half_lat / RENNES.lat.to_radians().cos();
    let mut rng = Rng(seed);
    let mut point = || {
        LatLon::new(
            RENNES.lat + rng.range(-half_lat, half_lat),
            RENNES.lon + rng.range(-half_lon, half_lon),
        )
    };
    let start = point();
    (start, (0..n).map(|_| point()).collect())
}
