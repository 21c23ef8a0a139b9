//! The acknowledgement a citizen reads after filing (SVE: number, date and time of receipt,
//! service in charge), with what they need to understand it: what happens next, how long
//! it usually takes (the démarche's recent history rather than its SLA alone), what the
//! tracking code is for, and where to follow the request.

use guichet_shared::api::{Acknowledgement, ExpectedDelay};
use guichet_shared::phase::Lang;
use sqlx::PgConnection;
use time::OffsetDateTime;

use crate::db::{self, DbError, delays::DelayHistory};
use crate::state::AppState;

/// Below this many closed requests in 12 months, the median says too little: the SLA is used.
pub const MIN_HISTORY: i64 = 5;

/// How the acknowledged submission relates to its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filed {
    /// It opened the request: its code acts on it.
    Opened,
    /// It joined a request already open for the same problem (co-report or "me too"): its code
    /// follows it.
    Joined,
}

/// The expected delay from a démarche's history.
pub fn expected_delay(h: &DelayHistory, lang: Lang) -> ExpectedDelay {
    let (days, basis) = match (h.median_days, h.sla_days) {
        (Some(median), _) if h.closed >= MIN_HISTORY => (Some(median), "history"),
        (_, Some(sla)) => (Some(f64::from(sla)), "sla"),
        _ => (None, "unknown"),
    };
    let text = match (days, basis, lang) {
        (None, _, Lang::Fr) => "variable selon la demande".to_owned(),
        (None, _, Lang::En) => "depends on the request".to_owned(),
        (Some(d), "sla", Lang::Fr) => format!(
            "{} au plus (délai annoncé par le service)",
            days_text(d, lang)
        ),
        (Some(d), "sla", Lang::En) => format!(
            "{} at most (the service's stated delay)",
            days_text(d, lang)
        ),
        (Some(d), _, Lang::Fr) if d < 1.0 => "moins d'un jour en général".to_owned(),
        (Some(d), _, Lang::En) if d < 1.0 => "usually less than a day".to_owned(),
        (Some(d), _, Lang::Fr) => format!(
            "environ {} (la moitié des {} demandes closes ces 12 derniers mois l'ont été en moins de temps)",
            days_text(d, lang),
            h.closed
        ),
        (Some(d), _, Lang::En) => format!(
            "about {} (half of the {} requests closed in the last 12 months took less)",
            days_text(d, lang),
            h.closed
        ),
    };
    ExpectedDelay {
        days: days.map(|d| (d * 10.0).round() / 10.0),
        basis: basis.to_owned(),
        closed_requests: h.closed,
        text,
    }
}

fn days_text(days: f64, lang: Lang) -> String {
    // Whole days, at least one: "1.4 days" means nothing to a reader.
    let n = days.round().max(1.0) as i64;
    match (lang, n) {
        (Lang::Fr, 1) => "1 jour".to_owned(),
        (Lang::Fr, n) => format!("{n} jours"),
        (Lang::En, 1) => "1 day".to_owned(),
        (Lang::En, n) => format!("{n} days"),
    }
}

fn next_steps(service: Option<&str>, number: &str, filed: Filed, lang: Lang) -> String {
    match (filed, lang) {
        (Filed::Joined, Lang::Fr) => format!(
            "Votre signalement a rejoint la demande {number}, déjà ouverte pour ce problème : \
             le service la traite une seule fois et vous serez informé de son avancement."
        ),
        (Filed::Joined, Lang::En) => format!(
            "Your report joined request {number}, already open for this problem: the service \
             handles it once and you will be told how it goes."
        ),
        (Filed::Opened, Lang::Fr) => format!(
            "Votre demande est transmise à {}. Un agent l'examine ; il peut vous demander un \
             complément. Vous êtes informé par e-mail de chaque étape si vous avez donné une \
             adresse, et vous pouvez suivre la demande à tout moment.",
            service.unwrap_or("un service de la ville")
        ),
        (Filed::Opened, Lang::En) => format!(
            "Your request goes to {}. An agent reviews it and may ask you for more \
             information. You are told of every step by e-mail if you gave an address, and you \
             can follow it at any time.",
            service.unwrap_or("a city service")
        ),
    }
}

