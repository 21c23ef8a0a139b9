//! Workflow templates: the statuses a request goes through, the public phase each maps to,
//! and who may move it from one status to another. A handful of templates serve every
//! démarche; citizens, SLA clocks, Open311 and webhooks only see phases and public labels.

use serde::{Deserialize, Serialize};

use crate::phase::{Lang, Outcome, Phase};

/// Who acts on a request.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The person who filed it (or supported it).
    Citizen,
    Agent,
    Field,
    Supervisor,
    Admin,
    /// The service itself (timers, dedup, routing).
    System,
}

/// One status of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Status {
    pub name: &'static str,
    pub phase: Phase,
    pub outcome: Option<Outcome>,
    pub label_fr: &'static str,
    pub label_en: &'static str,
}

impl Status {
    pub fn label(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Fr => self.label_fr,
            Lang::En => self.label_en,
        }
    }

    /// The SLA clock stands still while the request waits for the citizen.
    pub fn pauses_sla(&self) -> bool {
        self.phase == Phase::WaitingForCitizen
    }
}

/// An allowed move and the roles that may make it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Transition {
    pub from: &'static str,
    pub to: &'static str,
    pub roles: &'static [Role],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Template {
    pub code: &'static str,
    pub initial: &'static str,
    pub statuses: &'static [Status],
    pub transitions: &'static [Transition],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    UnknownStatus(String),
    /// The template has no such move (e.g. from a closed status).
    NotAllowed {
        from: String,
        to: String,
    },
    /// The move exists but this role may not make it.
    Forbidden {
        to: String,
        role: Role,
    },
}

impl std::fmt::Display for TransitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransitionError::UnknownStatus(s) => write!(f, "unknown status {s:?}"),
            TransitionError::NotAllowed { from, to } => {
                write!(f, "a request cannot go from {from:?} to {to:?}")
            }
            TransitionError::Forbidden { to, role } => {
                write!(f, "role {role:?} may not move a request to {to:?}")
            }
        }
    }
}

impl std::error::Error for TransitionError {}

impl Template {
    pub fn status(&self, name: &str) -> Option<&Status> {
        self.statuses.iter().find(|s| s.name == name)
    }

    /// Checks a move; returns the target status.
    pub fn check(&self, from: &str, to: &str, role: Role) -> Result<&Status, TransitionError> {
        self.status(from)
            .ok_or_else(|| TransitionError::UnknownStatus(from.to_owned()))?;
        let target = self
            .status(to)
            .ok_or_else(|| TransitionError::UnknownStatus(to.to_owned()))?;
        let transition = self
            .transitions
            .iter()
            .find(|t| t.from == from && t.to == to)
            .ok_or_else(|| TransitionError::NotAllowed {
                from: from.to_owned(),
                to: to.to_owned(),
            })?;
        if role == Role::Admin || transition.roles.contains(&role) {
            Ok(target)
        } else {
            Err(TransitionError::Forbidden {
                to: to.to_owned(),
                role,
            })
        }
    }

    /// The status a complement request puts the request in (the template's waiting status).
    pub fn waiting_status(&self) -> Option<&Status> {
        self.statuses
            .iter()
            .find(|s| s.phase == Phase::WaitingForCitizen)
    }

    /// Where the citizen's answer to a complement request takes the request back.
    pub fn resume_status(&self, waiting: &str) -> Option<&Status> {
        self.transitions
            .iter()
            .filter(|t| t.from == waiting && t.roles.contains(&Role::Citizen))
            .filter_map(|t| self.status(t.to))
            .find(|s| s.phase == Phase::InProgress)
    }

    /// The closed status meaning "duplicate", used when a request is merged into another.
    pub fn duplicate_status(&self) -> Option<&Status> {
        self.statuses
            .iter()
            .find(|s| s.outcome == Some(Outcome::Duplicate))
    }

    /// The statuses reachable from `from` by `role`.
    pub fn next(&self, from: &str, role: Role) -> Vec<&Status> {
        self.transitions
            .iter()
            .filter(|t| t.from == from && (role == Role::Admin || t.roles.contains(&role)))
            .filter_map(|t| self.status(t.to))
            .collect()
    }
}

const fn st(
    name: &'static str,
    phase: Phase,
    outcome: Option<Outcome>,
    label_fr: &'static str,
    label_en: &'static str,
) -> Status {
    Status {
        name,
        phase,
        outcome,
        label_fr,
        label_en,
    }
}

