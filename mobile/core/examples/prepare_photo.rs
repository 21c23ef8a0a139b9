//! Times the app's photo preparation (`photo::prepare`: decode, turn upright, shrink to
//! 2048 px, WebP) on one file, as the phone does it before queueing a report.
//!
//!     prepare_photo PHOTO.jpg [RUNS]      (default 9 runs; prints the median)
//!
//! `scripts/bench/app-photo` runs it on a generated 12-megapixel camera JPEG.

use std::time::{Duration, Instant};

use guichet_mobile_core::photo;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: prepare_photo PHOTO.jpg [RUNS]")?;
    let runs: usize = args.next().map_or(Ok(9), |r| r.parse())?;
    let input = std::fs::read(&path)?;
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    let mut prepared = None;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let out = photo::prepare(&input)?;
        times.push(started.elapsed());
        prepared = Some(out);
    }
    times.sort();
    let median = times[times.len() / 2];
    let out = prepared.ok_or("no run")?;
    #[allow(clippy::print_stdout)] // the example's output
    {
        println!(
            "in: {} bytes; out: {}×{} WebP, {} bytes; prepare: median {:.0} ms, min {:.0} ms, max {:.0} ms over {} runs",
            input.len(),
            out.width,
            out.height,
            out.bytes.len(),
            median.as_secs_f64() * 1000.0,
            times[0].as_secs_f64() * 1000.0,
            times[times.len() - 1].as_secs_f64() * 1000.0,
            times.len()
        );
    }
    Ok(())
}
