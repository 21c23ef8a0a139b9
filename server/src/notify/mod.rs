//! Notices: what citizens are told by e-mail and other systems by webhook when something
//! happens to a request.
//!
//! The request pipeline calls [`notify`] inside the transaction that makes the change. Nothing
//! is sent there: e-mails and webhook deliveries become outbox jobs of that same transaction,
//! so a notice goes out if and only if the change was committed, and a slow mail server never
//! holds up an agent or a citizen. The outbox worker then sends them ([`jobs`]) and retries
//! with back-off; what still fails stays visible (`outbox_jobs.failed_at`,
//! `webhook_deliveries.status = 'failed'`).
//!
//! Who is told: the "contacts" of a request are the distinct addresses among the request's
//! own contact, the e-mail of the citizen account that filed it, and the contact of every
//! report (first report and co-reports, "me too" included). Each is written to in the
//! language they used. Without `GUICHET_SMTP_URL`, e-mails are written to the log (without
//! their address or text) and the job is done.
//!
//! What each e-mail carries is its recipient's own (see `crate::codes`): the clear tracking
//! code only in the first acknowledgement of the one who holds it (the filer's, or a
//! co-reporter's or supporter's own), and otherwise a follow link derived for that recipient,
//! never another person's code or link. The conversation (replies, complements) goes to the
//! filer only, unless an agent addresses a reply to every reporter.

pub mod jobs;
pub mod mail;
pub mod templates;
pub mod webhooks;

use guichet_shared::phase::{Lang, Phase};
use guichet_shared::timeline::{Audience, EventKind};
use guichet_shared::workflow;
use serde_json::{Map, Value, json};
use sqlx::PgConnection;
use time::format_description::well_known::Rfc3339;

use crate::codes::{self, Follow};
use crate::config::NotifyConfig;
use crate::db::notify::{Contact, ContactSource, RequestFacts, distinct_contacts, filer};
use crate::db::{self, DbError, events::Actor};
use mail::EmailJob;
use templates::{Email, Receipt, RequestView};

/// Outbox job kind: send one e-mail (payload: [`mail::EmailJob`]).
pub const EMAIL_SEND: &str = "email.send";
/// Outbox job kind: one attempt at one webhook delivery (payload: `{"delivery_id"}`).
pub const WEBHOOK_DELIVER: &str = "webhook.deliver";

/// Something that happened to a request and that people or systems are told about.
#[derive(Debug, Clone, Copy)]
pub enum Notice<'a> {
    /// A request was filed, from any channel (web, app, api, or an agent entering a
    /// phone/desk/mail/email request). The filer gets the SVE acknowledgement (number, date
    /// and time of receipt, démarche, service in charge, how to follow it: their follow link,
    /// and `tracking_code`, the filer's new code in clear, when there is one to hand out); a
    /// public `acknowledgement` event is recorded in the timeline even when there is nobody
    /// to e-mail; webhook `request.created`.
    Created { tracking_code: Option<&'a str> },
    /// Another submission joined an existing request (co-report or "me too"): acknowledgement
    /// to that report's contact only, with that reporter's own new code and follow link, and a
    /// public `acknowledgement` event with `report_id`.
    ReportAdded {
        report_id: i64,
        tracking_code: Option<&'a str>,
    },
    /// A public status change, called once the row holds the new status and phase: a notice
    /// with the new public label to every contact; webhook `request.status_changed`, and
    /// `request.closed` when the new phase is `closed`.
    /// `after_photos`: the addresses of the photos taken once the work was done, linked in the
    /// notice (to every reporter of a public incident; to the filer alone otherwise).
    StatusChanged {
        from: &'a str,
        to: &'a str,
        after_photos: &'a [String],
    },
    /// A public reply from an agent: to the filer, or to every contact when it is addressed
    /// to all reporters.
    Reply { body: &'a str, audience: Audience },
    /// The agent asks the filer for a complement: the message and the fields (ids of the
    /// démarche's form fields, shown by their labels) to complete.
    ComplementRequested {
        fields: &'a [String],
        message: &'a str,
    },
    /// This request was merged into request `into_id`: its contacts learn the number it is
    /// followed under from now on; webhook `request.merged`.
    Merged { into_id: i64 },
}

/// Records and schedules everything `notice` implies for request `request_id`, in the
/// caller's transaction. Fails only on database errors (or an unknown request).
pub async fn notify(
    tx: &mut PgConnection,
    cfg: &NotifyConfig,
    request_id: i64,
    notice: Notice<'_>,
) -> Result<(), DbError> {
    let facts = db::notify::request_facts(tx, request_id)
        .await?
        .ok_or_else(|| DbError::Data(format!("notice about unknown request {request_id}")))?;
    match notice {
        Notice::Created { tracking_code } => created(tx, cfg, &facts, tracking_code).await,
        Notice::ReportAdded {
            report_id,
            tracking_code,
        } => report_added(tx, cfg, &facts, report_id, tracking_code).await,
        Notice::StatusChanged {
            from,
            to,
            after_photos,
        } => status_changed(tx, cfg, &facts, from, to, after_photos).await,
        Notice::Reply { body, audience } => {
            let contacts = db::notify::contacts(tx, facts.id).await?;
            let to: Vec<&Contact> = match audience {
                Audience::All => distinct_contacts(&contacts),
                Audience::Filer => filer(&contacts).into_iter().collect(),
            };
            for c in to {
                let lang = lang_of(&c.lang);
                let r = view(cfg, &facts, lang, holder(facts.id, c), None);
                let email = templates::reply(lang, &r, body);
                enqueue_email(tx, cfg, &c.email, email, Some(facts.id)).await?;
            }
            Ok(())
        }
        Notice::ComplementRequested { fields, message } => {
            let contacts = db::notify::contacts(tx, facts.id).await?;
            if let Some(c) = filer(&contacts) {
                let lang = lang_of(&c.lang);
                let labels: Vec<String> = fields
                    .iter()
                    .map(|f| field_label(&facts.definition, f, lang))
                    .collect();
                let email = templates::complement_requested(
                    lang,
                    &view(cfg, &facts, lang, holder(facts.id, c), None),
                    &labels,
                    message,
                );
                enqueue_email(tx, cfg, &c.email, email, Some(facts.id)).await?;
            }
            Ok(())
        }
        Notice::Merged { into_id } => merged(tx, cfg, &facts, into_id).await,
    }
}

/// The sections of an agent's morning digest.
pub struct DigestSections<'a> {
    pub assigned: &'a [crate::digest::Line],
    pub overdue: &'a [crate::digest::Line],
    pub reopened: &'a [crate::digest::Line],
}