const fn tr(from: &'static str, to: &'static str, roles: &'static [Role]) -> Transition {
    Transition { from, to, roles }
}

use Role::{Agent, Citizen, Field, Supervisor, System};

const OFFICE: &[Role] = &[Agent, Supervisor];
const OFFICE_FIELD: &[Role] = &[Agent, Field, Supervisor];
const FIELD: &[Role] = &[Field];
const CITIZEN: &[Role] = &[Citizen];
const CITIZEN_OR_OFFICE: &[Role] = &[Citizen, Agent, Supervisor];
const SYSTEM_OR_OFFICE: &[Role] = &[System, Agent, Supervisor];

/// Incident reports: received, acknowledged, sent to the field, fixed (or not).
pub const REPORT: Template = Template {
    code: "report",
    initial: "new",
    statuses: &[
        st("new", Phase::Received, None, "Reçue", "Received"),
        st(
            "acknowledged",
            Phase::InProgress,
            None,
            "Prise en compte",
            "Acknowledged",
        ),
        st(
            "scheduled",
            Phase::InProgress,
            None,
            "Intervention programmée",
            "Work scheduled",
        ),
        st(
            "waiting_citizen",
            Phase::WaitingForCitizen,
            None,
            "En attente de votre réponse",
            "Waiting for your answer",
        ),
        st(
            "resolved",
            Phase::Closed,
            Some(Outcome::Resolved),
            "Résolue",
            "Resolved",
        ),
        st(
            "duplicate",
            Phase::Closed,
            Some(Outcome::Duplicate),
            "Déjà signalée",
            "Already reported",
        ),
        st(
            "not_ours",
            Phase::Closed,
            Some(Outcome::Redirected),
            "Transmise à l'organisme compétent",
            "Passed to the competent body",
        ),
        st(
            "rejected",
            Phase::Closed,
            Some(Outcome::Rejected),
            "Non retenue",
            "Not accepted",
        ),
        st("withdrawn", Phase::Withdrawn, None, "Retirée", "Withdrawn"),
    ],
    transitions: &[
        tr("new", "acknowledged", SYSTEM_OR_OFFICE),
        tr("new", "scheduled", OFFICE),
        tr("new", "duplicate", SYSTEM_OR_OFFICE),
        tr("new", "not_ours", OFFICE),
        tr("new", "rejected", OFFICE),
        tr("new", "waiting_citizen", OFFICE),
        tr("new", "withdrawn", CITIZEN),
        // A field team that finds a fresh report on its way and fixes it closes it there; the
        // office acknowledges first.
        tr("new", "resolved", FIELD),
        tr("acknowledged", "scheduled", OFFICE_FIELD),
        tr("acknowledged", "resolved", OFFICE_FIELD),
        tr("acknowledged", "duplicate", OFFICE),
        tr("acknowledged", "not_ours", OFFICE),
        tr("acknowledged", "rejected", OFFICE),
        tr("acknowledged", "waiting_citizen", OFFICE),
        tr("scheduled", "resolved", OFFICE_FIELD),
        tr("scheduled", "acknowledged", OFFICE_FIELD),
        tr("waiting_citizen", "acknowledged", CITIZEN_OR_OFFICE),
        tr("waiting_citizen", "rejected", OFFICE),
        // A fixed pothole that is back: reopen rather than file anew.
        tr("resolved", "acknowledged", &[Supervisor]),
    ],
};

/// Closing a request filed twice (or merged into another): shared by the templates
/// whose requests are not incidents.
const DUPLICATE_REQUEST: Status = st(
    "duplicate",
    Phase::Closed,
    Some(Outcome::Duplicate),
    "Demande en double",
    "Duplicate request",
);

