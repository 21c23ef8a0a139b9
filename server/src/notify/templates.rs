//! The wording of every e-mail, in French and English, side by side so that a change in one
//! language is seen next to the other. Plain text only: it reads well in any mail client and
//! in screen readers. Only public facts go in: number, démarche title, service name, public
//! status labels and what an agent chose to send to the citizen; and the recipient's own
//! follow link, and their own tracking code in the one e-mail that hands it out.

use guichet_shared::phase::Lang;
use time::PrimitiveDateTime;

/// A subject and a plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub body: String,
}

/// What every notice about a request says about it.
#[derive(Debug, Clone)]
pub struct RequestView<'a> {
    pub number: &'a str,
    /// The démarche's title in the recipient's language.
    pub title: &'a str,
    /// The team in charge, if routing found one.
    pub service: Option<&'a str>,
    /// Where the recipient follows the request: a link of their own, which reads but does not
    /// act (none when the service has no key to sign it).
    pub follow_url: Option<String>,
    /// Where the recipient stops the e-mails about this request (their own link too).
    pub stop_url: Option<String>,
    /// The recipient's own tracking code, in the e-mail that hands it out only.
    pub tracking_code: Option<&'a str>,
}

/// The acknowledgement's facts on top of the request's.
#[derive(Debug, Clone)]
pub struct Receipt<'a> {
    /// Date and time of receipt in the city's time zone.
    pub received: PrimitiveDateTime,
    /// `web`, `app`, `phone`…
    pub channel: &'a str,
}

const SIGNATURE_FR: &str =
    "Ceci est un message automatique : merci de ne pas y répondre.\n-- \nGuichet";
const SIGNATURE_EN: &str =
    "This message was sent automatically: please do not reply.\n-- \nGuichet";

/// "le 30/11/2026 à 14:05 (heure de Paris)" / "30 November 2026 at 14:05 (Paris time)".
pub fn received_text(at: PrimitiveDateTime, lang: Lang) -> String {
    let (h, m) = (at.hour(), at.minute());
    match lang {
        Lang::Fr => format!(
            "le {:02}/{:02}/{} à {h:02}:{m:02} (heure de Paris)",
            at.day(),
            u8::from(at.month()),
            at.year()
        ),
        Lang::En => format!(
            "{} {} {} at {h:02}:{m:02} (Paris time)",
            at.day(),
            at.month(),
            at.year()
        ),
    }
}

fn channel_text(channel: &str, lang: Lang) -> &'static str {
    match (channel, lang) {
        ("web", Lang::Fr) => "en ligne",
        ("web", Lang::En) => "online",
        ("app", Lang::Fr) => "par l'application mobile",
        ("app", Lang::En) => "through the mobile app",
        ("api", Lang::Fr) => "par un service partenaire",
        ("api", Lang::En) => "through a partner service",
        ("phone", Lang::Fr) => "par téléphone",
        ("phone", Lang::En) => "by phone",
        ("desk", Lang::Fr) => "au guichet",
        ("desk", Lang::En) => "at the desk",
        ("mail", Lang::Fr) => "par courrier",
        ("mail", Lang::En) => "by post",
        ("email", Lang::Fr) => "par courriel",
        ("email", Lang::En) => "by e-mail",
        (_, Lang::Fr) => "par un autre moyen",
        (_, Lang::En) => "by other means",
    }
}

fn service_text(service: Option<&str>, lang: Lang) -> &str {
    match (service, lang) {
        (Some(s), _) => s,
        (None, Lang::Fr) => "en cours de désignation",
        (None, Lang::En) => "being assigned",
    }
}

fn follow_block(r: &RequestView<'_>, lang: Lang) -> String {
    let mut text = String::new();
    if let Some(url) = &r.follow_url {
        text.push_str(match lang {
            Lang::Fr => "Pour suivre votre demande (ce lien vous est personnel) :\n",
            Lang::En => "To follow your request (this link is yours alone):\n",
        });
        text.push_str(url);
        text.push('\n');
    }
    match lang {
        Lang::Fr => text.push_str(&format!("Numéro : {}", r.number)),
        Lang::En => text.push_str(&format!("Number: {}", r.number)),
    }
    if let Some(code) = r.tracking_code {
        match lang {
            Lang::Fr => text.push_str(&format!("\nCode de suivi : {code}")),
            Lang::En => text.push_str(&format!("\nTracking code: {code}")),
        }
    }
    if let Some(url) = &r.stop_url {
        text.push_str(match lang {
            Lang::Fr => "\n\nPour ne plus recevoir d'e-mails sur cette demande :\n",
            Lang::En => "\n\nTo stop the e-mails about this request:\n",
        });
        text.push_str(url);
    }
    text
}

