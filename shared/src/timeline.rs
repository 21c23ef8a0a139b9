//! Public wording of request events, as citizens read them in their timeline.

use crate::phase::Lang;

/// The label of a public event kind; unknown kinds fall back to a neutral wording.
pub fn event_label(kind: &str, lang: Lang) -> &'static str {
    match (kind, lang) {
        ("created", Lang::Fr) => "Demande reçue",
        ("created", Lang::En) => "Request received",
        ("co_report", Lang::Fr) => "Un autre habitant a signalé le même problème",
        ("co_report", Lang::En) => "Someone else reported the same problem",
        (_, Lang::Fr) => "Mise à jour",
        (_, Lang::En) => "Update",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_kind_has_a_label_in_both_languages() {
        for kind in ["created", "co_report"] {
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
