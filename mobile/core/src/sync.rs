//! The upload client: sends what the outbox holds, one entry at a time, oldest first.
//!
//! Exactly-once rests on the server: every entry carries the client id chosen when it was
//! queued, and the server answers a repeat with 200 and the first receipt. So the client may
//! always retry when in doubt (a timeout, a connection cut after the server committed), and
//! only gives up on an answer that says the entry itself is wrong (a 4xx other than 408/429).

use std::time::Duration;

use guichet_shared::api::ReportReceipt;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::multipart::{Form, Part};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::outbox::{EntryKind, Job, Outbox, OutboxError};
use crate::photo;

/// How long one request may take: a few photos over a slow 3G link.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// How long an entry being sent is kept from other sync rounds: longer than any request.
const CLAIM: Duration = Duration::from_secs(180);

/// When to try again after a transient failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Delay after the first failed attempt; doubled after each further failure.
    pub first: Duration,
    /// Ceiling of the delay, and of a server's `Retry-After`.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first: Duration::from_secs(5),
            max: Duration::from_secs(15 * 60),
        }
    }
}

impl RetryPolicy {
    /// The delay after `attempts` failed attempts (1 = the first failure): `first`, doubling,
    /// capped at `max`, plus up to 20 % derived from the client id, so that phones queued
    /// during one outage do not all come back in the same second.
    pub fn delay(&self, attempts: u32, client_id: Uuid) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        let base = self.first.saturating_mul(1u32 << doublings).min(self.max);
        let spread = f64::from(client_id.as_bytes()[15]) / 255.0 * 0.2;
        base.mul_f64(1.0 + spread).min(self.max)
    }
}

/// What one [`SyncClient::sync_once`] round did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    /// Accepted by the server (201, or 200 for a repeat).
    pub sent: Vec<Sent>,
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
    Sent(ReportReceipt),
    /// Worth trying again: no network, timeout, 5xx, 408, 429, or an answer that is not ours
    /// (a captive portal's 200 page).
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    /// The server read the entry and refuses it; sending it again would get the same answer.
    Refused {
        code: String,
        detail: String,
    },
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
                Outcome::Sent(receipt) => {
                    outbox.mark_sent(client_id, &receipt)?;
                    report.sent.push(Sent { client_id, receipt });
                }
                Outcome::Refused { code, detail } => {
                    tracing::warn!(%client_id, %code, %detail, "outbox entry refused");
                    outbox.mark_failed(client_id, &code, &detail)?;
                    report.failed.push(Failed { client_id, code });
                }
                Outcome::Retry { error, retry_after } => {
                    // The server's Retry-After wins, but never below the first back-off
                    // step (a `Retry-After: 0` loop would drain the battery) nor above the cap.
                    let delay = retry_after
                        .map(|d| d.clamp(self.retry.first, self.retry.max))
                        .unwrap_or_else(|| self.retry.delay(attempts, client_id));
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
        classify(status, retry_after, &body)
    }
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
fn classify(status: StatusCode, retry_after: Option<Duration>, body: &[u8]) -> Outcome {
    if status.is_success() {
        return match serde_json::from_slice::<ReportReceipt>(body) {
            Ok(receipt) => Outcome::Sent(receipt),
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
    let transient = status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || !status.is_client_error();
    if transient {
        return Outcome::Retry {
            error: format!("HTTP {status}: {detail}"),
            retry_after,
        };
    }
    Outcome::Refused {
        code: text("code").unwrap_or_else(|| format!("http-{}", status.as_u16())),
        detail,
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

    #[test]
    fn back_off_doubles_from_five_seconds_up_to_fifteen_minutes() {
        let policy = RetryPolicy::default();
        let id = Uuid::from_bytes([0; 16]); // no spread
        let secs: Vec<u64> = (1..=10).map(|n| policy.delay(n, id).as_secs()).collect();
        assert_eq!(secs, [5, 10, 20, 40, 80, 160, 320, 640, 900, 900]);
        assert_eq!(policy.delay(u32::MAX, id), policy.max);
        let spread = policy.delay(1, Uuid::from_bytes([255; 16]));
        assert_eq!(spread, Duration::from_secs(6));
    }

    #[test]
    fn answers_are_classified() {
        let problem = |code: &str| {
            format!(r#"{{"type":"urn:guichet:problem:{code}","code":"{code}","detail":"why"}}"#)
        };
        assert!(matches!(
            classify(StatusCode::UNPROCESSABLE_ENTITY, None, problem("unknown-category").as_bytes()),
            Outcome::Refused { code, detail } if code == "unknown-category" && detail == "why"
        ));
        assert!(matches!(
            classify(StatusCode::NOT_FOUND, None, b"<html>"),
            Outcome::Refused { code, .. } if code == "http-404"
        ));
        for status in [
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::REQUEST_TIMEOUT,
            StatusCode::TOO_MANY_REQUESTS,
        ] {
            assert!(
                matches!(
                    classify(status, Some(Duration::from_secs(3)), problem("server-busy").as_bytes()),
                    Outcome::Retry { retry_after: Some(d), .. } if d == Duration::from_secs(3)
                ),
                "{status}"
            );
        }
        assert!(matches!(
            classify(
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
        headers.insert(
            RETRY_AFTER,
            "Sun, 06 Nov 1994 08:49:37 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }
}
