//! What happens to a request, as its append-only history records it: the kinds of events,
//! which of them citizens may read (the filer, or someone who only follows the request), and
//! their public wording.

use serde::{Deserialize, Serialize};

use crate::phase::Lang;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// An agent issued a new tracking code to the filer (the old one stopped working).
    TrackingCodeIssued,
    /// A field agent went and could not act (a parked car, no access): the request stays open.
    CouldNotAct,
    /// A reporter says a problem closed as resolved is back (with their words for the agents
    /// and, often, a photo); the request reopens.
    NotFixed,
}

/// Who reads a request's timeline, agents aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// The filer: with the request's tracking code, its follow link or the account that filed it.
    Filer,
    /// A co-reporter or "me too" supporter (or the filer of a request merged into this one):
    /// they follow its status, not the conversation between the filer and the service.
    Follower,
}

/// How much of one event a reader sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// The event and its message, if any.
    Whole,
    /// That it happened (its label and date), without the message that came with it.
    LabelOnly,
}

/// Who a message or a reply is addressed to (`audience` in the event's data).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The filer and the agents only (every message of the conversation, by default).
    #[default]
    Filer,
    /// Every reporter and supporter: a notice the service addresses to all of them.
    All,
}

impl Audience {
    /// The audience recorded in an event's data (`Filer` when absent or unknown).
    pub fn of_event(data: &serde_json::Value) -> Audience {
        data.get("audience")
            .cloned()
            .and_then(|a| serde_json::from_value(a).ok())
            .unwrap_or_default()
    }
}

impl EventKind {
    pub const ALL: [EventKind; 19] = [
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
        EventKind::TrackingCodeIssued,
        EventKind::CouldNotAct,
        EventKind::NotFixed,
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
            EventKind::TrackingCodeIssued => "tracking_code_issued",
            EventKind::CouldNotAct => "could_not_act",
            EventKind::NotFixed => "not_fixed",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether citizens may see events of this kind at all (the filer sees every one of them,
    /// see [`EventKind::shown_to`]). Decided here once: triage (assignment, routing, splits,
    /// duplicate flags), internal notes, delivery traces and code re-issues are the agents' only.
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
                | EventKind::TrackingCodeIssued
                | EventKind::CouldNotAct
        )
    }

    /// What `reader` sees of an event of this kind addressed to `audience`; `None`: nothing.
    ///
    /// The filer sees every public event whole. A follower sees how the request goes: its
    /// filing, co-reports, status changes (a complement asked and answered being two of them),
    /// merges, and the messages addressed to all reporters, but not the conversation between
    /// the filer and the service: neither the messages addressed to the filer (either way),
    /// nor what an agent wrote with a status change or a complement request, nor the
    /// acknowledgements of other people's filings.
    pub fn shown_to(self, reader: Reader, audience: Audience) -> Option<Shown> {
        if !self.is_public() {
            return None;
        }
        match reader {
            Reader::Filer => Some(Shown::Whole),
            Reader::Follower => match self {
                EventKind::Created
                | EventKind::CoReport
                | EventKind::NotFixed
                | EventKind::Merged
                | EventKind::MergedFrom => Some(Shown::Whole),
                EventKind::StatusChanged
                | EventKind::ComplementRequested
                | EventKind::ComplementAnswered => Some(Shown::LabelOnly),
                EventKind::Message if audience == Audience::All => Some(Shown::Whole),
                _ => None,
            },
        }
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
            (EventKind::NotFixed, Lang::Fr) => "Signalé comme non résolu : la demande est rouverte",
            (EventKind::NotFixed, Lang::En) => "Reported as not fixed: the request is open again",
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
    fn followers_see_the_status_and_notices_to_all_but_not_the_conversation() {
        let f = Reader::Follower;
        assert_eq!(
            EventKind::Message.shown_to(f, Audience::Filer),
            None,
            "a message between the filer and the service"
        );
        assert_eq!(
            EventKind::Message.shown_to(f, Audience::All),
            Some(Shown::Whole)
        );
        assert_eq!(
            EventKind::StatusChanged.shown_to(f, Audience::Filer),
            Some(Shown::LabelOnly)
        );
        assert_eq!(
            EventKind::ComplementRequested.shown_to(f, Audience::Filer),
            Some(Shown::LabelOnly)
        );
        assert_eq!(
            EventKind::Acknowledgement.shown_to(f, Audience::Filer),
            None
        );
        assert_eq!(EventKind::Note.shown_to(f, Audience::All), None);
        for k in EventKind::ALL {
            // The filer sees every public event whole; a follower never more than the filer.
            let filer = k.shown_to(Reader::Filer, Audience::Filer);
            assert_eq!(filer.is_some(), k.is_public(), "{k}");
            if k.shown_to(f, Audience::All).is_some() {
                assert!(k.is_public(), "{k}");
            }
        }
    }

    #[test]
    fn an_audience_is_read_from_the_event_data() {
        use serde_json::json;
        assert_eq!(
            Audience::of_event(&json!({"audience": "all"})),
            Audience::All
        );
        assert_eq!(
            Audience::of_event(&json!({"audience": "filer"})),
            Audience::Filer
        );
        assert_eq!(Audience::of_event(&json!({})), Audience::Filer);
        assert_eq!(Audience::of_event(&json!({"audience": 3})), Audience::Filer);
    }

    #[test]
    fn triage_and_notes_stay_internal() {
        for k in [
            EventKind::Note,
            EventKind::Assigned,
            EventKind::Routed,
            EventKind::TrackingCodeIssued,
        ] {
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
