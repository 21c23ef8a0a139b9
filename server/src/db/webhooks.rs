//! Webhook subscriptions and the record of every delivery attempt.

use sqlx::{PgConnection, PgPool};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::DbError;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    pub description: String,
    pub created_at: OffsetDateTime,
    /// Deliveries still being tried, and those that failed for good.
    pub pending: i64,
    pub failed: i64,
}

pub struct NewSubscription<'a> {
    pub url: &'a str,
    pub secret: &'a str,
    pub events: &'a [String],
    pub description: &'a str,
}

pub async fn create(pool: &PgPool, s: &NewSubscription<'_>) -> Result<SubscriptionRow, DbError> {
    Ok(sqlx::query_as(
        "INSERT INTO webhook_subscriptions (url, secret, events, description)
         VALUES ($1, $2, $3, $4)
         RETURNING id, url, events, active, description, created_at,
                   0::bigint AS pending, 0::bigint AS failed",
    )
    .bind(s.url)
    .bind(s.secret)
    .bind(s.events)
    .bind(s.description)
    .fetch_one(pool)
    .await?)
}

const SUBSCRIPTION_COLUMNS: &str = "s.id, s.url, s.events, s.active, s.description, s.created_at,
        (SELECT count(*) FROM webhook_deliveries d
          WHERE d.subscription_id = s.id AND d.status = 'pending') AS pending,
        (SELECT count(*) FROM webhook_deliveries d
          WHERE d.subscription_id = s.id AND d.status = 'failed') AS failed";

pub async fn list(pool: &PgPool) -> Result<Vec<SubscriptionRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions s ORDER BY s.id"
    ))
    .fetch_all(pool)
    .await?)
}

pub async fn get(pool: &PgPool, id: i64) -> Result<Option<SubscriptionRow>, DbError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions s WHERE s.id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

/// Stops sending to a subscription; its deliveries stay readable. False if it does not exist.
pub async fn deactivate(pool: &PgPool, id: i64) -> Result<bool, DbError> {
    let done = sqlx::query("UPDATE webhook_subscriptions SET active = false WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The active subscriptions that want this event type.
pub async fn subscribers(tx: &mut PgConnection, event_type: &str) -> Result<Vec<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM webhook_subscriptions
          WHERE active AND events @> ARRAY[$1::text] ORDER BY id",
    )
    .bind(event_type)
    .fetch_all(tx)
    .await?)
}

pub struct NewDelivery<'a> {
    pub subscription_id: i64,
    pub event_id: Uuid,
    pub event_type: &'a str,
    pub request_id: Option<i64>,
    pub body: &'a str,
}

pub async fn insert_delivery(tx: &mut PgConnection, d: &NewDelivery<'_>) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO webhook_deliveries
                (subscription_id, event_id, event_type, request_id, body, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, now())
         RETURNING id",
    )
    .bind(d.subscription_id)
    .bind(d.event_id)
    .bind(d.event_type)
    .bind(d.request_id)
    .bind(d.body)
    .fetch_one(tx)
    .await?)
}

/// A delivery with what is needed to send it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryTarget {
    pub id: i64,
    pub subscription_id: i64,
    pub url: String,
    pub secret: String,
    pub subscription_active: bool,
    pub event_id: Uuid,
    pub event_type: String,
    pub request_id: Option<i64>,
    pub body: String,
    pub status: String,
}

pub async fn delivery_target(pool: &PgPool, id: i64) -> Result<Option<DeliveryTarget>, DbError> {
    Ok(sqlx::query_as(
        "SELECT d.id, d.subscription_id, s.url, s.secret, s.active AS subscription_active,
                d.event_id, d.event_type, d.request_id, d.body, d.status
           FROM webhook_deliveries d
           JOIN webhook_subscriptions s ON s.id = d.subscription_id
          WHERE d.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

pub async fn record_delivered(
    pool: &PgPool,
    id: i64,
    attempts: i32,
    http_status: u16,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE webhook_deliveries
            SET status = 'delivered', attempts = $2, last_status = $3, last_error = NULL,
                next_attempt_at = NULL, delivered_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .bind(attempts)
    .bind(i32::from(http_status))
    .execute(pool)
    .await?;
    Ok(())
}

/// Records a failed attempt: tried again after `retry_in`, or failed for good when `None`.
pub async fn record_failure(
    pool: &PgPool,
    id: i64,
    attempts: i32,
    http_status: Option<u16>,
    error: &str,
    retry_in: Option<Duration>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE webhook_deliveries
            SET attempts = $2, last_status = $3, last_error = $4,
                status = CASE WHEN $5::float8 IS NULL THEN 'failed' ELSE 'pending' END,
                next_attempt_at = now() + make_interval(secs => $5::float8),
                failed_at = CASE WHEN $5::float8 IS NULL THEN now() END
          WHERE id = $1",
    )
    .bind(id)
    .bind(attempts)
    .bind(http_status.map(i32::from))
    .bind(error)
    .bind(retry_in.map(|d| d.as_seconds_f64()))
    .execute(pool)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub request_number: Option<String>,
    pub status: String,
    pub attempts: i32,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<OffsetDateTime>,
    pub delivered_at: Option<OffsetDateTime>,
    pub failed_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// The deliveries of a subscription, newest first, optionally of one status.
pub async fn deliveries(
    pool: &PgPool,
    subscription_id: i64,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT d.id, d.event_id, d.event_type, r.number AS request_number, d.status,
                d.attempts, d.last_status, d.last_error, d.next_attempt_at, d.delivered_at,
                d.failed_at, d.created_at
           FROM webhook_deliveries d
           LEFT JOIN requests r ON r.id = d.request_id
          WHERE d.subscription_id = $1 AND ($2::text IS NULL OR d.status = $2)
          ORDER BY d.id DESC
          LIMIT $3",
    )
    .bind(subscription_id)
    .bind(status)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
