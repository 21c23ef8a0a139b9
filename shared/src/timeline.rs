//! What happens to a request, as its append-only history records it: the kinds of events,
//! which of them citizens may read, and their public wording.

use serde::{Deserialize, Serialize};

use crate::phase::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Created,
    PossibleDuplicate,
    CoReport,
    Acknowledgement,
    StatusChanged,
    Assigned,
    Message,
    Note,
    ComplementRequested,
    ComplementAnswered,
    Merged,
    MergedFrom,
    Split,
    Routed,
    NotificationSent,
    WebhookDelivered,
}

impl EventKind {
    pub const ALL: [EventKind; 16] = [
        EventKind::Created,
        EventKind::PossibleDuplicate,
        EventKind::CoReport,
        EventKind::Acknowledgement,
        EventKind::StatusChanged,
        EventKind::Assigned,
        EventKind::Message,
        EventKind::Note,
        EventKind::ComplementRequested,
        EventKind::ComplementAnswered,
        EventKind::Merged,
        EventKind::MergedFrom,
        EventKind::Split,
        EventKind::Routed,
        EventKind::NotificationSent,
        EventKind::WebhookDelivered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::PossibleDuplicate => "possible_duplicate",
            EventKind::CoReport => "co_report",
            EventKind::Acknowledgement => "acknowledgement",
            EventKind::StatusChanged => "status_changed",
            EventKind::Assigned => "assigned",
            EventKind::Message => "message",
            EventKind::Note => "note",
            EventKind::ComplementRequested => "complement_requested",
            EventKind::ComplementAnswered => "complement_answered",
            EventKind::Merged => "merged",
            EventKind::MergedFrom => "merged_from",
            EventKind::Split => "split",
            EventKind::Routed => "routed",
            EventKind::NotificationSent => "notification_sent",
            EventKind::WebhookDelivered => "webhook_delivered",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the request's public timeline shows events of this kind. Decided here once:
    /// triage (assignment, routing, splits, duplicate flags), internal notes and delivery
    /// traces are the agents' only.
    pub fn is_public(self) -> bool {
        !matches!(
            self,
            EventKind::PossibleDuplicate
                | EventKind::Assigned
                | EventKind::Note
                | EventKind::Split
                | EventKind::Routed
                | EventKind::NotificationSent
                | EventKind::WebhookDelivered
        )
    }

    /// The label citizens read in their timeline.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (EventKind::Created, Lang::Fr) => "Demande reçue",
            (EventKind::Created, Lang::En) => "Request received",
            (EventKind::CoReport, Lang::Fr) => "Un autre habitant a signalé le même problème",
            (EventKind::CoReport, Lang::En) => "Someone else reported the same problem",
            (EventKind::Acknowledgement, Lang::Fr) => "Accusé de réception envoyé",
            (EventKind::Acknowledgement, Lang::En) => "Acknowledgement of receipt sent",
            (EventKind::StatusChanged, Lang::Fr) => "Changement de statut",
            (EventKind::StatusChanged, Lang::En) => "Status changed",
            (EventKind::Message, _) => "Message",
            (EventKind::ComplementRequested, Lang::Fr) => "Complément demandé",
            (EventKind::ComplementRequested, Lang::En) => "Information requested",
            (EventKind::ComplementAnswered, Lang::Fr) => "Complément envoyé",
            (EventKind::ComplementAnswered, Lang::En) => "Information sent",
            (EventKind::Merged, Lang::Fr) => "Regroupée avec une autre demande",
            (EventKind::Merged, Lang::En) => "Merged with another request",
            (EventKind::MergedFrom, Lang::Fr) => "Une autre demande a été regroupée avec celle-ci",
            (EventKind::MergedFrom, Lang::En) => "Another request was merged into this one",
            (_, Lang::Fr) => "Mise à jour",
            (_, Lang::En) => "Update",
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for EventKind {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        EventKind::parse(&s).ok_or_else(|| format!("unknown event kind {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_as_it_is_stored() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::json!(k.as_str())
            );
        }
        assert_eq!(EventKind::parse("unknown"), None);
    }

    #[test]
    fn every_public_kind_has_its_own_label_in_both_languages() {
        for k in EventKind::ALL.into_iter().filter(|k| k.is_public()) {
            for lang in [Lang::Fr, Lang::En] {
                assert_ne!(k.label(lang), EventKind::Routed.label(lang), "{k} {lang:?}");
            }
        }
    }

    #[test]
    fn triage_and_notes_stay_internal() {
        for k in [EventKind::Note, EventKind::Assigned, EventKind::Routed] {
            assert!(!k.is_public());
        }
        for k in [
            EventKind::Created,
            EventKind::StatusChanged,
            EventKind::Message,
        ] {
            assert!(k.is_public());
        }
    }
}
