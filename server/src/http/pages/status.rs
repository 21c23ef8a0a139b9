//! The status page of one request, for citizens without an account: where the follow link of
//! every e-mail lands, and what the receipt's number and code open. It shows what the holder
//! may read (`pipeline::public_view`), says what the link or code is for, and offers the two
//! acts a follow-only holder has: "not fixed" on a resolved incident, and stopping the
//! e-mails about this request.

use axum::http::StatusCode;
use axum::response::Response;
use guichet_shared::api::{PhotoLinks, PublicRequest};
use guichet_shared::city_time::in_paris;
use guichet_shared::phase::{Lang, Phase};
use time::OffsetDateTime;

use super::{escape, page};

/// How the page was opened: it says so, and its forms carry the same key.
pub enum Key<'a> {
    /// A follow link of an e-mail (one recipient's own token).
    Follow(&'a str),
    /// The number and tracking code typed in (never put in an address).
    Code(&'a str),
}

/// What the page offers besides reading.
pub struct Offers {
    /// "Not fixed" is open: resolved less than 30 days ago.
    pub not_fixed: bool,
    /// The e-mails about this request may be stopped for this key's holder.
    pub stop_notices: bool,
}

/// A line said at the top of the page after an act, or an error of the "not fixed" form.
pub enum Said {
    Nothing,
    Done(String),
    Failed(String),
}

const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A date and time as a citizen reads it, in the city's time.
pub fn when(t: OffsetDateTime, lang: Lang) -> String {
    let t = in_paris(t);
    let month = usize::from(u8::from(t.month())) - 1;
    match lang {
        Lang::Fr => format!(
            "{} {} {} à {:02}:{:02}",
            t.day(),
            MONTHS_FR[month],
            t.year(),
            t.hour(),
            t.minute()
        ),
        Lang::En => format!(
            "{} {} {}, {:02}:{:02}",
            t.day(),
            MONTHS_EN[month],
            t.year(),
            t.hour(),
            t.minute()
        ),
    }
}

fn tr(lang: Lang, fr: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Fr => fr,
        Lang::En => en,
    }
}

fn photo_list(photos: &[PhotoLinks], alt: &str) -> String {
    if photos.is_empty() {
        return String::new();
    }
    let items: Vec<String> = photos
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "<li><a href=\"{url}\"><img src=\"{thumb}\" alt=\"{alt} {n}\" loading=\"lazy\"></a></li>",
                url = escape(&p.url),
                thumb = escape(&p.thumbnail_url),
                alt = escape(alt),
                n = i + 1,
            )
        })
        .collect();
    format!("<ul class=\"photos\">{}</ul>", items.join(""))
}

/// The hidden fields that carry the key in the page's forms.
fn key_fields(key: &Key<'_>) -> String {
    match key {
        Key::Follow(token) => format!(
            "<input type=\"hidden\" name=\"follow\" value=\"{}\">",
            escape(token)
        ),
        Key::Code(code) => format!(
            "<input type=\"hidden\" name=\"tracking_code\" value=\"{}\">",
            escape(code)
        ),
    }
}

fn language_switch(v: &PublicRequest, key: &Key<'_>, lang: Lang) -> String {
    let (other, label) = match lang {
        Lang::Fr => ("en", "English version"),
        Lang::En => ("fr", "Version française"),
    };
    let number = escape(&v.number);
    match key {
        Key::Follow(token) => format!(
            "<p class=\"lang\"><a href=\"/suivi/{number}?follow={token}&amp;lang={other}\" \
             lang=\"{other}\" hreflang=\"{other}\">{label}</a></p>",
            token = escape(token),
        ),
        // A code stays out of addresses: the other language is asked for with a form.
        Key::Code(code) => format!(
            "<form class=\"lang\" method=\"post\" action=\"/suivi\">\
             <input type=\"hidden\" name=\"number\" value=\"{number}\">\
             <input type=\"hidden\" name=\"tracking_code\" value=\"{code}\">\
             <input type=\"hidden\" name=\"lang\" value=\"{other}\">\
             <button type=\"submit\" class=\"secondary\" lang=\"{other}\">{label}</button></form>",
            code = escape(code),
        ),
    }
}

