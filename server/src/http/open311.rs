//! Open311 GeoReport v2 under `/open311/v2/`: discovery, services and their definitions,
//! requests (list, one, filing with an API key) and FixMyStreet's `servicerequestupdates`.
//! Each resource answers in JSON or XML after its suffix (`services.json`, `services.xml`);
//! errors are GeoReport's `[{"code", "description"}]` in the same format.
//!
//! The mapping between forms and GeoReport is in `crate::open311`; the SQL in
//! `crate::db::open311`. Filings go through the same pipeline as every channel
//! (`pipeline::submit`), channel `api`, and never carry an account.

use axum::extract::{FromRequest, FromRequestParts, Multipart, Path, RawQuery, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use guichet_shared::phase::Lang;
use guichet_shared::workflow;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::ApiError;
use super::body::lang_of;
use crate::db::open311::{self as db311, RequestFilter, RequestRow};
use crate::limits::{Key, Limit};
use crate::open311::{self, Posted, xml};
use crate::pipeline::admit::Origin;
use crate::pipeline::submit::{self, RequestSubmission, UploadedFile};
use crate::pipeline::{Receipt, Submitted};
use crate::state::AppState;

/// Most requests one `GET requests` returns (the spec's own cap).
pub const MAX_REQUESTS: i64 = 1000;
/// Requests per page unless `page_size` says otherwise.
const DEFAULT_PAGE_SIZE: i64 = 1000;
/// Most updates one `GET servicerequestupdates` returns.
const MAX_UPDATES: i64 = 1000;
/// Widest `radius` of a `lat`/`long` filter, in metres.
const MAX_RADIUS_M: f64 = 50_000.0;
/// Largest form-encoded body (attributes and text; photos come as multipart).
const MAX_FORM_BYTES: usize = 256 * 1024;

/// The answer's format, from the resource's suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    fn of_path(path: &str) -> Option<Format> {
        if path.ends_with(".json") {
            Some(Format::Json)
        } else if path.ends_with(".xml") {
            Some(Format::Xml)
        } else {
            None
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Format {
    type Rejection = Open311Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Format::of_path(parts.uri.path()).ok_or_else(|| Open311Error {
            status: StatusCode::NOT_FOUND,
            description: "add .json or .xml to the resource for the answer's format".to_owned(),
            format: Format::Json,
            retry_after: None,
        })
    }
}

/// An answer in the format asked for: `root` names the XML document's root element.
fn answer(format: Format, status: StatusCode, root: &str, body: &Value) -> Response {
    match format {
        Format::Json => (status, axum::Json(body)).into_response(),
        Format::Xml => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/xml; charset=utf-8"),
            )],
            xml::document(root, body),
        )
            .into_response(),
    }
}

/// GeoReport's error answer.
#[derive(Debug)]
pub struct Open311Error {
    status: StatusCode,
    description: String,
    format: Format,
    retry_after: Option<u64>,
}

impl Open311Error {
    fn new(status: StatusCode, description: impl Into<String>) -> Self {
        Open311Error {
            status,
            description: description.into(),
            format: Format::Json,
            retry_after: None,
        }
    }

    fn bad(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, description)
    }

    fn not_found(description: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, description)
    }

    fn forbidden(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, description)
    }

    fn in_format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }
}

impl From<ApiError> for Open311Error {
    /// A problem of the pipeline, told the GeoReport way: client errors are 400 (403, 404
    /// and 429 keep theirs), the fields' messages make the description.
    fn from(e: ApiError) -> Self {
        let status = match e.status {
            s if s.is_server_error() => s,
            s @ (StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::TOO_MANY_REQUESTS) => {
                s
            }
            _ => StatusCode::BAD_REQUEST,
        };
        let description = if e.errors.is_empty() {
            if e.status.is_server_error() {
                e.title.to_owned()
            } else {
                e.detail.clone()
            }
        } else {
            e.errors
                .iter()
                .map(|f| format!("{}: {}", parameter_of(&f.field), f.message))
                .collect::<Vec<_>>()
                .join("; ")
        };
        Open311Error {
            status,
            description,
            format: Format::Json,
            retry_after: e.retry_after_secs,
        }
    }
}

