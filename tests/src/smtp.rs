//! A small real SMTP server for tests: it listens on 127.0.0.1 and a free port, speaks enough
//! of RFC 5321 for a real client (EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET,
//! NOOP, QUIT), and keeps every accepted message for the test to inspect.
//!
//! ```ignore
//! let smtp = SmtpServer::start().await;
//! // point the server at smtp.url() (Config::notify.smtp_url or GUICHET_SMTP_URL)
//! let mail = smtp.wait_for(|m| m.is_to("ana@example.org"), Duration::from_secs(10)).await;
//! assert!(mail.body_text().contains("2026-SIG-"));
//! ```

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Longest command line accepted (RFC 5321 says 512 with the CRLF; clients add parameters).
const MAX_LINE: usize = 4096;
/// Largest message accepted.
const MAX_MESSAGE: usize = 10 * 1024 * 1024;

/// One message the server accepted.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The envelope sender (MAIL FROM), without angle brackets.
    pub from: String,
    /// The envelope recipients (RCPT TO), without angle brackets.
    pub recipients: Vec<String>,
    /// The message as transmitted after dot-unstuffing: headers, blank line, body.
    pub data: String,
}

#[derive(Default)]
struct Shared {
    messages: Mutex<Vec<ReceivedMail>>,
    arrived: Notify,
    /// Transactions still to refuse with a 451 after DATA.
    fail_next: AtomicUsize,
    /// Transactions refused so far.
    refused: AtomicUsize,
}

pub struct SmtpServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        Self::start_failing(0).await
    }

    /// A server that answers `451` to the first `n` messages (after their DATA), as a busy
    /// or greylisting server does, and accepts the following ones.
    pub async fn start_failing(n: usize) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the SMTP server");
        let addr = listener.local_addr().expect("SMTP server address");
        let shared = Arc::new(Shared::default());
        shared.fail_next.store(n, Ordering::SeqCst);
        let for_task = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = for_task.clone();
                tokio::spawn(async move {
                    let _ = session(stream, &shared).await;
                });
            }
        });
        SmtpServer { addr, shared, task }
    }

    /// `smtp://127.0.0.1:<port>`: plain SMTP, as the service's `GUICHET_SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every message accepted so far, in order of arrival.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.shared.messages.lock().expect("messages").clone()
    }

    /// The messages delivered to `address` (envelope recipient, case-insensitive).
    pub fn messages_to(&self, address: &str) -> Vec<ReceivedMail> {
        self.messages()
            .into_iter()
            .filter(|m| m.is_to(address))
            .collect()
    }

    /// How many transactions were refused with a 451.
    pub fn refused(&self) -> usize {
        self.shared.refused.load(Ordering::SeqCst)
    }

    /// Waits for a message matching `pred`; panics after `timeout` with what did arrive.
    pub async fn wait_for(
        &self,
        pred: impl Fn(&ReceivedMail) -> bool,
        timeout: Duration,
    ) -> ReceivedMail {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.shared.arrived.notified();
            if let Some(m) = self.messages().into_iter().find(|m| pred(m)) {
                return m;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                let got: Vec<_> = self
                    .messages()
                    .iter()
                    .map(|m| format!("{:?} {:?}", m.recipients, m.subject()))
                    .collect();
                panic!("no matching e-mail within {timeout:?}; received: {got:#?}");
            }
        }
    }

    /// Waits until at least `n` messages arrived; returns them all.
    pub async fn wait_for_count(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.shared.arrived.notified();
            let all = self.messages();
            if all.len() >= n {
                return all;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!(
                    "expected {n} e-mails within {timeout:?}, got {}",
                    self.messages().len()
                );
            }
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Default)]
struct Transaction {
    from: Option<String>,
    recipients: Vec<String>,
}

