//! Submissions in progress in this instance, by client id. A phone that retries while its
//! first attempt is still being processed (slow network, impatient user) waits for that attempt
//! instead of decoding the same photos again, and then receives its answer. Across instances
//! the database lock on the client id keeps the guarantee; this only saves work.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use uuid::Uuid;

#[derive(Debug, Default)]
pub struct InFlight {
    running: Mutex<HashMap<Uuid, watch::Receiver<()>>>,
}

/// Held by the first submission of a client id; dropping it wakes the waiting retries.
pub struct Claim {
    registry: Arc<InFlight>,
    client_id: Uuid,
    _done: watch::Sender<()>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Ok(mut running) = self.registry.running.lock() {
            running.remove(&self.client_id);
        }
    }
}

pub enum Entry {
    /// No other submission of this client id runs here: go on, holding the claim.
    First(Claim),
    /// Another one runs: wait for it with `finished`, then look for its stored answer.
    Retry(watch::Receiver<()>),
}

impl InFlight {
    pub fn enter(self: &Arc<Self>, client_id: Uuid) -> Entry {
        let Ok(mut running) = self.running.lock() else {
            // A poisoned registry only loses the optimisation.
            let (tx, _) = watch::channel(());
            return Entry::First(Claim {
                registry: self.clone(),
                client_id: Uuid::nil(),
                _done: tx,
            });
        };
        if let Some(rx) = running.get(&client_id) {
            return Entry::Retry(rx.clone());
        }
        let (tx, rx) = watch::channel(());
        running.insert(client_id, rx);
        Entry::First(Claim {
            registry: self.clone(),
            client_id,
            _done: tx,
        })
    }
}

/// Waits until the submission behind `rx` has finished (its sender dropped).
pub async fn finished(mut rx: watch::Receiver<()>) {
    while rx.changed().await.is_ok() {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_retry_waits_for_the_first_submission() {
        let registry = Arc::new(InFlight::default());
        let id = Uuid::new_v4();
        let Entry::First(claim) = registry.enter(id) else {
            panic!("first entry")
        };
        let Entry::Retry(rx) = registry.enter(id) else {
            panic!("second entry waits")
        };
        let waiter = tokio::spawn(finished(rx));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        drop(claim);
        assert!(
            tokio::time::timeout(Duration::from_secs(1), waiter)
                .await
                .is_ok()
        );
        assert!(matches!(registry.enter(id), Entry::First(_)));
    }
}
