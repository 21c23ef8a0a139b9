#![allow(clippy::print_stdout)] // a benchmark reports on standard output
#![allow(clippy::disallowed_methods)] // it seeds and measures the database with its own SQL
//! Benchmarks of the dedup engine and the incident index on a database seeded with a million
//! realistic open incidents. See docs/benchmarks.md.
//!
//!     bench_incidents seed N       add N open incidents (DATABASE_URL; demo data loaded)
//!     bench_incidents run          measure index load, nearby (index vs PostGIS KNN), the dedup
//!                                  decision and map viewports
//!
//! Incidents are placed around the town halls of the 43 communes, weighted by population,
//! 70 % of them in hotspots (a few per commune, ~150 m across) and 30 % spread over ~3 km.

use std::time::{Duration, Instant};

use guichet_server::db;
use guichet_server::incidents::IncidentCache;
use guichet_shared::dedup::Thresholds;
use guichet_shared::geo::{LatLon, destination};
use guichet_shared::spatial::Bbox;
use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;
use sqlx::PgPool;

type Error = Box<dyn std::error::Error>;

const CATEGORIES: [&str; 8] = [
    "voirie",
    "tags-graffitis",
    "depot-sauvage",
    "eclairage-public",
    "mobilier-urbain",
    "espaces-verts",
    "encombrants-abandonnes",
    "proprete",
];

#[tokio::main]
async fn main() -> Result<(), Error> {
    let url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is required")?;
    let pool = db::connect(&url, 4).await?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("seed") => {
            seed(
                &pool,
                args.get(1)
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1_000_000),
            )
            .await
        }
        Some("run") => run(&pool).await,
        _ => Err("usage: bench_incidents seed N | run".into()),
    }
}

struct Hotspot {
    centre: LatLon,
    weight: f64,
}

async fn town_halls(pool: &PgPool) -> Result<Vec<(LatLon, f64)>, Error> {
    let rows: Vec<(f64, f64, i32)> = sqlx::query_as(
        "SELECT ST_Y(town_hall::geometry), ST_X(town_hall::geometry), population
           FROM zones WHERE town_hall IS NOT NULL",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(lat, lon, pop)| (LatLon::new(lat, lon), f64::from(pop)))
        .collect())
}

fn pick<T>(rng: &mut StdRng, items: &[T], weight: impl Fn(&T) -> f64) -> usize {
    let total: f64 = items.iter().map(&weight).sum();
    let mut r = rng.random::<f64>() * total;
    for (i, item) in items.iter().enumerate() {
        r -= weight(item);
        if r <= 0.0 {
            return i;
        }
    }
    items.len() - 1
}

fn random_point(rng: &mut StdRng, halls: &[(LatLon, f64)], hotspots: &[Vec<Hotspot>]) -> LatLon {
    let c = pick(rng, halls, |h| h.1);
    if rng.random::<f64>() < 0.7 {
        let spots = &hotspots[c];
        let h = &spots[pick(rng, spots, |s| s.weight)];
        destination(
            h.centre,
            rng.random::<f64>() * 360.0,
            rng.random::<f64>().powi(2) * 150.0,
        )
    } else {
        destination(
            halls[c].0,
            rng.random::<f64>() * 360.0,
            rng.random::<f64>().sqrt() * 3_000.0,
        )
    }
}

async fn seed(pool: &PgPool, n: usize) -> Result<(), Error> {
    let halls = town_halls(pool).await?;
    let mut rng = StdRng::seed_from_u64(42);
    let hotspots: Vec<Vec<Hotspot>> = halls
        .iter()
        .map(|(hall, pop)| {
            let k = 2 + (pop / 20_000.0) as usize;
            (0..k)
                .map(|_| Hotspot {
                    centre: destination(
                        *hall,
                        rng.random::<f64>() * 360.0,
                        rng.random::<f64>() * 1_500.0,
                    ),
                    weight: rng.random::<f64>() + 0.2,
                })
                .collect()
        })
        .collect();
    let started = Instant::now();
    let mut tx = pool.begin().await?;
    // Seeding, not intake: no change notifications, no per-row checks.
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await?;
    let base: i64 = sqlx::query_scalar("SELECT COALESCE(max(id), 0) FROM requests")
        .fetch_one(&mut *tx)
        .await?;
    let mut copy = tx
        .copy_in_raw(
            "COPY requests (number, tracking_code_digest, demarche_code, demarche_revision, channel,
                            status, phase, location, report_count, created_at, updated_at)
             FROM STDIN",
        )
        .await?;
    let mut buf = String::with_capacity(8 << 20);
    let now = time::OffsetDateTime::now_utc();
    for i in 0..n {
        let p = random_point(&mut rng, &halls, &hotspots);
        let category = CATEGORIES[rng.random_range(0..CATEGORIES.len())];
        let age_days = rng.random::<f64>() * 25.0;
        let phase = if rng.random::<f64>() < 0.8 {
            "received"
        } else {
            "in_progress"
        };
        let created = (now - time::Duration::seconds_f64(age_days * 86_400.0))
            .format(&time::format_description::well_known::Rfc3339)?;
        buf.push_str(&format!(
            "2026-BEN-{:07}\t\\\\x{:064x}\t{category}\t1\tapp\tnew\t{phase}\tSRID=4326;POINT({:.7} {:.7})\t1\t{created}\t{created}\n",
            base + i as i64 + 1,
            i % 10_000,
            p.lon,
            p.lat,
        ));
        if buf.len() > (7 << 20) {
            copy.send(buf.as_bytes()).await?;
            buf.clear();
        }
    }
    copy.send(buf.as_bytes()).await?;
    copy.finish().await?;
    tx.commit().await?;
    sqlx::query("ANALYZE requests").execute(pool).await?;
    println!(
        "seeded {n} incidents in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn percentile(mut samples: Vec<Duration>, p: f64) -> Duration {
    samples.sort_unstable();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i.min(samples.len() - 1)]
}

