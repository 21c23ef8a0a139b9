//! A TCP proxy in front of the test server that plays a flaky network: each new connection
//! takes the next fault of its script, and once the script is spent it forwards faithfully.
//! The client must use one connection per request (no idle pool) for the script to map onto
//! requests.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Accept, then close at once: as if the server were down.
    Refuse,
    /// Read the start of the request, then close: the link drops during the upload.
    CutRequest,
    /// Read the whole request and answer 503 `server-busy` with `Retry-After: 1`.
    Busy,
    /// Forward the request, let the server answer (so the report is stored), then close
    /// without passing the answer on: the client cannot know it arrived.
    LoseAnswer,
}

pub struct FlakyProxy {
    pub base: String,
    /// What each connection got, in order (`None` = forwarded).
    pub log: Arc<Mutex<Vec<Option<Fault>>>>,
}

impl FlakyProxy {
    pub async fn start(upstream_base: &str, script: Vec<Fault>) -> FlakyProxy {
        let upstream: SocketAddr = upstream_base
            .trim_start_matches("http://")
            .parse()
            .expect("upstream address");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let task_log = log.clone();
        tokio::spawn(async move {
            let mut script = script.into_iter();
            while let Ok((client, _)) = listener.accept().await {
                let fault = script.next();
                task_log.lock().unwrap().push(fault);
                tokio::spawn(handle(client, upstream, fault));
            }
        });
        FlakyProxy { base, log }
    }

    pub fn faults_played(&self) -> Vec<Fault> {
        self.log.lock().unwrap().iter().flatten().copied().collect()
    }
}

async fn handle(mut client: TcpStream, upstream: SocketAddr, fault: Option<Fault>) {
    match fault {
        Some(Fault::Refuse) => drop(client),
        Some(Fault::CutRequest) => {
            let mut buf = [0u8; 1024];
            let _ = client.read(&mut buf).await;
            drop(client);
        }
        Some(Fault::Busy) => {
            if read_request(&mut client).await.is_some() {
                let body = r#"{"type":"urn:guichet:problem:server-busy","title":"Busy","status":503,"detail":"photo processing is saturated","code":"server-busy"}"#;
                let answer = format!(
                    "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\nretry-after: 1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = client.write_all(answer.as_bytes()).await;
                let _ = client.shutdown().await;
            }
        }
        Some(Fault::LoseAnswer) => {
            let Some(request) = read_request(&mut client).await else {
                return;
            };
            let Ok(mut server) = TcpStream::connect(upstream).await else {
                return;
            };
            if server.write_all(&request).await.is_err() {
                return;
            }
            // The server answers once its transaction has committed; the first byte of the
            // answer is proof enough that the report is stored.
            let mut first = [0u8; 1];
            let _ = server.read(&mut first).await;
            drop(client);
        }
        None => {
            let Ok(mut server) = TcpStream::connect(upstream).await else {
                return;
            };
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        }
    }
}

/// Reads one HTTP/1.1 request (head and body, by `content-length` or chunked) and returns its
/// raw bytes, or `None` if the client went away.
async fn read_request(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(at) = find(&buf, b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length = head.lines().find_map(|l| {
        l.strip_prefix("content-length:")
            .and_then(|v| v.trim().parse::<usize>().ok())
    });
    let chunked = head.contains("transfer-encoding: chunked");
    loop {
        let done = match length {
            Some(len) => buf.len() >= head_end + len,
            None if chunked => buf[head_end..].ends_with(b"0\r\n\r\n"),
            None => true,
        };
        if done {
            return Some(buf);
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
