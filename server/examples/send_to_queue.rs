#![allow(clippy::print_stdout)] // a benchmark reports on standard output
//! From the citizen's 201 to the agents' screen, under load across two instances. Reports go
//! to instance A and B in turn at a fixed rate (plain ones, and some with a phone-sized photo);
//! an agent's event stream (`GET /api/v1/agent/events`) is open on the *other* instance, and
//! each report's latency is the time from its 201 to its `created` event there. Every 20th
//! report is also looked for in the agent queue API of the other instance. See
//! docs/benchmarks.md and scripts/bench/send-to-queue.
//!
//!     send_to_queue BASE_A BASE_B SECONDS [PLAIN_PER_SEC] [PHOTO_PER_SEC]
//!
//! `GUICHET_BENCH_PIDS` (the servers' process ids) adds their resident memory, sampled every
//! 10 s, to the report.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use rand::Rng;
use serde_json::{Value, json};

type Error = Box<dyn std::error::Error + Send + Sync>;

const AGENT: &str = "admin@guichet.example";
const PASSWORD: &str = "guichet-demo";

#[derive(Default)]
struct Seen {
    /// Request number → when its 201 came back.
    filed: HashMap<String, Instant>,
    /// Request number → when the other instance's stream told of it.
    streamed: HashMap<String, Instant>,
    queue_ms: Vec<f64>,
    answer_ms: Vec<f64>,
    errors: HashMap<String, usize>,
    /// Answers that made the client send a report again (503 or 429 with `Retry-After`).
    retried: HashMap<String, usize>,
    /// Reports joined to an earlier request (no new request to look for).
    joined: usize,
    /// `resync` events: the stream fell behind and its client would reload its view.
    resyncs: usize,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        return Err(
            "usage: send_to_queue BASE_A BASE_B SECONDS [PLAIN_PER_SEC] [PHOTO_PER_SEC]".into(),
        );
    }
    let bases = [args[1].clone(), args[2].clone()];
    let seconds: u64 = args[3].parse()?;
    let plain_rate: f64 = args.get(4).map_or(Ok(50.0), |v| v.parse())?;
    let photo_rate: f64 = args.get(5).map_or(Ok(10.0), |v| v.parse())?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(64)
        .build()?;
    let mut tokens = Vec::new();
    for base in &bases {
        let r: Value = client
            .post(format!("{base}/api/v1/agent/login"))
            .json(&json!({"email": AGENT, "password": PASSWORD}))
            .send()
            .await?
            .json()
            .await?;
        tokens.push(r["token"].as_str().ok_or("login failed")?.to_owned());
    }
    let seen = Arc::new(Mutex::new(Seen::default()));
    for (i, base) in bases.iter().enumerate() {
        tokio::spawn(listen(
            client.clone(),
            base.clone(),
            tokens[i].clone(),
            seen.clone(),
        ));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let photo = phone_photo()?;
    let memory = tokio::spawn(sample_memory(seconds));

    let started = Instant::now();
    let total_rate = plain_rate + photo_rate;
    let mut sent = 0u64;
    let mut tasks = Vec::new();
    while started.elapsed() < Duration::from_secs(seconds) {
        let due = started + Duration::from_secs_f64(sent as f64 / total_rate);
        tokio::time::sleep_until(due.into()).await;
        let with_photo = rand::rng().random_bool(photo_rate / total_rate);
        let target = (sent % 2) as usize;
        let probe = sent.is_multiple_of(20);
        tasks.push(tokio::spawn(file_one(
            client.clone(),
            bases[target].clone(),
            (bases[1 - target].clone(), tokens[1 - target].clone()),
            with_photo.then(|| photo.clone()),
            probe,
            seen.clone(),
        )));
        sent += 1;
    }
    for t in tasks {
        let _ = t.await;
    }
    // Events still on their way.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss = memory.await.unwrap_or_default();

    let seen = seen.lock().map_err(|_| "poisoned")?;
    let mut stream_ms: Vec<f64> = seen
        .filed
        .iter()
        .filter_map(|(n, t)| {
            seen.streamed
                .get(n)
                .map(|s| s.saturating_duration_since(*t).as_secs_f64() * 1000.0)
        })
        .collect();
    let missing = seen.filed.len() - stream_ms.len();
    println!(
        "{sent} reports in {seconds} s ({plain_rate}/s plain + {photo_rate}/s with a {} KiB photo): {} answered 201 ({} new requests, {} joined to an earlier one); sent again after {:?}; errors {:?}",
        photo.len() / 1024,
        seen.answer_ms.len(),
        seen.filed.len(),
        seen.joined,
        seen.retried,
        seen.errors
    );
    println!("| measure | n | p50 ms | p95 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|---|");
    let mut answer_ms = seen.answer_ms.clone();
    let mut queue_ms = seen.queue_ms.clone();
    row("POST → 201", &mut answer_ms);
    row("201 → event on the other instance", &mut stream_ms);
    row("201 → in the other instance's queue API", &mut queue_ms);
    println!(
        "new requests never seen on the other instance's stream: {missing}; resync events: {}",
        seen.resyncs
    );
    if !rss.is_empty() {
        println!("servers' resident memory every 10 s (MiB): {rss:?}");
        println!("{}", memory_growth(&rss));
    }
    Ok(())
}