impl From<crate::db::DbError> for Open311Error {
    fn from(e: crate::db::DbError) -> Self {
        ApiError::from(e).into()
    }
}

/// The GeoReport parameter behind a pipeline field path (`data.count` → `attribute[count]`).
fn parameter_of(field: &str) -> String {
    match field.strip_prefix("data.") {
        Some(rest) => {
            let id = rest.split(['.', '[']).next().unwrap_or(rest);
            format!("attribute[{id}]")
        }
        None => field.to_owned(),
    }
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        let body = json!([{ "code": self.status.as_u16(), "description": self.description }]);
        let mut response = answer(self.format, self.status, "errors", &body);
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

type Answer = Result<Response, Open311Error>;

/// The query string as name-value pairs (repeated names kept).
fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Checks `jurisdiction_id` when given: this service answers for one jurisdiction.
fn check_jurisdiction(state: &AppState, pairs: &[(String, String)]) -> Result<(), Open311Error> {
    match param(pairs, "jurisdiction_id") {
        Some(j) if !j.eq_ignore_ascii_case(&state.config.open311_jurisdiction) => {
            Err(Open311Error::not_found(format!(
                "jurisdiction_id {j:?} is not served here; this is {:?}",
                state.config.open311_jurisdiction
            )))
        }
        _ => Ok(()),
    }
}

fn lang(pairs: &[(String, String)], headers: &HeaderMap) -> Lang {
    match param(pairs, "locale") {
        Some(l) => Lang::parse(l.get(..2).unwrap_or(l)),
        None => lang_of(headers),
    }
}

fn rfc3339(t: OffsetDateTime) -> Value {
    t.format(&Rfc3339).map_or(Value::Null, Value::String)
}

fn date_param(
    pairs: &[(String, String)],
    name: &str,
) -> Result<Option<OffsetDateTime>, Open311Error> {
    param(pairs, name)
        .map(|v| {
            OffsetDateTime::parse(v, &Rfc3339).map_err(|_| {
                Open311Error::bad(format!(
                    "{name}: expected a W3C date and time with its offset, e.g. 2026-12-05T09:30:00+01:00"
                ))
            })
        })
        .transpose()
}

/// `GET discovery`: where this endpoint is and what it speaks.
pub async fn discovery(State(state): State<AppState>, format: Format) -> Answer {
    let base = format!("{}/open311/v2/", state.config.public_url);
    let body = json!({
        "changeset": "2026-12-05T00:00:00Z",
        "contact": format!("{}/", state.config.public_url),
        "key_service": "Keys are issued by the city's administrators (guichet api-key create).",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": base,
            "changeset": "2026-12-05T00:00:00Z",
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    });
    Ok(answer(format, StatusCode::OK, "discovery", &body))
}

/// `GET services`: the démarches an integrator may file, without an account.
pub async fn services(
    State(state): State<AppState>,
    format: Format,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Answer {
    let pairs = pairs(query.as_deref());
    check_jurisdiction(&state, &pairs).map_err(|e| e.in_format(format))?;
    let lang = lang(&pairs, &headers);
    let rows = db311::services(&state.db)
        .await
        .map_err(|e| Open311Error::from(e).in_format(format))?;
    let list: Vec<Value> = rows
        .iter()
        .filter_map(|row| open311::service(row, lang))
        .collect();
    Ok(answer(
        format,
        StatusCode::OK,
        "services",
        &Value::Array(list),
    ))
}

/// The id in a path segment, without its format suffix.
fn stem(segment: &str) -> &str {
    segment
        .strip_suffix(".json")
        .or_else(|| segment.strip_suffix(".xml"))
        .unwrap_or(segment)
}

/// `GET services/{code}`: the service definition (its attributes).
pub async fn service_definition(
    State(state): State<AppState>,
    format: Format,
    headers: HeaderMap,
    Path(segment): Path<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    let pairs = pairs(query.as_deref());
    check_jurisdiction(&state, &pairs).map_err(|e| e.in_format(format))?;
    let lang = lang(&pairs, &headers);
    let code = stem(&segment);
    let unknown = || Open311Error::not_found(format!("no service has the code {code:?}"));
    let row = db311::service(&state.db, code)
        .await
        .map_err(|e| Open311Error::from(e).in_format(format))?
        .ok_or_else(|| unknown().in_format(format))?;
    let form = crate::pipeline::form::parse(&row.code, row.form.as_ref())
        .map_err(|e| Open311Error::from(e).in_format(format))?;
    let attributes = open311::attributes(&form, lang).ok_or_else(|| unknown().in_format(format))?;
    let body = json!({ "service_code": row.code, "attributes": attributes });
    Ok(answer(format, StatusCode::OK, "service_definition", &body))
}

/// One public incident, GeoReport's way.
fn request_json(state: &AppState, row: &RequestRow) -> Value {
    let status_notes = workflow::template(&row.workflow)
        .and_then(|t| t.status(&row.status))
        .map(|s| s.label(Lang::Fr));
    let description = row
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| d.chars().take(4000).collect::<String>());
    json!({
        "service_request_id": row.number,
        "status": open311::status(&row.phase),
        "status_notes": status_notes,
        "service_name": row.service_name,
        "service_code": row.service_code,
        "description": description,
        "agency_responsible": row.agency,
        "service_notice": null,
        "requested_datetime": rfc3339(row.requested_at),
        "updated_datetime": rfc3339(row.updated_at),
        "expected_datetime": row.due_at.map_or(Value::Null, rfc3339),
        "address": row.address,
        "address_id": null,
        "zipcode": row.zipcode,
        "lat": row.lat,
        "long": row.lon,
        "media_url": row.photo_key.as_deref().map(|k| state.photo_url(k)),
    })
}

fn list_param(pairs: &[(String, String)], name: &str) -> Option<Vec<String>> {
    param(pairs, name).map(|v| {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    })
}

fn number_param(pairs: &[(String, String)], name: &str) -> Result<Option<f64>, Open311Error> {
    param(pairs, name)
        .map(|v| {
            v.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| Open311Error::bad(format!("{name}: expected a number")))
        })
        .transpose()
}

