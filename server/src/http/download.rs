//! A private file sent back to the one person who may read it (an agent's attachment, a
//! citizen's wallet document): as a download under its name, never cached, never sniffed.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

pub fn private_file(bytes: Bytes, filename: &str, mime: &str) -> Response {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    // The ASCII name for old clients, the exact one (RFC 6266, RFC 8187) for the others.
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        percent_encoded(filename)
    );
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_given_twice_safely() {
        let r = private_file(
            Bytes::from_static(b"x"),
            "relevé \"mai\".pdf",
            "application/pdf",
        );
        let d = r.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap_or_default();
        assert_eq!(
            d,
            "attachment; filename=\"relev_ _mai_.pdf\"; filename*=UTF-8''relev%C3%A9%20%22mai%22.pdf"
        );
        assert_eq!(r.headers()[header::CACHE_CONTROL], "private, no-store");
    }
}
