//! What notices need to know about a request: its public facts and who to tell.

use guichet_shared::channel::Channel;
use guichet_shared::phase::Phase;
use sqlx::PgConnection;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::DbError;

/// Citizens read dates in the city's local time, whatever the server's zone is. PostgreSQL
/// holds the time zone rules, so the conversion happens in SQL.
const CITY_TIME_ZONE: &str = "Europe/Paris";

/// The public facts of a request, as its notices and webhooks show them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestFacts {
    pub id: i64,
    pub number: String,
    /// SHA-256 of the filer's tracking code (follow links are derived from it).
    pub tracking_code_digest: Vec<u8>,
    pub demarche_code: String,
    pub demarche_title: String,
    pub demarche_title_en: String,
    /// The whole catalogue entry of the pinned revision (form field labels live there).
    pub definition: serde_json::Value,
    pub workflow: String,
    pub status: String,
    #[sqlx(try_from = "String")]
    pub phase: Phase,
    pub outcome: Option<String>,
    #[sqlx(try_from = "String")]
    pub channel: Channel,
    pub team_name: Option<String>,
    /// The place, when it may be shown in public (a public incident): webhook payloads
    /// follow the map's rule.
    pub public_lat: Option<f64>,
    pub public_lon: Option<f64>,
    pub report_count: i32,
    pub created_at: OffsetDateTime,
    /// `created_at` in the city's time zone.
    pub received_local: PrimitiveDateTime,
}

pub async fn request_facts(
    tx: &mut PgConnection,
    request_id: i64,
) -> Result<Option<RequestFacts>, DbError> {
    Ok(sqlx::query_as(
        "SELECT r.id, r.number, r.tracking_code_digest, r.demarche_code,
                dr.title AS demarche_title, dr.title_en AS demarche_title_en, dr.definition,
                r.workflow, r.status, r.phase, r.outcome, r.channel, t.name AS team_name,
                ST_Y(p.location::geometry) AS public_lat,
                ST_X(p.location::geometry) AS public_lon,
                r.report_count, r.created_at,
                r.created_at AT TIME ZONE $2 AS received_local
           FROM requests r
           JOIN demarche_revisions dr
             ON dr.demarche_code = r.demarche_code AND dr.revision = r.demarche_revision
           LEFT JOIN teams t ON t.id = r.team_id
           LEFT JOIN public_incidents p ON p.id = r.id
          WHERE r.id = $1",
    )
    .bind(request_id)
    .bind(CITY_TIME_ZONE)
    .fetch_optional(tx)
    .await?)
}

/// Where a contact address of a request comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactSource {
    /// `requests.contact_email`: given when filing (web form, or by the agent at the desk).
    Request,
    /// The e-mail of the citizen account that filed it.
    Account,
    /// `reports.contact_email` of one report. `filer`: the report holds the request's own
    /// code (the report that opened it), as opposed to a co-report, a "me too", or a report
    /// that came with a merge.
    Report { report_id: i64, filer: bool },
}

#[derive(Debug, Clone)]
pub struct Contact {
    /// Trimmed and lower-cased.
    pub email: String,
    /// `fr` or `en`.
    pub lang: String,
    pub source: ContactSource,
    /// The digest of the code this contact holds: the request's for its own contact and its
    /// account, the report's for a reporter (none for reports from before reporters had
    /// codes). Their follow link is derived from it.
    pub code_digest: Option<Vec<u8>>,
}

#[derive(sqlx::FromRow)]
struct ContactRow {
    email: Option<String>,
    lang: String,
    source: i32,
    report_id: i64,
    filer_report: bool,
    code_digest: Option<Vec<u8>>,
}

