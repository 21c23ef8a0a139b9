//! The few HTML pages the service serves itself: where the links of its e-mails land. Opening
//! a link (a GET, which mail scanners and link previews also do) changes nothing; the page's
//! form confirms with a POST. No script, and no inline style (the security policy allows
//! neither): one small stylesheet of our own, and plain forms that work everywhere.

pub mod accessibility;
pub mod status;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use guichet_shared::phase::Lang;

/// Whether the caller is a browser asking for a page rather than a client asking for JSON.
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Whether the body is an HTML form's (`application/x-www-form-urlencoded`).
pub fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Where the pages' stylesheet is served.
pub const STYLESHEET_PATH: &str = "/pages.css";

/// The pages' stylesheet (print rules included).
pub async fn stylesheet() -> Response {
    let mut response = include_str!("pages.css").into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

fn footer(lang: Lang) -> String {
    let (text, link) = match lang {
        Lang::Fr => ("Accessibilité : partiellement conforme", "/accessibilite"),
        Lang::En => (
            "Accessibility: partially compliant",
            "/accessibilite?lang=en",
        ),
    };
    format!("<footer>\n<p><a href=\"{link}\">{text}</a></p>\n</footer>")
}

pub(super) fn page(status: StatusCode, lang: Lang, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{title} — Guichet</title>\n\
         <link rel=\"stylesheet\" href=\"{STYLESHEET_PATH}\">\n</head>\n\
         <body>\n<main>\n<h1>{title}</h1>\n{body}\n</main>\n{footer}\n</body>\n</html>\n",
        lang = lang.as_str(),
        title = escape(title),
        footer = footer(lang),
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // The page holds a token: no cache keeps it.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A page that says one thing.
pub fn message(status: StatusCode, lang: Lang, title: &str, text: &str) -> Response {
    page(status, lang, title, &format!("<p>{}</p>", escape(text)))
}

/// The page of the verification link: one button that confirms the address.
pub fn verify_form(lang: Lang, token: &str) -> Response {
    let (title, text, button) = match lang {
        Lang::Fr => (
            "Confirmer votre adresse",
            "Confirmez l'adresse électronique de votre compte Guichet.",
            "Confirmer mon adresse",
        ),
        Lang::En => (
            "Confirm your address",
            "Confirm the e-mail address of your Guichet account.",
            "Confirm my address",
        ),
    };
    let body = format!(
        "<p>{text}</p>\n<form method=\"post\" action=\"/api/v1/citizen/verify\">\n\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\n\
         <button type=\"submit\">{button}</button>\n</form>",
        text = escape(text),
        token = escape(token),
        button = escape(button),
    );
    page(StatusCode::OK, lang, title, &body)
}

/// The page of the reset link: the new password, twice as browsers expect for a new one.
pub fn reset_form(lang: Lang, token: &str, min_chars: usize) -> Response {
    let (title, label, hint, button) = match lang {
        Lang::Fr => (
            "Nouveau mot de passe",
            "Nouveau mot de passe",
            format!("Au moins {min_chars} caractères."),
            "Enregistrer",
        ),
        Lang::En => (
            "New password",
            "New password",
            format!("At least {min_chars} characters."),
            "Save",
        ),
    };
    let body = format!(
        "<form method=\"post\" action=\"/api/v1/citizen/password/reset\">\n\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\n\
         <p><label for=\"password\">{label}</label>\n\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" \
         minlength=\"{min_chars}\" required aria-describedby=\"hint\">\n\
         <span id=\"hint\">{hint}</span></p>\n\
         <button type=\"submit\">{button}</button>\n</form>",
        token = escape(token),
        label = escape(label),
        hint = escape(&hint),
        button = escape(button),
    );
    page(StatusCode::OK, lang, title, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