fn int_param(
    pairs: &[(String, String)],
    name: &str,
    min: i64,
    max: i64,
) -> Result<Option<i64>, Open311Error> {
    param(pairs, name)
        .map(|v| {
            v.parse::<i64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    Open311Error::bad(format!(
                        "{name}: expected a whole number from {min} to {max}"
                    ))
                })
        })
        .transpose()
}

fn request_filter(pairs: &[(String, String)]) -> Result<RequestFilter, Open311Error> {
    let open = match param(pairs, "status") {
        None => None,
        Some(s) => {
            let wanted: Vec<&str> = s.split(',').map(str::trim).collect();
            match (wanted.contains(&"open"), wanted.contains(&"closed")) {
                (true, false) => Some(true),
                (false, true) => Some(false),
                (true, true) => None,
                (false, false) => {
                    return Err(Open311Error::bad("status: expected open or closed"));
                }
            }
        }
    };
    let near = match (number_param(pairs, "lat")?, number_param(pairs, "long")?) {
        (Some(lat), Some(lon)) => {
            if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
                return Err(Open311Error::bad("lat, long: outside WGS84's range"));
            }
            let radius = number_param(pairs, "radius")?.unwrap_or(500.0);
            if !(radius > 0.0 && radius <= MAX_RADIUS_M) {
                return Err(Open311Error::bad(format!(
                    "radius: metres, more than 0 and at most {MAX_RADIUS_M}"
                )));
            }
            Some((lat, lon, radius))
        }
        (None, None) => None,
        _ => return Err(Open311Error::bad("lat and long go together")),
    };
    let page_size = int_param(pairs, "page_size", 1, MAX_REQUESTS)?.unwrap_or(DEFAULT_PAGE_SIZE);
    let page = int_param(pairs, "page", 1, 1_000_000)?.unwrap_or(1);
    let start = date_param(pairs, "start_date")?;
    let end = date_param(pairs, "end_date")?;
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        return Err(Open311Error::bad("start_date comes after end_date"));
    }
    Ok(RequestFilter {
        numbers: list_param(pairs, "service_request_id"),
        service_codes: list_param(pairs, "service_code"),
        start,
        end,
        open,
        near,
        limit: page_size,
        offset: (page - 1).saturating_mul(page_size),
    })
}

