//! The status page (`/suivi`), the HTML face of `GET /api/v1/requests/{number}` for citizens:
//! - `GET /suivi/{number}?follow=…`: where every e-mail's follow link lands (the default of
//!   `GUICHET_FOLLOW_URL`);
//! - `GET /suivi` and `POST /suivi`: the number and tracking code of a receipt typed in (a
//!   POST, so that the code never sits in an address, a history or a log);
//! - `POST /suivi/{number}/pas-repare`: "not fixed" with a photo, from the page's form;
//! - `GET /suivi/{number}/arret?follow=…`: the "stop the e-mails" link of every notice, a page
//!   whose button (`POST`) stops the e-mails about this request to that recipient's
//!   addresses only (the holder of the token: the request's contact and account, or one
//!   report's contact).
//!
//! Who may read what is the JSON view's rule (`pipeline::access`, `pipeline::public_view`);
//! an unknown number, code or token gets the same "not found" page. `?lang=en` (or the
//! browser's language) chooses English; French otherwise.

use axum::extract::{Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use guichet_shared::phase::Lang;
use guichet_shared::timeline::Reader;
use serde::Deserialize;

use super::body::{drain, lang_of, multipart_error, read_field};
use super::pages::status::{self, Key, Offers, Said};
use super::{ApiError, body, pages};
use crate::codes::{Follow, GivenToken};
use crate::db;
use crate::db::requests::RequestRow;
use crate::pipeline::access::{self, Credentials};
use crate::pipeline::{actions, public_view};
use crate::state::AppState;

/// The language asked for in the address or the form, else the browser's.
fn language(asked: Option<&str>, headers: &HeaderMap) -> Lang {
    asked.map_or_else(|| lang_of(headers), Lang::parse)
}

fn not_found(lang: Lang) -> Response {
    let (title, text) = match lang {
        Lang::Fr => (
            "Demande introuvable",
            "Aucune demande ne correspond à ce lien. Il a pu être remplacé par un plus récent : \
             utilisez le lien du dernier e-mail reçu, ou le numéro et le code de suivi de votre \
             accusé de réception sur la page « Suivre une demande » (/suivi).",
        ),
        Lang::En => (
            "Request not found",
            "No request matches this link. It may have been replaced by a newer one: use the \
             link of the latest e-mail, or the number and tracking code of your receipt on the \
             \"Follow a request\" page (/suivi).",
        ),
    };
    pages::message(StatusCode::NOT_FOUND, lang, title, text)
}

/// Refuses at once what cannot be a number, a code or a token.
fn plausible(text: &str, max: usize) -> bool {
    !text.is_empty() && text.len() <= max && !text.contains('\0')
}

async fn open(
    state: &AppState,
    number: &str,
    key: &Key<'_>,
) -> Result<Option<(RequestRow, Reader)>, ApiError> {
    let given = match key {
        Key::Follow(t) | Key::Code(t) => t,
    };
    if !plausible(number, 32) || !plausible(given, 64) {
        return Ok(None);
    }
    let creds = Credentials {
        tracking_code: match key {
            Key::Code(c) => Some(c),
            Key::Follow(_) => None,
        },
        follow: match key {
            Key::Follow(t) => Some(t),
            Key::Code(_) => None,
        },
        citizen_id: None,
    };
    let found = access::to_read(
        &state.db,
        state.config.notify.follow_key.as_ref(),
        number,
        creds,
    )
    .await?;
    Ok(found.map(|(row, grant)| (row, grant.reader)))
}

async fn show(
    state: &AppState,
    number: &str,
    key: Key<'_>,
    said: Said,
    lang: Lang,
) -> Result<Response, ApiError> {
    let Some((row, reader)) = open(state, number, &key).await? else {
        return Ok(not_found(lang));
    };
    let not_fixed = public_view::not_fixed_open(state, row.id).await?;
    let view = public_view::of(state, row, lang, reader).await?;
    let offers = Offers {
        not_fixed,
        stop_notices: matches!(key, Key::Follow(_)),
    };
    Ok(status::render(
        &view,
        &key,
        reader == Reader::Filer,
        &offers,
        &said,
        lang,
    ))
}

#[derive(Deserialize)]
pub struct PageQuery {
    follow: Option<String>,
    lang: Option<String>,
}

/// `GET /suivi/{number}?follow=…`: the page a follow link opens.
pub async fn by_link(
    State(state): State<AppState>,
    Path(number): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = language(q.lang.as_deref(), &headers);
    match q.follow.as_deref() {
        Some(token) => show(&state, &number, Key::Follow(token), Said::Nothing, lang).await,
        None => Ok(status::lookup_form(lang, None, &number)),
    }
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// `GET /suivi`: the form asking for a number and a tracking code.
pub async fn lookup_page(Query(q): Query<LangQuery>, headers: HeaderMap) -> Response {
    status::lookup_form(language(q.lang.as_deref(), &headers), None, "")
}

#[derive(Deserialize)]
pub struct Lookup {
    #[serde(default)]
    number: String,
    #[serde(default)]
    tracking_code: String,
    lang: Option<String>,
}

/// `POST /suivi`: the page of the number and code typed in.
pub async fn lookup(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let headers = req.headers().clone();
    let f: Lookup = body::form(req, &state).await?;
    let lang = language(f.lang.as_deref(), &headers);
    let number = f.number.trim().to_uppercase();
    let code = f.tracking_code.trim();
    let found = show(&state, &number, Key::Code(code), Said::Nothing, lang).await?;
    if found.status() == StatusCode::NOT_FOUND {
        let text = match lang {
            Lang::Fr => {
                "Aucune demande ne correspond à ce numéro et à ce code. Vérifiez-les sur votre accusé de réception."
            }
            Lang::En => "No request matches this number and code. Check them on your receipt.",
        };
        return Ok(status::lookup_form(lang, Some(text), &number));
    }
    Ok(found)
}

/// What the "not fixed" form sent.
#[derive(Default)]
struct NotFixedForm {
    follow: Option<String>,
    tracking_code: Option<String>,
    lang: Option<String>,
    message: Option<String>,
    photos: Vec<Bytes>,
}

async fn read_not_fixed(
    state: &AppState,
    mut multipart: Multipart,
) -> Result<NotFixedForm, ApiError> {
    let limits = &state.config.photos;
    let limit = state.report_body_limit();
    let mut form = NotFixedForm::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(e, limit))?
    {
        let name = field.name().unwrap_or("").to_owned();
        let max = if name == "photo" {
            limits.max_bytes
        } else {
            8 * 1024
        };
        let Some(bytes) = read_field(field, max, limit).await? else {
            drain(&mut multipart).await;
            return Err(pages_error("photo-too-large"));
        };
        let text = || String::from_utf8_lossy(&bytes).into_owned();
        match name.as_str() {
            "follow" => form.follow = Some(text()),
            "tracking_code" => form.tracking_code = Some(text()),
            "lang" => form.lang = Some(text()),
            "message" => form.message = Some(text()),
            // A file input left empty still sends an empty part.
            "photo" if !bytes.is_empty() && form.photos.len() < limits.max_count => {
                form.photos.push(bytes)
            }
            _ => {}
        }
    }
    Ok(form)
}

/// An error the page shows in words rather than as a problem document.
fn pages_error(code: &'static str) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, "Invalid form", code)
}

/// What a citizen reads when "not fixed" fails, by the problem's code.
fn not_fixed_failure(code: &str, lang: Lang, max_mb: usize) -> String {
    match (code, lang) {
        ("not-reopenable", Lang::Fr) => {
            "Cette demande ne peut plus être rouverte (plus de 30 jours après sa résolution, ou elle n'est pas close comme résolue). Signalez le problème à nouveau.".to_owned()
        }
        ("not-reopenable", Lang::En) => {
            "This request can no longer be reopened (more than 30 days after its resolution, or it is not closed as resolved). Report the problem anew.".to_owned()
        }
        ("photo-missing", Lang::Fr) => "Joignez une photo du problème tel qu'il est aujourd'hui.".to_owned(),
        ("photo-missing", Lang::En) => "Attach a photo of the problem as it is today.".to_owned(),
        ("photo-too-large" | "body-too-large", Lang::Fr) => {
            format!("La photo est trop lourde : {max_mb} Mo au plus.")
        }
        ("photo-too-large" | "body-too-large", Lang::En) => {
            format!("The photo is too large: {max_mb} MB at most.")
        }
        (c, Lang::Fr) if c.starts_with("photo-") => {
            "La photo n'a pas pu être lue : envoyez une photo JPEG, PNG ou WebP.".to_owned()
        }
        (c, Lang::En) if c.starts_with("photo-") => {
            "The photo could not be read: send a JPEG, PNG or WebP photo.".to_owned()
        }
        ("message-too-long" | "validation-failed", Lang::Fr) => {
            "Le message est trop long ou invalide : raccourcissez-le.".to_owned()
        }
        ("message-too-long" | "validation-failed", Lang::En) => {
            "The message is too long or invalid: shorten it.".to_owned()
        }
        (c, Lang::Fr) => format!("Votre signalement n'a pas pu être enregistré ({c}). Réessayez plus tard."),
        (c, Lang::En) => format!("Your report could not be recorded ({c}). Try again later."),
    }
}

/// `POST /suivi/{number}/pas-repare`: "not fixed" from the page, answered with the page.
pub async fn not_fixed(
    State(state): State<AppState>,
    Path(number): Path<String>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Result<Response, ApiError> {
    let max_mb = state.config.photos.max_bytes / (1024 * 1024);
    let form = match read_not_fixed(&state, multipart).await {
        Ok(form) => form,
        Err(e) => {
            let lang = lang_of(&headers);
            let (title, text) = match lang {
                Lang::Fr => ("Envoi impossible", not_fixed_failure(e.code, lang, max_mb)),
                Lang::En => ("Could not send", not_fixed_failure(e.code, lang, max_mb)),
            };
            return Ok(pages::message(e.status, lang, title, &text));
        }
    };
    let lang = language(form.lang.as_deref(), &headers);
    let key = match (&form.follow, &form.tracking_code) {
        (Some(t), _) => Key::Follow(t),
        (None, Some(c)) => Key::Code(c),
        (None, None) => return Ok(not_found(lang)),
    };
    // The same rule as the JSON route: whoever may read the request may say it is back.
    if open(&state, &number, &key).await?.is_none() {
        return Ok(not_found(lang));
    }
    let said = if form.photos.is_empty() {
        Said::Failed(not_fixed_failure("photo-missing", lang, max_mb))
    } else {
        match actions::not_fixed(&state, &number, form.message.as_deref(), form.photos).await {
            Ok(()) => Said::Done(
                match lang {
                    Lang::Fr => "Merci : la demande est rouverte et le service en est averti.",
                    Lang::En => "Thank you: the request is reopened and the service is told.",
                }
                .to_owned(),
            ),
            Err(e) => {
                let e = ApiError::from(e);
                if e.status.is_server_error() {
                    return Err(e);
                }
                Said::Failed(not_fixed_failure(e.code, lang, max_mb))
            }
        }
    };
    show(&state, &number, key, said, lang).await
}

/// `GET /suivi/{number}/arret?follow=…`: the confirmation page; stops nothing.
pub async fn stop_page(
    State(state): State<AppState>,
    Path(number): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = language(q.lang.as_deref(), &headers);
    let Some(token) = q.follow.as_deref() else {
        return Ok(not_found(lang));
    };
    match open(&state, &number, &Key::Follow(token)).await? {
        Some((row, _)) => Ok(status::stop_form(lang, &row.number, token)),
        None => Ok(not_found(lang)),
    }
}

#[derive(Deserialize)]
pub struct StopForm {
    #[serde(default)]
    follow: String,
    lang: Option<String>,
}

/// `POST /suivi/{number}/arret`: stops the e-mails about the request to the token's holder.
pub async fn stop(
    State(state): State<AppState>,
    Path(number): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let headers = req.headers().clone();
    let f: StopForm = body::form(req, &state).await?;
    let lang = language(f.lang.as_deref(), &headers);
    // `open` checks the token's signature; only then does what it names count.
    let (Some((row, _)), Some(given)) = (
        open(&state, &number, &Key::Follow(&f.follow)).await?,
        GivenToken::parse(&f.follow),
    ) else {
        return Ok(not_found(lang));
    };
    let (holder_request, holder_report) = match given.what {
        Follow::Request(id) => (id, None),
        Follow::Report(id) => (0, Some(id)),
    };
    db::notify::stop_notices(&state.db, row.id, holder_request, holder_report).await?;
    Ok(status::stopped(lang, &row.number, &f.follow))
}