/// Requests that end in a decision (permits, registrations): instruction, then yes or no.
pub const DECISION: Template = Template {
    code: "decision",
    initial: "submitted",
    statuses: &[
        st("submitted", Phase::Received, None, "Déposée", "Submitted"),
        st(
            "under_review",
            Phase::InProgress,
            None,
            "En cours d'instruction",
            "Under review",
        ),
        st(
            "complement_requested",
            Phase::WaitingForCitizen,
            None,
            "Complément demandé",
            "Information requested",
        ),
        st(
            "accepted",
            Phase::Closed,
            Some(Outcome::Resolved),
            "Acceptée",
            "Accepted",
        ),
        st(
            "refused",
            Phase::Closed,
            Some(Outcome::Rejected),
            "Refusée",
            "Refused",
        ),
        DUPLICATE_REQUEST,
        st("withdrawn", Phase::Withdrawn, None, "Retirée", "Withdrawn"),
    ],
    transitions: &[
        tr("submitted", "under_review", SYSTEM_OR_OFFICE),
        tr("submitted", "complement_requested", OFFICE),
        tr("submitted", "withdrawn", CITIZEN),
        tr("submitted", "duplicate", OFFICE),
        tr("under_review", "complement_requested", OFFICE),
        tr("under_review", "accepted", &[Supervisor, Agent]),
        tr("under_review", "refused", &[Supervisor]),
        tr("under_review", "withdrawn", CITIZEN),
        tr("complement_requested", "under_review", CITIZEN_OR_OFFICE),
        tr("complement_requested", "withdrawn", CITIZEN),
    ],
};

/// Requests for something to be delivered or done (certificates, bulky-waste pickup).
pub const DELIVERY: Template = Template {
    code: "delivery",
    initial: "received",
    statuses: &[
        st("received", Phase::Received, None, "Reçue", "Received"),
        st(
            "in_preparation",
            Phase::InProgress,
            None,
            "En préparation",
            "Being prepared",
        ),
        st(
            "complement_requested",
            Phase::WaitingForCitizen,
            None,
            "Complément demandé",
            "Information requested",
        ),
        st(
            "sent",
            Phase::Closed,
            Some(Outcome::Resolved),
            "Envoyée",
            "Sent",
        ),
        st(
            "impossible",
            Phase::Closed,
            Some(Outcome::Rejected),
            "Impossible à délivrer",
            "Cannot be delivered",
        ),
        DUPLICATE_REQUEST,
        st("withdrawn", Phase::Withdrawn, None, "Retirée", "Withdrawn"),
    ],
    transitions: &[
        tr("received", "in_preparation", SYSTEM_OR_OFFICE),
        tr("received", "complement_requested", OFFICE),
        tr("received", "withdrawn", CITIZEN),
        tr("received", "duplicate", OFFICE),
        tr("in_preparation", "sent", OFFICE_FIELD),
        tr("in_preparation", "impossible", OFFICE),
        tr("in_preparation", "complement_requested", OFFICE),
        tr("complement_requested", "in_preparation", CITIZEN_OR_OFFICE),
        tr("complement_requested", "withdrawn", CITIZEN),
    ],
};

/// Questions and contact requests: someone answers.
pub const ANSWER: Template = Template {
    code: "answer",
    initial: "received",
    statuses: &[
        st("received", Phase::Received, None, "Reçue", "Received"),
        st(
            "assigned",
            Phase::InProgress,
            None,
            "En cours de traitement",
            "Being handled",
        ),
        st(
            "waiting_citizen",
            Phase::WaitingForCitizen,
            None,
            "En attente de votre réponse",
            "Waiting for your answer",
        ),
        st(
            "answered",
            Phase::Closed,
            Some(Outcome::Resolved),
            "Répondue",
            "Answered",
        ),
        st(
            "redirected",
            Phase::Closed,
            Some(Outcome::Redirected),
            "Réorientée",
            "Redirected",
        ),
        st(
            "no_follow_up",
            Phase::Closed,
            Some(Outcome::NoFollowUp),
            "Sans suite",
            "No follow-up",
        ),
        DUPLICATE_REQUEST,
        st("withdrawn", Phase::Withdrawn, None, "Retirée", "Withdrawn"),
    ],
    transitions: &[
        tr("received", "assigned", SYSTEM_OR_OFFICE),
        tr("received", "answered", OFFICE),
        tr("received", "redirected", OFFICE),
        tr("received", "duplicate", OFFICE),
        tr("received", "withdrawn", CITIZEN),
        tr("assigned", "answered", OFFICE),
        tr("assigned", "waiting_citizen", OFFICE),
        tr("assigned", "redirected", OFFICE),
        tr("assigned", "no_follow_up", OFFICE),
        tr("waiting_citizen", "assigned", CITIZEN_OR_OFFICE),
        tr("waiting_citizen", "no_follow_up", OFFICE),
        tr("waiting_citizen", "withdrawn", CITIZEN),
    ],
};