/// `GET requests`: public incidents, newest first.
pub async fn requests(
    State(state): State<AppState>,
    format: Format,
    RawQuery(query): RawQuery,
) -> Answer {
    let pairs = pairs(query.as_deref());
    let run = async {
        check_jurisdiction(&state, &pairs)?;
        let filter = request_filter(&pairs)?;
        let rows = db311::requests(&state.db, &filter).await?;
        let list: Vec<Value> = rows.iter().map(|r| request_json(&state, r)).collect();
        Ok::<_, Open311Error>(answer(
            format,
            StatusCode::OK,
            "service_requests",
            &Value::Array(list),
        ))
    };
    run.await.map_err(|e| e.in_format(format))
}

/// `GET requests/{id}`: one public incident, as a list of one (404 for any other request).
pub async fn request(
    State(state): State<AppState>,
    format: Format,
    Path(segment): Path<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    let pairs = pairs(query.as_deref());
    let run = async {
        check_jurisdiction(&state, &pairs)?;
        let number = stem(&segment);
        let row = db311::request(&state.db, number)
            .await?
            .ok_or_else(|| Open311Error::not_found(format!("no public request {number:?}")))?;
        Ok::<_, Open311Error>(answer(
            format,
            StatusCode::OK,
            "service_requests",
            &json!([request_json(&state, &row)]),
        ))
    };
    run.await.map_err(|e| e.in_format(format))
}

/// `GET servicerequestupdates`: status changes of public incidents (FixMyStreet's
/// extension), oldest first.
pub async fn updates(
    State(state): State<AppState>,
    format: Format,
    RawQuery(query): RawQuery,
) -> Answer {
    let pairs = pairs(query.as_deref());
    let run = async {
        check_jurisdiction(&state, &pairs)?;
        let start = date_param(&pairs, "start_date")?;
        let end = date_param(&pairs, "end_date")?;
        if let (Some(s), Some(e)) = (start, end)
            && s > e
        {
            return Err(Open311Error::bad("start_date comes after end_date"));
        }
        // Paged like `GET requests`, so that a busy period is read in full, oldest first.
        let page_size = int_param(&pairs, "page_size", 1, MAX_UPDATES)?.unwrap_or(MAX_UPDATES);
        let page = int_param(&pairs, "page", 1, 1_000_000)?.unwrap_or(1);
        let offset = (page - 1).saturating_mul(page_size);
        let rows = db311::updates(&state.db, start, end, page_size, offset).await?;
        let list: Vec<Value> = rows
            .iter()
            .map(|u| {
                json!({
                    "update_id": u.id.to_string(),
                    "service_request_id": u.number,
                    "status": open311::status(u.phase.as_deref().unwrap_or("")),
                    "updated_datetime": rfc3339(u.created_at),
                    "description": u.label_fr.as_deref().unwrap_or(""),
                    "media_url": u.photo_key.as_deref().map(|k| state.photo_url(k)),
                })
            })
            .collect();
        Ok::<_, Open311Error>(answer(
            format,
            StatusCode::OK,
            "service_request_updates",
            &Value::Array(list),
        ))
    };
    run.await.map_err(|e| e.in_format(format))
}

