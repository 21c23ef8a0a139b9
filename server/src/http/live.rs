//! `GET /api/v1/agent/events`: the back office's live stream (server-sent events). Every
//! change of a request the agent may see arrives as an event `request` (id: the event's id,
//! data: number, kind, phase, status, team and assignee), so that an open queue refreshes
//! without reload. Events come in the order their changes were committed, which is not
//! always the order of their ids. A client that reconnects with `Last-Event-ID` first gets
//! what it missed, with the last few seconds before it again (see
//! [`db::live::missed_since`]; at most [`RESUME_LIMIT`] events; past that, or when it reads
//! too slowly, an event `resync` tells it to reload its view). Comments keep the connection
//! alive through proxies.
//! The stream is not bound by the global request timeout: that one ends with the answer's
//! headers, and the stream ends when its client leaves or the instance shuts down.

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use tokio::sync::{broadcast, watch};

use super::ApiError;
use crate::auth::Agent;
use crate::db::{self, live::LiveEvent};
use crate::state::AppState;

const RESUME_LIMIT: i64 = 1000;
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// A stream ends after this long and its client reconnects (browsers do so by themselves,
/// with `Last-Event-ID`): a session that was ended or an agent whose teams changed is
/// checked again at least that often.
const MAX_STREAM: Duration = Duration::from_secs(300);

#[utoipa::path(
    get,
    path = "/api/v1/agent/events",
    tag = "agents",
    summary = "Les changements des demandes de mes équipes, en direct",
    params(("Last-Event-ID" = Option<String>, Header, description = "The last event seen: what was missed is sent first")),
    responses(
        (status = 200, description = "Server-sent events: `ready`, then `request` per change, or `resync`", body = String, content_type = "text/event-stream"),
    ),
    security(("agent_token" = []), ("agent_cookie" = [])),
)]
pub async fn stream(
    State(state): State<AppState>,
    agent: Agent,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // Subscribed before the missed events are read, so that nothing falls in between; what
    // arrives twice is dropped by its id.
    let live = state.live.subscribe();
    let closing = state.live.closing();
    let last_seen = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    let mut missed = VecDeque::new();
    let mut resync = false;
    if let Some(after) = last_seen {
        let teams = agent.visible_teams().map(<[i64]>::to_vec);
        let rows =
            db::live::missed_since(&state.db, after, teams.as_deref(), RESUME_LIMIT + 1).await?;
        resync = rows.len() as i64 > RESUME_LIMIT;
        missed.extend(rows.into_iter().take(RESUME_LIMIT as usize));
    }
    let feed = Feed {
        agent,
        caught_up: missed.iter().map(|e| e.id).collect(),
        missed,
        resync,
        greeted: false,
        live,
        closing,
        ends_at: tokio::time::Instant::now() + MAX_STREAM,
    };
    let mut response = Sse::new(feed.into_stream())
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    // Proxies must pass events on as they come.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

struct Feed {
    agent: Agent,
    missed: VecDeque<LiveEvent>,
    /// Ids of the events read from the database on resuming: the same events may come
    /// again from the live feed, and are sent once.
    caught_up: HashSet<i64>,
    resync: bool,
    greeted: bool,
    live: broadcast::Receiver<LiveEvent>,
    closing: watch::Receiver<bool>,
    ends_at: tokio::time::Instant,
}

impl Feed {
    fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> {
        futures::stream::unfold(self, |mut feed| async move {
            let event = feed.next().await?;
            Some((Ok(event), feed))
        })
    }

    async fn next(&mut self) -> Option<Event> {
        if !self.greeted {
            self.greeted = true;
            return Some(
                Event::default()
                    .event("ready")
                    .data("{}")
                    .retry(Duration::from_secs(2)),
            );
        }
        if std::mem::take(&mut self.resync) {
            return Some(resync());
        }
        if let Some(e) = self.missed.pop_front() {
            return Some(request_event(&e));
        }
        loop {
            if *self.closing.borrow() {
                return None;
            }
            tokio::select! {
                _ = self.closing.changed() => return None,
                _ = tokio::time::sleep_until(self.ends_at) => return None,
                received = self.live.recv() => match received {
                    // Not "ids above the last one sent": ids do not follow commit order.
                    Ok(e) if !self.caught_up.contains(&e.id)
                        && self.agent.can_see_team(e.team_id) =>
                    {
                        return Some(request_event(&e));
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => return Some(resync()),
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
            }
        }
    }
}

fn request_event(e: &LiveEvent) -> Event {
    let data = serde_json::to_string(e).unwrap_or_else(|_| "{}".to_owned());
    Event::default()
        .id(e.id.to_string())
        .event("request")
        .data(data)
}

fn resync() -> Event {
    Event::default().event("resync").data("{}")
}
