//! The fixed public phases every workflow status maps to. Citizens, SLA timers, Open311 and
//! webhooks only ever see these, never a workflow's internal status names.

use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Received,
    InProgress,
    WaitingForCitizen,
    Closed,
    Withdrawn,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Resolved,
    Rejected,
    Duplicate,
    Redirected,
    NoFollowUp,
}

impl TryFrom<String> for Phase {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        Phase::parse(&s).ok_or_else(|| format!("unknown phase {s:?}"))
    }
}

impl Phase {
    pub const ALL: [Phase; 5] = [
        Phase::Received,
        Phase::InProgress,
        Phase::WaitingForCitizen,
        Phase::Closed,
        Phase::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Received => "received",
            Phase::InProgress => "in_progress",
            Phase::WaitingForCitizen => "waiting_for_citizen",
            Phase::Closed => "closed",
            Phase::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Open requests can still receive co-reports and appear on the public map.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Phase::Received | Phase::InProgress | Phase::WaitingForCitizen
        )
    }

    /// The label a citizen reads, in French and English.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Phase::Received, Lang::Fr) => "Reçue",
            (Phase::Received, Lang::En) => "Received",
            (Phase::InProgress, Lang::Fr) => "En cours de traitement",
            (Phase::InProgress, Lang::En) => "In progress",
            (Phase::WaitingForCitizen, Lang::Fr) => "En attente de votre réponse",
            (Phase::WaitingForCitizen, Lang::En) => "Waiting for your answer",
            (Phase::Closed, Lang::Fr) => "Clôturée",
            (Phase::Closed, Lang::En) => "Closed",
            (Phase::Withdrawn, Lang::Fr) => "Retirée",
            (Phase::Withdrawn, Lang::En) => "Withdrawn",
        }
    }
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Resolved => "resolved",
            Outcome::Rejected => "rejected",
            Outcome::Duplicate => "duplicate",
            Outcome::Redirected => "redirected",
            Outcome::NoFollowUp => "no_follow_up",
        }
    }
}

/// Languages of public labels and messages. French first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// `fr` or `en`; anything else is French, the service's language.
    pub fn parse(s: &str) -> Lang {
        if s.eq_ignore_ascii_case("en") {
            Lang::En
        } else {
            Lang::Fr
        }
    }

    /// Picks the first supported language of an `Accept-Language` header; French otherwise.
    pub fn from_accept_language(header: &str) -> Lang {
        for part in header.split(',') {
            let tag = part
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if tag.starts_with("fr") {
                return Lang::Fr;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::Fr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_round_trip_through_their_names() {
        for p in Phase::ALL {
            assert_eq!(Phase::parse(p.as_str()), Some(p));
            let json = serde_json::to_string(&p).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", p.as_str()));
        }
        assert_eq!(Phase::parse("open"), None);
    }

    #[test]
    fn only_received_in_progress_and_waiting_are_open() {
        let open: Vec<_> = Phase::ALL.into_iter().filter(|p| p.is_open()).collect();
        assert_eq!(
            open,
            vec![Phase::Received, Phase::InProgress, Phase::WaitingForCitizen]
        );
    }

    #[test]
    fn accept_language_prefers_the_first_supported_tag() {
        assert_eq!(
            Lang::from_accept_language("en-GB,en;q=0.9,fr;q=0.8"),
            Lang::En
        );
        assert_eq!(Lang::from_accept_language("de-DE, fr;q=0.5"), Lang::Fr);
        assert_eq!(Lang::from_accept_language("de-DE"), Lang::Fr);
        assert_eq!(Lang::from_accept_language(""), Lang::Fr);
    }
}