fn show(name: &str, samples: Vec<Duration>) {
    let (p50, p95, p99) = (
        percentile(samples.clone(), 0.50),
        percentile(samples.clone(), 0.95),
        percentile(samples, 0.99),
    );
    println!(
        "{name:<44} p50 {:>9.1} µs   p95 {:>9.1} µs   p99 {:>9.1} µs",
        p50.as_secs_f64() * 1e6,
        p95.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6
    );
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

async fn run(pool: &PgPool) -> Result<(), Error> {
    let cache = IncidentCache::default();
    let rss_before = rss_kb();
    let started = Instant::now();
    let n = cache.reload(pool).await?;
    let load = started.elapsed();
    let rss_after = rss_kb();
    println!(
        "index: {n} open incidents loaded in {:.2} s (query + build); estimate {:.0} MB, process RSS +{:.0} MB",
        load.as_secs_f64(),
        cache.approx_memory_bytes() as f64 / 1e6,
        (rss_after.saturating_sub(rss_before)) as f64 / 1e3
    );

    let halls = town_halls(pool).await?;
    let mut rng = StdRng::seed_from_u64(7);
    let hotspots: Vec<Vec<Hotspot>> = halls
        .iter()
        .map(|(hall, _)| {
            vec![Hotspot {
                centre: *hall,
                weight: 1.0,
            }]
        })
        .collect();
    let points: Vec<LatLon> = (0..20_000)
        .map(|_| random_point(&mut rng, &halls, &hotspots))
        .collect();
    let voirie = cache.category_numbers(&["voirie".to_owned()]);

    // "Already reported?": 10 nearest open incidents of one category within 200 m.
    let mut index_samples = Vec::with_capacity(points.len());
    let mut found = 0usize;
    for p in &points {
        let t = Instant::now();
        let r = cache.nearby(p.lat, p.lon, 200.0, &voirie, i64::MIN, 10);
        index_samples.push(t.elapsed());
        found += r.len();
    }
    show("nearby, in-memory index", index_samples.clone());
    println!(
        "  (mean {:.1} results per query)",
        found as f64 / points.len() as f64
    );

    let mut knn_samples = Vec::new();
    let mut conn = pool.acquire().await?;
    for p in points.iter().take(2_000) {
        let t = Instant::now();
        let _: Vec<(i64, f64)> = sqlx::query_as(
            "WITH q AS (SELECT ST_SetSRID(ST_MakePoint($2, $1), 4326)::geography AS g)
             SELECT r.id, ST_Distance(r.location, q.g) FROM requests r, q
              WHERE r.phase IN ('received', 'in_progress', 'waiting_for_citizen')
                AND r.demarche_code = 'voirie' AND ST_DWithin(r.location, q.g, 200)
              ORDER BY r.location <-> q.g LIMIT 10",
        )
        .bind(p.lat)
        .bind(p.lon)
        .fetch_all(&mut *conn)
        .await?;
        knn_samples.push(t.elapsed());
    }
    show(
        "nearby, PostGIS KNN (GiST, same query)",
        knn_samples.clone(),
    );
    let ratio = |a: &[Duration], b: &[Duration], q: f64| {
        percentile(b.to_vec(), q).as_secs_f64() / percentile(a.to_vec(), q).as_secs_f64()
    };
    println!(
        "  ratio PostGIS / index: p50 {:.0}×, p99 {:.0}×",
        ratio(&index_samples, &knn_samples, 0.5),
        ratio(&index_samples, &knn_samples, 0.99)
    );

    // The dedup decision as intake runs it: locks, candidates, scoring; rolled back.
    let demarche = db::catalogue::find_for_intake(pool, "voirie")
        .await?
        .ok_or("demo data missing")?;
    let thresholds = Thresholds::default();
    let mut decide_samples = Vec::new();
    for p in points.iter().take(2_000) {
        let mut tx = pool.begin().await?;
        let t = Instant::now();
        guichet_server::dedup::decide(
            &mut tx,
            &demarche,
            &thresholds,
            p.lat,
            p.lon,
            Some(8.0),
            &[],
        )
        .await?;
        decide_samples.push(t.elapsed());
        tx.rollback().await?;
    }
    show("dedup decision in the intake transaction", decide_samples);

    // Map viewports (index part; the HTTP answer adds numbers for points, see oha).
    let viewports = [
        (
            "city-wide, zoom 11",
            Bbox {
                min_lon: -1.85,
                min_lat: 48.00,
                max_lon: -1.50,
                max_lat: 48.25,
            },
            11u8,
        ),
        (
            "district ~2 km, zoom 14",
            Bbox {
                min_lon: -1.695,
                min_lat: 48.103,
                max_lon: -1.668,
                max_lat: 48.120,
            },
            14,
        ),
        (
            "street ~300 m, zoom 17",
            Bbox {
                min_lon: -1.6820,
                min_lat: 48.1105,
                max_lon: -1.6780,
                max_lat: 48.1122,
            },
            17,
        ),
    ];
    for (name, bbox, zoom) in viewports {
        let mut samples = Vec::new();
        let mut features = 0;
        for _ in 0..200 {
            let t = Instant::now();
            features = cache.features(bbox, zoom, None, None).len();
            samples.push(t.elapsed());
        }
        show(&format!("map {name} ({features} features)"), samples);
        let mut filtered = Vec::new();
        for _ in 0..50 {
            let t = Instant::now();
            let _ = cache.features(bbox, zoom, voirie.first().copied(), None);
            filtered.push(t.elapsed());
        }
        show(&format!("map {name}, one category"), filtered);
    }
    Ok(())
}
