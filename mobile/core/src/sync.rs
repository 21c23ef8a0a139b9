//! The upload client: sends what the outbox holds, one entry at a time, oldest first, following
//! the client sync policy of `docs/sync.md` (the PWA's `shared/web/src/sync-policy.ts` has the
//! same constants and table, and its tests check the same delays).
//!
//! Exactly-once rests on the server: every entry carries the client id chosen when it was
//! queued, and the server answers a repeat with 200 and the first receipt. So the client may
//! always retry when in doubt (a timeout, a connection cut after the server committed), and
//! only gives up on an answer that says the entry itself is wrong (a 4xx other than
//! 408/425/429).

use std::time::Duration;

use guichet_shared::api::ReportReceipt;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::multipart::{Form, Part};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::outbox::{EntryKind, Job, Outbox, OutboxError, QueuedFile, ServerFieldError};
use crate::photo;

/// How long one request may take: a few photos over a slow 3G link.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// How long an entry being sent is kept from other sync rounds: longer than any request.
const CLAIM: Duration = Duration::from_secs(180);

/// The step after the first failed attempt; doubled after each further failure.
pub const RETRY_FIRST: Duration = Duration::from_secs(5);
/// The longest wait, whether from back-off or from `Retry-After`.
pub const RETRY_MAX: Duration = Duration::from_secs(15 * 60);
/// Each back-off wait is the step × a factor in [1 − `RETRY_JITTER`, 1 + `RETRY_JITTER`].
pub const RETRY_JITTER: f64 = 0.25;

/// What an answer means for an outbox entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The server has it: 201, or 200 for a repeat (given a receipt, see [`SyncClient`]).
    Stored,
    /// Send it again later.
    Retry,
    /// The server read the entry and refuses it; sending it again would get the same answer.
    Refused,
}

impl Verdict {
    /// The policy's table, by status alone.
    pub fn of(status: StatusCode) -> Verdict {
        match status.as_u16() {
            200..=299 => Verdict::Stored,
            408 | 425 | 429 => Verdict::Retry,
            400..=499 => Verdict::Refused,
            _ => Verdict::Retry,
        }
    }
}

/// When to try again after a retried failure. The default is the policy's; tests shorten it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The step after the first failed attempt ([`RETRY_FIRST`]), and the shortest
    /// `Retry-After` honoured.
    pub first: Duration,
    /// The longest wait ([`RETRY_MAX`]).
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first: RETRY_FIRST,
            max: RETRY_MAX,
        }
    }
}

impl RetryPolicy {
    /// The back-off after `attempts` failed attempts (1 = the first failure): the step
    /// `first × 2^(attempts − 1)` capped at `max`, times the entry's [`jitter_factor`], rounded
    /// to the millisecond and never above `max`.
    pub fn delay(&self, attempts: u32, client_id: Uuid) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        let step = self.first.saturating_mul(1u32 << doublings).min(self.max);
        let millis = (step.as_millis() as f64 * jitter_factor(client_id)).round();
        Duration::from_millis(millis as u64).min(self.max)
    }

    /// The wait before the next attempt after a retried failure: the server's `Retry-After`
    /// when it gave one, bounded to `[first, max]` (a `Retry-After: 0` loop would drain the
    /// battery), without jitter; else the back-off.
    pub fn wait(&self, attempts: u32, client_id: Uuid, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(d) => d.max(self.first).min(self.max),
            None => self.delay(attempts, client_id),
        }
    }
}

/// The jitter factor of an entry, from the last 16 bits of its client id: random across phones
/// (client ids are random UUIDs), so that phones queued during one outage do not all come back
/// in the same second, and fixed for one entry.
pub fn jitter_factor(client_id: Uuid) -> f64 {
    let b = client_id.as_bytes();
    let x = f64::from(u16::from_be_bytes([b[14], b[15]]));
    1.0 - RETRY_JITTER + 2.0 * RETRY_JITTER * (x / 65535.0)
}

