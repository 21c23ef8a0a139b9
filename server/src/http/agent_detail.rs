//! The agent's view of one request (`GET /api/v1/agent/requests/{number}`): everything the
//! back office shows, contacts and internal events included. Never a tracking code, nor the
//! client ids that would replay a receipt holding one: an agent issues a new code instead
//! (`POST …/tracking-code`).
//!
//! Need to know: field agents work on site and get what the work needs (the place, the
//! description, the photos, the form's other answers, the timeline), not how to reach the
//! people who filed or supported it. `RequestDetail::for_field` takes out their contacts, the
//! form's personal answers and documents, and the recipients of notices.
//! docs/security.md has the role × data table.

use guichet_shared::channel::Channel;
use guichet_shared::forms::{FormDefinition, strip_personal};
use guichet_shared::phase::{Lang, Phase};
use guichet_shared::timeline::EventKind;
use guichet_shared::workflow::template;
use serde::Serialize;
use time::OffsetDateTime;

use crate::auth::Agent;
use crate::db::{event_photos::EventPhoto, files::FileRow, queue};

#[derive(Serialize, utoipa::ToSchema)]
pub struct RequestDetail {
    number: String,
    demarche: DemarcheAt,
    workflow: String,
    status: String,
    status_label: String,
    phase: Phase,
    outcome: Option<String>,
    next_statuses: Vec<Transition>,
    /// Whether I may ask the citizen for a complement from the current status.
    can_request_complement: bool,
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
    /// Photos taken by field teams once the work was done.
    after_photos: Vec<PhotoView>,
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

/// The démarche at the revision the request was filed under, with that revision's form (the
/// labels the citizen read).
#[derive(Serialize, utoipa::ToSchema)]
struct DemarcheAt {
    code: String,
    revision: i32,
    title: String,
    form: Option<serde_json::Value>,
}

/// A status the agent may move the request to.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Transition {
    status: &'static str,
    label: &'static str,
    phase: Phase,
}

#[derive(Serialize, utoipa::ToSchema)]
struct TeamRef {
    id: Option<i64>,
    code: String,
    name: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct AgentRef {
    id: i64,
    name: Option<String>,
}

/// Who filed: the contact given with the filing and, for accounts, their address.
#[derive(Serialize, utoipa::ToSchema)]
struct Requester {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    account_email: Option<String>,
    lang: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = RequestLocation)]
struct Location {
    lat: f64,
    lon: f64,
    accuracy_m: Option<f64>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct FileView {
    id: i64,
    field: String,
    filename: String,
    mime: String,
    bytes: i32,
    url: String,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ReportView {
    id: i64,
    channel: Channel,
    location: Location,
    description: String,
    contact: ReportContact,
    photos: Vec<PhotoView>,
    deduplicated: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PhotoView {
    url: String,
    thumbnail_url: String,
    width: i32,
    height: i32,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ReportContact {
    name: Option<String>,
    email: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct TimelineItem {
    id: i64,
    kind: EventKind,
    public: bool,
    actor: String,
    data: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
}

/// What the detail gathers besides the request's own row.
pub struct Parts {
    pub events: Vec<queue::EventRow>,
    pub reports: Vec<queue::ReportSummary>,
    pub files: Vec<FileRow>,
    pub photos: Vec<queue::ReportPhoto>,
    pub after_photos: Vec<EventPhoto>,
    pub form: Option<serde_json::Value>,
}

impl RequestDetail {
    pub fn new(
        row: queue::DetailRow,
        agent: &Agent,
        lang: Lang,
        parts: Parts,
        media_url: impl Fn(&str) -> String,
    ) -> Self {
        let Parts {
            events,
            reports,
            files,
            photos,
            after_photos,
            form,
        } = parts;
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
        let can_request_complement = t.is_some_and(|t| {
            t.waiting_status()
                .is_some_and(|w| t.check(&row.status, w.name, agent.role).is_ok())
        });
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
            demarche: DemarcheAt {
                code: row.demarche_code,
                revision: row.demarche_revision,
                title: row.demarche_title,
                form,
            },
            workflow: row.workflow,
            status: row.status,
            status_label,
            phase: row.phase,
            outcome: row.outcome,
            next_statuses,
            can_request_complement,
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
                    photos: photos
                        .iter()
                        .filter(|p| p.report_id == r.id)
                        .map(|p| PhotoView {
                            url: media_url(&p.display_key),
                            thumbnail_url: media_url(&p.thumb_key),
                            width: p.display_width,
                            height: p.display_height,
                        })
                        .collect(),
                    deduplicated: r.deduplicated,
                    created_at: r.created_at,
                })
                .collect(),
            after_photos: after_photos
                .iter()
                .map(|p| PhotoView {
                    url: media_url(&p.display_key),
                    thumbnail_url: media_url(&p.thumb_key),
                    width: p.display_width,
                    height: p.display_height,
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

/// Keys of event data that name a person or an address (recipients of notices…).
const CONTACT_KEYS: [&str; 6] = [
    "to",
    "email",
    "phone",
    "contact",
    "contact_email",
    "contact_phone",
];

/// Whether a file of this form field is a personal document (a proof of address, a CV…).
pub fn is_personal_field(form: &FormDefinition, field_id: &str) -> bool {
    form.fields
        .iter()
        .find(|f| f.id == field_id)
        .is_none_or(|f| f.personal)
}

impl RequestDetail {
    /// What a field agent sees: no contact of the requester or of any reporter, no personal
    /// answer or document of the form (`form`: the revision the request was filed under), no
    /// recipient of a notice. (No agent sees a tracking code: they issue a new one.)
    pub fn for_field(mut self, form: &FormDefinition) -> Self {
        self.requester = Requester {
            name: None,
            email: None,
            phone: None,
            account_email: None,
            lang: self.requester.lang,
        };
        for r in &mut self.reports {
            r.contact = ReportContact {
                name: None,
                email: None,
            };
        }
        if let serde_json::Value::Object(data) = &self.data {
            self.data = serde_json::Value::Object(strip_personal(form, data));
        }
        self.files.retain(|f| !is_personal_field(form, &f.field));
        for item in &mut self.timeline {
            if let serde_json::Value::Object(data) = &mut item.data {
                data.retain(|k, _| !CONTACT_KEYS.contains(&k.as_str()));
            }
        }
        self
    }
}
