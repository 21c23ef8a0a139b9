//! A real HTTP server that records the webhooks it receives: 127.0.0.1, a free port, HTTP/1.1,
//! one request per connection. It can answer 500 to the first N requests (or to all) to test
//! retries.
//!
//! ```ignore
//! let hooks = WebhookReceiver::start().await;
//! // subscribe hooks.url() with POST /api/v1/admin/webhooks
//! let got = hooks.wait_for_count(1, Duration::from_secs(10)).await;
//! assert_eq!(got[0].header("guichet-event"), Some("request.created"));
//! ```

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 10 * 1024 * 1024;

/// One request as received, with the status it was answered.
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    pub method: String,
    /// Path and query, as in the request line.
    pub path: String,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub received_at: Instant,
    /// What this receiver answered.
    pub answered: u16,
}

impl ReceivedRequest {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("webhook body is JSON")
    }

    /// The `t` and `v1` parts of `Guichet-Signature: t=<ts>,v1=<hex>`.
    pub fn signature_parts(&self) -> Option<(String, String)> {
        let value = self.header("guichet-signature")?;
        let mut t = None;
        let mut v1 = None;
        for part in value.split(',') {
            match part.trim().split_once('=') {
                Some(("t", v)) => t = Some(v.to_owned()),
                Some(("v1", v)) => v1 = Some(v.to_owned()),
                _ => {}
            }
        }
        Some((t?, v1?))
    }
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<ReceivedRequest>>,
    arrived: Notify,
    /// Requests still to answer with a 500; `usize::MAX` fails them all.
    fail_next: AtomicUsize,
}

pub struct WebhookReceiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl WebhookReceiver {
    /// Answers 204 to everything.
    pub async fn start() -> WebhookReceiver {
        Self::start_failing(0).await
    }

    /// Answers 500 to the first `n` requests, then 204.
    pub async fn start_failing(n: usize) -> WebhookReceiver {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the webhook receiver");
        let addr = listener.local_addr().expect("receiver address");
        let shared = Arc::new(Shared::default());
        shared.fail_next.store(n, Ordering::SeqCst);
        let for_task = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = for_task.clone();
                tokio::spawn(async move {
                    let _ = serve_one(stream, &shared).await;
                });
            }
        });
        WebhookReceiver { addr, shared, task }
    }

    /// Answers 500 to every request.
    pub async fn start_always_failing() -> WebhookReceiver {
        Self::start_failing(usize::MAX).await
    }

    /// The URL to subscribe: `http://127.0.0.1:<port>/hooks`.
    pub fn url(&self) -> String {
        format!("http://{}/hooks", self.addr)
    }

    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.shared.requests.lock().expect("requests").clone()
    }

    /// Waits until at least `n` requests arrived; returns them all.
    pub async fn wait_for_count(&self, n: usize, timeout: Duration) -> Vec<ReceivedRequest> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.shared.arrived.notified();
            let all = self.requests();
            if all.len() >= n {
                return all;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!(
                    "expected {n} webhook requests within {timeout:?}, got {}",
                    self.requests().len()
                );
            }
        }
    }

    /// Waits for a request matching `pred`.
    pub async fn wait_for(
        &self,
        pred: impl Fn(&ReceivedRequest) -> bool,
        timeout: Duration,
    ) -> ReceivedRequest {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.shared.arrived.notified();
            if let Some(r) = self.requests().into_iter().find(|r| pred(r)) {
                return r;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!(
                    "no matching webhook request within {timeout:?}; got {} requests",
                    self.requests().len()
                );
            }
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_one(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut head = Vec::new();
    loop {
        let before = head.len();
        let n = read.read_until(b'\n', &mut head).await?;
        if n == 0 {
            return Ok(());
        }
        if head.len() > MAX_HEAD {
            return write_response(&mut write, 431, "head too large").await;
        }
        let line = &head[before..];
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.lines();
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let chunked = header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        read_chunked(&mut read).await?
    } else {
        let len: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if len > MAX_BODY {
            return write_response(&mut write, 413, "body too large").await;
        }
        let mut body = vec![0u8; len];
        read.read_exact(&mut body).await?;
        body
    };
    let fail = shared
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| match v {
            0 => None,
            usize::MAX => Some(usize::MAX),
            v => Some(v - 1),
        })
        .is_ok();
    let answered = if fail { 500 } else { 204 };
    shared
        .requests
        .lock()
        .expect("requests")
        .push(ReceivedRequest {
            method,
            path,
            headers,
            body,
            received_at: Instant::now(),
            answered,
        });
    shared.arrived.notify_waiters();
    if fail {
        write_response(&mut write, 500, "receiver failing on purpose").await
    } else {
        write_response(&mut write, 204, "").await
    }
}

async fn read_chunked<R: AsyncBufReadExt + Unpin>(r: &mut R) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size_line = String::new();
        r.read_line(&mut size_line).await?;
        let size_text = size_line.trim().split(';').next().unwrap_or("0");
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| std::io::Error::other("bad chunk size"))?;
        if size == 0 {
            // Trailers, up to the blank line.
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).await? == 0 || line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        if body.len() + size > MAX_BODY {
            return Err(std::io::Error::other("body too large"));
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..]).await?;
        let mut crlf = [0u8; 2];
        r.read_exact(&mut crlf).await?;
    }
}

async fn write_response<W: AsyncWriteExt + Unpin>(
    w: &mut W,
    status: u16,
    body: &str,
) -> std::io::Result<()> {
    let reason = match status {
        204 => "No Content",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        _ => "Internal Server Error",
    };
    let head = if status == 204 {
        format!("HTTP/1.1 {status} {reason}\r\nconnection: close\r\n\r\n")
    } else {
        format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    w.write_all(head.as_bytes()).await?;
    w.shutdown().await
}

/// The hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`, computed by PostgreSQL's
/// pgcrypto: an implementation independent of the service's, to check its signatures.
pub async fn expected_signature(
    pool: &sqlx::PgPool,
    secret: &str,
    timestamp: &str,
    body: &[u8],
) -> String {
    sqlx::query("CREATE EXTENSION IF NOT EXISTS pgcrypto")
        .execute(pool)
        .await
        .expect("pgcrypto is available in the test cluster");
    let mut signed = timestamp.as_bytes().to_vec();
    signed.push(b'.');
    signed.extend_from_slice(body);
    // pgcrypto's order: hmac(data, key, algorithm).
    sqlx::query_scalar("SELECT encode(hmac($1::bytea, $2::bytea, 'sha256'), 'hex')")
        .bind(signed)
        .bind(secret.as_bytes())
        .fetch_one(pool)
        .await
        .expect("compute the HMAC")
}