fn code_explained(code: &str, page: &str, filed: Filed, lang: Lang) -> String {
    match (filed, lang) {
        (Filed::Opened, Lang::Fr) => format!(
            "Le code de suivi {code} est votre clé : avec le numéro, il ouvre la demande sans \
             compte sur {page}, pour voir où elle en est, écrire au service ou lui répondre. \
             Il ne sera plus affiché : notez-le ou imprimez cet accusé, et ne le donnez à \
             personne."
        ),
        (Filed::Opened, Lang::En) => format!(
            "The tracking code {code} is your key: with the number, it opens the request \
             without an account at {page}, to see how it stands, write to the service or answer \
             it. It will not be shown again: write it down or print this receipt, and give it \
             to nobody."
        ),
        (Filed::Joined, Lang::Fr) => format!(
            "Le code de suivi {code} vous est propre : avec le numéro, il permet de suivre la \
             demande sans compte sur {page}. Notez-le ou imprimez cet accusé."
        ),
        (Filed::Joined, Lang::En) => format!(
            "The tracking code {code} is yours: with the number, it lets you follow the request \
             without an account at {page}. Write it down or print this receipt."
        ),
    }
}

/// The acknowledgement of request `request_id`, received at `received_at`, for the holder of
/// `code`, in the filer's transaction.
pub async fn of(
    tx: &mut PgConnection,
    state: &AppState,
    request_id: i64,
    code: &str,
    received_at: OffsetDateTime,
    filed: Filed,
    lang: Lang,
) -> Result<Acknowledgement, DbError> {
    let facts = db::notify::request_facts(tx, request_id)
        .await?
        .ok_or_else(|| DbError::Data(format!("acknowledgement of unknown request {request_id}")))?;
    let history = db::delays::history(tx, &facts.demarche_code).await?;
    let page = format!(
        "{}/suivi/{}",
        state.config.public_url,
        crate::notify::encode_component(&facts.number)
    );
    Ok(Acknowledgement {
        received: {
            let local = guichet_shared::city_time::in_paris(received_at);
            crate::notify::templates::received_text(
                time::PrimitiveDateTime::new(local.date(), local.time()),
                lang,
            )
        },
        next_steps: next_steps(facts.team_name.as_deref(), &facts.number, filed, lang),
        service: facts.team_name,
        expected_delay: expected_delay(&history, lang),
        code_explained: code_explained(code, &page, filed, lang),
        status_page_url: page,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(median: Option<f64>, closed: i64, sla: Option<i32>) -> DelayHistory {
        DelayHistory {
            median_days: median,
            closed,
            sla_days: sla,
        }
    }

    #[test]
    fn the_median_speaks_once_there_is_enough_history() {
        let d = expected_delay(&history(Some(3.26), 12, Some(15)), Lang::Fr);
        assert_eq!((d.days, d.basis.as_str()), (Some(3.3), "history"));
        assert!(d.text.starts_with("environ 3 jours"), "{}", d.text);
    }

    #[test]
    fn too_few_closed_requests_fall_back_to_the_sla() {
        let d = expected_delay(&history(Some(0.2), 2, Some(15)), Lang::En);
        assert_eq!((d.days, d.basis.as_str()), (Some(15.0), "sla"));
        assert_eq!(d.text, "15 days at most (the service's stated delay)");
        let d = expected_delay(&history(None, 0, None), Lang::Fr);
        assert_eq!((d.days, d.basis.as_str()), (None, "unknown"));
    }

    #[test]
    fn a_short_median_reads_as_less_than_a_day() {
        let d = expected_delay(&history(Some(0.4), 9, None), Lang::Fr);
        assert_eq!(d.text, "moins d'un jour en général");
    }
}
