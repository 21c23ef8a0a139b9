//! Admission control for photo processing. Decoding and encoding are CPU-bound: at most
//! `workers` photos are processed at once (on the blocking pool, off the async threads) and at
//! most `queue` more may wait. Past that the caller is told to come back later (503 +
//! Retry-After) instead of piling up memory and latency without bound.

use std::sync::Arc;

use tokio::sync::Semaphore;

#[derive(Clone, Debug)]
pub struct PhotoGate {
    admitted: Arc<Semaphore>,
    workers: Arc<Semaphore>,
}

/// Too much work in flight; retry after the given number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateBusy {
    pub retry_after_secs: u64,
}

impl PhotoGate {
    pub fn new(workers: usize, queue: usize) -> Self {
        Self {
            admitted: Arc::new(Semaphore::new(workers + queue)),
            workers: Arc::new(Semaphore::new(workers)),
        }
    }

    /// Runs `job` on the blocking pool once a worker is free, or refuses at once when the
    /// queue is full.
    pub async fn run<T, F>(&self, job: F) -> Result<T, GateBusy>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let busy = GateBusy {
            retry_after_secs: 2,
        };
        let _admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| busy)?;
        let _worker = self
            .workers
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| busy)?;
        tokio::task::spawn_blocking(job).await.map_err(|_| busy)
    }

    /// Photos being processed or waiting, for metrics.
    pub fn in_flight(&self, capacity: usize) -> usize {
        capacity.saturating_sub(self.admitted.available_permits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn refuses_when_workers_and_queue_are_full() {
        let gate = PhotoGate::new(1, 1);
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let release_rx = Arc::new(std::sync::Mutex::new(release_rx));
        let mut running = Vec::new();
        for _ in 0..2 {
            let gate = gate.clone();
            let rx = release_rx.clone();
            running.push(tokio::spawn(async move {
                gate.run(move || {
                    if let Ok(rx) = rx.lock() {
                        let _ = rx.recv_timeout(Duration::from_secs(10));
                    }
                })
                .await
            }));
        }
        // Let both jobs be admitted (one running, one waiting).
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            gate.run(|| ()).await,
            Err(GateBusy {
                retry_after_secs: 2
            })
        );
        for _ in 0..2 {
            let _ = release_tx.send(());
        }
        for task in running {
            assert_eq!(task.await.ok(), Some(Ok(())));
        }
        assert_eq!(gate.run(|| 7).await, Ok(7));
    }
}