/// The SVE acknowledgement of a new request: number, date and time of receipt, démarche,
/// service in charge, and how to follow it.
pub fn acknowledgement(lang: Lang, r: &RequestView<'_>, receipt: &Receipt<'_>) -> Email {
    let received = received_text(receipt.received, lang);
    let channel = channel_text(receipt.channel, lang);
    let service = service_text(r.service, lang);
    let follow = follow_block(r, lang);
    match lang {
        Lang::Fr => Email {
            subject: format!("Accusé de réception de votre demande {}", r.number),
            body: format!(
                "Bonjour,\n\n\
                 Nous avons bien reçu votre demande « {title} ».\n\n\
                 Numéro de la demande : {number}\n\
                 Reçue {received}, {channel}\n\
                 Service chargé de la demande : {service}\n\n\
                 {follow}\n\n\
                 Ce message vaut accusé de réception de votre demande (articles L. 112-11 et \
                 R. 112-11-1 du code des relations entre le public et l'administration). \
                 Conservez-le : le numéro et le code de suivi vous seront demandés pour toute \
                 question sur cette demande.\n\n\
                 {SIGNATURE_FR}\n",
                title = r.title,
                number = r.number,
            ),
        },
        Lang::En => Email {
            subject: format!("Acknowledgement of your request {}", r.number),
            body: format!(
                "Hello,\n\n\
                 We have received your request \"{title}\".\n\n\
                 Request number: {number}\n\
                 Received on {received}, {channel}\n\
                 Service in charge: {service}\n\n\
                 {follow}\n\n\
                 This message is the acknowledgement of receipt of your request. Please keep \
                 it: you will be asked for the number and the tracking code about this \
                 request.\n\n\
                 {SIGNATURE_EN}\n",
                title = r.title,
                number = r.number,
            ),
        },
    }
}

/// The acknowledgement of a report that joined an existing request (co-report or "me too").
pub fn report_acknowledgement(lang: Lang, r: &RequestView<'_>, receipt: &Receipt<'_>) -> Email {
    let received = received_text(receipt.received, lang);
    let service = service_text(r.service, lang);
    let follow = follow_block(r, lang);
    match lang {
        Lang::Fr => Email {
            subject: format!("Accusé de réception de votre signalement ({})", r.number),
            body: format!(
                "Bonjour,\n\n\
                 Nous avons bien reçu votre signalement, {received}. Le même problème avait \
                 déjà été signalé : votre signalement est joint à la demande {number} \
                 « {title} », et vous serez informé(e) de son avancement.\n\n\
                 Service chargé de la demande : {service}\n\n\
                 {follow}\n\n\
                 {SIGNATURE_FR}\n",
                title = r.title,
                number = r.number,
            ),
        },
        Lang::En => Email {
            subject: format!("Acknowledgement of your report ({})", r.number),
            body: format!(
                "Hello,\n\n\
                 We received your report on {received}. The same problem had already been \
                 reported: your report was added to request {number} \"{title}\", and you will \
                 be told how it progresses.\n\n\
                 Service in charge: {service}\n\n\
                 {follow}\n\n\
                 {SIGNATURE_EN}\n",
                title = r.title,
                number = r.number,
            ),
        },
    }
}

/// A public status change; `label` is the public label of the new status.
/// A status change; `after_photos`: the photos the field team took once done, linked so
/// that the reporter sees the result.
fn after_photos_block(lang: Lang, urls: &[String]) -> String {
    if urls.is_empty() {
        return String::new();
    }
    let head = match lang {
        Lang::Fr => "Photo après intervention :",
        Lang::En => "Photo after the work:",
    };
    let lines: String = urls.iter().map(|u| format!("  {u}\n")).collect();
    format!("{head}\n{lines}\n")
}

