//! Sending one e-mail job over SMTP.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::config::NotifyConfig;

/// The payload of an `email.send` job. The text is rendered when the notice is decided, so a
/// retry sends exactly what was decided then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailJob {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// The request it is about: a `notification_sent` event is recorded there once sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<i64>,
}

/// What became of a job.
#[derive(Debug, PartialEq, Eq)]
pub enum Sent {
    /// Handed to the SMTP server.
    Smtp,
    /// No SMTP server is configured: written to the log only.
    Logged,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth another try later (connection refused, 4xx answer, time-out).
    #[error("{0}")]
    Transient(String),
    /// Trying again cannot help (5xx answer, malformed address).
    #[error("{0}")]
    Permanent(String),
}

/// The transport for an SMTP URL (see `NotifyConfig::smtp_url`).
pub fn transport(
    url: &str,
    timeout: Duration,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|e| e.to_string())?
        .timeout(Some(timeout));
    // The EHLO name defaults to the machine's host name when the URL gives none; a fixed
    // name keeps it out of other people's logs.
    let has_ehlo_name = reqwest::Url::parse(url).is_ok_and(|u| u.path().len() > 1);
    if !has_ehlo_name {
        builder = builder.hello_name(ClientId::Domain("guichet.localhost".to_owned()));
    }
    Ok(builder.build())
}

/// Builds the message of outbox job `job_id`: From/To/Subject/Date/Message-ID, UTF-8 plain
/// text. The Message-ID comes from the job, so a job sent again (an instance killed between
/// the SMTP server's acceptance and the job's completion) carries the same one, and mail
/// systems drop the copy.
pub fn message(cfg: &NotifyConfig, job: &EmailJob, job_id: i64) -> Result<Message, SendError> {
    let from: Mailbox = cfg
        .mail_from
        .parse()
        .map_err(|e| SendError::Permanent(format!("sender address: {e}")))?;
    let to: Mailbox = job
        .to
        .parse()
        .map_err(|e| SendError::Permanent(format!("recipient address: {e}")))?;
    let message_id = format!("<outbox-{job_id}@{}>", from.email.domain());
    Message::builder()
        .from(from)
        .to(to)
        .subject(job.subject.as_str())
        .date_now()
        .message_id(Some(message_id))
        .header(ContentType::TEXT_PLAIN)
        .body(job.body.clone())
        .map_err(|e| SendError::Permanent(e.to_string()))
}

/// Sends the job's e-mail, or logs that it was not sent when no SMTP server is configured.
/// Neither the log nor an error names the recipient or quotes the text: they may hold an
/// address, a code or a link.
pub async fn send(cfg: &NotifyConfig, job: &EmailJob, job_id: i64) -> Result<Sent, SendError> {
    let message = message(cfg, job, job_id)?;
    let Some(url) = &cfg.smtp_url else {
        tracing::info!(
            request_id = job.request_id,
            "e-mail not sent: no SMTP server configured (GUICHET_SMTP_URL)"
        );
        return Ok(Sent::Logged);
    };
    let mailer = transport(url, cfg.smtp_timeout).map_err(SendError::Permanent)?;
    // Mail servers often quote the address they refuse.
    let error = |e: lettre::transport::smtp::Error| redact(&e.to_string(), &job.to);
    match mailer.send(message).await {
        Ok(_) => Ok(Sent::Smtp),
        Err(e) if e.is_permanent() => Err(SendError::Permanent(error(e))),
        Err(e) => Err(SendError::Transient(error(e))),
    }
}

/// `text` without `address` in it, whatever its (ASCII) case.
fn redact(text: &str, address: &str) -> String {
    if address.is_empty() {
        return text.to_owned();
    }
    // ASCII lower-casing keeps every byte offset, so matches index `text` too.
    let lower = text.to_ascii_lowercase();
    let needle = address.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    for (at, _) in lower.match_indices(&needle) {
        out.push_str(&text[rest..at]);
        out.push_str("<recipient>");
        rest = at + needle.len();
    }
    out.push_str(&text[rest..]);
    out
}

/// True when `address` is one an e-mail can be sent to.
pub fn is_valid_address(address: &str) -> bool {
    address.parse::<Mailbox>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_the_headers_mail_clients_expect() {
        let cfg = NotifyConfig::new("http://localhost");
        let job = EmailJob {
            to: "habitant@example.org".to_owned(),
            subject: "Accusé de réception".to_owned(),
            body: "Bonjour,\nvotre demande est reçue.\n".to_owned(),
            request_id: Some(1),
        };
        let raw = String::from_utf8(
            message(&cfg, &job, 42)
                .map(|m| m.formatted())
                .unwrap_or_default(),
        )
        .unwrap_or_default();
        for header in ["From: ", "To: ", "Subject: ", "Date: ", "Message-ID: <"] {
            assert!(raw.contains(header), "{header} in {raw}");
        }
        assert!(
            raw.contains("Message-ID: <outbox-42@guichet.localhost>"),
            "{raw}"
        );
        assert!(raw.contains("text/plain; charset=utf-8"), "{raw}");
    }

    #[test]
    fn bad_addresses_are_permanent_failures() {
        let cfg = NotifyConfig::new("http://localhost");
        let job = EmailJob {
            to: "not an address".to_owned(),
            subject: "x".to_owned(),
            body: "x".to_owned(),
            request_id: None,
        };
        assert!(matches!(
            message(&cfg, &job, 1),
            Err(SendError::Permanent(_))
        ));
        assert!(is_valid_address("a@example.org"));
        assert!(!is_valid_address("a@"));
    }

    #[test]
    fn errors_never_name_the_recipient() {
        assert_eq!(
            redact(
                "permanent error (550): 5.1.1 <Jane.Doe@example.org>: unknown",
                "jane.doe@example.org"
            ),
            "permanent error (550): 5.1.1 <<recipient>>: unknown"
        );
        assert_eq!(redact("timed out", "a@b.org"), "timed out");
        assert_eq!(redact("ÉCHEC A@b.org.", "a@b.org"), "ÉCHEC <recipient>.");
    }

    #[test]
    fn smtp_urls_are_checked() {
        let t = Duration::from_secs(5);
        assert!(transport("smtp://127.0.0.1:2525", t).is_ok());
        assert!(transport("smtps://user:pass@mail.example.org", t).is_ok());
        assert!(transport("smtp://mail.example.org?tls=required", t).is_ok());
        assert!(transport("http://mail.example.org", t).is_err());
    }
}