fn row(name: &str, v: &mut [f64]) {
    if v.is_empty() {
        println!("| {name} | 0 | | | | |");
        return;
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    println!(
        "| {name} | {} | {:.0} | {:.0} | {:.0} | {:.0} |",
        v.len(),
        q(0.5),
        q(0.95),
        q(0.99),
        v[v.len() - 1]
    );
}

async fn file_one(
    client: reqwest::Client,
    base: String,
    (other, token): (String, String),
    photo: Option<Vec<u8>>,
    probe: bool,
    seen: Arc<Mutex<Seen>>,
) {
    let (lat, lon) = {
        let mut rng = rand::rng();
        (
            48.08 + rng.random::<f64>() * 0.06,
            -1.74 + rng.random::<f64>() * 0.12,
        )
    };
    let report = json!({
        "client_id": uuid::Uuid::new_v4(), "category": "voirie",
        "lat": lat, "lon": lon, "accuracy_m": 5.0, "description": "Nid-de-poule (mesure)",
    })
    .to_string();
    // Like the apps' outbox: a 503 or 429 is sent again, with the same client id, after its
    // `Retry-After`. Each such answer is counted; a report never stored is an error.
    let mut attempts = 0;
    let answer = loop {
        attempts += 1;
        let Ok(part) = reqwest::multipart::Part::text(report.clone()).mime_str("application/json")
        else {
            return;
        };
        let mut form = reqwest::multipart::Form::new().part("report", part);
        if let Some(bytes) = &photo
            && let Ok(part) = reqwest::multipart::Part::bytes(bytes.clone())
                .file_name("p.jpg")
                .mime_str("image/jpeg")
        {
            form = form.part("photo", part);
        }
        let sent = Instant::now();
        let answer = client
            .post(format!("{base}/api/v1/reports"))
            .multipart(form)
            .send()
            .await;
        match answer {
            Ok(r) if matches!(r.status().as_u16(), 429 | 503) && attempts < 5 => {
                tally(
                    &seen,
                    |s| &mut s.retried,
                    format!("{} (sent again)", r.status()),
                );
                let wait = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(2);
                tokio::time::sleep(Duration::from_secs(wait)).await;
            }
            other => break other.map(|r| (r, sent)),
        }
    };
    let number = match answer {
        Ok((r, sent)) if r.status().as_u16() == 201 => {
            let now = Instant::now();
            match r.json::<Value>().await {
                Ok(v) => {
                    let number = v["request_number"].as_str().unwrap_or_default().to_owned();
                    // A report joined to an earlier request creates nothing new to look for.
                    let created = v["deduplicated"] == false;
                    if let Ok(mut s) = seen.lock() {
                        s.answer_ms.push((now - sent).as_secs_f64() * 1000.0);
                        if created {
                            s.filed.insert(number.clone(), now);
                        } else {
                            s.joined += 1;
                        }
                    }
                    created.then_some((number, now))
                }
                Err(e) => {
                    error(&seen, format!("body: {e}"));
                    None
                }
            }
        }
        Ok((r, _)) => {
            error(&seen, r.status().to_string());
            None
        }
        Err(e) => {
            error(
                &seen,
                if e.is_timeout() {
                    "timeout".to_owned()
                } else {
                    "connection".to_owned()
                },
            );
            None
        }
    };
    let Some((number, filed)) = number.filter(|_| probe) else {
        return;
    };
    // Looked for in the other instance's queue (newest first) until it is there.
    while filed.elapsed() < Duration::from_secs(10) {
        let page = client
            .get(format!("{other}/api/v1/agent/requests?limit=50"))
            .bearer_auth(&token)
            .send()
            .await;
        if let Ok(r) = page
            && let Ok(text) = r.text().await
            && text.contains(&number)
        {
            if let Ok(mut s) = seen.lock() {
                s.queue_ms.push(filed.elapsed().as_secs_f64() * 1000.0);
            }
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    error(&seen, "never in the other queue".to_owned());
}

fn error(seen: &Arc<Mutex<Seen>>, what: String) {
    tally(seen, |s| &mut s.errors, what);
}

fn tally(seen: &Arc<Mutex<Seen>>, map: fn(&mut Seen) -> &mut HashMap<String, usize>, what: String) {
    if let Ok(mut s) = seen.lock() {
        *map(&mut s).entry(what).or_default() += 1;
    }
}

/// The agent's event stream on one instance: when each request's `created` event arrives.
async fn listen(client: reqwest::Client, base: String, token: String, seen: Arc<Mutex<Seen>>) {
    loop {
        let Ok(r) = client
            .get(format!("{base}/api/v1/agent/events"))
            .bearer_auth(&token)
            .timeout(Duration::from_secs(3600))
            .send()
            .await
        else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        let mut body = r.bytes_stream();
        let mut buffer = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                if event
                    .lines()
                    .filter_map(|l| l.strip_prefix("event:"))
                    .any(|e| e.trim() == "resync")
                    && let Ok(mut s) = seen.lock()
                {
                    s.resyncs += 1;
                }
                let Some(data) = event.lines().find_map(|l| l.strip_prefix("data:")) else {
                    continue;
                };
                if let Ok(v) = serde_json::from_str::<Value>(data.trim())
                    && v["kind"] == "created"
                    && let Some(number) = v["number"].as_str()
                    && let Ok(mut s) = seen.lock()
                {
                    s.streamed
                        .entry(number.to_owned())
                        .or_insert_with(Instant::now);
                }
            }
        }
    }
}

/// A 12-megapixel-like photo as phones send them, re-encoded small enough to upload quickly:
/// 1600 × 1200, textured so that it compresses like a real scene.
fn phone_photo() -> Result<Vec<u8>, Error> {
    let mut rng = rand::rng();
    let image = image::RgbImage::from_fn(1600, 1200, |x, y| {
        let n: u8 = rng.random_range(0..40);
        image::Rgb([
            ((x / 7) as u8).wrapping_add(n),
            ((y / 5) as u8).wrapping_add(n),
            (((x + y) / 9) as u8).wrapping_add(n),
        ])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image).write_to(&mut out, image::ImageFormat::Jpeg)?;
    Ok(out.into_inner())
}

/// Each server's growth from the warm-up (the mean of the second minute) to the end (the mean
/// of the last minute).
fn memory_growth(samples: &[Vec<u64>]) -> String {
    let servers = samples.first().map_or(0, Vec::len);
    if samples.len() < 18 {
        return "memory growth: run for at least 3 minutes to measure it".to_owned();
    }
    let mean = |rows: &[Vec<u64>], i: usize| {
        rows.iter().map(|r| r[i] as f64).sum::<f64>() / rows.len() as f64
    };
    let growth: Vec<String> = (0..servers)
        .map(|i| {
            let warm = mean(&samples[6..12], i);
            let end = mean(&samples[samples.len() - 6..], i);
            format!(
                "{warm:.0} → {end:.0} MiB ({:+.1} %)",
                100.0 * (end - warm) / warm
            )
        })
        .collect();
    format!(
        "memory after warm-up (2nd minute → last minute): {}",
        growth.join(", ")
    )
}

/// The servers' resident memory (MiB) every 10 s, from `/proc`.
async fn sample_memory(seconds: u64) -> Vec<Vec<u64>> {
    let pids: Vec<String> = std::env::var("GUICHET_BENCH_PIDS")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let mut samples = Vec::new();
    if pids.is_empty() {
        return samples;
    }
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(seconds) {
        samples.push(
            pids.iter()
                .map(|pid| {
                    std::fs::read_to_string(format!("/proc/{pid}/status"))
                        .ok()
                        .and_then(|s| {
                            s.lines()
                                .find_map(|l| l.strip_prefix("VmRSS:"))
                                .and_then(|v| {
                                    v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()
                                })
                        })
                        .unwrap_or(0)
                        / 1024
                })
                .collect(),
        );
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    samples
}
