//! The outbox jobs of notices: sending one e-mail, attempting one webhook delivery.

use guichet_shared::timeline::EventKind;
use serde::Deserialize;
use serde_json::json;

use super::mail::{self, EmailJob, SendError, Sent};
use super::webhooks::{self, Attempt};
use crate::db::{self, events::Actor, outbox::Job};
use crate::outbox::{JobError, retry_delay};
use crate::state::AppState;

/// `email.send`: one e-mail; a `notification_sent` event on its request once the SMTP server
/// took it.
pub async fn send_email(state: &AppState, job: &Job) -> Result<(), JobError> {
    let email: EmailJob = serde_json::from_value(job.payload.clone())
        .map_err(|e| JobError::GiveUp(format!("bad payload: {e}")))?;
    match mail::send(&state.config.notify, &email, job.id).await {
        Ok(Sent::Smtp) => {
            if let Some(request_id) = email.request_id {
                let data = json!({ "to": email.to, "subject": email.subject });
                db::events::insert(
                    &state.db,
                    request_id,
                    EventKind::NotificationSent,
                    Actor::System,
                    &data,
                )
                .await
                .map_err(|e| {
                    // Sent but not recorded: retrying would send it twice.
                    JobError::GiveUp(format!("sent, but the event was not recorded: {e}"))
                })?;
            }
            Ok(())
        }
        Ok(Sent::Logged) => Ok(()),
        Err(SendError::Transient(e)) => Err(JobError::Retry(e)),
        Err(SendError::Permanent(e)) => Err(JobError::GiveUp(e)),
    }
}

#[derive(Deserialize)]
struct DeliveryJob {
    delivery_id: i64,
}

/// `webhook.deliver`: one attempt; the delivery row records its outcome for administrators.
pub async fn deliver_webhook(state: &AppState, job: &Job) -> Result<(), JobError> {
    let task: DeliveryJob = serde_json::from_value(job.payload.clone())
        .map_err(|e| JobError::GiveUp(format!("bad payload: {e}")))?;
    let target = db::webhooks::delivery_target(&state.db, task.delivery_id)
        .await
        .map_err(|e| JobError::Retry(e.to_string()))?
        .ok_or_else(|| JobError::GiveUp(format!("no delivery {}", task.delivery_id)))?;
    if target.status != "pending" {
        // Already settled (e.g. a worker died after recording but before finishing the job).
        return Ok(());
    }
    if !target.subscription_active {
        let error = "the subscription was deactivated";
        db::webhooks::record_failure(&state.db, target.id, job.attempts - 1, None, error, None)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?;
        return Err(JobError::GiveUp(error.to_owned()));
    }
    match webhooks::post(&target, &state.config.notify).await {
        Attempt::Delivered { status } => {
            db::webhooks::record_delivered(&state.db, target.id, job.attempts, status)
                .await
                .map_err(|e| JobError::GiveUp(format!("delivered, not recorded: {e}")))?;
            if let Some(request_id) = target.request_id {
                let data = json!({
                    "subscription_id": target.subscription_id,
                    "event_id": target.event_id,
                    "event_type": target.event_type,
                });
                // The delivery row already says it was delivered: a missing event is no
                // reason to deliver again.
                if let Err(e) = db::events::insert(
                    &state.db,
                    request_id,
                    EventKind::WebhookDelivered,
                    Actor::System,
                    &data,
                )
                .await
                {
                    tracing::warn!(delivery = target.id, error = %e, "webhook event not recorded");
                }
            }
            Ok(())
        }
        Attempt::Failed { status, error } => {
            let last = job.attempts >= job.max_attempts;
            let retry_in = (!last).then(|| retry_delay(&state.config.outbox, job.attempts));
            db::webhooks::record_failure(
                &state.db,
                target.id,
                job.attempts,
                status,
                &error,
                retry_in,
            )
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?;
            Err(JobError::Retry(error))
        }
        Attempt::Refused { error } => {
            // The target is checked the same way each time: retrying cannot help.
            db::webhooks::record_failure(&state.db, target.id, job.attempts, None, &error, None)
                .await
                .map_err(|e| JobError::Retry(e.to_string()))?;
            Err(JobError::GiveUp(error))
        }
    }
}
