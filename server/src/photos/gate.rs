//! Admission control for photo processing. Decoding and encoding are CPU-bound: at most
//! `workers` photos are processed at once (on the blocking pool, off the async threads) and at
//! most `queue` more may wait. Past that the caller is told to come back later (503 +
//! Retry-After) instead of piling up memory and latency without bound.
//!
//! Before refusing anyone, the gate trades a few bytes for CPU: a photo that starts while
//! others wait behind it is encoded at the quick effort, so that a queue drains faster and
//! fills less often.

use std::sync::Arc;

use tokio::sync::Semaphore;

#[derive(Clone, Debug)]
pub struct PhotoGate {
    admitted: Arc<Semaphore>,
    workers: Arc<Semaphore>,
    capacity: usize,
    worker_count: usize,
}

/// How hard the encoder works on a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    /// Nobody waits: the smallest files for the CPU they cost.
    Thorough,
    /// Others wait: about 40 % less CPU for a few percent more bytes.
    Quick,
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
            capacity: workers + queue,
            worker_count: workers,
        }
    }

    /// Runs `job` on the blocking pool once a worker is free, or refuses at once when the
    /// queue is full. The job is told the effort to spend: quick when others are waiting.
    pub async fn run<T, F>(&self, job: F) -> Result<T, GateBusy>
    where
        F: FnOnce(Effort) -> T + Send + 'static,
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
        let running = self.worker_count - self.workers.available_permits();
        let effort = if self.in_flight() > running {
            Effort::Quick
        } else {
            Effort::Thorough
        };
        tokio::task::spawn_blocking(move || job(effort))
            .await
            .map_err(|_| busy)
    }

    /// Photos being processed or waiting, for metrics.
    pub fn in_flight(&self) -> usize {
        self.capacity
            .saturating_sub(self.admitted.available_permits())
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
                gate.run(move |effort| {
                    if let Ok(rx) = rx.lock() {
                        let _ = rx.recv_timeout(Duration::from_secs(10));
                    }
                    effort
                })
                .await
            }));
        }
        // Let both jobs be admitted (one running, one waiting).
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            gate.run(|_| ()).await,
            Err(GateBusy {
                retry_after_secs: 2
            })
        );
        for _ in 0..2 {
            let _ = release_tx.send(());
        }
        for task in running {
            assert!(matches!(task.await, Ok(Ok(_))));
        }
        assert_eq!(gate.run(|_| 7).await, Ok(7));
    }

    #[tokio::test]
    async fn a_photo_that_others_wait_behind_is_encoded_quickly() {
        let gate = PhotoGate::new(1, 2);
        let mut releases = Vec::new();
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            releases.push(tx);
            let gate = gate.clone();
            tasks.push(tokio::spawn(async move {
                gate.run(move |effort| {
                    let _ = rx.recv_timeout(Duration::from_secs(10));
                    effort
                })
                .await
            }));
            // One at a time, so that the first runs alone and the other two queue behind it.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut efforts = Vec::new();
        for (release, task) in releases.into_iter().zip(tasks) {
            let _ = release.send(());
            efforts.push(task.await.ok().and_then(Result::ok));
        }
        assert_eq!(
            efforts,
            // Alone; one still waiting behind it; alone again.
            [
                Some(Effort::Thorough),
                Some(Effort::Quick),
                Some(Effort::Thorough)
            ]
        );
    }
}