/// A filing's parameters: the form-encoded body (or multipart, with `media` files), the
/// query string's too (`api_key` may come there).
struct Filing {
    pairs: Vec<(String, String)>,
    media: Vec<(String, Bytes)>,
}

async fn read_filing(state: &AppState, req: Request) -> Result<Filing, Open311Error> {
    let mut pairs = pairs(req.uri().query());
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut media = Vec::new();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(req, state)
            .await
            .map_err(|e| Open311Error::bad(e.body_text()))?;
        let max_bytes = state.config.photos.max_bytes;
        let max_count = state.config.photos.max_count;
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(e) => return Err(Open311Error::bad(format!("multipart body: {e}"))),
            };
            let name = field.name().unwrap_or("").to_owned();
            let filename = field.file_name().unwrap_or("media").to_owned();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| Open311Error::bad(format!("multipart body: {e}")))?;
            if name == "media" {
                if media.len() >= max_count {
                    return Err(Open311Error::bad(format!(
                        "media: at most {max_count} files"
                    )));
                }
                if bytes.len() > max_bytes {
                    return Err(Open311Error::bad(format!(
                        "media: at most {max_bytes} bytes per file"
                    )));
                }
                media.push((filename, bytes));
            } else {
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| Open311Error::bad(format!("{name}: not UTF-8 text")))?;
                pairs.push((name, text));
            }
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded")
        || content_type.is_empty()
    {
        let body = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES)
            .await
            .map_err(|_| {
                Open311Error::bad(format!(
                    "the body is larger than {MAX_FORM_BYTES} bytes; send photos as multipart `media`"
                ))
            })?;
        pairs.extend(form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())));
    } else {
        return Err(Open311Error::bad(
            "send application/x-www-form-urlencoded, or multipart/form-data with media files",
        ));
    }
    Ok(Filing { pairs, media })
}

/// The code of `attribute[code]` or `attribute[code][]`.
fn attribute_code(name: &str) -> Option<&str> {
    let inner = name.strip_prefix("attribute[")?;
    let inner = inner.strip_suffix("[]").unwrap_or(inner);
    inner.strip_suffix(']')
}