async fn session(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write
        .write_all(b"220 127.0.0.1 ESMTP test server ready\r\n")
        .await?;
    let mut greeted = false;
    let mut tx = Transaction::default();
    loop {
        let Some(line) = read_line(&mut read).await? else {
            return Ok(());
        };
        let line = String::from_utf8_lossy(&line).into_owned();
        let (verb, arg) = match line.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.trim().to_owned()),
            None => (line.trim().to_ascii_uppercase(), String::new()),
        };
        let reply: &[u8] = match verb.as_str() {
            "EHLO" if arg.is_empty() => b"501 5.5.4 Syntax: EHLO hostname\r\n",
            "EHLO" => {
                greeted = true;
                tx = Transaction::default();
                b"250-127.0.0.1\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n"
            }
            "HELO" if arg.is_empty() => b"501 5.5.4 Syntax: HELO hostname\r\n",
            "HELO" => {
                greeted = true;
                tx = Transaction::default();
                b"250 127.0.0.1\r\n"
            }
            "MAIL" if !greeted => b"503 5.5.1 Error: send HELO/EHLO first\r\n",
            "MAIL" if tx.from.is_some() => b"503 5.5.1 Error: nested MAIL command\r\n",
            "MAIL" => match path_arg(&arg, "FROM:") {
                Some(from) => {
                    tx.from = Some(from);
                    b"250 2.1.0 Ok\r\n"
                }
                None => b"501 5.5.4 Syntax: MAIL FROM:<address>\r\n",
            },
            "RCPT" if tx.from.is_none() => b"503 5.5.1 Error: need MAIL command\r\n",
            "RCPT" => match path_arg(&arg, "TO:") {
                Some(to) if !to.is_empty() => {
                    tx.recipients.push(to);
                    b"250 2.1.5 Ok\r\n"
                }
                _ => b"501 5.5.4 Syntax: RCPT TO:<address>\r\n",
            },
            "DATA" if tx.recipients.is_empty() => b"503 5.5.1 Error: need RCPT command\r\n",
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let Some(data) = read_data(&mut read).await? else {
                    return Ok(());
                };
                let done = std::mem::take(&mut tx);
                if data.len() > MAX_MESSAGE {
                    b"552 5.3.4 Message too big\r\n"
                } else if take_one(&shared.fail_next) {
                    shared.refused.fetch_add(1, Ordering::SeqCst);
                    b"451 4.3.0 Temporary failure, try again later\r\n"
                } else {
                    shared
                        .messages
                        .lock()
                        .expect("messages")
                        .push(ReceivedMail {
                            from: done.from.unwrap_or_default(),
                            recipients: done.recipients,
                            data: String::from_utf8_lossy(&data).into_owned(),
                        });
                    shared.arrived.notify_waiters();
                    b"250 2.0.0 Ok: queued\r\n"
                }
            }
            "RSET" => {
                tx = Transaction::default();
                b"250 2.0.0 Ok\r\n"
            }
            "NOOP" => b"250 2.0.0 Ok\r\n",
            "VRFY" => b"252 2.0.0 Cannot VRFY user\r\n",
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 5.5.2 Error: command not recognized\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// Decrements `n` if it is positive; true when it did.
fn take_one(n: &AtomicUsize) -> bool {
    n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
        .is_ok()
}

/// `FROM:<a@b> SIZE=123` → `a@b` (parameters after the path are ignored).
fn path_arg(arg: &str, keyword: &str) -> Option<String> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start();
    let inner = rest.strip_prefix('<')?;
    let end = inner.find('>')?;
    Some(inner[..end].to_owned())
}

/// One line without its CRLF (or LF); `None` at end of stream.
async fn read_line<R: AsyncBufReadExt + Unpin>(r: &mut R) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let n = r.read_until(b'\n', &mut line).await?;
    if n == 0 {
        return Ok(None);
    }
    if line.len() > MAX_LINE + 2 && !line.ends_with(b"\n") {
        return Err(std::io::Error::other("line too long"));
    }
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    Ok(Some(line))
}

/// The DATA section up to the lone dot, dot-unstuffed, lines joined with CRLF.
async fn read_data<R: AsyncBufReadExt + Unpin>(r: &mut R) -> std::io::Result<Option<Vec<u8>>> {
    let mut data = Vec::new();
    loop {
        let Some(line) = read_line(r).await? else {
            return Ok(None);
        };
        if line == b"." {
            return Ok(Some(data));
        }
        // A line starting with a dot was sent with one more (RFC 5321 §4.5.2).
        let line = line.strip_prefix(b".").unwrap_or(&line);
        if data.len() <= MAX_MESSAGE {
            data.extend_from_slice(line);
            data.extend_from_slice(b"\r\n");
        }
    }
}

impl ReceivedMail {
    /// True when `address` is among the envelope recipients (case-insensitive).
    pub fn is_to(&self, address: &str) -> bool {
        self.recipients
            .iter()
            .any(|r| r.eq_ignore_ascii_case(address))
    }