/// What one [`SyncClient::sync_once`] round did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    /// Reports and "me too"s accepted by the server (201, or 200 for a repeat).
    pub sent: Vec<Sent>,
    /// Démarche filings accepted by the server, with their acknowledgement.
    pub filed: Vec<Filed>,
    /// Refused for good, with the problem `code`.
    pub failed: Vec<Failed>,
    /// Entries whose attempt failed for a passing reason and got a later attempt time.
    pub retrying: Vec<Uuid>,
    /// Entries still pending after the round.
    pub pending: usize,
    /// When the app should call `sync_once` again: the earliest due time, or after a passing
    /// failure, the retry time of the entry that met it (the others would meet it too).
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Sent {
    pub client_id: Uuid,
    pub receipt: ReportReceipt,
}

/// A démarche filing the server accepted: its acknowledgement (`POST /requests`' answer).
#[derive(Debug, Clone, Serialize)]
pub struct Filed {
    pub client_id: Uuid,
    pub receipt: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct Failed {
    pub client_id: Uuid,
    pub code: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Outbox(#[from] OutboxError),
}

/// The result of one attempt, as the outbox must record it.
#[derive(Debug)]
enum Outcome {
    Sent(Stored),
    /// Worth trying again: no network, timeout, 5xx, 408, 425, 429, or an answer that is not
    /// ours (a captive portal's 200 page).
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    /// The server read the entry and refuses it; sending it again would get the same answer.
    Refused {
        code: String,
        detail: String,
        errors: Vec<ServerFieldError>,
    },
}

/// What the server answered for an entry it stored.
#[derive(Debug)]
enum Stored {
    // Boxed: a receipt (with its acknowledgement) is far larger than the other outcomes.
    Report(Box<ReportReceipt>),
    Request(serde_json::Value),
}

pub struct SyncClient {
    /// The server's base URL, e.g. `https://guichet.example.fr` (no trailing `/api`).
    pub base_url: String,
    pub http: reqwest::Client,
    pub retry: RetryPolicy,
}

impl SyncClient {
    /// A client with its own HTTP connection pool, [`REQUEST_TIMEOUT`] and the default
    /// [`RetryPolicy`].
    pub fn new(base_url: impl Into<String>) -> Result<SyncClient, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        Ok(Self::with_client(base_url, http))
    }

    pub fn with_client(base_url: impl Into<String>, http: reqwest::Client) -> SyncClient {
        SyncClient {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            http,
            retry: RetryPolicy::default(),
        }
    }

    /// Sends every due entry, oldest first. The round stops at the first transient failure:
    /// with no network or an unwell server, the next entries would fail the same way, and a
    /// busy server is better left alone until its `Retry-After`.
    pub async fn sync_once(&self, outbox: &Outbox) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        let mut stopped_until = None;
        loop {
            let now = OffsetDateTime::now_utc();
            let Some(job) = outbox.claim_next(now, now + CLAIM)? else {
                break;
            };
            let (client_id, attempts) = (job.client_id, job.attempts);
            match self.send(job).await {
                Outcome::Sent(Stored::Report(receipt)) => {
                    outbox.mark_sent(client_id, &to_json(client_id, &*receipt)?)?;
                    report.sent.push(Sent {
                        client_id,
                        receipt: *receipt,
                    });
                }
                Outcome::Sent(Stored::Request(receipt)) => {
                    outbox.mark_sent(client_id, &to_json(client_id, &receipt)?)?;
                    report.filed.push(Filed { client_id, receipt });
                }
                Outcome::Refused {
                    code,
                    detail,
                    errors,
                } => {
                    tracing::warn!(%client_id, %code, %detail, "outbox entry refused");
                    outbox.mark_failed(client_id, &code, &detail, &errors)?;
                    report.failed.push(Failed { client_id, code });
                }
                Outcome::Retry { error, retry_after } => {
                    let delay = self.retry.wait(attempts, client_id, retry_after);
                    tracing::info!(%client_id, attempts, ?delay, %error, "outbox entry will be retried");
                    let at = OffsetDateTime::now_utc() + delay;
                    outbox.schedule_retry(client_id, &error, at)?;
                    report.retrying.push(client_id);
                    stopped_until = Some(at);
                    break;
                }
            }
        }
        report.pending = outbox.pending()?.len();
        report.next_attempt_at = match (outbox.next_due()?, stopped_until) {
            (Some(due), Some(until)) => Some(due.max(until)),
            (due, _) => due,
        };
        Ok(report)
    }