/// An agent's morning digest: their "for me" view, with links to the back office.
pub async fn agent_digest(
    tx: &mut PgConnection,
    cfg: &NotifyConfig,
    email: &str,
    name: &str,
    sections: DigestSections<'_>,
) -> Result<(), DbError> {
    let base = format!("{}/backoffice", cfg.public_url);
    let message = templates::digest(name, &base, &sections);
    enqueue_email(tx, cfg, &email.trim().to_lowercase(), message, None).await
}

/// `{public_url}{path}?token=…`, the link of an account e-mail.
fn token_link(cfg: &NotifyConfig, path: &str, token: &str) -> String {
    let base = format!("{}{path}", cfg.public_url);
    reqwest::Url::parse_with_params(&base, [("token", token)])
        .map(String::from)
        .unwrap_or_else(|_| format!("{base}?token={token}"))
}

/// The e-mail that confirms a citizen account's address. The link opens
/// `{public_url}/api/v1/citizen/verify?token=…`, a page whose button confirms with a POST (so
/// that a mail scanner following the link confirms nothing); the token is also given as text.
pub async fn verification_email(
    tx: &mut PgConnection,
    cfg: &NotifyConfig,
    email: &str,
    lang: Lang,
    token: &str,
) -> Result<(), DbError> {
    let link = token_link(cfg, "/api/v1/citizen/verify", token);
    let hours = crate::auth::VERIFICATION_VALIDITY.whole_hours();
    let message = templates::verification(lang, &link, token, hours);
    enqueue_email(tx, cfg, &email.trim().to_lowercase(), message, None).await
}

/// The e-mail with a single-use link to choose a new password: it opens
/// `{public_url}/api/v1/citizen/password/reset?token=…`, a page whose form sends the new
/// password with a POST.
pub async fn password_reset_email(
    tx: &mut PgConnection,
    cfg: &NotifyConfig,
    email: &str,
    lang: Lang,
    token: &str,
) -> Result<(), DbError> {
    let link = token_link(cfg, "/api/v1/citizen/password/reset", token);
    let minutes = crate::auth::RESET_VALIDITY.whole_minutes();
    let message = templates::password_reset(lang, &link, minutes);
    enqueue_email(tx, cfg, &email.trim().to_lowercase(), message, None).await
}