fn what_the_key_is_for(key: &Key<'_>, filer: bool, lang: Lang) -> String {
    let text = match (key, filer, lang) {
        (Key::Follow(_), _, Lang::Fr) => {
            "Ce lien vous a été envoyé par e-mail : il vous est personnel et permet de suivre \
             cette demande sans compte. Ne le transmettez pas : quiconque le détient voit où \
             elle en est."
        }
        (Key::Follow(_), _, Lang::En) => {
            "This link was e-mailed to you: it is yours alone and lets you follow this request \
             without an account. Do not pass it on: whoever holds it sees how it stands."
        }
        (Key::Code(_), true, Lang::Fr) => {
            "Le code de suivi vous a été remis au dépôt, avec le numéro. Ensemble, ils \
             permettent de suivre cette demande sans compte et, depuis l'application Guichet, \
             d'écrire au service ou de répondre à ses questions. Gardez-les pour vous."
        }
        (Key::Code(_), true, Lang::En) => {
            "The tracking code was given to you when you filed, with the number. Together they \
             let you follow this request without an account and, in the Guichet app, write to \
             the service or answer its questions. Keep them to yourself."
        }
        (Key::Code(_), false, Lang::Fr) => {
            "Ce code de suivi vous a été remis quand vous avez signalé le même problème : il \
             permet de suivre où en est la demande, sans compte. Gardez-le pour vous."
        }
        (Key::Code(_), false, Lang::En) => {
            "This tracking code was given to you when you reported the same problem: it lets \
             you follow how the request stands, without an account. Keep it to yourself."
        }
    };
    format!(
        "<section class=\"card\" aria-labelledby=\"key-title\">\n<h2 id=\"key-title\">{}</h2>\n<p>{}</p>\n</section>",
        tr(
            lang,
            "À quoi sert ce lien ou ce code ?",
            "What is this link or code for?"
        ),
        escape(text)
    )
}

fn not_fixed_form(v: &PublicRequest, key: &Key<'_>, lang: Lang, error: Option<&str>) -> String {
    let number = escape(&v.number);
    let error_html = error.map_or_else(String::new, |e| {
        format!(
            "<p class=\"error\" id=\"not-fixed-error\" role=\"alert\">{}</p>",
            escape(e)
        )
    });
    let described = if error.is_some() {
        "photo-hint not-fixed-error"
    } else {
        "photo-hint"
    };
    format!(
        "<section aria-labelledby=\"not-fixed-title\">\n<h2 id=\"not-fixed-title\">{title}</h2>\n\
         <p>{intro}</p>\n{error_html}\
         <form method=\"post\" action=\"/suivi/{number}/pas-repare\" enctype=\"multipart/form-data\">\n\
         {key}<input type=\"hidden\" name=\"lang\" value=\"{lang}\">\n\
         <label for=\"photo\">{photo}</label>\n\
         <span class=\"hint\" id=\"photo-hint\">{photo_hint}</span>\n\
         <input id=\"photo\" name=\"photo\" type=\"file\" accept=\"image/jpeg,image/png,image/webp\" \
         required aria-describedby=\"{described}\">\n\
         <label for=\"message\">{message}</label>\n\
         <textarea id=\"message\" name=\"message\" rows=\"3\" maxlength=\"2000\"></textarea>\n\
         <button type=\"submit\">{button}</button>\n</form>\n</section>",
        title = tr(lang, "Le problème n'est pas réglé ?", "Not fixed?"),
        intro = tr(
            lang,
            "Dans les 30 jours qui suivent la résolution, vous pouvez signaler que le problème \
             est toujours là : la demande est rouverte et le service la reprend.",
            "Within 30 days of the resolution, you can say the problem is still there: the \
             request reopens and the service takes it up again."
        ),
        key = key_fields(key),
        lang = lang.as_str(),
        photo = tr(
            lang,
            "Photo du problème aujourd'hui",
            "Photo of the problem today"
        ),
        photo_hint = tr(
            lang,
            "Obligatoire. JPEG, PNG ou WebP.",
            "Required. JPEG, PNG or WebP."
        ),
        message = tr(
            lang,
            "Ce que vous constatez (facultatif)",
            "What you see (optional)"
        ),
        button = tr(
            lang,
            "Signaler que ce n'est pas réglé",
            "Report that it is not fixed"
        ),
    )
}

fn stop_link(v: &PublicRequest, key: &Key<'_>, lang: Lang) -> String {
    let Key::Follow(token) = key else {
        return String::new();
    };
    format!(
        "<p class=\"no-print\"><a href=\"/suivi/{number}/arret?follow={token}&amp;lang={lang}\">{text}</a></p>",
        number = escape(&v.number),
        token = escape(token),
        lang = lang.as_str(),
        text = tr(
            lang,
            "Ne plus recevoir d'e-mails sur cette demande",
            "Stop the e-mails about this request"
        ),
    )
}

