//! The agent's view of one request (`GET /api/v1/agent/requests/{number}`): everything the
//! back office shows, contacts and internal events included.

use guichet_shared::channel::Channel;
use guichet_shared::phase::{Lang, Phase};
use guichet_shared::timeline::EventKind;
use guichet_shared::workflow::template;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::auth::Agent;
use crate::db::{files::FileRow, queue};

#[derive(Serialize)]
pub struct RequestDetail {
    number: String,
    tracking_code: String,
    demarche: DemarcheAt,
    workflow: String,
    status: String,
    status_label: String,
    phase: Phase,
    outcome: Option<String>,
    next_statuses: Vec<Transition>,
    channel: Channel,
    team: Option<TeamRef>,
    assignee: Option<AgentRef>,
    entered_by: Option<AgentRef>,
    requester: Requester,
    zone: Option<String>,
    location: Option<Location>,
    address: Option<String>,
    description: Option<String>,
    data: serde_json::Value,
    files: Vec<FileView>,
    report_count: i32,
    reports: Vec<ReportView>,
    possible_duplicate_of: Option<String>,
    merged_into: Option<String>,
    complement: Option<serde_json::Value>,
    #[serde(with = "time::serde::rfc3339::option")]
    due_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    sla_paused_at: Option<OffsetDateTime>,
    overdue: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    closed_at: Option<OffsetDateTime>,
    timeline: Vec<TimelineItem>,
}

/// The démarche at the revision the request was filed under.
#[derive(Serialize)]
struct DemarcheAt {
    code: String,
    revision: i32,
    title: String,
}

/// A status the agent may move the request to.
#[derive(Serialize)]
pub struct Transition {
    status: &'static str,
    label: &'static str,
    phase: Phase,
}

#[derive(Serialize)]
struct TeamRef {
    id: Option<i64>,
    code: String,
    name: Option<String>,
}

#[derive(Serialize)]
struct AgentRef {
    id: i64,
    name: Option<String>,
}

/// Who filed: the contact given with the filing and, for accounts, their address.
#[derive(Serialize)]
struct Requester {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    account_email: Option<String>,
    lang: String,
}

#[derive(Serialize)]
struct Location {
    lat: f64,
    lon: f64,
    accuracy_m: Option<f64>,
}

#[derive(Serialize)]
struct FileView {
    id: i64,
    field: String,
    filename: String,
    mime: String,
    bytes: i32,
    url: String,
}

#[derive(Serialize)]
struct ReportView {
    id: i64,
    client_id: Uuid,
    channel: Channel,
    location: Location,
    description: String,
    contact: ReportContact,
    deduplicated: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

#[derive(Serialize)]
struct ReportContact {
    name: Option<String>,
    email: Option<String>,
}

#[derive(Serialize)]
struct TimelineItem {
    id: i64,
    kind: EventKind,
    public: bool,
    actor: String,
    data: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
}

impl RequestDetail {
    pub fn new(
        row: queue::DetailRow,
        agent: &Agent,
        lang: Lang,
        events: Vec<queue::EventRow>,
        reports: Vec<queue::ReportSummary>,
        files: Vec<FileRow>,
    ) -> Self {
        let t = template(&row.workflow);
        let status_label = t
            .and_then(|t| t.status(&row.status))
            .map_or(row.status.as_str(), |s| s.label(lang))
            .to_owned();
        let next_statuses = t
            .map(|t| {
                t.next(&row.status, agent.role)
                    .into_iter()
                    .map(|s| Transition {
                        status: s.name,
                        label: s.label(lang),
                        phase: s.phase,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let number = row.number;
        Self {
            files: files
                .into_iter()
                .map(|f| FileView {
                    url: format!("/api/v1/agent/requests/{number}/files/{}", f.id),
                    id: f.id,
                    field: f.field_id,
                    filename: f.filename,
                    mime: f.mime,
                    bytes: f.bytes,
                })
                .collect(),
            number,
            tracking_code: row.tracking_code,
            demarche: DemarcheAt {
                code: row.demarche_code,
                revision: row.demarche_revision,
                title: row.demarche_title,
            },
            workflow: row.workflow,
            status: row.status,
            status_label,
            phase: row.phase,
            outcome: row.outcome,
            next_statuses,
            channel: row.channel,
            team: row.team_code.map(|code| TeamRef {
                id: row.team_id,
                code,
                name: row.team_name,
            }),
            assignee: row.assignee_id.map(|id| AgentRef {
                id,
                name: row.assignee_name,
            }),
            entered_by: row.entered_by.map(|id| AgentRef {
                id,
                name: row.entered_by_name,
            }),
            requester: Requester {
                name: row.contact_name,
                email: row.contact_email,
                phone: row.contact_phone,
                account_email: row.citizen_email,
                lang: row.lang,
            },
            zone: row.zone_name,
            location: row.lat.zip(row.lon).map(|(lat, lon)| Location {
                lat,
                lon,
                accuracy_m: row.accuracy_m,
            }),
            address: row.address,
            description: row.description,
            data: row.data,
            report_count: row.report_count,
            reports: reports
                .into_iter()
                .map(|r| ReportView {
                    id: r.id,
                    client_id: r.client_id,
                    channel: r.channel,
                    location: Location {
                        lat: r.lat,
                        lon: r.lon,
                        accuracy_m: r.accuracy_m,
                    },
                    description: r.description,
                    contact: ReportContact {
                        name: r.contact_name,
                        email: r.contact_email,
                    },
                    deduplicated: r.deduplicated,
                    created_at: r.created_at,
                })
                .collect(),
            possible_duplicate_of: row.possible_duplicate_of,
            merged_into: row.merged_into,
            complement: row.complement,
            due_at: row.due_at,
            sla_paused_at: row.sla_paused_at,
            overdue: row.overdue,
            created_at: row.created_at,
            updated_at: row.updated_at,
            closed_at: row.closed_at,
            timeline: events
                .into_iter()
                .map(|e| TimelineItem {
                    id: e.id,
                    kind: e.kind,
                    public: e.public,
                    actor: e.actor,
                    data: e.data,
                    at: e.created_at,
                })
                .collect(),
        }
    }
}