async fn created(
    tx: &mut PgConnection,
    cfg: &NotifyConfig,
    facts: &RequestFacts,
    tracking_code: Option<&str>,
) -> Result<(), DbError> {
    let event = json!({
        "number": facts.number,
        "received_at": rfc3339(facts.created_at),
        "service": facts.team_name,
        "channel": facts.channel,
    });
    db::events::insert(
        &mut *tx,
        facts.id,
        EventKind::Acknowledgement,
        Actor::System,
        &event,
    )
    .await?;

    let contacts = db::notify::contacts(tx, facts.id).await?;
    if let Some(c) = filer(&contacts) {
        let lang = lang_of(&c.lang);
        let receipt = Receipt {
            received: facts.received_local,
            channel: facts.channel.as_str(),
        };
        let r = view(cfg, facts, lang, holder(facts.id, c), tracking_code);
        let email = templates::acknowledgement(lang, &r, &receipt);
        enqueue_email(tx, cfg, &c.email, email, Some(facts.id)).await?;
    }
    let data = webhook_data(facts);
    webhooks::fan_out(tx, cfg, webhooks::REQUEST_CREATED, Some(facts.id), data).await
}

async fn report_added(
    tx: &mut PgConnection,
    cfg: &NotifyConfig,
    facts: &RequestFacts,
    report_id: i64,
    tracking_code: Option<&str>,
) -> Result<(), DbError> {
    let report = db::notify::report_facts(tx, facts.id, report_id)
        .await?
        .ok_or_else(|| {
            DbError::Data(format!(
                "report {report_id} does not belong to request {}",
                facts.id
            ))
        })?;
    let event = json!({
        "number": facts.number,
        "received_at": rfc3339(report.created_at),
        "service": facts.team_name,
        "channel": report.channel,
        "report_id": report_id,
    });
    db::events::insert(
        &mut *tx,
        facts.id,
        EventKind::Acknowledgement,
        Actor::System,
        &event,
    )
    .await?;
    if let Some(to) = &report.contact_email {
        let lang = lang_of(&report.lang);
        let receipt = Receipt {
            received: report.received_local,
            channel: &report.channel,
        };
        // The reporter's own code and link, never the filer's.
        let reporter = Holder {
            what: Follow::Report(report_id),
            code_digest: report.tracking_code_digest.as_deref(),
        };
        let r = view(cfg, facts, lang, reporter, tracking_code);
        let email = templates::report_acknowledgement(lang, &r, &receipt);
        enqueue_email(tx, cfg, to, email, Some(facts.id)).await?;
    }
    Ok(())
}

async fn status_changed(
    tx: &mut PgConnection,
    cfg: &NotifyConfig,
    facts: &RequestFacts,
    from: &str,
    to: &str,
    after_photos: &[String],
) -> Result<(), DbError> {
    let closed = facts.phase == Phase::Closed;
    let phase = Some(facts.phase);
    let contacts = db::notify::contacts(tx, facts.id).await?;
    let filer_email = filer(&contacts).map(|c| c.email.clone());
    // Photos of a place are for those who may see the place (as in the public view).
    let public_place = facts.public_lat.is_some();
    for c in distinct_contacts(&contacts) {
        let lang = lang_of(&c.lang);
        let label = public_label(&facts.workflow, to, phase, lang);
        let r = view(cfg, facts, lang, holder(facts.id, c), None);
        let sees_place = public_place || filer_email.as_deref() == Some(c.email.as_str());
        let photos = if sees_place { after_photos } else { &[] };
        let email = templates::status_changed(lang, &r, label, closed, photos);
        enqueue_email(tx, cfg, &c.email, email, Some(facts.id)).await?;
    }

    let mut data = webhook_data(facts);
    if let Some(map) = data.as_object_mut() {
        // The new status is the one the caller names (the row holds it too).
        map.insert("status_label".into(), labels(&facts.workflow, to, phase));
        let previous = workflow::template(&facts.workflow).and_then(|t| t.status(from));
        map.insert(
            "previous_phase".into(),
            previous.map_or(Value::Null, |s| s.phase.as_str().into()),
        );
        map.insert(
            "previous_status_label".into(),
            previous.map_or(
                Value::Null,
                |s| json!({"fr": s.label(Lang::Fr), "en": s.label(Lang::En)}),
            ),
        );
    }
    webhooks::fan_out(
        tx,
        cfg,
        webhooks::REQUEST_STATUS_CHANGED,
        Some(facts.id),
        data.clone(),
    )
    .await?;
    if closed {
        webhooks::fan_out(tx, cfg, webhooks::REQUEST_CLOSED, Some(facts.id), data).await?;
    }
    Ok(())
}

