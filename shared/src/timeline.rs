//! Public wording of request events, as citizens read them in their timeline.

use crate::phase::Lang;

/// The label of a public event kind; unknown kinds fall back to a neutral wording.
pub fn event_label(kind: &str, lang: Lang) -> &'static str {
    match (kind, lang) {
        ("created", Lang::Fr) => "Demande reçue",
        ("created", Lang::En) => "Request received",
        ("co_report", Lang::Fr) => "Un autre habitant a signalé le même problème",
        ("co_report", Lang::En) => "Someone else reported the same problem",
        ("acknowledgement", Lang::Fr) => "Accusé de réception envoyé",
        ("acknowledgement", Lang::En) => "Acknowledgement of receipt sent",
        ("status_changed", Lang::Fr) => "Changement de statut",
        ("status_changed", Lang::En) => "Status changed",
        ("message", Lang::Fr) => "Message",
        ("message", Lang::En) => "Message",
        ("complement_requested", Lang::Fr) => "Complément demandé",
        ("complement_requested", Lang::En) => "Information requested",
        ("complement_answered", Lang::Fr) => "Complément envoyé",
        ("complement_answered", Lang::En) => "Information sent",
        ("merged", Lang::Fr) => "Regroupée avec une autre demande",
        ("merged", Lang::En) => "Merged with another request",
        ("merged_from", Lang::Fr) => "Une autre demande a été regroupée avec celle-ci",
        ("merged_from", Lang::En) => "Another request was merged into this one",
        (_, Lang::Fr) => "Mise à jour",
        (_, Lang::En) => "Update",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_kind_has_a_label_in_both_languages() {
        for kind in [
            "created",
            "co_report",
            "acknowledgement",
            "status_changed",
            "message",
            "complement_requested",
            "complement_answered",
            "merged",
            "merged_from",
        ] {
            assert_ne!(
                event_label(kind, Lang::Fr),
                event_label("unknown", Lang::Fr)
            );
            assert_ne!(
                event_label(kind, Lang::En),
                event_label("unknown", Lang::En)
            );
        }
    }
}