/// The whole page.
pub fn render(
    v: &PublicRequest,
    key: &Key<'_>,
    filer: bool,
    offers: &Offers,
    said: &Said,
    lang: Lang,
) -> Response {
    let status = match said {
        Said::Failed(_) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    let mut body = vec![language_switch(v, key, lang)];
    if let Said::Done(text) = said {
        body.push(format!(
            "<p class=\"notice\" role=\"status\">{}</p>",
            escape(text)
        ));
    }
    let mut facts = vec![
        (
            tr(lang, "Numéro", "Number"),
            format!("<span class=\"code\">{}</span>", escape(&v.number)),
        ),
        (tr(lang, "Démarche", "Service"), escape(&v.demarche.title)),
        (
            tr(lang, "État", "Status"),
            format!(
                "<span class=\"status\" id=\"status\">{}</span>",
                escape(&v.status_label)
            ),
        ),
        (
            tr(lang, "Déposée le", "Filed on"),
            escape(&when(v.created_at, lang)),
        ),
        (
            tr(lang, "Mise à jour le", "Updated on"),
            escape(&when(v.updated_at, lang)),
        ),
    ];
    if let Some(zone) = &v.zone {
        facts.push((tr(lang, "Commune", "Town"), escape(zone)));
    }
    if let Some(address) = &v.address {
        facts.push((tr(lang, "Adresse", "Address"), escape(address)));
    }
    if v.report_count > 1 {
        facts.push((
            tr(lang, "Signalements", "Reports"),
            v.report_count.to_string(),
        ));
    }
    let facts_html: String = facts
        .iter()
        .map(|(k, v)| format!("<dt>{k}</dt><dd>{v}</dd>"))
        .collect();
    body.push(format!("<dl class=\"facts\">{facts_html}</dl>"));
    if let Some(into) = &v.merged_into {
        body.push(format!(
            "<p>{} <span class=\"code\">{}</span>.</p>",
            tr(
                lang,
                "Cette demande a été regroupée avec une autre, suivie sous le numéro",
                "This request was merged with another, followed under number"
            ),
            escape(into)
        ));
    }
    if let Some(description) = &v.description {
        body.push(format!(
            "<h2>{}</h2>\n<p>{}</p>",
            tr(lang, "Votre description", "Your description"),
            escape(description)
        ));
    }
    if !v.photos.is_empty() {
        body.push(format!(
            "<h2>{}</h2>\n{}",
            tr(lang, "Photos envoyées", "Photos sent"),
            photo_list(&v.photos, tr(lang, "Photo envoyée", "Photo sent"))
        ));
    }
    let entries: String = v
        .timeline
        .iter()
        .map(|e| {
            let message = e.message.as_deref().map_or_else(String::new, |m| {
                format!("<p class=\"message\">{}</p>", escape(m))
            });
            let photos = photo_list(
                &e.photos,
                tr(lang, "Photo après intervention", "Photo after the work"),
            );
            format!(
                "<li><time datetime=\"{iso}\">{at}</time> — <strong>{label}</strong>{message}{photos}</li>",
                iso = e
                    .at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                at = escape(&when(e.at, lang)),
                label = escape(&e.label),
            )
        })
        .collect();
    body.push(format!(
        "<section aria-labelledby=\"timeline-title\">\n<h2 id=\"timeline-title\">{}</h2>\n\
         <ol class=\"timeline\" id=\"timeline\">{entries}</ol>\n</section>",
        tr(lang, "Historique", "History")
    ));
    if offers.not_fixed && v.phase == Phase::Closed {
        let error = match said {
            Said::Failed(e) => Some(e.as_str()),
            _ => None,
        };
        body.push(not_fixed_form(v, key, lang, error));
    } else if let Said::Failed(e) = said {
        body.push(format!(
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape(e)
        ));
    }
    body.push(what_the_key_is_for(key, filer, lang));
    if offers.stop_notices {
        body.push(stop_link(v, key, lang));
    }
    let title = match lang {
        Lang::Fr => format!("Suivi de la demande {}", v.number),
        Lang::En => format!("Request {}", v.number),
    };
    page(status, lang, &title, &body.join("\n"))
}

/// The form that opens a request's page with its number and tracking code.
pub fn lookup_form(lang: Lang, error: Option<&str>, number: &str) -> Response {
    let error_html = error.map_or_else(String::new, |e| {
        format!(
            "<p class=\"error\" id=\"lookup-error\" role=\"alert\">{}</p>",
            escape(e)
        )
    });
    let described = if error.is_some() {
        " aria-describedby=\"lookup-error\""
    } else {
        ""
    };
    let body = format!(
        "<p>{intro}</p>\n{error_html}<form method=\"post\" action=\"/suivi\">\n\
         <input type=\"hidden\" name=\"lang\" value=\"{lang}\">\n\
         <label for=\"number\">{number_label}</label>\n\
         <span class=\"hint\" id=\"number-hint\">{number_hint}</span>\n\
         <input id=\"number\" name=\"number\" type=\"text\" required autocomplete=\"off\" \
         spellcheck=\"false\" value=\"{number}\" aria-describedby=\"number-hint\">\n\
         <label for=\"tracking_code\">{code_label}</label>\n\
         <span class=\"hint\" id=\"code-hint\">{code_hint}</span>\n\
         <input id=\"tracking_code\" name=\"tracking_code\" type=\"text\" required autocomplete=\"off\" \
         spellcheck=\"false\" aria-describedby=\"code-hint\"{described}>\n\
         <button type=\"submit\">{button}</button>\n</form>",
        intro = tr(
            lang,
            "Saisissez le numéro et le code de suivi de votre accusé de réception pour voir \
             où en est votre demande, sans compte.",
            "Type the number and tracking code of your receipt to see how your request \
             stands, without an account."
        ),
        lang = lang.as_str(),
        number_label = tr(lang, "Numéro de la demande", "Request number"),
        number_hint = tr(
            lang,
            "Par exemple 2026-SIG-000123",
            "For example 2026-SIG-000123"
        ),
        number = escape(number),
        code_label = tr(lang, "Code de suivi", "Tracking code"),
        code_hint = tr(
            lang,
            "12 caractères, par exemple 7K2M-QX4P-9TZC",
            "12 characters, for example 7K2M-QX4P-9TZC"
        ),
        button = tr(lang, "Voir ma demande", "See my request"),
    );
    let status = if error.is_some() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    page(
        status,
        lang,
        tr(lang, "Suivre une demande", "Follow a request"),
        &body,
    )
}

/// The page of an e-mail's "stop" link: one button confirms (the GET changes nothing).
pub fn stop_form(lang: Lang, number: &str, token: &str) -> Response {
    let body = format!(
        "<p>{text} <span class=\"code\">{number}</span>.</p>\n\
         <p>{after}</p>\n\
         <form method=\"post\" action=\"/suivi/{number}/arret\">\n\
         <input type=\"hidden\" name=\"follow\" value=\"{token}\">\n\
         <input type=\"hidden\" name=\"lang\" value=\"{lang}\">\n\
         <button type=\"submit\">{button}</button>\n</form>\n\
         <p><a href=\"/suivi/{number}?follow={token}&amp;lang={lang}\">{back}</a></p>",
        text = tr(
            lang,
            "Vous ne recevrez plus d'e-mails sur la demande",
            "You will receive no more e-mails about request"
        ),
        after = tr(
            lang,
            "Les autres personnes qui la suivent continueront d'être informées. Vous pourrez \
             toujours voir où elle en est avec le lien de vos e-mails.",
            "Others who follow it will still be told. You can still see how it stands with \
             the link of your e-mails."
        ),
        number = escape(number),
        token = escape(token),
        lang = lang.as_str(),
        button = tr(lang, "Ne plus recevoir d'e-mails", "Stop the e-mails"),
        back = tr(
            lang,
            "Revenir au suivi de la demande",
            "Back to the request"
        ),
    );
    page(
        StatusCode::OK,
        lang,
        tr(lang, "Arrêter les e-mails", "Stop the e-mails"),
        &body,
    )
}

/// Said once the e-mails are stopped.
pub fn stopped(lang: Lang, number: &str, token: &str) -> Response {
    let body = format!(
        "<p role=\"status\">{text} <span class=\"code\">{number}</span>.</p>\n\
         <p><a href=\"/suivi/{number}?follow={token}&amp;lang={lang}\">{back}</a></p>",
        text = tr(
            lang,
            "C'est fait : vous ne recevrez plus d'e-mails sur la demande",
            "Done: you will receive no more e-mails about request"
        ),
        number = escape(number),
        token = escape(token),
        lang = lang.as_str(),
        back = tr(
            lang,
            "Revenir au suivi de la demande",
            "Back to the request"
        ),
    );
    page(
        StatusCode::OK,
        lang,
        tr(lang, "E-mails arrêtés", "E-mails stopped"),
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn dates_read_in_the_city_time() {
        assert_eq!(
            when(datetime!(2026-03-14 08:05 UTC), Lang::Fr),
            "14 mars 2026 à 09:05"
        );
        assert_eq!(
            when(datetime!(2026-07-01 08:05 UTC), Lang::En),
            "1 July 2026, 10:05"
        );
    }
}
