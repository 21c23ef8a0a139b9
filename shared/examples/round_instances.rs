#![allow(clippy::print_stdout)] // writes its JSON on standard output
//! The benchmark rounds and Guichet's orders for them, as JSON on standard output, for the
//! comparison with LKH-3 (`scripts/bench/round/run`, see docs/benchmarks.md):
//!
//!     cargo run --release -p guichet-shared --example round_instances [ROUNDS] > rounds.json
//!
//! ROUNDS (default 20) rounds of 40 and of 200 stops, seeds 1..=ROUNDS of
//! [`guichet_shared::synthetic::round`], the same as `cargo bench -p guichet-shared --bench
//! round`. Each ordering is timed 7 times; `ms` is the median.

use std::time::{Duration, Instant};

use guichet_shared::geo::{EARTH_RADIUS_M, LatLon};
use guichet_shared::round::order_round;
use guichet_shared::synthetic::round;
use serde_json::{Value, json};

const TIMINGS: usize = 7;

fn lat_lon(p: &LatLon) -> Value {
    json!([p.lat, p.lon])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: u64 = match std::env::args().nth(1) {
        Some(arg) => arg.parse()?,
        None => 20,
    };
    let mut out = Vec::new();
    for n in [40, 200] {
        for seed in 1..=rounds {
            let (start, stops) = round(n, seed);
            let mut times = Vec::with_capacity(TIMINGS);
            let mut result = order_round(start, &stops);
            for _ in 0..TIMINGS {
                let started = Instant::now();
                result = order_round(start, &stops);
                times.push(started.elapsed());
            }
            times.sort();
            let median = times.get(TIMINGS / 2).copied().unwrap_or(Duration::ZERO);
            out.push(json!({
                "stops_count": n,
                "seed": seed,
                "start": lat_lon(&start),
                "stops": stops.iter().map(lat_lon).collect::<Vec<_>>(),
                "order": result.order,
                "total_m": result.total_m,
                "ms": median.as_secs_f64() * 1e3,
            }));
        }
    }
    let report = json!({ "earth_radius_m": EARTH_RADIUS_M, "rounds": out });
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
