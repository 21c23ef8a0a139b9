//! A small Prometheus registry: HTTP requests by route and status with a latency histogram,
//! and the intake counters that matter to operators. Rendered in the text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default)]
pub struct Metrics {
    http: Mutex<BTreeMap<(String, String, u16), RouteStats>>,
    reports_created: AtomicU64,
    reports_deduplicated: AtomicU64,
    photos_processed: AtomicU64,
    photos_quick: AtomicU64,
    photos_refused_busy: AtomicU64,
}

#[derive(Debug, Default, Clone)]
struct RouteStats {
    count: u64,
    sum_secs: f64,
    buckets: [u64; BUCKETS.len()],
}

impl Metrics {
    pub fn observe_http(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if let Ok(mut map) = self.http.lock() {
            let stats = map
                .entry((method.to_owned(), route.to_owned(), status))
                .or_default();
            stats.count += 1;
            stats.sum_secs += secs;
            for (i, bound) in BUCKETS.iter().enumerate() {
                if secs <= *bound {
                    stats.buckets[i] += 1;
                }
            }
        }
    }

    pub fn report_stored(&self, deduplicated: bool) {
        let counter = if deduplicated {
            &self.reports_deduplicated
        } else {
            &self.reports_created
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn photo_processed(&self, effort: crate::photos::Effort) {
        self.photos_processed.fetch_add(1, Ordering::Relaxed);
        if effort == crate::photos::Effort::Quick {
            self.photos_quick.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn photo_busy(&self) {
        self.photos_refused_busy.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text format; `photos_in_flight` and `db_connections` are sampled by the
    /// caller at scrape time.
    pub fn render(&self, photos_in_flight: usize, db_connections: u32) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP guichet_http_requests_total HTTP requests handled."
        );
        let _ = writeln!(out, "# TYPE guichet_http_requests_total counter");
        let snapshot = self.http.lock().map(|m| m.clone()).unwrap_or_default();
        for ((method, route, status), s) in &snapshot {
            let _ = writeln!(
                out,
                "guichet_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
                s.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP guichet_http_request_duration_seconds Time to answer."
        );
        let _ = writeln!(
            out,
            "# TYPE guichet_http_request_duration_seconds histogram"
        );
        for ((method, route, status), s) in &snapshot {
            let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
            for (bound, n) in BUCKETS.iter().zip(s.buckets) {
                let _ = writeln!(
                    out,
                    "guichet_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "guichet_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "guichet_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum_secs
            );
            let _ = writeln!(
                out,
                "guichet_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        let counters = [
            (
                "guichet_reports_new_request_total",
                "Reports that created a request.",
                &self.reports_created,
            ),
            (
                "guichet_reports_co_report_total",
                "Reports attached to an existing request.",
                &self.reports_deduplicated,
            ),
            (
                "guichet_photos_processed_total",
                "Photos decoded, resized and encoded.",
                &self.photos_processed,
            ),
            (
                "guichet_photos_quick_total",
                "Photos encoded at the quick effort because others were waiting.",
                &self.photos_quick,
            ),
            (
                "guichet_photos_refused_busy_total",
                "Photos refused with 503 because processing was saturated.",
                &self.photos_refused_busy,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        }
        let _ = writeln!(
            out,
            "# HELP guichet_photos_in_flight Photos being processed or waiting."
        );
        let _ = writeln!(
            out,
            "# TYPE guichet_photos_in_flight gauge\nguichet_photos_in_flight {photos_in_flight}"
        );
        let _ = writeln!(
            out,
            "# HELP guichet_db_connections Open database connections."
        );
        let _ = writeln!(
            out,
            "# TYPE guichet_db_connections gauge\nguichet_db_connections {db_connections}"
        );
        out
    }
}

/// What the metrics read from the database and the instance's own state at each scrape.
#[derive(Debug, Default)]
pub struct Sampled {
    pub backlog: crate::db::outbox::Backlog,
    pub backup_age_secs: Option<f64>,
    pub index_size: usize,
    pub index_listening: bool,
    pub index_reloads: u64,
    pub db_idle: usize,
}

/// The sampled gauges in the Prometheus text format (see docs/operations.md for alerts).
pub fn render_sampled(s: &Sampled) -> String {
    let b = &s.backlog;
    let gauges: [(&str, &str, String); 10] = [
        (
            "guichet_outbox_jobs_due",
            "Outbox jobs (e-mails…) due and not done.",
            b.jobs_due.to_string(),
        ),
        (
            "guichet_outbox_oldest_due_seconds",
            "Seconds the oldest due outbox job has waited.",
            format!("{:.0}", b.jobs_oldest_secs),
        ),
        (
            "guichet_outbox_failed_last_day",
            "Outbox jobs given up in the last 24 hours.",
            b.jobs_failed_day.to_string(),
        ),
        (
            "guichet_webhook_deliveries_pending",
            "Webhook deliveries not yet accepted.",
            b.deliveries_pending.to_string(),
        ),
        (
            "guichet_webhook_oldest_pending_seconds",
            "Seconds the oldest pending webhook delivery has waited.",
            format!("{:.0}", b.deliveries_oldest_secs),
        ),
        (
            "guichet_webhook_deliveries_failed_last_day",
            "Webhook deliveries given up in the last 24 hours.",
            b.deliveries_failed_day.to_string(),
        ),
        (
            "guichet_incident_index_size",
            "Open incidents in this instance's index.",
            s.index_size.to_string(),
        ),
        (
            "guichet_incident_index_listening",
            "1 while this instance hears changes made by the others.",
            u8::from(s.index_listening).to_string(),
        ),
        (
            "guichet_incident_index_reloads",
            "Whole reloads of the index since start (one per lost connection).",
            s.index_reloads.to_string(),
        ),
        (
            "guichet_db_connections_idle",
            "Idle database connections of this instance's pool.",
            s.db_idle.to_string(),
        ),
    ];
    let mut out = String::new();
    for (name, help, value) in gauges {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    }
    out.push_str(&render_backup_age(s.backup_age_secs));
    out
}

/// The age of the last backup (`guichet backup`), read from the database at each scrape so that
/// every instance tells the same; `+Inf` when none was ever taken, so that the alert fires.
fn render_backup_age(age_secs: Option<f64>) -> String {
    let value = age_secs.map_or_else(|| "+Inf".to_owned(), |s| format!("{s:.0}"));
    format!(
        "# HELP guichet_backup_age_seconds Seconds since the last backup.\n\
         # TYPE guichet_backup_age_seconds gauge\nguichet_backup_age_seconds {value}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.observe_http("GET", "/healthz", 200, Duration::from_micros(500));
        m.observe_http("GET", "/healthz", 200, Duration::from_millis(30));
        let text = m.render(0, 1);
        assert!(text.contains(
            "guichet_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ));
        assert!(text.contains("route=\"/healthz\",status=\"200\",le=\"0.001\"} 1"));
        assert!(text.contains("route=\"/healthz\",status=\"200\",le=\"0.05\"} 2"));
        assert!(text.contains("le=\"+Inf\"} 2"));
    }
}