pub const TEMPLATES: [&Template; 4] = [&REPORT, &DECISION, &DELIVERY, &ANSWER];

pub fn template(code: &str) -> Option<&'static Template> {
    TEMPLATES.into_iter().find(|t| t.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_is_consistent() {
        for t in TEMPLATES {
            assert!(t.status(t.initial).is_some(), "{}: initial status", t.code);
            assert_eq!(t.status(t.initial).map(|s| s.phase), Some(Phase::Received));
            for s in t.statuses {
                // A closed status always says how it ended; others never do.
                assert_eq!(
                    s.phase == Phase::Closed,
                    s.outcome.is_some(),
                    "{}.{}",
                    t.code,
                    s.name
                );
                assert!(!s.label_fr.is_empty() && !s.label_en.is_empty());
                assert_eq!(t.statuses.iter().filter(|o| o.name == s.name).count(), 1);
            }
            for tr in t.transitions {
                assert!(t.status(tr.from).is_some(), "{}: {}", t.code, tr.from);
                assert!(t.status(tr.to).is_some(), "{}: {}", t.code, tr.to);
                assert_ne!(tr.from, tr.to);
            }
            // Every status can be reached from the initial one.
            let mut seen = vec![t.initial];
            let mut i = 0;
            while i < seen.len() {
                let from = seen[i];
                for tr in t.transitions.iter().filter(|tr| tr.from == from) {
                    if !seen.contains(&tr.to) {
                        seen.push(tr.to);
                    }
                }
                i += 1;
            }
            assert_eq!(
                seen.len(),
                t.statuses.len(),
                "{}: unreachable statuses",
                t.code
            );
        }
    }

    #[test]
    fn moves_are_checked_against_the_template_and_the_role() {
        assert_eq!(
            REPORT
                .check("new", "acknowledged", Role::Agent)
                .map(|s| s.phase),
            Ok(Phase::InProgress)
        );
        assert_eq!(
            REPORT.check("resolved", "new", Role::Agent).err(),
            Some(TransitionError::NotAllowed {
                from: "resolved".into(),
                to: "new".into()
            })
        );
        assert_eq!(
            REPORT.check("new", "rejected", Role::Field).err(),
            Some(TransitionError::Forbidden {
                to: "rejected".into(),
                role: Role::Field
            })
        );
        assert!(REPORT.check("new", "withdrawn", Role::Citizen).is_ok());
        assert!(REPORT.check("new", "withdrawn", Role::Agent).is_err());
        // Admins may make any move the template has, never one it lacks.
        assert!(
            DECISION
                .check("under_review", "refused", Role::Admin)
                .is_ok()
        );
        assert!(DECISION.check("accepted", "refused", Role::Admin).is_err());
        assert!(matches!(
            REPORT.check("nope", "new", Role::Agent),
            Err(TransitionError::UnknownStatus(_))
        ));
    }

    #[test]
    fn waiting_for_the_citizen_pauses_the_sla_and_the_answer_resumes_it() {
        let waiting = DECISION
            .status("complement_requested")
            .map(|s| s.pauses_sla());
        assert_eq!(waiting, Some(true));
        let back = DECISION.check("complement_requested", "under_review", Role::Citizen);
        assert_eq!(back.map(|s| s.pauses_sla()), Ok(false));
    }

    #[test]
    fn next_lists_what_a_role_may_do() {
        let names: Vec<_> = REPORT
            .next("scheduled", Role::Field)
            .iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, vec!["resolved", "acknowledged"]);
        assert!(REPORT.next("resolved", Role::Agent).is_empty());
        assert_eq!(template("answer").map(|t| t.initial), Some("received"));
    }

    #[test]
    fn every_template_can_wait_for_the_citizen_resume_and_close_as_duplicate() {
        for t in TEMPLATES {
            let waiting = t.waiting_status().expect("a waiting status");
            let resumed = t.resume_status(waiting.name).expect("a way back");
            assert_eq!(resumed.phase, Phase::InProgress, "{}", t.code);
            assert!(t.check(waiting.name, resumed.name, Role::Citizen).is_ok());
            let dup = t.duplicate_status().expect("a duplicate status");
            assert_eq!(dup.outcome, Some(Outcome::Duplicate));
        }
        assert_eq!(DECISION.resume_status("under_review"), None);
    }
}