/// `POST requests`: files a request with an API key; the same pipeline as every channel.
pub async fn file(State(state): State<AppState>, format: Format, req: Request) -> Answer {
    let headers = req.headers().clone();
    let run = async {
        let filing = read_filing(&state, req).await?;
        let pairs = &filing.pairs;
        let key = param(pairs, "api_key")
            .ok_or_else(|| Open311Error::forbidden("api_key is required to file a request"))?;
        let (key_id, key_name) = db311::use_key(&state.db, &crate::auth::token_digest(key))
            .await?
            .ok_or_else(|| Open311Error::forbidden("api_key is not valid"))?;
        state
            .limits
            .check(Limit::ApiKey, &Key::ApiKey(key_id))
            .map_err(ApiError::from)?;
        check_jurisdiction(&state, pairs)?;
        let code = param(pairs, "service_code")
            .ok_or_else(|| Open311Error::bad("service_code is required"))?
            .to_owned();
        let row = db311::service(&state.db, &code)
            .await?
            .ok_or_else(|| Open311Error::bad(format!("service_code {code:?}: no such service")))?;
        let form = crate::pipeline::form::parse(&row.code, row.form.as_ref())?;
        if open311::attributes(&form, Lang::Fr).is_none() {
            return Err(Open311Error::bad(format!(
                "service_code {code:?}: not offered through Open311"
            )));
        }
        let text = |name: &str| param(pairs, name).map(str::to_owned);
        let posted = Posted {
            lat: text("lat"),
            long: text("long"),
            address_string: text("address_string"),
            description: text("description"),
            email: text("email"),
            phone: text("phone"),
            first_name: text("first_name"),
            last_name: text("last_name"),
            attributes: pairs
                .iter()
                .filter_map(|(k, v)| attribute_code(k).map(|c| (c.to_owned(), v.clone())))
                .collect(),
        };
        let mut posted = posted;
        if row.geolocated && posted.lat.is_none() && posted.long.is_none() {
            // GeoReport allows an address instead of a position: the address base places it.
            let typed = posted
                .address_string
                .as_deref()
                .map(str::trim)
                .unwrap_or("");
            if typed.is_empty() {
                return Err(Open311Error::bad(format!(
                    "lat and long (or address_string): {code} is reported at a place; give its position"
                )));
            }
            let place = crate::addresses::locate(&state.db, typed)
                .await?
                .ok_or_else(|| {
                    Open311Error::bad(format!(
                        "address_string: {typed:?} is not a known address; give lat and long"
                    ))
                })?;
            posted.lat = Some(place.lat.to_string());
            posted.long = Some(place.lon.to_string());
        }
        let (data, contact) = open311::form_data(&form, &posted).map_err(|errors| {
            Open311Error::bad(
                errors
                    .iter()
                    .map(|(p, m)| format!("{p}: {m}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        let photo_field = open311::Core::of(&form).photos.map(str::to_owned);
        let files: Vec<UploadedFile> = match photo_field {
            Some(field) => filing
                .media
                .into_iter()
                .map(|(filename, bytes)| UploadedFile {
                    field: field.clone(),
                    filename,
                    bytes,
                })
                .collect(),
            None if !filing.media.is_empty() => {
                return Err(Open311Error::bad(format!("media: {code} takes no photo")));
            }
            None => Vec::new(),
        };
        let submission = RequestSubmission {
            client_id: uuid::Uuid::new_v4(),
            demarche: row.code.clone(),
            data: Value::Object(data),
            contact: Some(contact),
            channel: Some("api".to_owned()),
            documents: Vec::new(),
        };
        let lang = lang(pairs, &headers);
        let origin = Origin::SelfService { citizen: None };
        let result = submit::submit(&state, submission, files, origin, lang)
            .await
            .map_err(ApiError::from)?;
        let (number, notice) = receipt_summary(&result, lang);
        let media_url = param(pairs, "media_url");
        db311::record_filing(&state.db, &number, &key_name, media_url).await?;
        let body = json!([{
            "service_request_id": number,
            "service_notice": notice,
            "account_id": null,
        }]);
        Ok::<_, Open311Error>(answer(
            format,
            StatusCode::CREATED,
            "service_requests",
            &body,
        ))
    };
    run.await.map_err(|e| e.in_format(format))
}

/// The request's number and what the integrator is told about it.
fn receipt_summary(result: &Submitted, lang: Lang) -> (String, Value) {
    let en = lang == Lang::En;
    match result {
        Submitted::Created(receipt) => match &**receipt {
            Receipt::Report(r) => {
                let notice = match (r.deduplicated, en) {
                    (true, false) => format!(
                        "Déjà signalé : ce signalement rejoint la demande {} ({} signalements)",
                        r.request_number, r.report_count
                    ),
                    (true, true) => format!(
                        "Already reported: this report joins request {} ({} reports)",
                        r.request_number, r.report_count
                    ),
                    (false, _) => r.status.clone(),
                };
                (r.request_number.clone(), Value::String(notice))
            }
            Receipt::Request(r) => {
                let notice = match &r.service {
                    Some(s) => format!("{} — {s}", r.status_label),
                    None => r.status_label.clone(),
                };
                (r.request_number.clone(), Value::String(notice))
            }
        },
        Submitted::Replayed(v) => (
            v.get("request_number")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            Value::Null,
        ),
    }
}
