//! The back office's live feed: every event of a request (filed, moved, assigned, merged…)
//! announced by the database on the `guichet_events` channel is read once per instance and
//! handed to every open stream, which keeps what its agent may see. The feed is a hint to
//! refresh, not a log: a stream that falls behind is told to reload its view.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, watch};

use crate::db::{self, live::LiveEvent};

const CHANNEL: &str = "guichet_events";
/// Events kept for streams that read slowly before they are told to reload.
const BACKLOG: usize = 1024;

#[derive(Debug)]
pub struct LiveFeed {
    events: broadcast::Sender<LiveEvent>,
    closing: watch::Sender<bool>,
}

impl Default for LiveFeed {
    fn default() -> Self {
        Self {
            events: broadcast::channel(BACKLOG).0,
            closing: watch::channel(false).0,
        }
    }
}

impl LiveFeed {
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.events.subscribe()
    }

    /// Fires when the instance shuts down: open streams end so that it can stop.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    pub fn close(&self) {
        self.closing.send_replace(true);
    }
}

/// Feeds `feed` until `shutdown` fires.
pub async fn run(
    feed: std::sync::Arc<LiveFeed>,
    pool: PgPool,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let mut listener = match connect(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "live feed: cannot listen for events; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => continue,
                    _ = shutdown.changed() => return,
                }
            }
        };
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                received = listener.try_recv() => match received {
                    Ok(Some(notification)) => {
                        let Ok(id) = notification.payload().parse::<i64>() else { continue };
                        match db::live::event(&pool, id).await {
                            // Nobody listening is fine.
                            Ok(Some(event)) => { let _ = feed.events.send(event); }
                            Ok(None) => {}
                            Err(e) => tracing::warn!(error = %e, id, "live feed: read failed"),
                        }
                    }
                    // Reconnected: what happened in between is lost; streams resume from
                    // their last id when their clients reconnect.
                    Ok(None) => tracing::warn!("live feed: listener reconnected"),
                    Err(e) => {
                        tracing::warn!(error = %e, "live feed: listener failed; reconnecting");
                        break;
                    }
                },
            }
        }
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