    async fn send(&self, job: Job) -> Outcome {
        let kind = job.kind;
        let request = match job.kind {
            EntryKind::Report => match report_form(job.payload, job.photos) {
                Ok(form) => self
                    .http
                    .post(format!("{}/api/v1/reports", self.base_url))
                    .multipart(form),
                Err(e) => {
                    return Outcome::Retry {
                        error: describe(&e),
                        retry_after: None,
                    };
                }
            },
            EntryKind::Support => {
                let number = job.target.as_deref().unwrap_or_default();
                // The number was checked at enqueue to be letters, digits and dashes only.
                self.http
                    .post(format!(
                        "{}/api/v1/requests/{number}/support",
                        self.base_url
                    ))
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(job.payload)
            }
            EntryKind::Request => {
                let url = format!("{}/api/v1/requests", self.base_url);
                let request = if job.files.is_empty() {
                    self.http
                        .post(url)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(job.payload)
                } else {
                    match request_form(job.payload, job.files) {
                        Ok(form) => self.http.post(url).multipart(form),
                        Err(e) => {
                            return Outcome::Retry {
                                error: describe(&e),
                                retry_after: None,
                            };
                        }
                    }
                };
                match job.auth_token {
                    Some(token) => request.bearer_auth(token),
                    None => request,
                }
            }
        };
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                return Outcome::Retry {
                    error: describe(&e),
                    retry_after: None,
                };
            }
        };
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return Outcome::Retry {
                    error: describe(&e),
                    retry_after,
                };
            }
        };
        classify(kind, status, retry_after, &body)
    }
}

fn to_json(client_id: Uuid, receipt: &impl Serialize) -> Result<String, OutboxError> {
    serde_json::to_string(receipt).map_err(|e| OutboxError::Corrupt(client_id, e.to_string()))
}

/// The multipart body of `POST /api/v1/requests`: the `request` JSON, then one part per file,
/// named after its form field.
fn request_form(payload: String, files: Vec<QueuedFile>) -> reqwest::Result<Form> {
    let mut form = Form::new().part("request", Part::text(payload).mime_str("application/json")?);
    for f in files {
        form = form.part(f.field, Part::bytes(f.bytes).file_name(f.name));
    }
    Ok(form)
}

/// The multipart body of `POST /api/v1/reports`: the `report` JSON, then one `photo` part per
/// photo. The server reads formats from the bytes; the types here are for proxies and logs.
fn report_form(payload: String, photos: Vec<Vec<u8>>) -> reqwest::Result<Form> {
    let mut form = Form::new().part("report", Part::text(payload).mime_str("application/json")?);
    for (i, bytes) in photos.into_iter().enumerate() {
        let mime = photo::sniff(&bytes).map_or("application/octet-stream", |f| f.mime());
        let part = Part::bytes(bytes)
            .file_name(format!("photo-{}", i + 1))
            .mime_str(mime)?;
        form = form.part("photo", part);
    }
    Ok(form)
}

