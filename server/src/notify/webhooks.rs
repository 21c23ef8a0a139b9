//! Signed webhooks: the event body, its signature, the fan-out to subscriptions and one
//! delivery attempt.
//!
//! A receiver checks `Guichet-Signature: t=<unix seconds>,v1=<hex>` by computing
//! HMAC-SHA256(secret, "<t>.<raw body>") and comparing in constant time, and refuses old
//! timestamps so that a captured request cannot be replayed later.

use std::sync::OnceLock;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use sqlx::PgConnection;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::config::NotifyConfig;
use crate::db::{self, DbError, webhooks::DeliveryTarget};

pub const REQUEST_CREATED: &str = "request.created";
pub const REQUEST_STATUS_CHANGED: &str = "request.status_changed";
pub const REQUEST_MERGED: &str = "request.merged";
pub const REQUEST_CLOSED: &str = "request.closed";

/// Every event type a subscription may ask for.
pub const EVENT_TYPES: [&str; 4] = [
    REQUEST_CREATED,
    REQUEST_STATUS_CHANGED,
    REQUEST_MERGED,
    REQUEST_CLOSED,
];

pub const HEADER_EVENT: &str = "guichet-event";
pub const HEADER_EVENT_ID: &str = "guichet-event-id";
pub const HEADER_TIMESTAMP: &str = "guichet-timestamp";
pub const HEADER_SIGNATURE: &str = "guichet-signature";

/// The hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes keys of any length, so this never fails.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The `Guichet-Signature` header value.
pub fn signature_header(secret: &str, timestamp: i64, body: &str) -> String {
    format!("t={timestamp},v1={}", signature(secret, timestamp, body))
}

/// The JSON body of one event. `data` holds public facts only (no contact, no name, no
/// internal status name or note), like everything webhooks see.
pub fn event_body(id: Uuid, event_type: &str, at: OffsetDateTime, data: Value) -> String {
    json!({
        "id": id,
        "type": event_type,
        "created_at": at.format(&Rfc3339).unwrap_or_default(),
        "data": data,
    })
    .to_string()
}

/// Records one event for every active subscription that wants its type, and schedules the
/// deliveries, all in the caller's transaction: an event exists if and only if what it
/// reports was committed.
pub async fn fan_out(
    tx: &mut PgConnection,
    cfg: &NotifyConfig,
    event_type: &str,
    request_id: Option<i64>,
    data: Value,
) -> Result<(), DbError> {
    let subscribers = db::webhooks::subscribers(tx, event_type).await?;
    if subscribers.is_empty() {
        return Ok(());
    }
    let event_id = Uuid::new_v4();
    let body = event_body(event_id, event_type, OffsetDateTime::now_utc(), data);
    for subscription_id in subscribers {
        let delivery_id = db::webhooks::insert_delivery(
            tx,
            &db::webhooks::NewDelivery {
                subscription_id,
                event_id,
                event_type,
                request_id,
                body: &body,
            },
        )
        .await?;
        db::outbox::enqueue_in_tx(
            tx,
            super::WEBHOOK_DELIVER,
            &json!({ "delivery_id": delivery_id }),
            time::Duration::ZERO,
            cfg.webhook_max_attempts,
        )
        .await?;
    }
    Ok(())
}

/// How one attempt went.
#[derive(Debug, PartialEq, Eq)]
pub enum Attempt {
    /// A 2xx answer.
    Delivered { status: u16 },
    /// Any other answer, or none (`status` is then `None`).
    Failed { status: Option<u16>, error: String },
}

/// One HTTP client for every delivery: it keeps connections to receivers open between
/// events and loads the root certificates once.
fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            // A redirect would send the signed body somewhere the subscription does not name.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Guichet-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default()
    })
}

/// POSTs a delivery's body to its subscription's URL, signed with the current time.
pub async fn post(target: &DeliveryTarget, timeout: Duration) -> Attempt {
    let timestamp = OffsetDateTime::now_utc().unix_timestamp();
    let answer = client()
        .post(&target.url)
        .timeout(timeout)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(HEADER_EVENT, &target.event_type)
        .header(HEADER_EVENT_ID, target.event_id.to_string())
        .header(HEADER_TIMESTAMP, timestamp.to_string())
        .header(
            HEADER_SIGNATURE,
            signature_header(&target.secret, timestamp, &target.body),
        )
        .body(target.body.clone())
        .send()
        .await;
    match answer {
        Ok(response) if response.status().is_success() => Attempt::Delivered {
            status: response.status().as_u16(),
        },
        Ok(response) => {
            let status = response.status();
            // A little of the answer helps the administrator see why; more is noise.
            let text = response.text().await.unwrap_or_default();
            let excerpt: String = text.chars().take(200).collect();
            Attempt::Failed {
                status: Some(status.as_u16()),
                error: format!("HTTP {status}: {excerpt}").trim_end().to_owned(),
            }
        }
        Err(e) => Attempt::Failed {
            status: None,
            error: describe(&e),
        },
    }
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    // The source chain names the actual cause (refused, DNS, TLS...).
    let mut text = format!("{kind}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Reference value computed with another HMAC implementation.
        let body = r#"{"id":"e","type":"request.created"}"#;
        assert_eq!(
            signature("whsec-test-secret-0123", 1_700_000_000, body),
            "d6965f4e40eadd546e72c8e4c06717eadcfa74c084da1aedadb8405e9eeeb3fb"
        );
        assert_eq!(
            signature_header("whsec-test-secret-0123", 1_700_000_000, body),
            "t=1700000000,v1=d6965f4e40eadd546e72c8e4c06717eadcfa74c084da1aedadb8405e9eeeb3fb"
        );
    }

    #[test]
    fn bodies_have_id_type_time_and_data() {
        let id = Uuid::new_v4();
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("time");
        let body = event_body(
            id,
            REQUEST_CREATED,
            at,
            json!({"number": "2026-SIG-000001"}),
        );
        let v: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(v["id"], id.to_string());
        assert_eq!(v["type"], "request.created");
        assert_eq!(v["created_at"], "2023-11-14T22:13:20Z");
        assert_eq!(v["data"]["number"], "2026-SIG-000001");
    }
}