async fn merged(
    tx: &mut PgConnection,
    cfg: &NotifyConfig,
    source: &RequestFacts,
    into_id: i64,
) -> Result<(), DbError> {
    let target = db::notify::request_facts(tx, into_id)
        .await?
        .ok_or_else(|| DbError::Data(format!("merge into unknown request {into_id}")))?;
    let contacts = db::notify::contacts(tx, source.id).await?;
    for c in distinct_contacts(&contacts) {
        let lang = lang_of(&c.lang);
        // The recipient's own link, which opens the target too (see `pipeline::access`),
        // never the target's filer's code.
        let own = holder(source.id, c);
        let email = templates::merged(
            lang,
            &view(cfg, source, lang, own, None),
            &view(cfg, &target, lang, own, None),
        );
        enqueue_email(tx, cfg, &c.email, email, Some(source.id)).await?;
    }
    let mut data = webhook_data(source);
    if let Some(map) = data.as_object_mut() {
        map.insert("merged_into".into(), target.number.clone().into());
    }
    webhooks::fan_out(tx, cfg, webhooks::REQUEST_MERGED, Some(source.id), data).await?;
    // The source is closed (as a duplicate): subscribers that follow closures hear of it too.
    let closed = webhook_data(source);
    webhooks::fan_out(tx, cfg, webhooks::REQUEST_CLOSED, Some(source.id), closed).await
}

/// Queues one e-mail. An address no mail can go to is skipped with a warning rather than
/// failing the caller's change (the citizen's request matters more than its receipt).
async fn enqueue_email(
    tx: &mut PgConnection,
    cfg: &NotifyConfig,
    to: &str,
    email: Email,
    request_id: Option<i64>,
) -> Result<(), DbError> {
    if !mail::is_valid_address(to) {
        tracing::warn!(request_id, "no e-mail sent to an invalid address");
        return Ok(());
    }
    let job = EmailJob {
        to: to.to_owned(),
        subject: email.subject,
        body: email.body,
        request_id,
    };
    let payload = serde_json::to_value(&job).map_err(|e| DbError::Data(e.to_string()))?;
    db::outbox::enqueue_in_tx(
        tx,
        EMAIL_SEND,
        &payload,
        time::Duration::ZERO,
        cfg.mail_max_attempts,
    )
    .await?;
    Ok(())
}

/// Whose follow link an e-mail carries: what its recipient holds on request `request_id`
/// (the request's own contact and its account hold the request's code, a reporter their
/// report's).
#[derive(Debug, Clone, Copy)]
struct Holder<'a> {
    what: Follow,
    code_digest: Option<&'a [u8]>,
}

fn holder(request_id: i64, c: &Contact) -> Holder<'_> {
    Holder {
        what: match c.source {
            ContactSource::Request | ContactSource::Account => Follow::Request(request_id),
            ContactSource::Report { report_id, .. } => Follow::Report(report_id),
        },
        code_digest: c.code_digest.as_deref(),
    }
}

/// What an e-mail says about a request: its recipient's own follow link, and `tracking_code`
/// (their own new code) when this e-mail is the one that hands it out.
fn view<'a>(
    cfg: &NotifyConfig,
    facts: &'a RequestFacts,
    lang: Lang,
    recipient: Holder<'_>,
    tracking_code: Option<&'a str>,
) -> RequestView<'a> {
    let token = cfg
        .follow_key
        .as_ref()
        .map(|key| codes::follow_token(key, recipient.what, recipient.code_digest));
    RequestView {
        number: &facts.number,
        title: match lang {
            Lang::Fr => &facts.demarche_title,
            Lang::En => &facts.demarche_title_en,
        },
        service: facts.team_name.as_deref(),
        follow_url: token.as_ref().map(|t| follow_url(cfg, &facts.number, t)),
        stop_url: token
            .as_ref()
            .map(|t| stop_url(cfg, &facts.number, t, lang)),
        tracking_code,
    }
}

/// Where a recipient stops the e-mails about a request: a page whose button confirms (the
/// GET changes nothing, so that a mail scanner following it stops nothing).
pub fn stop_url(cfg: &NotifyConfig, number: &str, token: &str, lang: Lang) -> String {
    format!(
        "{}/suivi/{}/arret?follow={}&lang={}",
        cfg.public_url,
        encode_component(number),
        encode_component(token),
        lang.as_str()
    )
}

/// Where to follow a request: `NotifyConfig::follow_url` with number and token filled in.
pub fn follow_url(cfg: &NotifyConfig, number: &str, token: &str) -> String {
    cfg.follow_url
        .replace("{number}", &encode_component(number))
        .replace("{token}", &encode_component(token))
}

