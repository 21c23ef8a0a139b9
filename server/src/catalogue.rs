//! One catalogue entry (a démarche as `assets/catalogue.json` and the admin API describe it):
//! reading and checking it, and storing it as a new revision when it changed. Used by
//! `guichet demo` and by `PUT /api/v1/admin/demarches/{code}`.

use guichet_shared::validation::FieldError;
use guichet_shared::workflow::template;
use serde::Deserialize;
use sqlx::{Postgres, Transaction};

use crate::db::{self, DbError};

/// Ten years: longer SLAs or dedup windows are mistakes (and overflow date arithmetic).
pub const MAX_DAYS: i32 = 3650;

pub const CHANNELS: &[&str] = &["app", "web", "phone", "desk", "mail", "email", "api"];

/// The fields of a catalogue entry that have columns; the whole entry is kept as the
/// revision's definition.
#[derive(Debug, Clone, Deserialize)]
pub struct Entry {
    pub code: String,
    pub title: String,
    pub title_en: String,
    pub group: String,
    pub geolocated: bool,
    /// Its requests are incidents of the public space, shown with their place on the public
    /// map (see the `public_incidents` view). Private unless said so.
    #[serde(default)]
    pub public_incident: bool,
    #[serde(default)]
    pub description: String,
    /// The description in English; empty when the démarche has none (clients fall back to
    /// the French).
    #[serde(default)]
    pub description_en: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub keywords_en: Vec<String>,
    pub channels: Vec<String>,
    pub auth: String,
    pub team: String,
    pub sla_days: Option<i32>,
    pub dedup: Option<Dedup>,
    #[serde(default)]
    pub workflow: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Dedup {
    pub radius_m: f64,
    pub window_days: Option<i32>,
    /// Related démarches whose reports may merge (e.g. tags reported under two démarches).
    pub group: Option<String>,
}

/// The periods behind a notice's `retention` text, in days after a request is closed: its
/// personal data (`retention_days`) and its attached files (`files_retention_days`). The
/// retention job (`crate::retention`) applies them.
pub const RETENTION_KEYS: [&str; 2] = ["retention_days", "files_retention_days"];
const MAX_RETENTION_DAYS: u64 = 36_500;

/// The keys of a privacy notice (the information the GDPR requires at collection), each in
/// French and with `_en` in English. The purpose is the démarche's own description.
pub const PRIVACY_KEYS: &[&str] = &[
    "controller",
    "legal_basis",
    "retention",
    "recipients",
    "rights",
];

/// Reads an entry, resolves its form (inline, or the name of one of `shared_forms`) and its
/// privacy notice (`privacy_defaults` with the keys the entry's own `privacy` replaces), and
/// checks what the database would otherwise refuse less clearly. Returns the entry and the
/// definition to store, resolved so that a revision never changes afterwards.
pub fn prepare(
    shared_forms: &serde_json::Map<String, serde_json::Value>,
    privacy_defaults: &serde_json::Map<String, serde_json::Value>,
    definition: &serde_json::Value,
) -> Result<(Entry, serde_json::Value), Vec<FieldError>> {
    let entry: Entry = serde_json::from_value(definition.clone())
        .map_err(|e| vec![FieldError::new("body", "invalid-type", e.to_string())])?;
    let mut errors = Vec::new();
    let valid_code = entry
        .code
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && entry.code.len() <= 64
        && entry
            .code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid_code {
        errors.push(FieldError::new(
            "code",
            "invalid-format",
            "lower-case letters, digits and dashes",
        ));
    }
    if entry.channels.is_empty()
        || entry
            .channels
            .iter()
            .any(|c| !CHANNELS.contains(&c.as_str()))
    {
        errors.push(FieldError::new(
            "channels",
            "unknown-channel",
            format!("channels among {CHANNELS:?}"),
        ));
    }
    if !matches!(entry.auth.as_str(), "anonymous" | "account") {
        errors.push(FieldError::new(
            "auth",
            "not-an-option",
            "auth is `anonymous` or `account`",
        ));
    }
    if entry.sla_days.is_some_and(|d| d <= 0) {
        errors.push(FieldError::new(
            "sla_days",
            "out-of-range",
            "sla_days is positive",
        ));
    }
    if entry.public_incident && !entry.geolocated {
        errors.push(FieldError::new(
            "public_incident",
            "not-geolocated",
            "only geolocated démarches are public incidents",
        ));
    }
    if let Some(d) = &entry.dedup {
        if !entry.geolocated {
            errors.push(FieldError::new(
                "dedup",
                "not-geolocated",
                "only geolocated démarches merge reports",
            ));
        }
        if !(1.0..=500.0).contains(&d.radius_m) {
            errors.push(FieldError::new(
                "dedup.radius_m",
                "out-of-range",
                "the radius is 1 to 500 m",
            ));
        }
        if d.window_days.is_some_and(|w| w <= 0) {
            errors.push(FieldError::new(
                "dedup.window_days",
                "out-of-range",
                "the window is positive",
            ));
        }
    }
    if let Some(w) = &entry.workflow
        && template(w).is_none()
    {
        errors.push(FieldError::new(
            "workflow",
            "unknown-workflow",
            "report, decision, delivery or answer",
        ));
    }
    let mut definition = definition.clone();
    match guichet_shared::forms::resolve_form(shared_forms, &definition) {
        Ok(Some(form)) => match serde_json::to_value(&form) {
            Ok(v) => definition["form"] = v,
            Err(e) => errors.push(FieldError::new("form", "invalid-form", e.to_string())),
        },
        Ok(None) => {
            if let Some(o) = definition.as_object_mut() {
                o.remove("form");
            }
        }
        Err(e) => errors.push(FieldError::new("form", "invalid-form", e)),
    }
    match resolve_privacy(privacy_defaults, definition.get("privacy")) {
        Ok(Some(notice)) => definition["privacy"] = serde_json::Value::Object(notice),
        Ok(None) => {}
        Err(e) => errors.push(e),
    }
    if errors.is_empty() {
        Ok((entry, definition))
    } else {
        Err(errors)
    }
}

/// The notice of one démarche: the defaults, with the keys its own notice gives replaced.
/// None when neither says anything.
fn resolve_privacy(
    defaults: &serde_json::Map<String, serde_json::Value>,
    own: Option<&serde_json::Value>,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>, FieldError> {
    let mut notice = defaults.clone();
    match own {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Object(o)) => notice.extend(o.clone()),
        Some(_) => {
            return Err(FieldError::new(
                "privacy",
                "invalid-privacy",
                "privacy is an object of texts",
            ));
        }
    }
    for (key, value) in &notice {
        if RETENTION_KEYS.contains(&key.as_str()) {
            if !value
                .as_u64()
                .is_some_and(|d| (1..=MAX_RETENTION_DAYS).contains(&d))
            {
                return Err(FieldError::new(
                    format!("privacy.{key}"),
                    "invalid-privacy",
                    format!("a whole number of days, 1 to {MAX_RETENTION_DAYS}"),
                ));
            }
            continue;
        }
        let known = PRIVACY_KEYS
            .iter()
            .any(|k| key == k || key.strip_suffix("_en") == Some(k));
        if !known || !value.is_string() {
            return Err(FieldError::new(
                format!("privacy.{key}"),
                "invalid-privacy",
                format!("a notice holds texts among {PRIVACY_KEYS:?} (and their `_en`)"),
            ));
        }
    }
    Ok((!notice.is_empty()).then_some(notice))
}

/// Stores the entry: a new revision when its definition changed, nothing otherwise. Routes
/// the démarche to its team everywhere (zone-specific rules still come first). Returns the
/// current revision.
pub async fn store(
    tx: &mut Transaction<'_, Postgres>,
    entry: &Entry,
    definition: &serde_json::Value,
    position: i32,
    team_id: i64,
) -> Result<i32, DbError> {
    let revision = db::catalogue::upsert_demarche(
        tx,
        &db::catalogue::DemarcheInput {
            code: &entry.code,
            group: &entry.group,
            position,
            title: &entry.title,
            title_en: &entry.title_en,
            description: &entry.description,
            description_en: &entry.description_en,
            keywords: &entry.keywords,
            keywords_en: &entry.keywords_en,
            channels: &entry.channels,
            auth: &entry.auth,
            geolocated: entry.geolocated,
            public_incident: entry.public_incident,
            dedup_radius_m: entry.dedup.as_ref().map(|x| x.radius_m),
            dedup_window_days: entry.dedup.as_ref().and_then(|x| x.window_days),
            dedup_group: entry.dedup.as_ref().and_then(|x| x.group.as_deref()),
            sla_days: entry.sla_days,
            definition,
        },
    )
    .await?;
    db::catalogue::upsert_default_route(tx, &entry.code, team_id).await?;
    Ok(revision)
}
