//! JSON payloads of the citizen API (`/api/v1/`), as sent and received on the wire.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::phase::{Outcome, Phase};

/// The `report` part of `POST /api/v1/reports`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "client_id": "0b6a4f8e-3c1d-4e7a-9a51-2f1b2c3d4e5f", "category": "voirie",
    "lat": 48.1113, "lon": -1.68, "accuracy_m": 6.0, "description": "Nid-de-poule profond"
})))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportSubmission {
    /// Chosen by the client once per report, so that retries never create a second report.
    pub client_id: Uuid,
    /// A code of a geolocated démarche of the catalogue.
    pub category: String,
    pub lat: f64,
    pub lon: f64,
    /// Horizontal accuracy of the position in metres, as given by the device. Absent for a
    /// pin placed by hand or an address.
    #[serde(default)]
    pub accuracy_m: Option<f64>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub address: Option<String>,
    /// When the citizen saw the problem (RFC 3339). Defaults to the time of receipt.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub observed_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub contact: Option<Contact>,
}

/// How to reach a reporter. Personal data: never shown publicly.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Contact {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// The answer to a report submission; the same body is returned for a retry.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReportReceipt {
    pub request_number: String,
    pub tracking_code: String,
    /// Public status label of the request, in the language asked for.
    pub status: String,
    pub phase: Phase,
    /// True when the report was attached to an existing request as a co-report.
    pub deduplicated: bool,
    pub report_count: i32,
    pub photos: Vec<PhotoLinks>,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// Where the request can be followed (needs the tracking code).
    pub status_url: String,
    /// What the acknowledgement tells the reporter (absent from receipts of older servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledgement: Option<Acknowledgement>,
}

/// The acknowledgement of a filing, as a citizen reads it: when it was received, who handles
/// it, what happens next, how long it usually takes, what the tracking code is for, and the
/// page where it is followed. Texts are in the filer's language.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Acknowledgement {
    /// Date and time of receipt in the city's time, written out ("14 mars 2026 à 09:05").
    pub received: String,
    /// The service in charge, when routing found one.
    pub service: Option<String>,
    pub next_steps: String,
    pub expected_delay: ExpectedDelay,
    pub code_explained: String,
    /// The status page, where the number and the code open the request (the code is never
    /// put in this address).
    pub status_page_url: String,
}

/// How long requests of a démarche take: the median time to close of those closed in the
/// last 12 months when there are enough of them, else the démarche's SLA.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExpectedDelay {
    /// In days (tenths); none when neither history nor SLA says.
    pub days: Option<f64>,
    /// `history` (the median), `sla`, or `unknown`.
    pub basis: String,
    /// How many closed requests the median is taken over.
    pub closed_requests: i64,
    /// The delay in words ("environ 3 jours").
    pub text: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PhotoLinks {
    pub url: String,
    pub thumbnail_url: String,
    pub width: i32,
    pub height: i32,
}

/// `GET /api/v1/requests/{number}`: what anyone holding the tracking code may see.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PublicRequest {
    pub number: String,
    pub demarche: DemarcheRef,
    /// Public status label (same as in the submission receipt).
    pub status: String,
    /// The same label, under the name used by the other public views.
    pub status_label: String,
    pub phase: Phase,
    pub outcome: Option<Outcome>,
    pub location: Option<Position>,
    pub address: Option<String>,
    /// Name of the commune (or other zone) the request lies in.
    pub zone: Option<String>,
    pub description: Option<String>,
    pub report_count: i32,
    pub photos: Vec<PhotoLinks>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub timeline: Vec<TimelineEntry>,
    /// While the request waits for the citizen: what the service asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complement: Option<ComplementAsk>,
    /// When merged into another request: the number to follow from now on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
}

/// A complement request as the citizen sees it: the fields to complete and why.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComplementAsk {
    pub fields: Vec<String>,
    pub message: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DemarcheRef {
    pub code: String,
    pub title: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Position {
    pub lat: f64,
    pub lon: f64,
}

/// One public event of a request's history.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TimelineEntry {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub kind: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Photos that came with the event: those a field team took once the work was done.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<PhotoLinks>,
}

/// One entry of `GET /api/v1/catalogue`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CatalogueEntry {
    pub code: String,
    pub title: String,
    /// The title in English, for clients that show the catalogue in English.
    #[serde(default)]
    pub title_en: String,
    /// The group's title, as citizens read it ("Signalement sur l'espace public").
    pub group: String,
    /// The group's title in English.
    #[serde(default)]
    pub group_en: String,
    /// The group's stable code ("signalement").
    pub group_code: String,
    pub geolocated: bool,
    /// Its requests are shown with their place on the public map; any other request stays
    /// private, whatever its place.
    #[serde(default)]
    pub public_incident: bool,
    /// What the démarche is for; also the purpose of its privacy notice.
    pub description: String,
    /// The description in English; empty when the démarche has none (show the French).
    #[serde(default)]
    pub description_en: String,
    pub keywords: Vec<String>,
    /// Words an English search finds it by, besides its English title and description.
    #[serde(default)]
    pub keywords_en: Vec<String>,
    pub channels: Vec<String>,
    pub auth: String,
    pub revision: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_radius_m: Option<f64>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Catalogue {
    pub demarches: Vec<CatalogueEntry>,
}