/// Percent-encodes what is not unreserved in a URL component.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn lang_of(code: &str) -> Lang {
    if code.eq_ignore_ascii_case("en") {
        Lang::En
    } else {
        Lang::Fr
    }
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// The public label of a status: the workflow's label, else the phase's, never the
/// internal status name.
fn public_label(
    workflow_code: &str,
    status: &str,
    phase: Option<Phase>,
    lang: Lang,
) -> &'static str {
    workflow::template(workflow_code)
        .and_then(|t| t.status(status))
        .map(|s| s.label(lang))
        .or_else(|| phase.map(|p| p.label(lang)))
        .unwrap_or(match lang {
            Lang::Fr => "Mise à jour",
            Lang::En => "Updated",
        })
}

fn labels(workflow_code: &str, status: &str, phase: Option<Phase>) -> Value {
    json!({
        "fr": public_label(workflow_code, status, phase, Lang::Fr),
        "en": public_label(workflow_code, status, phase, Lang::En),
    })
}

/// The public facts every webhook event carries about its request.
fn webhook_data(facts: &RequestFacts) -> Value {
    let phase = Some(facts.phase);
    let mut data = Map::new();
    data.insert("number".into(), facts.number.clone().into());
    data.insert("demarche".into(), facts.demarche_code.clone().into());
    data.insert(
        "demarche_title".into(),
        json!({"fr": facts.demarche_title, "en": facts.demarche_title_en}),
    );
    data.insert("phase".into(), facts.phase.as_str().into());
    data.insert(
        "outcome".into(),
        facts.outcome.clone().map_or(Value::Null, Value::from),
    );
    data.insert(
        "status_label".into(),
        labels(&facts.workflow, &facts.status, phase),
    );
    data.insert(
        "team".into(),
        facts.team_name.clone().map_or(Value::Null, Value::from),
    );
    data.insert("channel".into(), facts.channel.as_str().into());
    data.insert("report_count".into(), facts.report_count.into());
    data.insert("created_at".into(), rfc3339(facts.created_at).into());
    if let (Some(lat), Some(lon)) = (facts.public_lat, facts.public_lon) {
        data.insert("location".into(), json!({"lat": lat, "lon": lon}));
    }
    Value::Object(data)
}

/// The label of a form field from the démarche's definition, in the recipient's language;
/// the field's id when the definition has no label for it.
fn field_label(definition: &Value, field_id: &str, lang: Lang) -> String {
    let fields = definition
        .pointer("/form/fields")
        .or_else(|| definition.get("fields"))
        .and_then(Value::as_array);
    let field = fields.and_then(|fs| {
        fs.iter()
            .find(|f| f.get("id").and_then(Value::as_str) == Some(field_id))
    });
    let text = |key: &str| field.and_then(|f| f.get(key)).and_then(Value::as_str);
    let label = match lang {
        Lang::En => text("label_en").or_else(|| text("label")),
        Lang::Fr => text("label"),
    };
    label.unwrap_or(field_id).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complement_fields_are_named_by_their_labels() {
        let definition = json!({"form": {"fields": [
            {"id": "proof", "kind": "file", "label": "Justificatif de domicile",
             "label_en": "Proof of address"}
        ]}});
        assert_eq!(
            field_label(&definition, "proof", Lang::Fr),
            "Justificatif de domicile"
        );
        assert_eq!(
            field_label(&definition, "proof", Lang::En),
            "Proof of address"
        );
        assert_eq!(field_label(&definition, "other", Lang::Fr), "other");
        assert_eq!(field_label(&json!({}), "proof", Lang::En), "proof");
    }

    #[test]
    fn public_labels_never_fall_back_to_internal_names() {
        assert_eq!(
            public_label("report", "not_ours", Some(Phase::Closed), Lang::Fr),
            "Transmise à l'organisme compétent"
        );
        assert_eq!(
            public_label("report", "renamed_since", Some(Phase::InProgress), Lang::En),
            "In progress"
        );
        assert_eq!(public_label("gone", "x", None, Lang::Fr), "Mise à jour");
    }

    #[test]
    fn follow_links_encode_number_and_token() {
        let cfg = NotifyConfig::new("https://guichet.example/");
        assert_eq!(
            follow_url(&cfg, "2026-SIG-000001", "AB CD&"),
            "https://guichet.example/suivi/2026-SIG-000001?follow=AB%20CD%26"
        );
    }
}