pub fn status_changed(
    lang: Lang,
    r: &RequestView<'_>,
    label: &str,
    closed: bool,
    after_photos: &[String],
) -> Email {
    let follow = follow_block(r, lang);
    let photos = after_photos_block(lang, after_photos);
    match lang {
        Lang::Fr => {
            let closing = if closed {
                "Le traitement de cette demande est terminé.\n\n"
            } else {
                ""
            };
            Email {
                subject: format!("Votre demande {} : {label}", r.number),
                body: format!(
                    "Bonjour,\n\n\
                     Votre demande « {title} » (n° {number}) a changé de statut.\n\n\
                     Nouveau statut : {label}\n\n\
                     {closing}{photos}{follow}\n\n\
                     {SIGNATURE_FR}\n",
                    title = r.title,
                    number = r.number,
                ),
            }
        }
        Lang::En => {
            let closing = if closed {
                "The handling of this request is complete.\n\n"
            } else {
                ""
            };
            Email {
                subject: format!("Your request {}: {label}", r.number),
                body: format!(
                    "Hello,\n\n\
                     The status of your request \"{title}\" (no. {number}) has changed.\n\n\
                     New status: {label}\n\n\
                     {closing}{photos}{follow}\n\n\
                     {SIGNATURE_EN}\n",
                    title = r.title,
                    number = r.number,
                ),
            }
        }
    }
}

/// A public reply written by an agent, passed on as written.
pub fn reply(lang: Lang, r: &RequestView<'_>, message: &str) -> Email {
    let service = service_text(r.service, lang);
    let follow = follow_block(r, lang);
    match lang {
        Lang::Fr => Email {
            subject: format!("Réponse à votre demande {}", r.number),
            body: format!(
                "Bonjour,\n\n\
                 Le service « {service} » vous répond au sujet de votre demande « {title} » \
                 (n° {number}) :\n\n\
                 {message}\n\n\
                 {follow}\n\n\
                 {SIGNATURE_FR}\n",
                title = r.title,
                number = r.number,
            ),
        },
        Lang::En => Email {
            subject: format!("Reply to your request {}", r.number),
            body: format!(
                "Hello,\n\n\
                 The service \"{service}\" replies about your request \"{title}\" \
                 (no. {number}):\n\n\
                 {message}\n\n\
                 {follow}\n\n\
                 {SIGNATURE_EN}\n",
                title = r.title,
                number = r.number,
            ),
        },
    }
}

/// The agent needs more from the citizen: the message and the fields to complete.
pub fn complement_requested(
    lang: Lang,
    r: &RequestView<'_>,
    fields: &[String],
    message: &str,
) -> Email {
    let follow = follow_block(r, lang);
    let list: String = fields.iter().map(|f| format!("  - {f}\n")).collect();
    match lang {
        Lang::Fr => {
            let list = if list.is_empty() {
                String::new()
            } else {
                format!("Éléments à compléter :\n{list}\n")
            };
            Email {
                subject: format!(
                    "Votre demande {} : des compléments sont nécessaires",
                    r.number
                ),
                body: format!(
                    "Bonjour,\n\n\
                     Pour traiter votre demande « {title} » (n° {number}), le service a besoin \
                     d'informations complémentaires :\n\n\
                     {message}\n\n\
                     {list}\
                     Le délai de traitement est suspendu jusqu'à votre réponse.\n\n\
                     {follow}\n\n\
                     {SIGNATURE_FR}\n",
                    title = r.title,
                    number = r.number,
                ),
            }
        }
        Lang::En => {
            let list = if list.is_empty() {
                String::new()
            } else {
                format!("To complete:\n{list}\n")
            };
            Email {
                subject: format!("Your request {}: more information is needed", r.number),
                body: format!(
                    "Hello,\n\n\
                     To handle your request \"{title}\" (no. {number}), the service needs more \
                     information:\n\n\
                     {message}\n\n\
                     {list}\
                     The processing time is suspended until you answer.\n\n\
                     {follow}\n\n\
                     {SIGNATURE_EN}\n",
                    title = r.title,
                    number = r.number,
                ),
            }
        }
    }
}