/// Decides what an answer means for the entry.
fn classify(
    kind: EntryKind,
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Outcome {
    let verdict = Verdict::of(status);
    if verdict == Verdict::Stored {
        let stored = match kind {
            EntryKind::Report | EntryKind::Support => serde_json::from_slice::<ReportReceipt>(body)
                .map(|r| Stored::Report(Box::new(r)))
                .map_err(|e| e.to_string()),
            // A filing's acknowledgement is ours when it names the request it opened.
            EntryKind::Request => serde_json::from_slice::<serde_json::Value>(body)
                .map_err(|e| e.to_string())
                .and_then(|v| match v.get("request_number").and_then(|n| n.as_str()) {
                    Some(_) => Ok(Stored::Request(v)),
                    None => Err("no request number".to_owned()),
                }),
        };
        return match stored {
            Ok(stored) => Outcome::Sent(stored),
            // A hotel or station Wi-Fi answers 200 with its login page: that is not the
            // server's receipt, so the report has not arrived yet.
            Err(e) => Outcome::Retry {
                error: format!("HTTP {status} without a receipt: {e}"),
                retry_after,
            },
        };
    }
    let problem = serde_json::from_slice::<serde_json::Value>(body).ok();
    let text = |key: &str| {
        problem
            .as_ref()
            .and_then(|p| p.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let detail = text("detail")
        .or_else(|| text("title"))
        .unwrap_or_else(|| status.to_string());
    if verdict == Verdict::Retry {
        return Outcome::Retry {
            error: format!("HTTP {status}: {detail}"),
            retry_after,
        };
    }
    let errors = problem
        .as_ref()
        .and_then(|p| p.get("errors"))
        .and_then(|e| serde_json::from_value::<Vec<ServerFieldError>>(e.clone()).ok())
        .unwrap_or_default();
    Outcome::Refused {
        code: text("code").unwrap_or_else(|| format!("http-{}", status.as_u16())),
        detail,
        errors,
    }
}

/// `Retry-After` in seconds (what the server sends) or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let wait = at - OffsetDateTime::now_utc();
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// The error and its causes in one line: reqwest's top-level message alone ("error sending
/// request") does not tell a refused connection from a timeout.
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client id ending in the four hex digits `tail`, as in the test vectors of
    /// `docs/sync.md`.
    fn id(tail: &str) -> Uuid {
        format!("3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f{tail}")
            .parse()
            .unwrap()
    }

    fn millis(d: Duration) -> u128 {
        d.as_millis()
    }

    #[test]
    fn the_constants_are_the_documented_ones() {
        assert_eq!(RETRY_FIRST, Duration::from_secs(5));
        assert_eq!(RETRY_MAX, Duration::from_secs(900));
        assert!((RETRY_JITTER - 0.25).abs() < f64::EPSILON);
        assert_eq!(
            RetryPolicy::default(),
            RetryPolicy {
                first: RETRY_FIRST,
                max: RETRY_MAX
            }
        );
    }

    #[test]
    fn the_status_table_is_the_documented_one() {
        use Verdict::{Refused, Retry, Stored};
        let table = [
            (200, Stored),
            (201, Stored),
            (100, Retry),
            (304, Retry),
            (408, Retry),
            (425, Retry),
            (429, Retry),
            (500, Retry),
            (501, Retry),
            (502, Retry),
            (503, Retry),
            (504, Retry),
            (400, Refused),
            (401, Refused),
            (403, Refused),
            (404, Refused),
            (409, Refused),
            (413, Refused),
            (415, Refused),
            (422, Refused),
        ];
        for (status, verdict) in table {
            assert_eq!(
                Verdict::of(StatusCode::from_u16(status).unwrap()),
                verdict,
                "HTTP {status}"
            );
        }
    }

    #[test]
    fn back_off_doubles_from_five_seconds_up_to_the_cap_jittered_by_the_client_id() {
        let policy = RetryPolicy::default();
        let attempts = [1, 2, 6, 8, 9, 10];
        // The test vectors of docs/sync.md, also asserted by the PWA's tests.
        let vectors: [(&str, [u128; 6]); 4] = [
            ("0000", [3_750, 7_500, 120_000, 480_000, 675_000, 675_000]),
            ("1a2b", [4_006, 8_011, 128_178, 512_710, 720_999, 720_999]),
            ("8000", [5_000, 10_000, 160_001, 640_002, 900_000, 900_000]),
            ("ffff", [6_250, 12_500, 200_000, 800_000, 900_000, 900_000]),
        ];
        for (tail, delays) in vectors {
            let got = attempts.map(|n| millis(policy.delay(n, id(tail))));
            assert_eq!(got, delays, "…{tail}");
        }
        // Never a zero attempt count, never past the cap.
        assert_eq!(policy.delay(0, id("8000")), RETRY_FIRST);
        assert_eq!(policy.delay(u32::MAX, id("ffff")), RETRY_MAX);
    }

    #[test]
    fn the_jitter_stays_within_a_quarter_of_the_step_and_under_the_cap() {
        let policy = RetryPolicy::default();
        for x in (0..=0xffff_u32).step_by(0x0101) {
            let client_id = id(&format!("{x:04x}"));
            for n in 1..=12 {
                let step = millis(RETRY_FIRST.saturating_mul(1 << (n - 1)).min(RETRY_MAX));
                let d = millis(policy.delay(n, client_id));
                assert!(
                    d * 4 >= step * 3 && d * 4 <= step * 5,
                    "{client_id} n={n}: {d}"
                );
                assert!(d <= millis(RETRY_MAX), "{client_id} n={n}: {d}");
            }
        }
    }

    #[test]
    fn retry_after_replaces_the_back_off_bounded_and_without_jitter() {
        let policy = RetryPolicy::default();
        let client_id = id("ffff");
        let secs = Duration::from_secs;
        assert_eq!(policy.wait(1, client_id, Some(Duration::ZERO)), RETRY_FIRST);
        assert_eq!(policy.wait(1, client_id, Some(secs(1))), RETRY_FIRST);
        assert_eq!(policy.wait(1, client_id, Some(secs(30))), secs(30));
        assert_eq!(policy.wait(8, client_id, Some(secs(30))), secs(30));
        assert_eq!(policy.wait(1, client_id, Some(secs(3600))), RETRY_MAX);
        assert_eq!(policy.wait(3, client_id, None), policy.delay(3, client_id));
        assert_eq!(policy.wait(3, client_id, None), secs(25));
    }

    #[test]
    fn answers_are_classified() {
        let problem = |code: &str| {
            format!(r#"{{"type":"urn:guichet:problem:{code}","code":"{code}","detail":"why"}}"#)
        };
        assert!(matches!(
            classify(EntryKind::Report, StatusCode::UNPROCESSABLE_ENTITY, None, problem("unknown-category").as_bytes()),
            Outcome::Refused { code, detail, .. } if code == "unknown-category" && detail == "why"
        ));
        let refused = br#"{"code":"validation-failed","detail":"why","errors":[{"field":"data.items[1].quantity","code":"too-large","message":"at most 5"}]}"#;
        assert!(matches!(
            classify(EntryKind::Request, StatusCode::UNPROCESSABLE_ENTITY, None, refused),
            Outcome::Refused { code, errors, .. } if code == "validation-failed"
                && errors == [ServerFieldError { field: "data.items[1].quantity".into(), code: "too-large".into(), message: "at most 5".into() }]
        ));
        assert!(matches!(
            classify(EntryKind::Report, StatusCode::NOT_FOUND, None, b"<html>"),
            Outcome::Refused { code, .. } if code == "http-404"
        ));
        for status in [
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::REQUEST_TIMEOUT,
            StatusCode::TOO_EARLY,
            StatusCode::TOO_MANY_REQUESTS,
        ] {
            assert!(
                matches!(
                    classify(EntryKind::Report, status, Some(Duration::from_secs(3)), problem("server-busy").as_bytes()),
                    Outcome::Retry { retry_after: Some(d), .. } if d == Duration::from_secs(3)
                ),
                "{status}"
            );
        }
        let receipt = serde_json::json!({
            "request_number": "2026-SIG-000123",
            "tracking_code": "K7PX-2QMA",
            "status": "received",
            "phase": "received",
            "deduplicated": false,
            "report_count": 1,
            "photos": [],
            "received_at": "2026-03-02T10:00:00Z",
            "status_url": "/suivi/2026-SIG-000123",
        });
        let receipt = serde_json::to_vec(&receipt).unwrap();
        for status in [StatusCode::OK, StatusCode::CREATED] {
            assert!(
                matches!(classify(EntryKind::Report, status, None, &receipt), Outcome::Sent(Stored::Report(r)) if r.request_number == "2026-SIG-000123"),
                "{status}"
            );
            assert!(
                matches!(classify(EntryKind::Request, status, None, &receipt), Outcome::Sent(Stored::Request(r)) if r["request_number"] == "2026-SIG-000123"),
                "{status}"
            );
        }
        assert!(matches!(
            classify(
                EntryKind::Request,
                StatusCode::CREATED,
                None,
                br#"{"hello":"portal"}"#
            ),
            Outcome::Retry { .. }
        ));
        assert!(matches!(
            classify(
                EntryKind::Report,
                StatusCode::OK,
                None,
                b"<html>Welcome to the station Wi-Fi</html>"
            ),
            Outcome::Retry { .. }
        ));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(RETRY_AFTER, " 120 ".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(120)));
        let soon = (OffsetDateTime::now_utc() + Duration::from_secs(30))
            .format(&time::format_description::well_known::Rfc2822)
            .unwrap();
        headers.insert(RETRY_AFTER, soon.parse().unwrap());
        let wait = retry_after(&headers).unwrap();
        assert!(
            wait > Duration::from_secs(28) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        headers.insert(
            RETRY_AFTER,
            "Sun, 06 Nov 1994 08:49:37 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        for unreadable in ["soon", "-1", "1.5", ""] {
            headers.insert(RETRY_AFTER, unreadable.parse().unwrap());
            assert_eq!(retry_after(&headers), None, "{unreadable:?}");
        }
    }
}
