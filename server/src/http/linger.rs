//! The "lingering close" of web servers: when an answer is given before the request's body
//! was read (413 for a body over its cap, 401 before a body is even looked at), what the
//! client still sends is read and thrown away in the background, chunk by chunk. The client
//! then gets the answer instead of a broken connection, and the server holds at most one
//! chunk. Past [`MAX_BYTES`] or [`MAX_TIME`] the connection is simply closed.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;
use http_body::{Frame, SizeHint};

/// At most this much of an unread body is read and dropped.
const MAX_BYTES: usize = 64 * 1024 * 1024;
/// For at most this long.
const MAX_TIME: Duration = Duration::from_secs(5);

/// The body a handler sees: it reads through to the real one, which stays in a slot this
/// middleware takes back once the answer is ready.
struct Shared(Arc<Mutex<Option<Body>>>);

impl http_body::Body for Shared {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        let slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slot.as_ref().is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        let slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slot.as_ref()
            .map_or_else(|| SizeHint::with_exact(0), http_body::Body::size_hint)
    }
}

pub async fn discard_unread_bodies(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    if http_body::Body::is_end_stream(&body) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let slot = Arc::new(Mutex::new(Some(body)));
    let response = next
        .run(Request::from_parts(parts, Body::new(Shared(slot.clone()))))
        .await;
    let rest = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(rest) = rest.filter(|b| !http_body::Body::is_end_stream(b)) {
        tokio::spawn(discard(rest));
    }
    response
}

async fn discard(body: Body) {
    let mut stream = body.into_data_stream();
    let deadline = tokio::time::Instant::now() + MAX_TIME;
    let mut seen = 0;
    while let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(deadline, stream.next()).await {
        seen += chunk.len();
        if seen > MAX_BYTES {
            break;
        }
    }
}