/// The request was merged into `target`, under whose number it is followed from now on.
pub fn merged(lang: Lang, source: &RequestView<'_>, target: &RequestView<'_>) -> Email {
    let follow = follow_block(target, lang);
    match lang {
        Lang::Fr => Email {
            subject: format!(
                "Votre demande {} est désormais suivie sous le numéro {}",
                source.number, target.number
            ),
            body: format!(
                "Bonjour,\n\n\
                 Votre demande « {title} » (n° {number}) porte sur le même sujet qu'une autre \
                 demande. Elles ont été réunies : la suite sera donnée sous le numéro \
                 {target_number}.\n\n\
                 {follow}\n\n\
                 {SIGNATURE_FR}\n",
                title = source.title,
                number = source.number,
                target_number = target.number,
            ),
        },
        Lang::En => Email {
            subject: format!(
                "Your request {} is now followed under number {}",
                source.number, target.number
            ),
            body: format!(
                "Hello,\n\n\
                 Your request \"{title}\" (no. {number}) is about the same matter as another \
                 request. They were brought together: it continues under number \
                 {target_number}.\n\n\
                 {follow}\n\n\
                 {SIGNATURE_EN}\n",
                title = source.title,
                number = source.number,
                target_number = target.number,
            ),
        },
    }
}

/// The link that confirms a citizen account's address, and the raw token for those who
/// cannot follow links.
pub fn verification(lang: Lang, link: &str, token: &str, valid_hours: i64) -> Email {
    match lang {
        Lang::Fr => Email {
            subject: "Confirmez votre adresse électronique".to_owned(),
            body: format!(
                "Bonjour,\n\n\
                 Pour confirmer l'adresse électronique de votre compte Guichet, ouvrez ce lien \
                 dans les {valid_hours} heures :\n\n\
                 {link}\n\n\
                 Vous pouvez aussi saisir ce code de confirmation :\n{token}\n\n\
                 Si vous n'avez pas créé de compte, ignorez ce message.\n\n\
                 {SIGNATURE_FR}\n"
            ),
        },
        Lang::En => Email {
            subject: "Confirm your e-mail address".to_owned(),
            body: format!(
                "Hello,\n\n\
                 To confirm the e-mail address of your Guichet account, open this link within \
                 {valid_hours} hours:\n\n\
                 {link}\n\n\
                 You can also enter this confirmation code:\n{token}\n\n\
                 If you did not create an account, ignore this message.\n\n\
                 {SIGNATURE_EN}\n"
            ),
        },
    }
}

pub fn password_reset(lang: Lang, link: &str, valid_minutes: i64) -> Email {
    match lang {
        Lang::Fr => Email {
            subject: "Nouveau mot de passe".to_owned(),
            body: format!(
                "Bonjour,\n\n\
                 Pour choisir un nouveau mot de passe pour votre compte Guichet, ouvrez ce lien \
                 dans les {valid_minutes} minutes :\n\n\
                 {link}\n\n\
                 Le lien ne sert qu'une fois. Si vous n'avez rien demandé, ignorez ce message : \
                 votre mot de passe ne change pas.\n\n\
                 {SIGNATURE_FR}\n"
            ),
        },
        Lang::En => Email {
            subject: "New password".to_owned(),
            body: format!(
                "Hello,\n\n\
                 To choose a new password for your Guichet account, open this link within \
                 {valid_minutes} minutes:\n\n\
                 {link}\n\n\
                 The link works once. If you did not ask for it, ignore this message: your \
                 password does not change.\n\n\
                 {SIGNATURE_EN}\n"
            ),
        },
    }
}

