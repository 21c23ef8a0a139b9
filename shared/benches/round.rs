//! Ordering a field agent's round ([`guichet_shared::round::order_round`]): 40 and 200 stops
//! uniform over ±10 km around Rennes, 20 seeded rounds of each size taken in turn, so the time
//! is a mean over rounds. See docs/benchmarks.md.
//!
//!     cargo bench -p guichet-shared --bench round

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use guichet_shared::round::order_round;
use guichet_shared::synthetic::round;

/// The seeds of the rounds, shared with `shared/examples/round_instances.rs`.
const SEEDS: std::ops::RangeInclusive<u64> = 1..=20;

fn ordering(c: &mut Criterion) {
    let mut group = c.benchmark_group("order_round");
    for n in [40, 200] {
        let rounds: Vec<_> = SEEDS.map(|seed| round(n, seed)).collect();
        group.bench_with_input(BenchmarkId::from_parameter(n), &rounds, |b, rounds| {
            let mut next = rounds.iter().cycle();
            b.iter(|| {
                let Some((start, stops)) = next.next() else {
                    return;
                };
                black_box(order_round(black_box(*start), black_box(stops)));
            });
        });
    }
    group.finish();
}

criterion_group!(benches, ordering);
criterion_main!(benches);