    fn split(&self) -> (&str, &str) {
        self.data
            .split_once("\r\n\r\n")
            .unwrap_or((self.data.as_str(), ""))
    }

    /// The raw value of the first header `name` (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = self.split();
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = value.as_mut() {
                if line.starts_with(' ') || line.starts_with('\t') {
                    v.push(' ');
                    v.push_str(line.trim());
                    continue;
                }
                break;
            }
            if let Some((n, v)) = line.split_once(':')
                && n.trim().eq_ignore_ascii_case(name)
            {
                value = Some(v.trim().to_owned());
            }
        }
        value
    }

    /// The decoded `Subject` (RFC 2047 encoded words are decoded).
    pub fn subject(&self) -> String {
        self.header("Subject")
            .map(|s| decode_encoded_words(&s))
            .unwrap_or_default()
    }

    /// The decoded text body (quoted-printable or base64 undone), with `\n` line ends.
    pub fn body_text(&self) -> String {
        let (_, body) = self.split();
        let encoding = self
            .header("Content-Transfer-Encoding")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let bytes = match encoding.as_str() {
            "quoted-printable" => decode_quoted_printable(body),
            "base64" => decode_base64(body),
            _ => body.as_bytes().to_vec(),
        };
        String::from_utf8_lossy(&bytes).replace("\r\n", "\n")
    }
}

/// Decodes `=?charset?B|Q?text?=` words (UTF-8 and ASCII charsets); whitespace between two
/// encoded words is dropped, as RFC 2047 says.
pub fn decode_encoded_words(s: &str) -> String {
    let mut out: Vec<u8> = Vec::new();
    let mut rest = s;
    let mut pending_space = String::new();
    let mut last_was_word = false;
    while !rest.is_empty() {
        if let Some((decoded, len)) = encoded_word(rest) {
            if !last_was_word {
                out.extend_from_slice(pending_space.as_bytes());
            }
            pending_space.clear();
            out.extend_from_slice(&decoded);
            rest = &rest[len..];
            last_was_word = true;
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        if c.is_whitespace() {
            pending_space.push(c);
        } else {
            out.extend_from_slice(pending_space.as_bytes());
            pending_space.clear();
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            last_was_word = false;
        }
        rest = &rest[c.len_utf8()..];
    }
    out.extend_from_slice(pending_space.as_bytes());
    String::from_utf8_lossy(&out).into_owned()
}

/// One encoded word at the start of `s`: its bytes and its length in `s`.
fn encoded_word(s: &str) -> Option<(Vec<u8>, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (_charset, after) = inner.split_once('?')?;
    let (encoding, after) = after.split_once('?')?;
    let end = after.find("?=")?;
    let text = &after[..end];
    let len = 2 + (inner.len() - after.len()) + end + 2;
    let bytes = match encoding {
        "B" | "b" => decode_base64(text),
        "Q" | "q" => decode_quoted_printable(&text.replace('_', " ")),
        _ => return None,
    };
    Some((bytes, len))
}

pub fn decode_quoted_printable(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            // Soft line break.
            if b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') {
                i += 3;
                continue;
            }
            if b.get(i + 1) == Some(&b'\n') {
                i += 2;
                continue;
            }
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

pub fn decode_base64(s: &str) -> Vec<u8> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for v in s.bytes().filter_map(value) {
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoders_undo_mail_encodings() {
        assert_eq!(decode_base64("w6ljaGVj"), "échec".as_bytes());
        assert_eq!(
            decode_quoted_printable("caf=C3=A9 =\r\nnoir"),
            "café noir".as_bytes()
        );
        assert_eq!(
            decode_encoded_words("=?utf-8?b?QWNjdXPDqQ==?= =?utf-8?q?_de_r=C3=A9ception?= 2026"),
            "Accusé de réception 2026"
        );
        assert_eq!(decode_encoded_words("Plain subject"), "Plain subject");
    }

    #[test]
    fn paths_are_read_from_mail_and_rcpt_arguments() {
        assert_eq!(
            path_arg("FROM:<a@b.org> BODY=8BITMIME", "FROM:").as_deref(),
            Some("a@b.org")
        );
        assert_eq!(path_arg("to: <c@d.org>", "TO:").as_deref(), Some("c@d.org"));
        assert_eq!(path_arg("FROM:<>", "FROM:").as_deref(), Some(""));
        assert_eq!(path_arg("c@d.org", "TO:"), None);
    }
}