/// An agent's morning digest (agents work in French).
pub fn digest(name: &str, backoffice: &str, s: &super::DigestSections<'_>) -> Email {
    let mut body = format!("Bonjour {name},\n\nVoici votre point du jour.\n");
    for (title, lines) in [
        ("Qui me sont assignées", s.assigned),
        ("En retard", s.overdue),
        ("Rouvertes", s.reopened),
    ] {
        if lines.is_empty() {
            continue;
        }
        body.push_str(&format!("\n{title} ({}) :\n", lines.len()));
        for l in lines {
            let due = l
                .due
                .as_deref()
                .map(|d| format!(", échéance {d}"))
                .unwrap_or_default();
            body.push_str(&format!(
                "- {} — {} — {}{due}\n  {backoffice}/requests/{}\n",
                l.number, l.title, l.status, l.number
            ));
        }
    }
    body.push_str(&format!(
        "\nPour ne plus recevoir ce message, décochez « point du jour » dans vos préférences : \
         {backoffice}/\n\n{SIGNATURE_FR}\n"
    ));
    let total = s.assigned.len() + s.overdue.len() + s.reopened.len();
    Email {
        subject: format!("Votre point du jour : {total} demande(s) à suivre"),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn view() -> RequestView<'static> {
        RequestView {
            number: "2026-SIG-000123",
            title: "Chaussée, trottoir ou nid-de-poule",
            service: Some("Voirie"),
            follow_url: Some("https://guichet.example/suivi".to_owned()),
            stop_url: Some("https://guichet.example/suivi/arret".to_owned()),
            tracking_code: Some("K7PM-2QXD"),
        }
    }

    #[test]
    fn acknowledgements_carry_number_date_service_and_tracking_in_both_languages() {
        let receipt = Receipt {
            received: datetime!(2026-11-30 14:05:09),
            channel: "app",
        };
        let fr = acknowledgement(Lang::Fr, &view(), &receipt);
        assert!(fr.subject.contains("2026-SIG-000123"));
        for part in [
            "le 30/11/2026 à 14:05",
            "Voirie",
            "K7PM-2QXD",
            "application",
        ] {
            assert!(fr.body.contains(part), "{part} in {}", fr.body);
        }
        let en = acknowledgement(Lang::En, &view(), &receipt);
        for part in [
            "30 November 2026 at 14:05",
            "Voirie",
            "K7PM-2QXD",
            "mobile app",
        ] {
            assert!(en.body.contains(part), "{part} in {}", en.body);
        }
    }

    #[test]
    fn an_unrouted_request_says_its_service_is_being_assigned() {
        let mut v = view();
        v.service = None;
        let r = Receipt {
            received: datetime!(2026-01-02 08:00),
            channel: "phone",
        };
        assert!(
            acknowledgement(Lang::Fr, &v, &r)
                .body
                .contains("en cours de désignation")
        );
        assert!(
            acknowledgement(Lang::En, &v, &r)
                .body
                .contains("being assigned")
        );
    }

    #[test]
    fn only_the_email_that_hands_out_a_code_shows_one() {
        let mut v = view();
        v.tracking_code = None;
        let e = status_changed(Lang::Fr, &v, "En cours", false, &[]);
        assert!(!e.body.contains("Code de suivi"), "{}", e.body);
        assert!(!e.body.contains("Photo après"), "{}", e.body);
        assert!(e.body.contains("https://guichet.example/suivi"));
        v.follow_url = None;
        let e = reply(Lang::En, &v, "Thanks");
        assert!(e.body.contains("Number: 2026-SIG-000123"), "{}", e.body);
        assert!(!e.body.contains("follow your request"), "{}", e.body);
    }

    #[test]
    fn a_closing_with_an_after_photo_links_it() {
        let url = "https://guichet.example/media/abc.webp".to_owned();
        let e = status_changed(
            Lang::Fr,
            &view(),
            "Résolue",
            true,
            std::slice::from_ref(&url),
        );
        assert!(
            e.body
                .contains("Photo après intervention :\n  https://guichet.example/media/abc.webp\n"),
            "{}",
            e.body
        );
        let e = status_changed(Lang::En, &view(), "Resolved", true, &[url]);
        assert!(e.body.contains("Photo after the work:"), "{}", e.body);
    }

    #[test]
    fn complement_lists_the_fields() {
        let e = complement_requested(
            Lang::Fr,
            &view(),
            &["Justificatif de domicile".to_owned()],
            "Merci de joindre un justificatif.",
        );
        assert!(e.body.contains("  - Justificatif de domicile\n"));
        assert!(e.body.contains("Merci de joindre un justificatif."));
    }
}
