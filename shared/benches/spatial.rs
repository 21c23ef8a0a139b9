#![allow(clippy::print_stdout)] // a benchmark reports on standard output
//! The in-memory incident index with a million synthetic incidents, in process and without a
//! database: bulk load and memory, "already reported?" (`nearby`), map viewports (`clusters`),
//! single changes. See docs/benchmarks.md.
//!
//!     cargo bench -p guichet-shared --bench spatial
//!
//! The data is deterministic: 30 % spread over a 0.35° × 0.25° city box around Rennes, 70 % in
//! 25 hotspots of 100–600 m (normal spread), 30 categories.

use std::time::{Duration, Instant};

use guichet_shared::geo::{LatLon, destination};
use guichet_shared::spatial::{Bbox, Incident, IncidentIndex};
use guichet_shared::synthetic::{CITY, RENNES, Rng, incidents as synthetic};

fn bbox_around(centre: LatLon, half_width_m: f64) -> Bbox {
    let ne = destination(destination(centre, 0.0, half_width_m), 90.0, half_width_m);
    let sw = destination(
        destination(centre, 180.0, half_width_m),
        270.0,
        half_width_m,
    );
    Bbox {
        min_lon: sw.lon,
        min_lat: sw.lat,
        max_lon: ne.lon,
        max_lat: ne.lat,
    }
}

/// Resident memory from /proc, to check the estimate against reality.
fn rss_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// The sample at quantile `q` of sorted samples (nearest rank).
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn all(_: &Incident) -> bool {
    true
}

fn main() {
    let data = synthetic(1_000_000, 42);
    let rss_before = rss_bytes();
    let started = Instant::now();
    let (index, _) = IncidentIndex::bulk_load(data.clone());
    println!("bulk_load 1M: {:.2} s", started.elapsed().as_secs_f64());
    println!(
        "memory estimate: {:.1} MB, RSS delta: {} MB",
        index.approx_memory_bytes() as f64 / 1e6,
        rss_before
            .zip(rss_bytes())
            .map_or("?".to_owned(), |(b, a)| format!(
                "{:.1}",
                a.saturating_sub(b) as f64 / 1e6
            ))
    );

    let mut rng = Rng(1);
    for (label, radius, filtered) in [
        ("50 m, category", 50.0, true),
        ("50 m, all", 50.0, false),
        ("200 m, category", 200.0, true),
        ("200 m, all", 200.0, false),
    ] {
        let mut times = Vec::with_capacity(20_000);
        let mut results = 0;
        for _ in 0..20_000 {
            let probe = &data[rng.below(data.len() as u64) as usize];
            let category = rng.below(30) as u16;
            let started = Instant::now();
            let found = index.nearby(
                probe.lat,
                probe.lon,
                radius,
                |i| !filtered || i.category == category,
                10,
            );
            times.push(started.elapsed());
            results += found.len();
        }
        times.sort_unstable();
        let mean = times.iter().sum::<Duration>() / times.len() as u32;
        println!(
            "nearby {label}, limit 10: mean {:.1} µs, p50 {:.1} µs, p99 {:.1} µs, max {:.0} µs, avg results {:.1}",
            micros(mean),
            micros(quantile(&times, 0.5)),
            micros(quantile(&times, 0.99)),
            micros(quantile(&times, 1.0)),
            results as f64 / times.len() as f64
        );
    }

    let hotspot = data[0..1000]
        .iter()
        .max_by_key(|i| index.nearby(i.lat, i.lon, 100.0, all, usize::MAX).len())
        .map_or(RENNES, |i| LatLon::new(i.lat, i.lon));
    let views = [
        ("city z11", CITY, 11),
        ("district 2 km z14", bbox_around(RENNES, 1_000.0), 14),
        (
            "district 2 km z14 (densest)",
            bbox_around(hotspot, 1_000.0),
            14,
        ),
        ("street 300 m z17", bbox_around(RENNES, 150.0), 17),
        (
            "street 300 m z17 (densest)",
            bbox_around(hotspot, 150.0),
            17,
        ),
        (
            "street 300 m z18 (densest)",
            bbox_around(hotspot, 150.0),
            18,
        ),
    ];
    let category: &dyn Fn(&Incident) -> bool = &|i: &Incident| i.category == 4;
    let accept_all: &dyn Fn(&Incident) -> bool = &all;
    for (label, bbox, zoom) in views {
        for (kind, filter) in [
            ("unfiltered", None),
            ("category", Some(category)),
            ("accept-all filter", Some(accept_all)),
        ] {
            let mut times = Vec::new();
            let mut features = 0;
            for _ in 0..100 {
                let started = Instant::now();
                features = index.clusters(bbox, zoom, filter).len();
                times.push(started.elapsed());
            }
            times.sort_unstable();
            println!(
                "clusters {label}, {kind}: median {:.3} ms, p95 {:.3} ms, max {:.3} ms, {features} features",
                millis(quantile(&times, 0.5)),
                millis(quantile(&times, 0.95)),
                millis(quantile(&times, 1.0)),
            );
        }
    }

    let mut index = index;
    let started = Instant::now();
    for k in 0..100_000 {
        let i = data[k * 7];
        let moved = Incident {
            lat: i.lat + 1e-4,
            ..i
        };
        if index.upsert(moved).is_err() {
            println!("upsert refused incident {}", i.id);
        }
    }
    println!(
        "upsert (move): {:.2} µs each",
        micros(started.elapsed()) / 1e5
    );
    let started = Instant::now();
    for k in 0..100_000 {
        index.remove(data[k * 7].id);
    }
    println!("remove: {:.2} µs each", micros(started.elapsed()) / 1e5);

    let rss_before = rss_bytes();
    let started = Instant::now();
    let mut incremental = IncidentIndex::new();
    for i in &data {
        if incremental.upsert(*i).is_err() {
            println!("upsert refused incident {}", i.id);
        }
    }
    println!(
        "1M one-by-one upserts: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    println!(
        "incremental memory estimate: {:.1} MB, RSS delta: {} MB",
        incremental.approx_memory_bytes() as f64 / 1e6,
        rss_before
            .zip(rss_bytes())
            .map_or("?".to_owned(), |(b, a)| format!(
                "{:.1}",
                a.saturating_sub(b) as f64 / 1e6
            ))
    );
}