/// Every contact of a request that has not stopped its notices, in this order: the request's own contact, the account, the
/// filer's report, then the other reports in the order they came. Duplicates are kept here
/// (see `distinct_contacts`).
pub async fn contacts(tx: &mut PgConnection, request_id: i64) -> Result<Vec<Contact>, DbError> {
    let rows: Vec<ContactRow> = sqlx::query_as(
        "SELECT * FROM (
         SELECT lower(btrim(r.contact_email)) AS email, r.lang, 0 AS source,
                0::bigint AS report_id, false AS filer_report,
                r.tracking_code_digest AS code_digest
           FROM requests r WHERE r.id = $1
         UNION ALL
         SELECT c.email, c.lang, 1, 0::bigint, false, r.tracking_code_digest
           FROM requests r JOIN citizens c ON c.id = r.citizen_id WHERE r.id = $1
         UNION ALL
         SELECT lower(btrim(rp.contact_email)), rp.lang, 2, rp.id,
                coalesce(rp.tracking_code_digest = r.tracking_code_digest, false),
                rp.tracking_code_digest
           FROM reports rp JOIN requests r ON r.id = rp.request_id WHERE rp.request_id = $1
         ) c
         -- Addresses that stopped the notices of this request hear no more of it.
         WHERE NOT EXISTS (SELECT 1 FROM notice_stops s
                            WHERE s.request_id = $1 AND s.email = lower(btrim(c.email)))
         ORDER BY source, filer_report DESC, report_id",
    )
    .bind(request_id)
    .fetch_all(tx)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let email = row.email.filter(|e| !e.is_empty())?;
            let source = match row.source {
                0 => ContactSource::Request,
                1 => ContactSource::Account,
                _ => ContactSource::Report {
                    report_id: row.report_id,
                    filer: row.filer_report,
                },
            };
            Some(Contact {
                email,
                lang: row.lang,
                source,
                code_digest: row.code_digest,
            })
        })
        .collect())
}

/// Every distinct address, first occurrence wins (so its language too).
pub fn distinct_contacts(contacts: &[Contact]) -> Vec<&Contact> {
    let mut seen = std::collections::HashSet::new();
    contacts
        .iter()
        .filter(|c| seen.insert(c.email.as_str()))
        .collect()
}

/// The person who filed the request: its own contact, else the account, else the contact of
/// the report that holds the request's code. Co-reporters and supporters are not the filer.
pub fn filer(contacts: &[Contact]) -> Option<&Contact> {
    contacts.iter().find(|c| c.is_filer())
}

impl Contact {
    pub fn is_filer(&self) -> bool {
        matches!(
            self.source,
            ContactSource::Request
                | ContactSource::Account
                | ContactSource::Report { filer: true, .. }
        )
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportFacts {
    pub contact_email: Option<String>,
    pub tracking_code_digest: Option<Vec<u8>>,
    pub lang: String,
    pub channel: String,
    pub created_at: OffsetDateTime,
    pub received_local: PrimitiveDateTime,
}

/// One report of the request (None when the report belongs to another request).
pub async fn report_facts(
    tx: &mut PgConnection,
    request_id: i64,
    report_id: i64,
) -> Result<Option<ReportFacts>, DbError> {
    Ok(sqlx::query_as(
        "SELECT NULLIF(lower(btrim(contact_email)), '') AS contact_email, tracking_code_digest,
                lang, channel,
                created_at, created_at AT TIME ZONE $3 AS received_local
           FROM reports WHERE id = $2 AND request_id = $1",
    )
    .bind(request_id)
    .bind(report_id)
    .bind(CITY_TIME_ZONE)
    .fetch_optional(tx)
    .await?)
}

/// Stops the notices of request `request_id` to the addresses of `holder`'s contact: the
/// request's own contact and its account (`None`), or one report's contact (`Some(id)`).
/// Returns how many addresses were added.
pub async fn stop_notices(
    pool: &sqlx::PgPool,
    request_id: i64,
    holder_request: i64,
    holder_report: Option<i64>,
) -> Result<u64, DbError> {
    let done = sqlx::query(
        "INSERT INTO notice_stops (request_id, email)
         SELECT $1, e FROM (
             SELECT lower(btrim(r.contact_email)) AS e FROM requests r
              WHERE $3::bigint IS NULL AND r.id = $2
             UNION
             SELECT lower(btrim(c.email)) FROM requests r JOIN citizens c ON c.id = r.citizen_id
              WHERE $3::bigint IS NULL AND r.id = $2
             UNION
             SELECT lower(btrim(rp.contact_email)) FROM reports rp WHERE rp.id = $3
         ) a
         WHERE e IS NOT NULL AND e <> ''
         ON CONFLICT DO NOTHING",
    )
    .bind(request_id)
    .bind(holder_request)
    .bind(holder_report)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
