//! Declarative forms of the démarches: what a citizen is asked and the checks on what they
//! send back. A definition is data (it ships in `assets/catalogue.json`), so a new démarche
//! needs no code; the same definition drives the citizen UI (kinds, labels, hints), the
//! server's checks ([`validate`]) and the "please complete your request" loop
//! ([`validate_complement`]). Pure: the caller reads the request and sniffs the uploads.
//!
//! # A definition
//!
//! `{"fields": [Field, ...]}`; a field is `{"id", "kind", "label", "label_en", "hint"?,
//! "hint_en"?, "required"?, "personal"?, "when"?, "validation"?, "options"?, "file"?,
//! "fields"?, "min_items"?, "max_items"?}`. Unknown keys are refused, so that a misspelt
//! `"requried"` fails when the catalogue loads instead of silently making a field optional.
//! File fields live at the top level and blocks are not nested, so that every upload has one
//! name (`files.<id>`) and a form stays a form a phone can show. [`check_definition`] checks the
//! rest (ids, options, rules that fit the kind, conditions).
//!
//! # Submitted values (`data`)
//!
//! | kind | JSON value | normalised to |
//! |---|---|---|
//! | `text`, `long_text` | string | trimmed; `\r\n` → `\n` in long text |
//! | `email` | string | trimmed, domain in lower case |
//! | `phone` | string of digits, spaces, dots, dashes, `+` | `+33612345678` ([`normalise_phone`]) |
//! | `integer` | JSON integer (never a string, never `3.0`) | same |
//! | `decimal` | JSON number | same |
//! | `date` | `"YYYY-MM-DD"` | same |
//! | `datetime` | RFC 3339 | RFC 3339, offset kept |
//! | `boolean` | `true` / `false` (a tick box: `required` means it must be ticked) | same |
//! | `choice` | one option value | same |
//! | `multi_choice` | array of distinct option values | in the order of the options |
//! | `address` | `{"text", "postcode"?, "city"?, "lat"?, "lon"?}` or a plain string | the object |
//! | `geo_point` | `{"lat", "lon", "accuracy_m"?}` | same |
//! | `block` | array of objects, each checked against the sub-fields | array of normalised objects |
//! | `file` | not in `data`: uploaded parts described by [`FileMeta`] | nothing in `data` |
//!
//! `null`, a blank string, an empty array and an empty point count as "not given". Without
//! `max_length`, text takes at most 300 characters and long text 5,000; without `max_items`, a
//! block takes at most 50 items.
//!
//! # Conditions
//!
//! `"when": {"field": "<earlier sibling id>", "equals": v}`, `{"field", "in": [v, ...]}` or
//! `{"field", "filled": true|false}`. Against a multi-choice, `equals`/`in` mean "contains".
//! A field whose condition is false is neither required nor checked, and its value is dropped
//! from the normalised output (its files too: see [`active_file_fields`]).
//!
//! # Validation rules
//!
//! `min_length`/`max_length` (characters) and `pattern` for `text` and `long_text`;
//! `min`/`max` numbers for `integer` and `decimal`; `min`/`max` dates for `date` and
//! `datetime` (the date part), either fixed (`"2026-01-01"`) or relative to the day of the
//! check: `"today"`, `"today+2"`, `"today-30"` (days), `"today-16y"` (years), so that "at
//! least two days ahead" or "at least 16 years old" stay true over time. `min_items` and
//! `max_items` sit on the field itself (blocks and multi-choices).
//!
//! `pattern` is a regular expression in the `regex` crate's syntax (linear time whatever the
//! input) that must match the whole trimmed value; it is compiled once, when the definition
//! is read, so a broken pattern fails the catalogue load. A hint should tell the citizen the
//! expected shape, since the error only says it does not match.
//!
//! # Error paths
//!
//! Every error is a [`FieldError`] with a stable kebab-case code. Paths: `data` (the whole
//! object), `data.<id>`, `data.<id>.<part>` (address and geo point parts), `data.<id>[<i>]`
//! (one element of a multi-choice or one item of a block), `data.<block>[<i>].<sub>`, and
//! `files.<id>` for everything about the uploads of a file field (the message names the
//! file). All errors are collected, in the order of the definition.
//!
//! Codes: `required`, `unknown-field`, `wrong-type`, `too-short`, `too-long`,
//! `control-characters`, `out-of-range`, `invalid-format`, `invalid-email`, `invalid-phone`,
//! `invalid-date`, `not-an-option`, `duplicate-value`, `too-few-items`, `too-many-items`,
//! `too-many-files`, `file-too-large`, `file-empty`, `file-type-not-allowed`, and
//! `field-not-editable` for a complement that touches a field it was not asked about.

use std::collections::HashMap;
use std::fmt;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime};

use crate::phase::Lang;
use crate::validation::{
    FieldError, MAX_ACCURACY_M, MAX_ADDRESS_CHARS, MAX_EMAIL_CHARS, is_plausible_email,
};

/// Ids end up in JSON keys, SQL JSON paths and HTML ids: keep them boring.
pub const MAX_ID_CHARS: usize = 64;
/// Default `max_length` of a `text` field.
pub const DEFAULT_TEXT_MAX_CHARS: usize = 300;
/// Default `max_length` of a `long_text` field.
pub const DEFAULT_LONG_TEXT_MAX_CHARS: usize = 5_000;
/// No definition may allow more: form data is stored with every revision of a request.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Default `max_items` of a block: without a cap one request could carry any number of items.
pub const DEFAULT_MAX_ITEMS: u32 = 50;
pub const MAX_CITY_CHARS: usize = 100;
/// Longest phone number E.164 allows, country code included.
const MAX_PHONE_DIGITS: usize = 15;
const MIN_PHONE_DIGITS: usize = 8;

/// The questions of one démarche.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormDefinition {
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Text,
    LongText,
    Email,
    Phone,
    Integer,
    Decimal,
    Date,
    Datetime,
    Boolean,
    Choice,
    MultiChoice,
    File,
    Address,
    GeoPoint,
    /// A repeatable group of sub-fields (e.g. the items of a bulky-waste pickup).
    Block,
}

impl Kind {
    pub const ALL: [Kind; 15] = [
        Kind::Text,
        Kind::LongText,
        Kind::Email,
        Kind::Phone,
        Kind::Integer,
        Kind::Decimal,
        Kind::Date,
        Kind::Datetime,
        Kind::Boolean,
        Kind::Choice,
        Kind::MultiChoice,
        Kind::File,
        Kind::Address,
        Kind::GeoPoint,
        Kind::Block,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::LongText => "long_text",
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Integer => "integer",
            Kind::Decimal => "decimal",
            Kind::Date => "date",
            Kind::Datetime => "datetime",
            Kind::Boolean => "boolean",
            Kind::Choice => "choice",
            Kind::MultiChoice => "multi_choice",
            Kind::File => "file",
            Kind::Address => "address",
            Kind::GeoPoint => "geo_point",
            Kind::Block => "block",
        }
    }

    fn is_text(self) -> bool {
        matches!(self, Kind::Text | Kind::LongText)
    }

    fn is_number(self) -> bool {
        matches!(self, Kind::Integer | Kind::Decimal)
    }

    fn is_date(self) -> bool {
        matches!(self, Kind::Date | Kind::Datetime)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub id: String,
    pub kind: Kind,
    pub label: String,
    pub label_en: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint_en: Option<String>,
    #[serde(default)]
    pub required: bool,
    /// Personal data: never shown publicly, erased by the retention jobs.
    #[serde(default)]
    pub personal: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Rules>,
    /// The options of a `choice` or `multi_choice`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    /// What a `file` field accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileRules>,
    /// The sub-fields of a `block`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    /// Bounds on the items of a `block` or the selected options of a `multi_choice`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u32>,
}

static NO_RULES: Rules = Rules {
    min_length: None,
    max_length: None,
    min: None,
    max: None,
    pattern: None,
};

impl Field {
    pub fn label_in(&self, lang: Lang) -> &str {
        match lang {
            Lang::Fr => &self.label,
            Lang::En => &self.label_en,
        }
    }

    pub fn hint_in(&self, lang: Lang) -> Option<&str> {
        match lang {
            Lang::Fr => self.hint.as_deref(),
            Lang::En => self.hint_en.as_deref(),
        }
    }

    fn rules(&self) -> &Rules {
        self.validation.as_ref().unwrap_or(&NO_RULES)
    }

    fn max_items(&self) -> usize {
        match self.kind {
            Kind::MultiChoice => self
                .max_items
                .map_or(self.options.len(), |m| m as usize)
                .min(self.options.len()),
            _ => self.max_items.unwrap_or(DEFAULT_MAX_ITEMS) as usize,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub label_en: String,
}

/// What a file field accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRules {
    pub max_bytes: u64,
    /// Media types, exact (`application/pdf`) or a whole family (`image/*`), compared with
    /// the type sniffed from the bytes, never the one the client claims.
    pub mime: Vec<String>,
    #[serde(default = "one")]
    pub max_files: u32,
}

fn one() -> u32 {
    1
}

impl FileRules {
    pub fn accepts(&self, mime: &str) -> bool {
        let mime = mime.trim().to_ascii_lowercase();
        self.mime
            .iter()
            .any(|allowed| match allowed.strip_suffix("/*") {
                Some(family) => mime
                    .strip_prefix(family)
                    .is_some_and(|rest| rest.len() > 1 && rest.starts_with('/')),
                None => *allowed == mime,
            })
    }
}

/// Checks on one value; which apply depends on the kind (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Bound>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Bound>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<Pattern>,
}

/// A lower or upper bound: a number, a date, or a date relative to the day of the check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawBound", into = "RawBound")]
pub enum Bound {
    Number(f64),
    Date(Date),
    /// `today` shifted by `shift` days or years.
    Today {
        shift: i32,
        unit: ShiftUnit,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShiftUnit {
    Days,
    Years,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum RawBound {
    Number(f64),
    Text(String),
}

impl TryFrom<RawBound> for Bound {
    type Error = String;

    fn try_from(raw: RawBound) -> Result<Self, String> {
        match raw {
            RawBound::Number(n) if n.is_finite() => Ok(Bound::Number(n)),
            RawBound::Number(n) => Err(format!("bound {n} is not a finite number")),
            RawBound::Text(s) => Bound::parse_date(&s).ok_or_else(|| {
                format!(
                    "bound {s:?} is neither a number, a date YYYY-MM-DD, nor today, today+N, \
                     today-N (days) or today±Ny (years)"
                )
            }),
        }
    }
}

impl From<Bound> for RawBound {
    fn from(b: Bound) -> Self {
        match b {
            Bound::Number(n) => RawBound::Number(n),
            other => RawBound::Text(other.to_string()),
        }
    }
}

impl Bound {
    fn parse_date(s: &str) -> Option<Bound> {
        let Some(rest) = s.strip_prefix("today") else {
            return parse_date(s).map(Bound::Date);
        };
        if rest.is_empty() {
            return Some(Bound::Today {
                shift: 0,
                unit: ShiftUnit::Days,
            });
        }
        let (sign, amount) = match rest.as_bytes().first() {
            Some(b'+') => (1, &rest[1..]),
            Some(b'-') => (-1, &rest[1..]),
            _ => return None,
        };
        let (digits, unit) = match amount.strip_suffix('y') {
            Some(d) => (d, ShiftUnit::Years),
            None => (amount.strip_suffix('d').unwrap_or(amount), ShiftUnit::Days),
        };
        if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: i32 = digits.parse().ok()?;
        Some(Bound::Today {
            shift: sign * n,
            unit,
        })
    }

    pub fn number(self) -> Option<f64> {
        match self {
            Bound::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The date this bound stands for on `today`; `None` for a number.
    pub fn date(self, today: Date) -> Option<Date> {
        match self {
            Bound::Number(_) => None,
            Bound::Date(d) => Some(d),
            Bound::Today {
                shift,
                unit: ShiftUnit::Days,
            } => today.checked_add(Duration::days(shift.into())),
            Bound::Today {
                shift,
                unit: ShiftUnit::Years,
            } => {
                let year = today.year().checked_add(shift)?;
                // 29 February of a year that has none: someone born then comes of age on the 28th.
                Date::from_calendar_date(year, today.month(), today.day())
                    .or_else(|_| Date::from_calendar_date(year, today.month(), today.day() - 1))
                    .ok()
            }
        }
    }

    fn is_date(self) -> bool {
        !matches!(self, Bound::Number(_))
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::Number(n) => write!(f, "{n}"),
            Bound::Date(d) => write!(f, "{d}"),
            Bound::Today { shift: 0, .. } => f.write_str("today"),
            Bound::Today { shift, unit } => {
                let suffix = match unit {
                    ShiftUnit::Days => "",
                    ShiftUnit::Years => "y",
                };
                write!(f, "today{shift:+}{suffix}")
            }
        }
    }
}

/// A regular expression that must match a whole value.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    regex: Regex,
}

impl Pattern {
    pub fn new(source: &str) -> Result<Self, String> {
        let regex = RegexBuilder::new(&format!("^(?:{source})$"))
            // Catalogue patterns are short; a huge compiled program is a mistake.
            .size_limit(1 << 20)
            .build()
            .map_err(|e| format!("invalid pattern {source:?}: {e}"))?;
        Ok(Pattern {
            source: source.to_owned(),
            regex,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn is_match(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let source = String::deserialize(d)?;
        Pattern::new(&source).map_err(serde::de::Error::custom)
    }
}

/// When a field is asked: a test on the value of an earlier sibling field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawCondition", into = "RawCondition")]
pub struct Condition {
    pub field: String,
    pub test: Test,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Equals(Value),
    In(Vec<Value>),
    /// `true`: the sibling has a value; `false`: it has none.
    Filled(bool),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    equals: Option<Value>,
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    one_of: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    filled: Option<bool>,
}

impl TryFrom<RawCondition> for Condition {
    type Error = String;

    fn try_from(raw: RawCondition) -> Result<Self, String> {
        let test = match (raw.equals, raw.one_of, raw.filled) {
            (Some(v), None, None) => Test::Equals(v),
            (None, Some(vs), None) => Test::In(vs),
            (None, None, Some(b)) => Test::Filled(b),
            _ => {
                return Err(format!(
                    "the condition on {:?} needs exactly one of equals, in, filled",
                    raw.field
                ));
            }
        };
        Ok(Condition {
            field: raw.field,
            test,
        })
    }
}

impl From<Condition> for RawCondition {
    fn from(c: Condition) -> Self {
        let (equals, one_of, filled) = match c.test {
            Test::Equals(v) => (Some(v), None, None),
            Test::In(vs) => (None, Some(vs), None),
            Test::Filled(b) => (None, None, Some(b)),
        };
        RawCondition {
            field: c.field,
            equals,
            one_of,
            filled,
        }
    }
}

impl Condition {
    /// `value` is the sibling's value (normalised), `None` when it has none.
    pub fn holds(&self, value: Option<&Value>) -> bool {
        let matches = |wanted: &Value| {
            value.is_some_and(|v| {
                v == wanted || v.as_array().is_some_and(|items| items.contains(wanted))
            })
        };
        match &self.test {
            Test::Equals(wanted) => matches(wanted),
            Test::In(wanted) => wanted.iter().any(matches),
            Test::Filled(filled) => value.is_some() == *filled,
        }
    }
}

/// One uploaded file, as the caller saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMeta {
    /// The id of the file field it answers.
    pub field: String,
    pub filename: String,
    /// Sniffed from the bytes by the caller (see [`sniff_mime`]).
    pub mime: String,
    pub bytes: u64,
}

// ---------------------------------------------------------------------------------------------
// Validation

/// Checks `data` and `files` against `form` and returns the normalised data, or every
/// problem found. `today` resolves relative date bounds; pass the day in the city's time zone.
pub fn validate(
    form: &FormDefinition,
    data: &Value,
    files: &[FileMeta],
    today: Date,
) -> Result<Map<String, Value>, Vec<FieldError>> {
    let (out, errors) = check(form, data, files, today);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn check(
    form: &FormDefinition,
    data: &Value,
    files: &[FileMeta],
    today: Date,
) -> (Map<String, Value>, Vec<FieldError>) {
    let mut checker = Checker {
        today,
        files,
        errors: Vec::new(),
    };
    let empty = Map::new();
    let out = match data {
        Value::Object(obj) => checker.fields(&form.fields, obj, "data."),
        Value::Null => checker.fields(&form.fields, &empty, "data."),
        _ => {
            checker.err("data", "wrong-type", "data must be a JSON object");
            Map::new()
        }
    };
    let mut reported: Vec<&str> = Vec::new();
    for meta in files {
        let known = form
            .fields
            .iter()
            .any(|f| f.kind == Kind::File && f.id == meta.field);
        if !known && !reported.contains(&meta.field.as_str()) {
            reported.push(&meta.field);
            checker.err(
                format!("files.{}", shown_key(&meta.field)),
                "unknown-field",
                "this form has no such file field",
            );
        }
    }
    (out, checker.errors)
}

enum Checked {
    /// Not given (absent, null, blank, empty array).
    Empty,
    Valid(Value),
    Invalid,
}

struct Checker<'a> {
    today: Date,
    files: &'a [FileMeta],
    errors: Vec<FieldError>,
}

/// Keys are echoed in error paths; an absurd key must not make an absurd answer.
fn shown_key(key: &str) -> String {
    if key.chars().count() <= MAX_ID_CHARS {
        key.to_owned()
    } else {
        let mut s: String = key.chars().take(MAX_ID_CHARS).collect();
        s.push('…');
        s
    }
}

impl Checker<'_> {
    fn err(&mut self, path: impl Into<String>, code: &'static str, message: impl Into<String>) {
        self.errors.push(FieldError::new(path, code, message));
    }

    fn wrong_type(&mut self, path: &str, expected: &str) -> Checked {
        self.err(path, "wrong-type", format!("{path} must be {expected}"));
        Checked::Invalid
    }

    /// `Valid(value)` unless errors were added since `before`.
    fn done(&self, before: usize, value: Value) -> Checked {
        if self.errors.len() == before {
            Checked::Valid(value)
        } else {
            Checked::Invalid
        }
    }

    fn fields(
        &mut self,
        fields: &[Field],
        obj: &Map<String, Value>,
        prefix: &str,
    ) -> Map<String, Value> {
        for key in obj.keys() {
            if !fields.iter().any(|f| f.id == *key) {
                self.err(
                    format!("{prefix}{}", shown_key(key)),
                    "unknown-field",
                    "this form has no such field",
                );
            }
        }
        let mut out = Map::new();
        // What later conditions see: the normalised value, or the raw one when it was refused
        // (one mistake should not cascade into "required" errors on the fields it governs).
        let mut seen: HashMap<&str, Value> = HashMap::new();
        for f in fields {
            if let Some(c) = &f.when
                && !c.holds(seen.get(c.field.as_str()))
            {
                continue;
            }
            let path = format!("{prefix}{}", f.id);
            if f.kind == Kind::File {
                if obj.contains_key(&f.id) {
                    self.err(
                        &*path,
                        "wrong-type",
                        "files are uploaded as file parts, not inside data",
                    );
                }
                self.files_of(f);
                continue;
            }
            let raw = obj.get(&f.id).filter(|v| !v.is_null());
            let checked = match raw {
                None => Checked::Empty,
                Some(v) => self.value(f, v, &path),
            };
            match checked {
                Checked::Empty if f.required => {
                    self.err(path, "required", "this field is required");
                }
                Checked::Empty => {}
                Checked::Valid(v) => {
                    seen.insert(&f.id, v.clone());
                    out.insert(f.id.clone(), v);
                }
                Checked::Invalid => {
                    if let Some(v) = raw {
                        seen.insert(&f.id, v.clone());
                    }
                }
            }
        }
        out
    }

    fn value(&mut self, f: &Field, v: &Value, path: &str) -> Checked {
        match f.kind {
            Kind::Text | Kind::LongText => self.text(f, v, path),
            Kind::Email => self.email(v, path),
            Kind::Phone => self.phone(v, path),
            Kind::Integer => self.integer(f, v, path),
            Kind::Decimal => self.decimal(f, v, path),
            Kind::Date => self.date(f, v, path),
            Kind::Datetime => self.datetime(f, v, path),
            Kind::Boolean => self.boolean(f, v, path),
            Kind::Choice => self.choice(f, v, path),
            Kind::MultiChoice => self.multi_choice(f, v, path),
            Kind::Address => self.address(v, path),
            Kind::GeoPoint => self.geo_point(v, path),
            Kind::Block => self.block(f, v, path),
            // Files never reach here: they come as uploads, checked by `files_of`.
            Kind::File => Checked::Invalid,
        }
    }

    fn text(&mut self, f: &Field, v: &Value, path: &str) -> Checked {
        let Some(s) = v.as_str() else {
            return self.wrong_type(path, "a string");
        };
        let multiline = f.kind == Kind::LongText;
        let s = if multiline {
            s.replace("\r\n", "\n").replace('\r', "\n")
        } else {
            s.to_owned()
        };
        let s = s.trim();
        if s.is_empty() {
            return Checked::Empty;
        }
        let before = self.errors.len();
        if s.chars()
            .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t')))
        {
            let message = if multiline {
                "contains control characters"
            } else {
                "must be a single line without control characters"
            };
            self.err(path, "control-characters", message);
        }
        let rules = f.rules();
        let n = s.chars().count();
        if let Some(min) = rules.min_length
            && n < min
        {
            self.err(
                path,
                "too-short",
                format!("has {n} characters; at least {min} are needed"),
            );
        }
        let max = rules.max_length.unwrap_or(if multiline {
            DEFAULT_LONG_TEXT_MAX_CHARS
        } else {
            DEFAULT_TEXT_MAX_CHARS
        });
        if n > max {
            self.err(
                path,
                "too-long",
                format!("has {n} characters; at most {max} are allowed"),
            );
        }
        if let Some(p) = &rules.pattern
            && !p.is_match(s)
        {
            self.err(path, "invalid-format", "does not have the expected format");
        }
        self.done(before, Value::String(s.to_owned()))
    }

    fn email(&mut self, v: &Value, path: &str) -> Checked {
        let Some(s) = v.as_str() else {
            return self.wrong_type(path, "a string");
        };
        let s = s.trim();
        if s.is_empty() {
            return Checked::Empty;
        }
        if s.chars().count() > MAX_EMAIL_CHARS {
            self.err(path, "too-long", "e-mail address is too long");
            return Checked::Invalid;
        }
        match s.rsplit_once('@') {
            Some((local, domain)) if is_plausible_email(s) => {
                Checked::Valid(Value::String(format!("{local}@{}", domain.to_lowercase())))
            }
            _ => {
                self.err(path, "invalid-email", "not an e-mail address");
                Checked::Invalid
            }
        }
    }

    fn phone(&mut self, v: &Value, path: &str) -> Checked {
        let Some(s) = v.as_str() else {
            return self.wrong_type(path, "a string");
        };
        if s.trim().is_empty() {
            return Checked::Empty;
        }
        match normalise_phone(s) {
            Some(n) => Checked::Valid(Value::String(n)),
            None => {
                self.err(
                    path,
                    "invalid-phone",
                    "not a phone number: give a French number (06 12 34 56 78) or an \
                     international one (+44 20 7946 0000)",
                );
                Checked::Invalid
            }
        }
    }

    fn integer(&mut self, f: &Field, v: &Value, path: &str) -> Checked {
        let Value::Number(n) = v else {
            return self.wrong_type(path, "a whole number");
        };
        if !n.is_i64() && !n.is_u64() {
            return self.wrong_type(path, "a whole number");
        }
        let Some(i) = n.as_i64() else {
            self.err(path, "out-of-range", "number is too large");
            return Checked::Invalid;
        };
        let before = self.errors.len();
        self.number_bounds(f.rules(), i as f64, path);
        self.done(before, Value::from(i))
    }

    fn decimal(&mut self, f: &Field, v: &Value, path: &str) -> Checked {
        let Some(x) = v.as_f64().filter(|x| x.is_finite()) else {
            return self.wrong_type(path, "a number");
        };
        let before = self.errors.len();
        self.number_bounds(f.rules(), x, path);
        self.done(before, v.clone())
    }

    fn number_bounds(&mut self, rules: &Rules, x: f64, path: &str) {
        if let Some(min) = rules.min.and_then(Bound::number)
            && x < min
        {
            self.err(path, "out-of-range", format!("must be at least {min}"));
        }
        if let Some(max) = rules.max.and_then(Bound::number)
            && x > max
        {
            self.err(path, "out-of-range", format!("must be at most {max}"));
        }
    }

    fn date_bounds(&mut self, rules: &Rules, d: Date, path: &str) {
        if let Some(min) = rules.min.and_then(|b| b.date(self.today))
            && d < min
        {
            self.err(path, "out-of-range", format!("must be on or after {min}"));
        }
        if let Some(max) = rules.max.and_then(|b| b.date(self.today))
            && d > max
        {
            self.err(path, "out-of-range", format!("must be on or before {max}"));
        }
    }

    fn date(&mut self, f: &Field, v: &Value, path: &str) -> Checked {
        let Some(s) = v.as_str() else {
            return self.wrong_type(path, "a date YYYY-MM-DD");
        };
        let s = s.trim();
        if s.is_empty() {
            return Checked::Empty;
        }
        let Some(d) = parse_date(s) else {
            self.err(path, "invalid-date", "not a date of the form YYYY-MM-DD");
            return Checked::Invalid;
        };
        let before = self.errors.len();
        self.date_bounds(f.rules(), d, path);
        self.done(before, Value::String(s.to_owned()))
    }

    fn datetime(&mut self, f: &Field, v: &Value, path: &str) -> Checked {
        let Some(s) = v.as_str() else {
            return self.wrong_type(path, "a date and time (RFC 3339)");
        };
        let s = s.trim();
        if s.is_empty() {
            return Checked::Empty;
        }
        let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) else {
            self.err(
                path,
                "invalid-date",
                "not a date and time of the form 2026-03-14T09:30:00+01:00",
            );
            return Checked::Invalid;
        };
        let before = self.errors.len();
        self.date_bounds(f.rules(), t.date(), path);
        let normalised = t.format(&Rfc3339).unwrap_or_else(|_| s.to_owned());
        self.done(before, Value::String(normalised))
    }

    fn boolean(&mut self, f: &Field, v: &Value, path: &str) -> Checked {
        let Some(b) = v.as_bool() else {
            return self.wrong_type(path, "true or false");
        };
        if f.required && !b {
            self.err(path, "required", "this box must be ticked");
            return Checked::Invalid;
        }
        Checked::Valid(Value::Bool(b))
    }

    fn choice(&mut self, f: &Field, v: &Value, path: &str) -> Checked {
        let Some(s) = v.as_str() else {
            return self.wrong_type(path, "one of the proposed values");
        };
        let s = s.trim();
        if s.is_empty() {
            return Checked::Empty;
        }
        if f.options.iter().any(|o| o.value == s) {
            Checked::Valid(Value::String(s.to_owned()))
        } else {
            self.err(path, "not-an-option", "is not one of the proposed options");
            Checked::Invalid
        }
    }

    fn multi_choice(&mut self, f: &Field, v: &Value, path: &str) -> Checked {
        let Some(items) = v.as_array() else {
            return self.wrong_type(path, "an array of the proposed values");
        };
        if items.is_empty() {
            return Checked::Empty;
        }
        let before = self.errors.len();
        let mut chosen: Vec<&str> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            let Some(s) = item.as_str() else {
                self.wrong_type(&item_path, "one of the proposed values");
                continue;
            };
            if !f.options.iter().any(|o| o.value == s) {
                self.err(
                    item_path,
                    "not-an-option",
                    "is not one of the proposed options",
                );
            } else if chosen.contains(&s) {
                self.err(
                    item_path,
                    "duplicate-value",
                    "this option is already chosen",
                );
            } else {
                chosen.push(s);
            }
        }
        self.item_count(f, items.len(), path);
        let normalised = f
            .options
            .iter()
            .filter(|o| chosen.contains(&o.value.as_str()))
            .map(|o| Value::String(o.value.clone()))
            .collect();
        self.done(before, Value::Array(normalised))
    }

    fn item_count(&mut self, f: &Field, n: usize, path: &str) {
        if let Some(min) = f.min_items
            && n < min as usize
        {
            self.err(
                path,
                "too-few-items",
                format!("{n} given; at least {min} are needed"),
            );
        }
        let max = f.max_items();
        if n > max {
            self.err(
                path,
                "too-many-items",
                format!("{n} given; at most {max} are allowed"),
            );
        }
    }

    fn address(&mut self, v: &Value, path: &str) -> Checked {
        let owned;
        let obj = match v {
            Value::String(_) => {
                owned = Map::from_iter([("text".to_owned(), v.clone())]);
                &owned
            }
            Value::Object(obj) => obj,
            _ => return self.wrong_type(path, "an address object or a string"),
        };
        let before = self.errors.len();
        for key in obj.keys() {
            if !["text", "postcode", "city", "lat", "lon"].contains(&key.as_str()) {
                self.err(
                    format!("{path}.{}", shown_key(key)),
                    "unknown-field",
                    "an address has text, postcode, city, lat and lon",
                );
            }
        }
        let given = |k: &str| {
            obj.get(k)
                .filter(|v| !v.is_null() && v.as_str().is_none_or(|s| !s.trim().is_empty()))
        };
        if ["text", "postcode", "city", "lat", "lon"]
            .iter()
            .all(|k| given(k).is_none())
        {
            return if self.errors.len() == before {
                Checked::Empty
            } else {
                Checked::Invalid
            };
        }
        let mut out = Map::new();
        match given("text") {
            None => self.err(
                format!("{path}.text"),
                "required",
                "the address itself is required",
            ),
            Some(Value::String(s)) => {
                let s = s.trim();
                let text_path = format!("{path}.text");
                if s.chars().count() > MAX_ADDRESS_CHARS {
                    self.err(
                        &*text_path,
                        "too-long",
                        format!("at most {MAX_ADDRESS_CHARS} characters are allowed"),
                    );
                }
                if s.chars().any(char::is_control) {
                    self.err(
                        text_path,
                        "control-characters",
                        "must be a single line without control characters",
                    );
                }
                out.insert("text".into(), Value::String(s.to_owned()));
            }
            Some(_) => {
                self.wrong_type(&format!("{path}.text"), "a string");
            }
        }
        match given("postcode") {
            None => {}
            Some(Value::String(s)) => {
                let s = s.trim();
                if s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit()) {
                    out.insert("postcode".into(), Value::String(s.to_owned()));
                } else {
                    self.err(
                        format!("{path}.postcode"),
                        "invalid-format",
                        "a French postcode has five digits",
                    );
                }
            }
            Some(_) => {
                self.wrong_type(&format!("{path}.postcode"), "a string of five digits");
            }
        }
        match given("city") {
            None => {}
            Some(Value::String(s)) => {
                let s = s.trim();
                let city_path = format!("{path}.city");
                if s.chars().count() > MAX_CITY_CHARS {
                    self.err(
                        &*city_path,
                        "too-long",
                        format!("at most {MAX_CITY_CHARS} characters are allowed"),
                    );
                }
                if s.chars().any(char::is_control) {
                    self.err(
                        city_path,
                        "control-characters",
                        "must be a single line without control characters",
                    );
                }
                out.insert("city".into(), Value::String(s.to_owned()));
            }
            Some(_) => {
                self.wrong_type(&format!("{path}.city"), "a string");
            }
        }
        match (given("lat"), given("lon")) {
            (None, None) => {}
            (lat, lon) => {
                if let Some((lat, lon)) = self.lat_lon(lat, lon, path) {
                    out.insert("lat".into(), Value::from(lat));
                    out.insert("lon".into(), Value::from(lon));
                }
            }
        }
        self.done(before, Value::Object(out))
    }

    /// Both coordinates, each present, a number and in range.
    fn lat_lon(
        &mut self,
        lat: Option<&Value>,
        lon: Option<&Value>,
        path: &str,
    ) -> Option<(f64, f64)> {
        let lat = self.coordinate(lat, 90.0, &format!("{path}.lat"));
        let lon = self.coordinate(lon, 180.0, &format!("{path}.lon"));
        Some((lat?, lon?))
    }

    fn coordinate(&mut self, v: Option<&Value>, limit: f64, path: &str) -> Option<f64> {
        let Some(v) = v else {
            self.err(path, "required", "both latitude and longitude are needed");
            return None;
        };
        let Some(x) = v.as_f64() else {
            self.wrong_type(path, "a number");
            return None;
        };
        if !(-limit..=limit).contains(&x) {
            self.err(
                path,
                "out-of-range",
                format!("must be between -{limit} and {limit}"),
            );
            return None;
        }
        Some(x)
    }

    fn geo_point(&mut self, v: &Value, path: &str) -> Checked {
        let Some(obj) = v.as_object() else {
            return self.wrong_type(path, "an object with lat and lon");
        };
        if obj.values().all(Value::is_null) {
            return Checked::Empty;
        }
        let before = self.errors.len();
        for key in obj.keys() {
            if !["lat", "lon", "accuracy_m"].contains(&key.as_str()) {
                self.err(
                    format!("{path}.{}", shown_key(key)),
                    "unknown-field",
                    "a point has lat, lon and accuracy_m",
                );
            }
        }
        let given = |k: &str| obj.get(k).filter(|v| !v.is_null());
        let mut out = Map::new();
        if let Some((lat, lon)) = self.lat_lon(given("lat"), given("lon"), path) {
            out.insert("lat".into(), Value::from(lat));
            out.insert("lon".into(), Value::from(lon));
        }
        if let Some(acc) = given("accuracy_m") {
            let acc_path = format!("{path}.accuracy_m");
            match acc.as_f64() {
                None => {
                    self.wrong_type(&acc_path, "a number of metres");
                }
                Some(a) if (0.0..=MAX_ACCURACY_M).contains(&a) => {
                    out.insert("accuracy_m".into(), acc.clone());
                }
                Some(_) => self.err(
                    acc_path,
                    "out-of-range",
                    format!("accuracy must be between 0 and {MAX_ACCURACY_M} metres"),
                ),
            }
        }
        self.done(before, Value::Object(out))
    }

    fn block(&mut self, f: &Field, v: &Value, path: &str) -> Checked {
        let Some(items) = v.as_array() else {
            return self.wrong_type(path, "an array of objects");
        };
        if items.is_empty() {
            return Checked::Empty;
        }
        let before = self.errors.len();
        self.item_count(f, items.len(), path);
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            match item.as_object() {
                Some(obj) => {
                    let normalised = self.fields(&f.fields, obj, &format!("{item_path}."));
                    out.push(Value::Object(normalised));
                }
                None => {
                    self.wrong_type(&item_path, "an object");
                }
            }
        }
        self.done(before, Value::Array(out))
    }

    fn files_of(&mut self, f: &Field) {
        let path = format!("files.{}", f.id);
        let mine: Vec<&FileMeta> = self.files.iter().filter(|m| m.field == f.id).collect();
        if mine.is_empty() {
            if f.required {
                self.err(path, "required", "a file is required");
            }
            return;
        }
        // A file field without rules accepts nothing rather than anything.
        let (max_files, max_bytes) = f
            .file
            .as_ref()
            .map_or((0, 0), |r| (r.max_files as usize, r.max_bytes));
        if mine.len() > max_files {
            self.err(
                &*path,
                "too-many-files",
                format!(
                    "{} files given; at most {max_files} are allowed",
                    mine.len()
                ),
            );
        }
        for m in mine {
            let name = shown_key(&m.filename);
            if m.bytes == 0 {
                self.err(&*path, "file-empty", format!("{name} is empty"));
            } else if m.bytes > max_bytes {
                self.err(
                    &*path,
                    "file-too-large",
                    format!(
                        "{name} has {} bytes; at most {max_bytes} are allowed",
                        m.bytes
                    ),
                );
            }
            if !f.file.as_ref().is_some_and(|r| r.accepts(&m.mime)) {
                self.err(
                    &*path,
                    "file-type-not-allowed",
                    format!(
                        "{name} is of type {:?}, which this field does not accept",
                        m.mime
                    ),
                );
            }
        }
    }
}

fn parse_date(s: &str) -> Option<Date> {
    // `[year]` alone would also take a sign or more digits; the wire format is exactly 10 bytes.
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shaped {
        return None;
    }
    Date::parse(s, format_description!("[year]-[month]-[day]")).ok()
}

/// Normalises a French or international phone number to `+<country><number>` with digits
/// only, or `None` if it is not one. Spaces, dots, dashes and parentheses are ignored;
/// `00` stands for `+`; a French national number (`0` then nine digits) gets `+33`, or the
/// country code of the overseas department its prefix belongs to; the trunk `0` written
/// after `+33` (`+33 (0)6 ...`) is dropped.
pub fn normalise_phone(input: &str) -> Option<String> {
    let mut digits = String::new();
    let mut plus = false;
    for (i, c) in input.trim().chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => plus = true,
            ' ' | '.' | '-' | '(' | ')' | '\u{a0}' | '\u{202f}' => {}
            _ => return None,
        }
    }
    let international = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else {
        let national = digits.strip_prefix('0')?;
        if national.len() != 9 || national.starts_with('0') {
            return None;
        }
        let country = overseas_country_code(national).unwrap_or("33");
        return Some(format!("+{country}{national}"));
    };
    let international = match international.strip_prefix("330") {
        Some(rest) if rest.len() == 9 => format!("33{rest}"),
        _ => international,
    };
    if !(MIN_PHONE_DIGITS..=MAX_PHONE_DIGITS).contains(&international.len())
        || international.starts_with('0')
    {
        return None;
    }
    if let Some(national) = international.strip_prefix("33")
        && (national.len() != 9 || national.starts_with('0'))
    {
        return None;
    }
    Some(format!("+{international}"))
}

/// Overseas departments share the French numbering plan but have their own country codes:
/// 0692 12 34 56 is +262 692 12 34 56, not +33 692 12 34 56.
fn overseas_country_code(national: &str) -> Option<&'static str> {
    match national.get(..3)? {
        "262" | "263" | "269" | "639" | "692" | "693" => Some("262"),
        "590" | "690" | "691" => Some("590"),
        "594" | "694" => Some("594"),
        "596" | "696" | "697" => Some("596"),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers for the server

/// The ids of the top-level fields, in order: what an agent may ask a citizen to correct.
pub fn field_ids(form: &FormDefinition) -> Vec<&str> {
    form.fields.iter().map(|f| f.id.as_str()).collect()
}

/// The file fields that are asked given the (normalised) data; uploads for other fields are
/// not checked by [`validate`] and should be discarded by the caller.
pub fn active_file_fields<'a>(form: &'a FormDefinition, data: &Map<String, Value>) -> Vec<&'a str> {
    form.fields
        .iter()
        .filter(|f| f.kind == Kind::File)
        .filter(|f| f.when.as_ref().is_none_or(|c| c.holds(data.get(&c.field))))
        .map(|f| f.id.as_str())
        .collect()
}

/// The data without the fields flagged personal (inside blocks too), and without keys the
/// form does not know: what may be shown publicly or sent to Open311.
pub fn strip_personal(form: &FormDefinition, data: &Map<String, Value>) -> Map<String, Value> {
    strip(&form.fields, data)
}

fn strip(fields: &[Field], data: &Map<String, Value>) -> Map<String, Value> {
    data.iter()
        .filter_map(|(k, v)| {
            let f = fields.iter().find(|f| f.id == *k)?;
            if f.personal {
                return None;
            }
            let v = match (f.kind, v) {
                (Kind::Block, Value::Array(items)) => Value::Array(
                    items
                        .iter()
                        .map(|item| match item {
                            Value::Object(o) => Value::Object(strip(&f.fields, o)),
                            other => other.clone(),
                        })
                        .collect(),
                ),
                _ => v.clone(),
            };
            Some((k.clone(), v))
        })
        .collect()
}

/// The fields a citizen may change when asked to complete a request: those the agent named,
/// plus every field whose condition depends on one of them (changing `event_type` may make
/// `alcohol_license` required, and the citizen must be able to give it).
pub fn editable_fields(form: &FormDefinition, allowed: &[String]) -> Vec<String> {
    let mut editable: Vec<String> = Vec::new();
    for f in &form.fields {
        let named = allowed.contains(&f.id);
        let dependent = f.when.as_ref().is_some_and(|c| editable.contains(&c.field));
        if named || dependent {
            editable.push(f.id.clone());
        }
    }
    editable
}

/// Applies a complement answer to the stored data: keys of `answer` replace the stored
/// values (`null` erases), and any key outside `allowed` is refused with
/// `field-not-editable`. The merged whole must then go through [`validate`] (or use
/// [`validate_complement`], which does both).
pub fn merge_complement(
    stored: &Map<String, Value>,
    answer: &Value,
    allowed: &[String],
) -> Result<Map<String, Value>, Vec<FieldError>> {
    let (merged, errors) = merge_data(stored, answer, allowed);
    if errors.is_empty() {
        Ok(merged)
    } else {
        Err(errors)
    }
}

fn merge_data(
    stored: &Map<String, Value>,
    answer: &Value,
    allowed: &[String],
) -> (Map<String, Value>, Vec<FieldError>) {
    let mut merged = stored.clone();
    let mut errors = Vec::new();
    let empty = Map::new();
    let answer = match answer {
        Value::Object(obj) => obj,
        Value::Null => &empty,
        _ => {
            errors.push(FieldError::new(
                "data",
                "wrong-type",
                "data must be a JSON object",
            ));
            &empty
        }
    };
    for (key, value) in answer {
        if !allowed.contains(key) {
            errors.push(FieldError::new(
                format!("data.{}", shown_key(key)),
                "field-not-editable",
                "this field was not asked to be completed",
            ));
        } else if value.is_null() {
            merged.remove(key);
        } else {
            merged.insert(key.clone(), value.clone());
        }
    }
    (merged, errors)
}

/// The files after a complement: a field that received new files has them instead of its
/// stored ones; new files for a field outside `allowed` are refused with `field-not-editable`.
pub fn merge_complement_files(
    stored: &[FileMeta],
    new: &[FileMeta],
    allowed: &[String],
) -> Result<Vec<FileMeta>, Vec<FieldError>> {
    let (merged, errors) = merge_files(stored, new, allowed);
    if errors.is_empty() {
        Ok(merged)
    } else {
        Err(errors)
    }
}

fn merge_files(
    stored: &[FileMeta],
    new: &[FileMeta],
    allowed: &[String],
) -> (Vec<FileMeta>, Vec<FieldError>) {
    let mut errors = Vec::new();
    let mut refused: Vec<&str> = Vec::new();
    for m in new {
        if !allowed.contains(&m.field) && !refused.contains(&m.field.as_str()) {
            refused.push(&m.field);
            errors.push(FieldError::new(
                format!("files.{}", shown_key(&m.field)),
                "field-not-editable",
                "this field was not asked to be completed",
            ));
        }
    }
    let merged = stored
        .iter()
        .filter(|m| {
            !new.iter()
                .any(|n| n.field == m.field && allowed.contains(&n.field))
        })
        .chain(new.iter().filter(|n| allowed.contains(&n.field)))
        .cloned()
        .collect();
    (merged, errors)
}

/// A citizen's answer to "please complete your request".
#[derive(Debug, Clone, Copy)]
pub struct Complement<'a> {
    /// The normalised data stored with the request.
    pub stored: &'a Map<String, Value>,
    pub stored_files: &'a [FileMeta],
    /// The `data` object of the answer: only the fields being corrected.
    pub answer: &'a Value,
    pub new_files: &'a [FileMeta],
    /// The field ids the agent asked for.
    pub allowed: &'a [String],
}

/// The request's data and files once the complement is applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Completed {
    pub data: Map<String, Value>,
    pub files: Vec<FileMeta>,
}

/// Merges a complement into the stored request and checks the whole. Errors on fields the
/// citizen may not change are left out: the agent accepted those values when the request was
/// filed, and rules may have moved since ("at least two days ahead" is relative to today), so
/// such fields keep their stored value; the citizen is only told about what they can fix.
pub fn validate_complement(
    form: &FormDefinition,
    complement: &Complement<'_>,
    today: Date,
) -> Result<Completed, Vec<FieldError>> {
    let editable = editable_fields(form, complement.allowed);
    let (merged, mut errors) = merge_data(complement.stored, complement.answer, &editable);
    let (files, file_errors) =
        merge_files(complement.stored_files, complement.new_files, &editable);
    errors.extend(file_errors);
    let (mut data, check_errors) = check(form, &Value::Object(merged.clone()), &files, today);
    for e in check_errors {
        let id = top_level_id(&e.field);
        if editable.iter().any(|f| f == id) {
            errors.push(e);
        } else if let Some(v) = merged.get(id)
            && !data.contains_key(id)
            && form.fields.iter().any(|f| f.id == id)
        {
            data.insert(id.to_owned(), v.clone());
        }
    }
    if errors.is_empty() {
        // Keep the order of the form, which the insertion above may have broken.
        let data: Map<String, Value> = form
            .fields
            .iter()
            .filter_map(|f| data.get(&f.id).map(|v| (f.id.clone(), v.clone())))
            .collect();
        // Files of a field the answer made irrelevant (or that a newer revision dropped) go.
        let active = active_file_fields(form, &data);
        let files = files
            .into_iter()
            .filter(|m| active.contains(&m.field.as_str()))
            .collect();
        Ok(Completed { data, files })
    } else {
        Err(errors)
    }
}

/// `data.items[2].kind` → `items`; `files.cv` → `cv`.
fn top_level_id(path: &str) -> &str {
    let rest = path
        .strip_prefix("data.")
        .or_else(|| path.strip_prefix("files."))
        .unwrap_or(path);
    let end = rest.find(['.', '[']).unwrap_or(rest.len());
    &rest[..end]
}

// ---------------------------------------------------------------------------------------------
// Definitions

fn is_valid_id(id: &str) -> bool {
    let b = id.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_ID_CHARS
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

fn is_valid_mime_pattern(m: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b))
    };
    match m.split_once('/') {
        Some((family, "*")) => token(family),
        Some((family, sub)) => token(family) && token(sub),
        None => false,
    }
}

/// Checks what serde cannot: unique ids, conditions on earlier siblings, options where they
/// belong, rules that fit the kind... Run when the catalogue is loaded, so that a broken
/// definition stops the load instead of a citizen. All problems are listed, separated by `; `.
pub fn check_definition(form: &FormDefinition) -> Result<(), String> {
    let mut problems = Vec::new();
    if form.fields.is_empty() {
        problems.push("a form needs at least one field".to_owned());
    }
    check_fields(&form.fields, "", true, &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn check_fields(fields: &[Field], prefix: &str, top: bool, problems: &mut Vec<String>) {
    for (i, f) in fields.iter().enumerate() {
        let name = format!("{prefix}{}", f.id);
        let mut problem = |p: String| problems.push(format!("{name}: {p}"));
        if !is_valid_id(&f.id) {
            problem("an id is a lower-case letter then up to 63 of a-z, 0-9, _".into());
        }
        if fields[..i].iter().any(|o| o.id == f.id) {
            problem("this id is used twice".into());
        }
        if f.label.trim().is_empty() || f.label_en.trim().is_empty() {
            problem("label and label_en must not be empty".into());
        }
        if f.hint.is_some() != f.hint_en.is_some() {
            problem("hint and hint_en go together".into());
        }

        let is_choice = matches!(f.kind, Kind::Choice | Kind::MultiChoice);
        if is_choice {
            if f.options.is_empty() {
                problem(format!("a {} needs options", f.kind));
            }
            for (j, o) in f.options.iter().enumerate() {
                if o.value.trim().is_empty() || o.value.trim() != o.value {
                    problem(format!("option {:?} has a blank or padded value", o.value));
                }
                if o.label.trim().is_empty() || o.label_en.trim().is_empty() {
                    problem(format!("option {:?} needs label and label_en", o.value));
                }
                if f.options[..j].iter().any(|p| p.value == o.value) {
                    problem(format!("option {:?} is listed twice", o.value));
                }
            }
        } else if !f.options.is_empty() {
            problem(format!("a {} has no options", f.kind));
        }

        match (f.kind, &f.file) {
            (Kind::File, None) => problem("a file field needs file rules".into()),
            (Kind::File, Some(r)) => {
                if r.max_bytes == 0 || r.max_files == 0 {
                    problem("max_bytes and max_files must be positive".into());
                }
                if r.mime.is_empty() {
                    problem("a file field needs at least one accepted type".into());
                }
                for m in &r.mime {
                    if !is_valid_mime_pattern(m) {
                        problem(format!(
                            "{m:?} is not a media type like image/jpeg or image/*"
                        ));
                    }
                }
                if !top {
                    problem("file fields cannot be inside a block".into());
                }
            }
            (_, Some(_)) => problem(format!("a {} has no file rules", f.kind)),
            (_, None) => {}
        }

        if f.kind == Kind::Block {
            if !top {
                problem("blocks cannot be nested".into());
            }
            if f.fields.is_empty() {
                problem("a block needs sub-fields".into());
            }
        } else if !f.fields.is_empty() {
            problem(format!("a {} has no sub-fields", f.kind));
        }

        if f.min_items.is_some() || f.max_items.is_some() {
            if !matches!(f.kind, Kind::Block | Kind::MultiChoice) {
                problem(format!("a {} has no items to count", f.kind));
            }
            if f.max_items == Some(0) {
                problem("max_items must be positive".into());
            }
            if let (Some(min), Some(max)) = (f.min_items, f.max_items)
                && min > max
            {
                problem("min_items is above max_items".into());
            }
        }

        check_rules(f, &mut problem);

        if let Some(c) = &f.when {
            match fields[..i].iter().find(|o| o.id == c.field) {
                None => problem(format!(
                    "the condition refers to {:?}, which is not an earlier field of the same level",
                    c.field
                )),
                Some(target) => check_condition(c, target, &mut problem),
            }
        }
        if f.kind == Kind::Block {
            check_fields(&f.fields, &format!("{name}."), false, problems);
        }
    }
}

fn check_rules(f: &Field, problem: &mut impl FnMut(String)) {
    let Some(r) = &f.validation else {
        return;
    };
    let kind = f.kind;
    if (r.min_length.is_some() || r.max_length.is_some() || r.pattern.is_some()) && !kind.is_text()
    {
        problem(format!(
            "min_length, max_length and pattern apply to text and long_text, not {kind}"
        ));
    }
    if let Some(max) = r.max_length
        && (max == 0 || max > MAX_TEXT_CHARS)
    {
        problem(format!("max_length must be between 1 and {MAX_TEXT_CHARS}"));
    }
    if let (Some(min), Some(max)) = (r.min_length, r.max_length)
        && min > max
    {
        problem("min_length is above max_length".into());
    }
    for b in [r.min, r.max].into_iter().flatten() {
        let fits = (kind.is_number() && !b.is_date()) || (kind.is_date() && b.is_date());
        if !fits {
            problem(format!("bound {b} does not apply to a {kind}"));
        }
    }
    match (r.min, r.max) {
        (Some(Bound::Number(min)), Some(Bound::Number(max))) if min > max => {
            problem("min is above max".into());
        }
        (Some(Bound::Date(min)), Some(Bound::Date(max))) if min > max => {
            problem("min is after max".into());
        }
        _ => {}
    }
}

fn check_condition(c: &Condition, target: &Field, problem: &mut impl FnMut(String)) {
    if matches!(target.kind, Kind::File | Kind::Block) {
        problem(format!(
            "a condition cannot test {:?}, a {}",
            c.field, target.kind
        ));
        return;
    }
    let values: &[Value] = match &c.test {
        Test::Equals(v) => std::slice::from_ref(v),
        Test::In(vs) => {
            if vs.is_empty() {
                problem("a condition with `in` needs values".into());
            }
            vs
        }
        Test::Filled(_) => &[],
    };
    for v in values {
        let ok = match target.kind {
            Kind::Choice | Kind::MultiChoice => v
                .as_str()
                .is_some_and(|s| target.options.iter().any(|o| o.value == s)),
            Kind::Boolean => v.is_boolean(),
            Kind::Integer | Kind::Decimal => v.is_number(),
            _ => v.is_string(),
        };
        if !ok {
            problem(format!(
                "the condition compares {:?} with {v}, which it can never hold",
                c.field
            ));
        }
    }
}

/// The form of a catalogue entry: its `"form"` is absent (`None`), the name of one of the
/// catalogue's shared `"forms"`, or an inline definition. The result has passed
/// [`check_definition`].
pub fn resolve_form(
    catalogue_forms: &Map<String, Value>,
    demarche: &Value,
) -> Result<Option<FormDefinition>, String> {
    let code = demarche.get("code").and_then(Value::as_str).unwrap_or("?");
    let definition = match demarche.get("form") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(name)) => catalogue_forms
            .get(name)
            .ok_or_else(|| format!("{code}: no shared form named {name:?}"))?,
        Some(inline @ Value::Object(_)) => inline,
        Some(_) => {
            return Err(format!(
                "{code}: form must be the name of a shared form or a definition"
            ));
        }
    };
    let form = parse_definition(definition).map_err(|e| format!("{code}: {e}"))?;
    Ok(Some(form))
}

/// Reads and checks one definition.
pub fn parse_definition(definition: &Value) -> Result<FormDefinition, String> {
    let form = FormDefinition::deserialize(definition).map_err(|e| e.to_string())?;
    check_definition(&form)?;
    Ok(form)
}

// ---------------------------------------------------------------------------------------------
// Uploads

/// The media type of a file, from its first bytes (never from its name or the client's
/// claim). Recognises PDF, JPEG, PNG, GIF, WebP, HEIC/HEIF, AVIF, OpenDocument text,
/// spreadsheet and presentation (their first zip entry is an uncompressed `mimetype`, which
/// the format requires), Office Open XML documents (a zip holding `[Content_Types].xml` and
/// the usual `word/document.xml`, `xl/workbook.xml` or `ppt/presentation.xml`; entry names are
/// stored uncompressed, so a byte search finds them), other zips as `application/zip`, and
/// UTF-8 text without control characters other than tab, line breaks and form feed as
/// `text/plain`. A prefix of the file is enough for all but the Office Open XML kinds, which
/// need the whole file (otherwise they are reported as `application/zip`).
pub fn sniff_mime(bytes: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"%PDF-") {
        return Some("application/pdf");
    }
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Some("image/jpeg");
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Some("image/gif");
    }
    if starts(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return Some("image/webp");
    }
    if bytes.get(4..8) == Some(b"ftyp") {
        match bytes.get(8..12) {
            Some(b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis") => {
                return Some("image/heic");
            }
            Some(b"mif1" | b"msf1") => return Some("image/heif"),
            Some(b"avif" | b"avis") => return Some("image/avif"),
            _ => {}
        }
    }
    if starts(b"PK\x03\x04") {
        return Some(sniff_zip(bytes));
    }
    sniff_text(bytes)
}

fn sniff_zip(b: &[u8]) -> &'static str {
    let le16 = |i: usize| {
        b.get(i..i + 2)
            .map(|s| usize::from(s[0]) | usize::from(s[1]) << 8)
    };
    let le32 = |i: usize| {
        b.get(i..i + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
    };
    // Local file header: method at 8, compressed size at 18, name and extra lengths at 26
    // and 28, name at 30.
    if let (Some(0), Some(size), Some(name_len), Some(extra_len)) =
        (le16(8), le32(18), le16(26), le16(28))
        && b.get(30..30 + name_len) == Some(b"mimetype")
    {
        let start = 30 + name_len + extra_len;
        match b.get(start..start + size) {
            Some(b"application/vnd.oasis.opendocument.text") => {
                return "application/vnd.oasis.opendocument.text";
            }
            Some(b"application/vnd.oasis.opendocument.spreadsheet") => {
                return "application/vnd.oasis.opendocument.spreadsheet";
            }
            Some(b"application/vnd.oasis.opendocument.presentation") => {
                return "application/vnd.oasis.opendocument.presentation";
            }
            _ => {}
        }
    }
    let contains = |needle: &[u8]| b.windows(needle.len()).any(|w| w == needle);
    if contains(b"[Content_Types].xml") {
        if contains(b"word/document.xml") {
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
        }
        if contains(b"xl/workbook.xml") {
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
        }
        if contains(b"ppt/presentation.xml") {
            return "application/vnd.openxmlformats-officedocument.presentationml.presentation";
        }
    }
    "application/zip"
}

fn sniff_text(b: &[u8]) -> Option<&'static str> {
    if b.is_empty() {
        return None;
    }
    let text = match std::str::from_utf8(b) {
        Ok(t) => t,
        // Cut inside a character: the caller passed a prefix of a longer text.
        Err(e) if e.error_len().is_none() && e.valid_up_to() > 0 => {
            std::str::from_utf8(&b[..e.valid_up_to()]).ok()?
        }
        Err(_) => return None,
    };
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
    {
        return None;
    }
    Some("text/plain")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 03 - 14);

    /// Gives a field (and its sub-fields) labels, which most tests do not care about.
    fn labelled(mut v: Value) -> Value {
        if let Some(o) = v.as_object_mut() {
            o.entry("label").or_insert(json!("Libellé"));
            o.entry("label_en").or_insert(json!("Label"));
            if let Some(Value::Array(subs)) = o.get_mut("fields") {
                for s in subs.iter_mut() {
                    *s = labelled(s.take());
                }
            }
        }
        v
    }

    fn form(fields: Vec<Value>) -> FormDefinition {
        let fields: Vec<Value> = fields.into_iter().map(labelled).collect();
        parse_definition(&json!({ "fields": fields })).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A form with the single field `x`.
    fn one(kind: &str, extra: Value) -> FormDefinition {
        let mut f = json!({"id": "x", "kind": kind});
        if let (Some(o), Value::Object(extra)) = (f.as_object_mut(), extra) {
            o.extend(extra);
        }
        form(vec![f])
    }

    fn errors(
        form: &FormDefinition,
        data: Value,
        files: &[FileMeta],
    ) -> Vec<(String, &'static str)> {
        match validate(form, &data, files, TODAY) {
            Ok(out) => panic!("expected errors, got {out:?}"),
            Err(e) => e.into_iter().map(|e| (e.field, e.code)).collect(),
        }
    }

    fn valid(form: &FormDefinition, data: Value) -> Map<String, Value> {
        validate(form, &data, &[], TODAY).unwrap_or_else(|e| panic!("{e:?}"))
    }

    /// The normalised value of `x`, `Null` when it was dropped.
    fn norm(form: &FormDefinition, x: Value) -> Value {
        valid(form, json!({ "x": x }))
            .get("x")
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// The codes of the errors for `x`.
    fn codes(form: &FormDefinition, x: Value) -> Vec<&'static str> {
        errors(form, json!({ "x": x }), &[])
            .into_iter()
            .map(|(_, c)| c)
            .collect()
    }

    fn path_codes(form: &FormDefinition, x: Value) -> Vec<(String, &'static str)> {
        errors(form, json!({ "x": x }), &[])
    }

    fn file(field: &str, mime: &str, bytes: u64) -> FileMeta {
        FileMeta {
            field: field.into(),
            filename: format!("{field}.bin"),
            mime: mime.into(),
            bytes,
        }
    }

    fn pc(path: &str, code: &'static str) -> (String, &'static str) {
        (path.to_owned(), code)
    }

    #[test]
    fn kinds_have_snake_case_names() {
        for k in Kind::ALL {
            assert_eq!(serde_json::to_value(k).ok(), Some(json!(k.as_str())));
            assert_eq!(
                serde_json::from_value::<Kind>(json!(k.as_str())).ok(),
                Some(k)
            );
        }
        assert_eq!(Kind::GeoPoint.as_str(), "geo_point");
        assert_eq!(Kind::MultiChoice.as_str(), "multi_choice");
        assert_eq!(Kind::LongText.as_str(), "long_text");
        assert!(serde_json::from_value::<Kind>(json!("number")).is_err());
    }

    #[test]
    fn a_definition_round_trips_and_unknown_keys_are_refused() {
        let def = json!({"fields": [
            {"id": "kind", "kind": "choice", "label": "Type", "label_en": "Kind",
             "required": true, "personal": false,
             "options": [{"value": "a", "label": "A", "label_en": "A"}]},
            {"id": "size", "kind": "decimal", "label": "Taille", "label_en": "Size",
             "hint": "en m", "hint_en": "in m", "required": false, "personal": false,
             "when": {"field": "kind", "in": ["a"]},
             "validation": {"min": 0.5, "max": 20.5}},
            {"id": "day", "kind": "date", "label": "Jour", "label_en": "Day",
             "required": false, "personal": false,
             "when": {"field": "kind", "filled": true},
             "validation": {"min": "today+2", "max": "2027-01-01"}},
            {"id": "plate", "kind": "text", "label": "Plaque", "label_en": "Plate",
             "required": false, "personal": true,
             "validation": {"pattern": "[A-Z]{2}-[0-9]{3}-[A-Z]{2}", "max_length": 9}},
            {"id": "scan", "kind": "file", "label": "Scan", "label_en": "Scan",
             "required": false, "personal": true,
             "file": {"max_bytes": 1000, "mime": ["application/pdf", "image/*"], "max_files": 2}},
            {"id": "items", "kind": "block", "label": "Objets", "label_en": "Items",
             "required": false, "personal": false, "min_items": 1, "max_items": 4,
             "fields": [{"id": "what", "kind": "text", "label": "Quoi", "label_en": "What",
                         "required": true, "personal": false}]}
        ]});
        let parsed = parse_definition(&def).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(serde_json::to_value(&parsed).ok(), Some(def));

        let typo = json!({"fields": [{"id": "a", "kind": "text", "label": "A", "label_en": "A",
                                      "requried": true}]});
        assert!(parse_definition(&typo).is_err());
        let bad_rule = json!({"fields": [{"id": "a", "kind": "text", "label": "A",
                                          "label_en": "A", "validation": {"maxlength": 3}}]});
        assert!(parse_definition(&bad_rule).is_err());
    }

    #[test]
    fn text_is_trimmed_and_blank_means_absent() {
        let f = one("text", json!({}));
        assert_eq!(norm(&f, json!("  Bonjour  ")), json!("Bonjour"));
        assert_eq!(norm(&f, json!("   ")), Value::Null);
        assert_eq!(norm(&f, Value::Null), Value::Null);
        let required = one("text", json!({"required": true}));
        assert_eq!(
            path_codes(&required, json!(" ")),
            vec![pc("data.x", "required")]
        );
        assert_eq!(
            errors(&required, json!({}), &[]),
            vec![pc("data.x", "required")]
        );
        assert_eq!(codes(&f, json!(12)), vec!["wrong-type"]);
        assert_eq!(codes(&f, json!(["a"])), vec!["wrong-type"]);
    }

    #[test]
    fn text_lengths_count_characters() {
        let f = one(
            "text",
            json!({"validation": {"min_length": 2, "max_length": 3}}),
        );
        assert_eq!(norm(&f, json!("ééé")), json!("ééé"));
        assert_eq!(codes(&f, json!("éééé")), vec!["too-long"]);
        assert_eq!(codes(&f, json!("é")), vec!["too-short"]);
        let default = one("text", json!({}));
        assert!(
            validate(
                &default,
                &json!({"x": "a".repeat(DEFAULT_TEXT_MAX_CHARS)}),
                &[],
                TODAY
            )
            .is_ok()
        );
        assert_eq!(
            codes(&default, json!("a".repeat(DEFAULT_TEXT_MAX_CHARS + 1))),
            vec!["too-long"]
        );
        let long = one("long_text", json!({}));
        assert_eq!(
            codes(&long, json!("a".repeat(DEFAULT_LONG_TEXT_MAX_CHARS + 1))),
            vec!["too-long"]
        );
    }

    #[test]
    fn single_line_text_refuses_line_breaks_and_long_text_keeps_them() {
        let text = one("text", json!({}));
        assert_eq!(codes(&text, json!("a\nb")), vec!["control-characters"]);
        let long = one("long_text", json!({}));
        assert_eq!(
            norm(&long, json!("ligne 1\r\nligne 2\rligne 3\tfin")),
            json!("ligne 1\nligne 2\nligne 3\tfin")
        );
        assert_eq!(codes(&long, json!("bip\u{7}")), vec!["control-characters"]);
    }

    #[test]
    fn patterns_match_the_whole_value() {
        let f = one("text", json!({"validation": {"pattern": "[0-9]{3}"}}));
        assert_eq!(norm(&f, json!(" 123 ")), json!("123"));
        assert_eq!(codes(&f, json!("1234")), vec!["invalid-format"]);
        assert_eq!(codes(&f, json!("a123")), vec!["invalid-format"]);
        // An alternation is anchored as a whole, not only its first branch.
        let alt = one("text", json!({"validation": {"pattern": "ab|cd"}}));
        assert_eq!(codes(&alt, json!("abx")), vec!["invalid-format"]);
        assert_eq!(codes(&alt, json!("xcd")), vec!["invalid-format"]);
        assert_eq!(norm(&alt, json!("cd")), json!("cd"));
        let broken = json!({"fields": [{"id": "x", "kind": "text", "label": "X", "label_en": "X",
                                         "validation": {"pattern": "(["}}]});
        assert!(parse_definition(&broken).is_err_and(|e| e.contains("invalid pattern")));
    }

    #[test]
    fn email_addresses() {
        let f = one("email", json!({}));
        assert_eq!(
            norm(&f, json!(" Jean.Dupont@Rennes.FR ")),
            json!("Jean.Dupont@rennes.fr")
        );
        assert_eq!(codes(&f, json!("jean@")), vec!["invalid-email"]);
        assert_eq!(
            codes(&f, json!("jean dupont@rennes.fr")),
            vec!["invalid-email"]
        );
        assert_eq!(
            codes(&f, json!(format!("{}@rennes.fr", "a".repeat(250)))),
            vec!["too-long"]
        );
        assert_eq!(codes(&f, json!(true)), vec!["wrong-type"]);
    }

    #[test]
    fn phone_numbers_are_normalised() {
        for (given, expected) in [
            ("06 12 34 56 78", "+33612345678"),
            ("06.12.34.56.78", "+33612345678"),
            ("06-12-34-56-78", "+33612345678"),
            ("+33 6 12 34 56 78", "+33612345678"),
            ("+33 (0)6 12 34 56 78", "+33612345678"),
            ("0033 6 12 34 56 78", "+33612345678"),
            ("02 99 28 55 55", "+33299285555"),
            ("0692 12 34 56", "+262692123456"),
            ("0596 12 34 56", "+596596123456"),
            ("+44 20 7946 0000", "+442079460000"),
        ] {
            assert_eq!(normalise_phone(given).as_deref(), Some(expected), "{given}");
        }
        for bad in [
            "612345678",
            "06 12 34 56 7",
            "06 12 34 56 789",
            "00 12 34 56",
            "+33 6 12 34 56 7",
            "+33 06 12 34 56 7",
            "06 12 34 56 78 x",
            "6+12345678",
            "+",
            "+0612345678",
            "+1234567",
            "+1234567890123456",
        ] {
            assert_eq!(normalise_phone(bad), None, "{bad}");
        }
        let f = one("phone", json!({}));
        assert_eq!(norm(&f, json!("06 12 34 56 78")), json!("+33612345678"));
        assert_eq!(codes(&f, json!("12")), vec!["invalid-phone"]);
        assert_eq!(codes(&f, json!(612345678)), vec!["wrong-type"]);
    }

    #[test]
    fn integers_are_strict() {
        let f = one("integer", json!({"validation": {"min": 1, "max": 5}}));
        assert_eq!(norm(&f, json!(3)), json!(3));
        assert_eq!(norm(&f, json!(1)), json!(1));
        assert_eq!(norm(&f, json!(5)), json!(5));
        assert_eq!(codes(&f, json!("3")), vec!["wrong-type"]);
        assert_eq!(codes(&f, json!(3.5)), vec!["wrong-type"]);
        assert_eq!(codes(&f, json!(3.0)), vec!["wrong-type"]);
        assert_eq!(codes(&f, json!(0)), vec!["out-of-range"]);
        assert_eq!(codes(&f, json!(6)), vec!["out-of-range"]);
        assert_eq!(codes(&f, json!(-6)), vec!["out-of-range"]);
        assert_eq!(codes(&f, json!(u64::MAX)), vec!["out-of-range"]);
    }

    #[test]
    fn decimals_take_any_number_within_bounds() {
        let f = one("decimal", json!({"validation": {"min": 0.5, "max": 20}}));
        assert_eq!(norm(&f, json!(2.5)), json!(2.5));
        assert_eq!(norm(&f, json!(3)), json!(3));
        assert_eq!(codes(&f, json!("2,5")), vec!["wrong-type"]);
        assert_eq!(codes(&f, json!(0.4)), vec!["out-of-range"]);
        assert_eq!(codes(&f, json!(20.01)), vec!["out-of-range"]);
    }

    #[test]
    fn dates_have_one_shape() {
        let f = one("date", json!({}));
        assert_eq!(norm(&f, json!("2026-03-14")), json!("2026-03-14"));
        assert_eq!(norm(&f, json!("2024-02-29")), json!("2024-02-29"));
        for bad in [
            "2026-3-14",
            "14/03/2026",
            "2026-02-30",
            "2025-02-29",
            "+026-03-14",
            "2026-03-14T10:00:00Z",
        ] {
            assert_eq!(codes(&f, json!(bad)), vec!["invalid-date"], "{bad}");
        }
        assert_eq!(codes(&f, json!(20260314)), vec!["wrong-type"]);
    }

    #[test]
    fn date_bounds_may_be_fixed_or_relative_to_today() {
        let f = one(
            "date",
            json!({"validation": {"min": "today+2", "max": "2026-12-31"}}),
        );
        assert_eq!(norm(&f, json!("2026-03-16")), json!("2026-03-16"));
        assert_eq!(norm(&f, json!("2026-12-31")), json!("2026-12-31"));
        let e = validate(&f, &json!({"x": "2026-03-15"}), &[], TODAY)
            .err()
            .unwrap_or_default();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].code, "out-of-range");
        assert!(e[0].message.contains("2026-03-16"), "{}", e[0].message);
        assert_eq!(codes(&f, json!("2027-01-01")), vec!["out-of-range"]);

        // Born at least 16 years ago.
        let adult = one("date", json!({"validation": {"max": "today-16y"}}));
        assert_eq!(norm(&adult, json!("2010-03-14")), json!("2010-03-14"));
        assert_eq!(codes(&adult, json!("2010-03-15")), vec!["out-of-range"]);
        let past = one("date", json!({"validation": {"max": "today"}}));
        assert_eq!(norm(&past, json!("2026-03-14")), json!("2026-03-14"));
        assert_eq!(codes(&past, json!("2026-03-15")), vec!["out-of-range"]);
    }

    #[test]
    fn relative_bounds_parse_and_resolve() {
        let parse = |s: &str| serde_json::from_value::<Bound>(json!(s)).ok();
        assert_eq!(
            parse("today"),
            Some(Bound::Today {
                shift: 0,
                unit: ShiftUnit::Days
            })
        );
        assert_eq!(
            parse("today+2"),
            Some(Bound::Today {
                shift: 2,
                unit: ShiftUnit::Days
            })
        );
        assert_eq!(
            parse("today+2d"),
            Some(Bound::Today {
                shift: 2,
                unit: ShiftUnit::Days
            })
        );
        assert_eq!(
            parse("today-16y"),
            Some(Bound::Today {
                shift: -16,
                unit: ShiftUnit::Years
            })
        );
        assert_eq!(
            parse("2026-01-31"),
            Some(Bound::Date(date!(2026 - 01 - 31)))
        );
        for bad in [
            "today+",
            "tomorrow",
            "today*2",
            "today+1m",
            "today+-1",
            "2026-1-31",
            "today+999999",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(
            serde_json::from_value::<Bound>(json!(1.5)).ok(),
            Some(Bound::Number(1.5))
        );
        for s in ["today", "today+2", "today-30", "today-16y", "2026-01-31"] {
            assert_eq!(parse(s).map(|b| b.to_string()).as_deref(), Some(s));
        }
        let years = |n| Bound::Today {
            shift: n,
            unit: ShiftUnit::Years,
        };
        assert_eq!(
            years(-16).date(date!(2028 - 02 - 29)),
            Some(date!(2012 - 02 - 29))
        );
        assert_eq!(
            years(-1).date(date!(2024 - 02 - 29)),
            Some(date!(2023 - 02 - 28))
        );
        let days = Bound::Today {
            shift: 20,
            unit: ShiftUnit::Days,
        };
        assert_eq!(days.date(TODAY), Some(date!(2026 - 04 - 03)));
        assert_eq!(Bound::Number(3.0).date(TODAY), None);
    }

    #[test]
    fn datetimes_are_rfc3339_and_bounded_by_their_date() {
        let f = one("datetime", json!({"validation": {"min": "today"}}));
        assert_eq!(
            norm(&f, json!("2026-03-20T09:30:00+01:00")),
            json!("2026-03-20T09:30:00+01:00")
        );
        assert_eq!(
            norm(&f, json!("2026-03-20T08:30:00.000Z")),
            json!("2026-03-20T08:30:00Z")
        );
        assert_eq!(codes(&f, json!("2026-03-20 09:30")), vec!["invalid-date"]);
        assert_eq!(codes(&f, json!("2026-03-20")), vec!["invalid-date"]);
        assert_eq!(
            codes(&f, json!("2026-03-13T23:00:00+01:00")),
            vec!["out-of-range"]
        );
    }

    #[test]
    fn a_required_boolean_must_be_ticked() {
        let consent = one("boolean", json!({"required": true}));
        assert_eq!(norm(&consent, json!(true)), json!(true));
        assert_eq!(codes(&consent, json!(false)), vec!["required"]);
        assert_eq!(
            errors(&consent, json!({}), &[]),
            vec![pc("data.x", "required")]
        );
        assert_eq!(codes(&consent, json!("true")), vec!["wrong-type"]);
        let optional = one("boolean", json!({}));
        assert_eq!(norm(&optional, json!(false)), json!(false));
    }

    fn options(values: &[&str]) -> Value {
        Value::Array(
            values
                .iter()
                .map(|v| json!({"value": v, "label": v, "label_en": v}))
                .collect(),
        )
    }

    #[test]
    fn choices_take_one_option_value() {
        let f = one("choice", json!({"options": options(&["a", "b"])}));
        assert_eq!(norm(&f, json!("b")), json!("b"));
        assert_eq!(norm(&f, json!("")), Value::Null);
        assert_eq!(codes(&f, json!("c")), vec!["not-an-option"]);
        assert_eq!(codes(&f, json!("A")), vec!["not-an-option"]);
        assert_eq!(codes(&f, json!(1)), vec!["wrong-type"]);
    }

    #[test]
    fn multi_choices_are_distinct_options_in_option_order() {
        let f = one(
            "multi_choice",
            json!({"options": options(&["a", "b", "c"])}),
        );
        assert_eq!(norm(&f, json!(["c", "a"])), json!(["a", "c"]));
        assert_eq!(norm(&f, json!([])), Value::Null);
        assert_eq!(
            path_codes(&f, json!(["a", "a"])),
            vec![pc("data.x[1]", "duplicate-value")]
        );
        assert_eq!(
            path_codes(&f, json!(["a", "z"])),
            vec![pc("data.x[1]", "not-an-option")]
        );
        assert_eq!(
            path_codes(&f, json!([1])),
            vec![pc("data.x[0]", "wrong-type")]
        );
        assert_eq!(codes(&f, json!("a")), vec!["wrong-type"]);
        let bounded = one(
            "multi_choice",
            json!({"options": options(&["a", "b", "c"]), "min_items": 2, "max_items": 2}),
        );
        assert_eq!(
            path_codes(&bounded, json!(["a"])),
            vec![pc("data.x", "too-few-items")]
        );
        assert_eq!(
            path_codes(&bounded, json!(["a", "b", "c"])),
            vec![pc("data.x", "too-many-items")]
        );
        assert_eq!(norm(&bounded, json!(["b", "a"])), json!(["a", "b"]));
    }

    #[test]
    fn addresses_are_objects_or_plain_text() {
        let f = one("address", json!({"required": true}));
        assert_eq!(
            norm(&f, json!(" 12 rue de la Paix ")),
            json!({"text": "12 rue de la Paix"})
        );
        let full = json!({"text": "Place de la Mairie", "postcode": "35000", "city": "Rennes",
                          "lat": 48.1113, "lon": -1.6800});
        assert_eq!(norm(&f, full.clone()), full);
        assert_eq!(
            path_codes(&f, json!({"text": "x", "zip": "35000"})),
            vec![pc("data.x.zip", "unknown-field")]
        );
        assert_eq!(
            path_codes(&f, json!({"text": "x", "postcode": "3500"})),
            vec![pc("data.x.postcode", "invalid-format")]
        );
        assert_eq!(
            path_codes(&f, json!({"text": "x", "lat": 48.1})),
            vec![pc("data.x.lon", "required")]
        );
        assert_eq!(
            path_codes(&f, json!({"text": "x", "lat": 91, "lon": 0})),
            vec![pc("data.x.lat", "out-of-range")]
        );
        assert_eq!(
            path_codes(&f, json!({"postcode": "35000"})),
            vec![pc("data.x.text", "required")]
        );
        assert_eq!(
            path_codes(&f, json!({"text": " "})),
            vec![pc("data.x", "required")]
        );
        assert_eq!(path_codes(&f, json!(12)), vec![pc("data.x", "wrong-type")]);
        assert_eq!(
            path_codes(&f, json!({"text": "x", "city": "Ren\nnes"})),
            vec![pc("data.x.city", "control-characters")]
        );
        assert_eq!(
            path_codes(&f, json!("x".repeat(MAX_ADDRESS_CHARS + 1))),
            vec![pc("data.x.text", "too-long")]
        );
    }

    #[test]
    fn geo_points_are_checked_part_by_part() {
        let f = one("geo_point", json!({"required": true}));
        let p = json!({"lat": 48.1113, "lon": -1.68, "accuracy_m": 8});
        assert_eq!(norm(&f, p.clone()), p);
        assert_eq!(
            norm(&f, json!({"lat": 48.1113, "lon": -1.68})),
            json!({"lat": 48.1113, "lon": -1.68})
        );
        assert_eq!(
            path_codes(&f, json!({"lat": 48.1})),
            vec![pc("data.x.lon", "required")]
        );
        assert_eq!(
            path_codes(&f, json!({"lat": "48.1", "lon": -1.6})),
            vec![pc("data.x.lat", "wrong-type")]
        );
        assert_eq!(
            path_codes(&f, json!({"lat": 95, "lon": 200})),
            vec![
                pc("data.x.lat", "out-of-range"),
                pc("data.x.lon", "out-of-range")
            ]
        );
        assert_eq!(
            path_codes(&f, json!({"lat": 1, "lon": 1, "accuracy_m": -1})),
            vec![pc("data.x.accuracy_m", "out-of-range")]
        );
        assert_eq!(
            path_codes(&f, json!({"lat": 1, "lon": 1, "alt": 30})),
            vec![pc("data.x.alt", "unknown-field")]
        );
        assert_eq!(
            path_codes(&f, json!([48.1, -1.6])),
            vec![pc("data.x", "wrong-type")]
        );
        assert_eq!(path_codes(&f, json!({})), vec![pc("data.x", "required")]);
    }

    fn items_form(extra: Value) -> FormDefinition {
        let mut block = json!({"id": "items", "kind": "block", "required": true, "fields": [
            {"id": "kind", "kind": "choice", "required": true, "options": options(&["meuble", "autre"])},
            {"id": "other", "kind": "text", "required": true,
             "when": {"field": "kind", "equals": "autre"}},
            {"id": "quantity", "kind": "integer", "required": true,
             "validation": {"min": 1, "max": 10}},
        ]});
        if let (Some(o), Value::Object(extra)) = (block.as_object_mut(), extra) {
            o.extend(extra);
        }
        form(vec![block])
    }

    #[test]
    fn block_items_are_checked_against_the_sub_fields() {
        let f = items_form(json!({"min_items": 1, "max_items": 3}));
        let out = valid(
            &f,
            json!({"items": [
                {"kind": "meuble", "quantity": 2, "other": "ignored: kind is not autre"},
                {"kind": "autre", "other": " vélo ", "quantity": 1}
            ]}),
        );
        assert_eq!(
            out.get("items"),
            Some(&json!([
                {"kind": "meuble", "quantity": 2},
                {"kind": "autre", "other": "vélo", "quantity": 1}
            ]))
        );
        assert_eq!(
            errors(
                &f,
                json!({"items": [
                    {"colour": "red", "quantity": 1},
                    {"kind": "autre", "quantity": 11},
                    "a sofa"
                ]}),
                &[]
            ),
            vec![
                pc("data.items[0].colour", "unknown-field"),
                pc("data.items[0].kind", "required"),
                pc("data.items[1].other", "required"),
                pc("data.items[1].quantity", "out-of-range"),
                pc("data.items[2]", "wrong-type"),
            ]
        );
        let four = json!({"items": vec![json!({"kind": "meuble", "quantity": 1}); 4]});
        assert_eq!(
            errors(&f, four, &[]),
            vec![pc("data.items", "too-many-items")]
        );
        assert_eq!(
            errors(&f, json!({"items": []}), &[]),
            vec![pc("data.items", "required")]
        );
        assert_eq!(
            errors(&f, json!({"items": {}}), &[]),
            vec![pc("data.items", "wrong-type")]
        );

        let two = items_form(json!({"min_items": 2}));
        assert_eq!(
            errors(
                &two,
                json!({"items": [{"kind": "meuble", "quantity": 1}]}),
                &[]
            ),
            vec![pc("data.items", "too-few-items")]
        );
        // Without max_items a block is still capped.
        let uncapped = items_form(json!({}));
        let many = vec![json!({"kind": "meuble", "quantity": 1}); DEFAULT_MAX_ITEMS as usize + 1];
        assert_eq!(
            errors(&uncapped, json!({"items": many}), &[]),
            vec![pc("data.items", "too-many-items")]
        );
    }

    fn files_form() -> FormDefinition {
        form(vec![
            json!({"id": "cv", "kind": "file", "required": true,
                   "file": {"max_bytes": 1000, "mime": ["application/pdf"]}}),
            json!({"id": "photos", "kind": "file",
                   "file": {"max_bytes": 500, "mime": ["image/*"], "max_files": 2}}),
            json!({"id": "has_proof", "kind": "boolean"}),
            json!({"id": "proof", "kind": "file", "required": true,
                   "when": {"field": "has_proof", "equals": true},
                   "file": {"max_bytes": 500, "mime": ["application/pdf"]}}),
        ])
    }

    #[test]
    fn files_are_checked_against_their_rules() {
        let f = files_form();
        let ok = [
            file("cv", "application/pdf", 900),
            file("photos", "image/jpeg", 500),
            file("photos", "image/heic", 10),
        ];
        assert_eq!(validate(&f, &json!({}), &ok, TODAY), Ok(Map::new()));
        assert_eq!(errors(&f, json!({}), &[]), vec![pc("files.cv", "required")]);
        assert_eq!(
            errors(&f, json!({}), &[file("cv", "application/pdf", 1001)]),
            vec![pc("files.cv", "file-too-large")]
        );
        assert_eq!(
            errors(&f, json!({}), &[file("cv", "image/png", 10)]),
            vec![pc("files.cv", "file-type-not-allowed")]
        );
        assert_eq!(
            errors(&f, json!({}), &[file("cv", "application/pdf", 0)]),
            vec![pc("files.cv", "file-empty")]
        );
        assert_eq!(
            errors(
                &f,
                json!({}),
                &[
                    file("cv", "application/pdf", 10),
                    file("cv", "application/pdf", 10)
                ]
            ),
            vec![pc("files.cv", "too-many-files")]
        );
        assert_eq!(
            errors(
                &f,
                json!({}),
                &[
                    file("cv", "application/pdf", 10),
                    file("photos", "image/png", 10),
                    file("photos", "image/png", 10),
                    file("photos", "imagex/png", 10),
                ]
            ),
            vec![
                pc("files.photos", "too-many-files"),
                pc("files.photos", "file-type-not-allowed")
            ]
        );
        assert_eq!(
            errors(
                &f,
                json!({}),
                &[
                    file("cv", "application/pdf", 10),
                    file("passport", "application/pdf", 10),
                    file("passport", "application/pdf", 10),
                ]
            ),
            vec![pc("files.passport", "unknown-field")]
        );
        assert_eq!(
            errors(
                &f,
                json!({"cv": "cv.pdf"}),
                &[file("cv", "application/pdf", 10)]
            ),
            vec![pc("data.cv", "wrong-type")]
        );
    }

    #[test]
    fn files_of_a_field_that_is_not_asked_are_ignored_and_reported_inactive() {
        let f = files_form();
        let cv = file("cv", "application/pdf", 10);
        let stray = file("proof", "image/png", 10_000);
        let out = validate(
            &f,
            &json!({"has_proof": false}),
            &[cv.clone(), stray.clone()],
            TODAY,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(active_file_fields(&f, &out), vec!["cv", "photos"]);
        assert_eq!(
            errors(&f, json!({"has_proof": true}), &[cv.clone(), stray]),
            vec![
                pc("files.proof", "file-too-large"),
                pc("files.proof", "file-type-not-allowed")
            ]
        );
        assert_eq!(
            errors(&f, json!({"has_proof": true}), std::slice::from_ref(&cv)),
            vec![pc("files.proof", "required")]
        );
        let out = validate(
            &f,
            &json!({"has_proof": true}),
            &[cv, file("proof", "application/pdf", 10)],
            TODAY,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(active_file_fields(&f, &out), vec!["cv", "photos", "proof"]);
    }

    #[test]
    fn accepted_types_are_exact_or_a_family() {
        let rules = FileRules {
            max_bytes: 1,
            mime: vec!["application/pdf".into(), "image/*".into()],
            max_files: 1,
        };
        assert!(rules.accepts("application/pdf"));
        assert!(rules.accepts("image/webp"));
        assert!(rules.accepts("IMAGE/JPEG"));
        assert!(!rules.accepts("image/"));
        assert!(!rules.accepts("image"));
        assert!(!rules.accepts("images/png"));
        assert!(!rules.accepts("application/pdfx"));
        assert!(!rules.accepts("text/plain"));
    }

    #[test]
    fn unknown_keys_and_wrong_shapes_of_data_are_refused() {
        let f = one("text", json!({}));
        assert_eq!(
            errors(&f, json!({"x": "a", "y": 1}), &[]),
            vec![pc("data.y", "unknown-field")]
        );
        let long_key = "k".repeat(200);
        let e = errors(&f, json!({ long_key: 1 }), &[]);
        assert!(e[0].0.chars().count() < 80, "{}", e[0].0);
        assert_eq!(errors(&f, json!([]), &[]), vec![pc("data", "wrong-type")]);
        assert_eq!(errors(&f, json!("x"), &[]), vec![pc("data", "wrong-type")]);
        assert_eq!(validate(&f, &Value::Null, &[], TODAY), Ok(Map::new()));
    }

    fn event_form() -> FormDefinition {
        form(vec![
            json!({"id": "event_type", "kind": "choice", "required": true,
                   "options": options(&["festive", "meeting", "sport"])}),
            json!({"id": "alcohol_license", "kind": "boolean", "required": true,
                   "when": {"field": "event_type", "equals": "festive"}}),
            json!({"id": "guests", "kind": "integer", "required": true,
                   "when": {"field": "event_type", "in": ["festive", "sport"]}}),
            json!({"id": "phone", "kind": "phone"}),
            json!({"id": "call_time", "kind": "text", "required": true,
                   "when": {"field": "phone", "filled": true}}),
            json!({"id": "postal", "kind": "address", "required": true,
                   "when": {"field": "phone", "filled": false}}),
        ])
    }

    #[test]
    fn conditions_decide_what_is_asked_and_kept() {
        let f = event_form();
        let out = valid(
            &f,
            json!({"event_type": "meeting", "alcohol_license": true, "guests": 3,
                   "postal": "1 rue Le Bastard"}),
        );
        assert_eq!(
            out,
            valid(
                &f,
                json!({"event_type": "meeting", "postal": "1 rue Le Bastard"})
            )
        );
        assert_eq!(out.get("alcohol_license"), None);
        assert_eq!(out.get("guests"), None);
        assert_eq!(
            errors(&f, json!({"event_type": "festive", "postal": "x"}), &[]),
            vec![
                pc("data.alcohol_license", "required"),
                pc("data.guests", "required")
            ]
        );
        assert_eq!(
            errors(&f, json!({"event_type": "sport", "postal": "x"}), &[]),
            vec![pc("data.guests", "required")]
        );
        assert_eq!(
            errors(
                &f,
                json!({"event_type": "meeting", "phone": "06 12 34 56 78"}),
                &[]
            ),
            vec![pc("data.call_time", "required")]
        );
        assert_eq!(
            errors(&f, json!({"event_type": "meeting"}), &[]),
            vec![pc("data.postal", "required")]
        );
        let out = valid(
            &f,
            json!({"event_type": "meeting", "phone": "0612345678", "call_time": "le matin",
                   "postal": "dropped because a phone is given"}),
        );
        assert_eq!(out.get("postal"), None);
        assert_eq!(out.get("phone"), Some(&json!("+33612345678")));
    }

    #[test]
    fn a_refused_value_does_not_cascade_into_required_errors() {
        let f = event_form();
        assert_eq!(
            errors(&f, json!({"event_type": "festif", "postal": "x"}), &[]),
            vec![pc("data.event_type", "not-an-option")]
        );
        // A phone that is given but wrong still counts as given for `filled`.
        assert_eq!(
            errors(
                &f,
                json!({"event_type": "meeting", "phone": "12", "call_time": "midi"}),
                &[]
            ),
            vec![pc("data.phone", "invalid-phone")]
        );
    }

    #[test]
    fn conditions_chain_and_test_multi_choices_by_membership() {
        let f = form(vec![
            json!({"id": "docs", "kind": "multi_choice", "required": true,
                   "options": options(&["passport", "id_card"])}),
            json!({"id": "passport_lost", "kind": "boolean",
                   "when": {"field": "docs", "equals": "passport"}}),
            json!({"id": "declaration", "kind": "text", "required": true,
                   "when": {"field": "passport_lost", "equals": true}}),
        ]);
        assert_eq!(
            errors(
                &f,
                json!({"docs": ["id_card", "passport"], "passport_lost": true}),
                &[]
            ),
            vec![pc("data.declaration", "required")]
        );
        // Not asked for a passport: its loss and the declaration are dropped together.
        let out = valid(&f, json!({"docs": ["id_card"], "passport_lost": true}));
        assert_eq!(
            out,
            Map::from_iter([("docs".to_owned(), json!(["id_card"]))])
        );
    }

    #[test]
    fn condition_shapes() {
        let parse = |v: Value| serde_json::from_value::<Condition>(v);
        assert!(parse(json!({"field": "a", "equals": 1})).is_ok());
        assert!(parse(json!({"field": "a", "in": [1, 2]})).is_ok());
        assert!(parse(json!({"field": "a", "filled": false})).is_ok());
        assert!(parse(json!({"field": "a"})).is_err());
        assert!(parse(json!({"field": "a", "equals": 1, "in": [1]})).is_err());
        assert!(parse(json!({"field": "a", "is": 1})).is_err());
        let c = Condition {
            field: "a".into(),
            test: Test::In(vec![json!("x")]),
        };
        assert_eq!(
            serde_json::to_value(&c).ok(),
            Some(json!({"field": "a", "in": ["x"]}))
        );
        assert!(c.holds(Some(&json!("x"))));
        assert!(c.holds(Some(&json!(["y", "x"]))));
        assert!(!c.holds(Some(&json!("y"))));
        assert!(!c.holds(None));
    }

    #[test]
    fn every_error_is_collected_in_form_order() {
        let f = form(vec![
            json!({"id": "name", "kind": "text", "required": true}),
            json!({"id": "email", "kind": "email"}),
            json!({"id": "copies", "kind": "integer", "validation": {"min": 1, "max": 5}}),
            json!({"id": "born", "kind": "date", "validation": {"max": "today"}}),
            json!({"id": "scan", "kind": "file", "required": true,
                   "file": {"max_bytes": 10, "mime": ["application/pdf"]}}),
        ]);
        assert_eq!(
            errors(
                &f,
                json!({"email": "nope", "copies": "2", "born": "2030-01-01", "extra": 1}),
                &[]
            ),
            vec![
                pc("data.extra", "unknown-field"),
                pc("data.name", "required"),
                pc("data.email", "invalid-email"),
                pc("data.copies", "wrong-type"),
                pc("data.born", "out-of-range"),
                pc("files.scan", "required"),
            ]
        );
    }

    fn definition_problem(fields: Value) -> String {
        match FormDefinition::deserialize(&json!({ "fields": fields })) {
            Err(e) => panic!("does not even parse: {e}"),
            Ok(f) => check_definition(&f).err().unwrap_or_default(),
        }
    }

    #[test]
    fn broken_definitions_are_explained() {
        let text = |id: &str| json!({"id": id, "kind": "text", "label": "L", "label_en": "L"});
        let with = |mut base: Value, extra: Value| {
            if let (Some(o), Value::Object(extra)) = (base.as_object_mut(), extra) {
                o.extend(extra);
            }
            base
        };
        let choice = json!({"id": "c", "kind": "choice", "label": "C", "label_en": "C",
                            "options": [{"value": "a", "label": "A", "label_en": "A"}]});
        let pdf = json!({"max_bytes": 10, "mime": ["application/pdf"]});
        let cases: Vec<(Value, &str)> = vec![
            (json!([]), "at least one field"),
            (json!([text("Nom")]), "an id is"),
            (json!([text("9a")]), "an id is"),
            (json!([text(&"a".repeat(65))]), "an id is"),
            (json!([text("a"), text("a")]), "used twice"),
            (
                json!([with(text("a"), json!({"label": " "}))]),
                "label and label_en",
            ),
            (
                json!([with(text("a"), json!({"hint": "h"}))]),
                "hint and hint_en",
            ),
            (
                json!([with(choice.clone(), json!({"options": []}))]),
                "needs options",
            ),
            (
                json!([with(
                    choice.clone(),
                    json!({"options": [
                    {"value": "a", "label": "A", "label_en": "A"},
                    {"value": "a", "label": "B", "label_en": "B"}]})
                )]),
                "listed twice",
            ),
            (
                json!([with(
                    choice.clone(),
                    json!({"options": [{"value": " a", "label": "A", "label_en": "A"}]})
                )]),
                "blank or padded",
            ),
            (
                json!([with(text("a"), json!({"options": choice["options"]}))]),
                "has no options",
            ),
            (
                json!([with(text("a"), json!({"kind": "file"}))]),
                "needs file rules",
            ),
            (
                json!([with(text("a"), json!({"file": pdf}))]),
                "has no file rules",
            ),
            (
                json!([with(
                    text("a"),
                    json!({"kind": "file", "file": {"max_bytes": 10, "mime": ["pdf"]}})
                )]),
                "is not a media type",
            ),
            (
                json!([with(
                    text("a"),
                    json!({"kind": "file", "file": {"max_bytes": 0, "mime": ["image/*"]}})
                )]),
                "must be positive",
            ),
            (
                json!([with(
                    text("a"),
                    json!({"kind": "file", "file": {"max_bytes": 9, "mime": []}})
                )]),
                "at least one accepted type",
            ),
            (
                json!([with(text("a"), json!({"kind": "block"}))]),
                "needs sub-fields",
            ),
            (
                json!([with(
                    text("a"),
                    json!({"kind": "block", "fields": [
                    with(text("b"), json!({"kind": "block", "fields": [text("c")]}))]})
                )]),
                "cannot be nested",
            ),
            (
                json!([with(
                    text("a"),
                    json!({"kind": "block", "fields": [
                    with(text("b"), json!({"kind": "file", "file": pdf}))]})
                )]),
                "cannot be inside a block",
            ),
            (
                json!([with(text("a"), json!({"fields": [text("b")]}))]),
                "has no sub-fields",
            ),
            (
                json!([with(text("a"), json!({"min_items": 1}))]),
                "no items to count",
            ),
            (
                json!([with(
                    text("a"),
                    json!({"kind": "block", "fields": [text("b")],
                                              "min_items": 3, "max_items": 2})
                )]),
                "min_items is above",
            ),
            (
                json!([with(
                    text("a"),
                    json!({"kind": "integer", "validation": {"pattern": "[0-9]"}})
                )]),
                "apply to text",
            ),
            (
                json!([with(
                    text("a"),
                    json!({"kind": "integer", "validation": {"min": "today"}})
                )]),
                "does not apply",
            ),
            (
                json!([with(
                    text("a"),
                    json!({"kind": "date", "validation": {"max": 3}})
                )]),
                "does not apply",
            ),
            (
                json!([with(
                    text("a"),
                    json!({"kind": "decimal", "validation": {"min": 3, "max": 2}})
                )]),
                "min is above max",
            ),
            (
                json!([with(
                    text("a"),
                    json!({"kind": "date",
                    "validation": {"min": "2026-02-01", "max": "2026-01-01"}})
                )]),
                "min is after max",
            ),
            (
                json!([with(text("a"), json!({"validation": {"max_length": 0}}))]),
                "max_length must be",
            ),
            (
                json!([with(
                    text("a"),
                    json!({"validation": {"min_length": 5, "max_length": 4}})
                )]),
                "min_length is above",
            ),
            (
                json!([
                    with(text("a"), json!({"when": {"field": "b", "filled": true}})),
                    text("b")
                ]),
                "not an earlier field",
            ),
            (
                json!([with(
                    text("a"),
                    json!({"when": {"field": "a", "filled": true}})
                )]),
                "not an earlier field",
            ),
            (
                json!([
                    with(text("a"), json!({"kind": "file", "file": pdf})),
                    with(text("b"), json!({"when": {"field": "a", "filled": true}}))
                ]),
                "cannot test",
            ),
            (
                json!([
                    choice.clone(),
                    with(text("b"), json!({"when": {"field": "c", "equals": "z"}}))
                ]),
                "can never hold",
            ),
            (
                json!([
                    with(text("a"), json!({"kind": "boolean"})),
                    with(text("b"), json!({"when": {"field": "a", "equals": "true"}}))
                ]),
                "can never hold",
            ),
            (
                json!([
                    choice.clone(),
                    with(text("b"), json!({"when": {"field": "c", "in": []}}))
                ]),
                "needs values",
            ),
        ];
        for (fields, expected) in cases {
            let problem = definition_problem(fields.clone());
            assert!(
                problem.contains(expected),
                "{fields}: expected {expected:?}, got {problem:?}"
            );
        }
        let two = definition_problem(json!([
            text("A"),
            with(text("b"), json!({"options": choice["options"]}))
        ]));
        assert!(
            two.contains("A: an id") && two.contains("; b: a text has no options"),
            "{two}"
        );
        assert_eq!(
            check_definition(&form(vec![
                choice.clone(),
                json!({"id": "b", "kind": "text", "when": {"field": "c", "equals": "a"}})
            ])),
            Ok(())
        );
    }

    #[test]
    fn forms_resolve_by_name_or_inline() {
        let generic = json!({"fields": [{"id": "message", "kind": "long_text",
                                         "label": "Message", "label_en": "Message", "required": true}]});
        let forms = Map::from_iter([
            ("generic".to_owned(), generic.clone()),
            ("broken".to_owned(), json!({"fields": []})),
        ]);
        assert_eq!(resolve_form(&forms, &json!({"code": "a"})), Ok(None));
        assert_eq!(
            resolve_form(&forms, &json!({"code": "a", "form": null})),
            Ok(None)
        );
        let by_name = resolve_form(&forms, &json!({"code": "a", "form": "generic"}));
        let inline = resolve_form(&forms, &json!({"code": "a", "form": generic}));
        assert!(matches!(&by_name, Ok(Some(f)) if f.fields[0].id == "message"));
        assert_eq!(by_name, inline);
        assert!(
            resolve_form(&forms, &json!({"code": "a", "form": "nope"}))
                .is_err_and(|e| e.contains("no shared form named \"nope\""))
        );
        assert!(
            resolve_form(&forms, &json!({"code": "a", "form": "broken"}))
                .is_err_and(|e| e.starts_with("a: "))
        );
        assert!(resolve_form(&forms, &json!({"code": "a", "form": 3})).is_err());
        assert!(
            resolve_form(
                &forms,
                &json!({"code": "a", "form": {"fields": [], "x": 1}})
            )
            .is_err()
        );
    }

    fn booking_form() -> FormDefinition {
        form(vec![
            json!({"id": "name", "kind": "text", "required": true}),
            json!({"id": "event_date", "kind": "date", "required": true,
                   "validation": {"min": "today+2"}}),
            json!({"id": "event_type", "kind": "choice", "required": true,
                   "options": options(&["festive", "meeting"])}),
            json!({"id": "alcohol_license", "kind": "boolean", "required": true,
                   "when": {"field": "event_type", "equals": "festive"}}),
            json!({"id": "plan", "kind": "file",
                   "file": {"max_bytes": 100, "mime": ["application/pdf"]}}),
        ])
    }

    fn stored_booking() -> Map<String, Value> {
        // Filed a week ago, when the 15th was still more than two days ahead.
        Map::from_iter([
            ("name".to_owned(), json!("Asso")),
            ("event_date".to_owned(), json!("2026-03-15")),
            ("event_type".to_owned(), json!("meeting")),
        ])
    }

    #[test]
    fn a_complement_changes_only_the_fields_asked_for() {
        let f = booking_form();
        let stored = stored_booking();
        let plan = file("plan", "application/pdf", 50);
        let allowed = vec!["name".to_owned()];
        let c = Complement {
            stored: &stored,
            stored_files: std::slice::from_ref(&plan),
            answer: &json!({"name": " Asso du quartier "}),
            new_files: &[],
            allowed: &allowed,
        };
        let done = validate_complement(&f, &c, TODAY).unwrap_or_else(|e| panic!("{e:?}"));
        // The stored date no longer meets "today+2" but was accepted at filing: kept.
        assert_eq!(
            done.data,
            Map::from_iter([
                ("name".to_owned(), json!("Asso du quartier")),
                ("event_date".to_owned(), json!("2026-03-15")),
                ("event_type".to_owned(), json!("meeting")),
            ])
        );
        assert_eq!(done.files, vec![plan.clone()]);

        let c = Complement {
            answer: &json!({"event_date": "2026-04-01", "name": null}),
            ..c
        };
        let e = validate_complement(&f, &c, TODAY).err().unwrap_or_default();
        let e: Vec<_> = e.into_iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(
            e,
            vec![
                pc("data.event_date", "field-not-editable"),
                pc("data.name", "required")
            ]
        );

        let c = Complement {
            answer: &json!({}),
            new_files: &[file("plan", "application/pdf", 60)],
            ..c
        };
        let e = validate_complement(&f, &c, TODAY).err().unwrap_or_default();
        assert_eq!(
            e.into_iter().map(|e| (e.field, e.code)).collect::<Vec<_>>(),
            vec![pc("files.plan", "field-not-editable")]
        );
    }

    #[test]
    fn a_complement_may_fill_the_fields_its_change_makes_required() {
        let f = booking_form();
        let stored = stored_booking();
        let allowed = vec!["event_type".to_owned(), "plan".to_owned()];
        assert_eq!(
            editable_fields(&f, &allowed),
            vec!["event_type", "alcohol_license", "plan"]
        );
        let new_plan = file("plan", "application/pdf", 70);
        let old_plan = file("plan", "application/pdf", 50);
        let c = Complement {
            stored: &stored,
            stored_files: std::slice::from_ref(&old_plan),
            answer: &json!({"event_type": "festive"}),
            new_files: std::slice::from_ref(&new_plan),
            allowed: &allowed,
        };
        let e = validate_complement(&f, &c, TODAY).err().unwrap_or_default();
        assert_eq!(
            e.into_iter().map(|e| (e.field, e.code)).collect::<Vec<_>>(),
            vec![pc("data.alcohol_license", "required")]
        );
        let c = Complement {
            answer: &json!({"event_type": "festive", "alcohol_license": true}),
            ..c
        };
        let done = validate_complement(&f, &c, TODAY).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(done.data.get("alcohol_license"), Some(&json!(true)));
        assert_eq!(done.files, vec![new_plan]);
    }

    #[test]
    fn a_complement_drops_the_files_its_answer_makes_irrelevant() {
        let f = files_form();
        let stored = Map::from_iter([("has_proof".to_owned(), json!(true))]);
        let stored_files = [
            file("cv", "application/pdf", 10),
            file("proof", "application/pdf", 10),
        ];
        let allowed = vec!["has_proof".to_owned()];
        let c = Complement {
            stored: &stored,
            stored_files: &stored_files,
            answer: &json!({"has_proof": false}),
            new_files: &[],
            allowed: &allowed,
        };
        let done = validate_complement(&f, &c, TODAY).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(done.files, vec![stored_files[0].clone()]);
        assert_eq!(done.data.get("has_proof"), Some(&json!(false)));
    }

    #[test]
    fn merging_a_complement_by_hand() {
        let stored = Map::from_iter([("a".to_owned(), json!(1)), ("b".to_owned(), json!(2))]);
        let allowed = vec!["a".to_owned(), "c".to_owned()];
        assert_eq!(
            merge_complement(&stored, &json!({"a": 3, "c": null}), &allowed),
            Ok(Map::from_iter([
                ("a".to_owned(), json!(3)),
                ("b".to_owned(), json!(2))
            ]))
        );
        let e = merge_complement(&stored, &json!({"b": 3}), &allowed)
            .err()
            .unwrap_or_default();
        assert_eq!(
            e.into_iter().map(|e| (e.field, e.code)).collect::<Vec<_>>(),
            vec![pc("data.b", "field-not-editable")]
        );
        assert!(
            merge_complement(&stored, &json!([1]), &allowed)
                .is_err_and(|e| e[0].code == "wrong-type")
        );
        let old = [
            file("a", "application/pdf", 1),
            file("b", "application/pdf", 2),
        ];
        let new = [
            file("a", "application/pdf", 3),
            file("a", "application/pdf", 4),
        ];
        assert_eq!(
            merge_complement_files(&old, &new, &allowed),
            Ok(vec![old[1].clone(), new[0].clone(), new[1].clone()])
        );
        assert!(merge_complement_files(&old, &[file("b", "x/y", 1)], &allowed).is_err());
    }

    #[test]
    fn personal_values_are_stripped() {
        let f = form(vec![
            json!({"id": "name", "kind": "text", "personal": true}),
            json!({"id": "message", "kind": "long_text"}),
            json!({"id": "people", "kind": "block", "fields": [
                {"id": "first_name", "kind": "text", "personal": true},
                {"id": "age_group", "kind": "text"}]}),
        ]);
        let data = valid(
            &f,
            json!({"name": "Jeanne", "message": "Bonjour",
                   "people": [{"first_name": "Paul", "age_group": "adulte"}]}),
        );
        let mut with_stray = data.clone();
        with_stray.insert("stray".into(), json!(1));
        assert_eq!(
            Value::Object(strip_personal(&f, &with_stray)),
            json!({"message": "Bonjour", "people": [{"age_group": "adulte"}]})
        );
        assert_eq!(field_ids(&f), vec!["name", "message", "people"]);
    }

    fn zip_entry(name: &[u8], content: &[u8]) -> Vec<u8> {
        let mut v = b"PK\x03\x04".to_vec();
        v.extend([20, 0, 0, 0, 0, 0]); // version, flags, method: stored
        v.extend([0; 8]); // time, date, crc
        v.extend((content.len() as u32).to_le_bytes());
        v.extend((content.len() as u32).to_le_bytes());
        v.extend((name.len() as u16).to_le_bytes());
        v.extend([0, 0]);
        v.extend(name);
        v.extend(content);
        v
    }

    #[test]
    fn media_types_are_sniffed_from_the_bytes() {
        assert_eq!(sniff_mime(b"%PDF-1.7\n%\xe2\xe3"), Some("application/pdf"));
        assert_eq!(
            sniff_mime(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some("image/jpeg")
        );
        assert_eq!(
            sniff_mime(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some("image/png")
        );
        assert_eq!(sniff_mime(b"GIF89a\x01\0\x01\0"), Some("image/gif"));
        assert_eq!(sniff_mime(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_mime(b"RIFF\x24\0\0\0WAVEfmt "), None);
        assert_eq!(
            sniff_mime(b"\0\0\0\x18ftypheic\0\0\0\0"),
            Some("image/heic")
        );
        assert_eq!(
            sniff_mime(b"\0\0\0\x18ftypmif1\0\0\0\0"),
            Some("image/heif")
        );
        assert_eq!(
            sniff_mime(b"\0\0\0\x1cftypavif\0\0\0\0"),
            Some("image/avif")
        );
        assert_eq!(sniff_mime(b"\0\0\0\x18ftypisom\0\0\0\0"), None);

        let odt = zip_entry(b"mimetype", b"application/vnd.oasis.opendocument.text");
        assert_eq!(
            sniff_mime(&odt),
            Some("application/vnd.oasis.opendocument.text")
        );
        let ods = zip_entry(
            b"mimetype",
            b"application/vnd.oasis.opendocument.spreadsheet",
        );
        assert_eq!(
            sniff_mime(&ods),
            Some("application/vnd.oasis.opendocument.spreadsheet")
        );
        let epub = zip_entry(b"mimetype", b"application/epub+zip");
        assert_eq!(sniff_mime(&epub), Some("application/zip"));
        let mut docx = zip_entry(b"[Content_Types].xml", b"<Types/>");
        docx.extend(zip_entry(b"word/document.xml", b"<w:document/>"));
        assert_eq!(
            sniff_mime(&docx),
            Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        );
        let mut xlsx = zip_entry(b"[Content_Types].xml", b"<Types/>");
        xlsx.extend(zip_entry(b"xl/workbook.xml", b"<workbook/>"));
        assert_eq!(
            sniff_mime(&xlsx),
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        );
        assert_eq!(
            sniff_mime(&zip_entry(b"a.txt", b"hi")),
            Some("application/zip")
        );
        // A truncated header must not panic.
        assert_eq!(sniff_mime(b"PK\x03\x04\x14"), Some("application/zip"));

        assert_eq!(
            sniff_mime("Bonjour,\r\nça va ?\tOui.\n".as_bytes()),
            Some("text/plain")
        );
        let cut = "café".as_bytes();
        assert_eq!(sniff_mime(&cut[..cut.len() - 1]), Some("text/plain"));
        assert_eq!(sniff_mime(b"abc\0def"), None);
        assert_eq!(sniff_mime(b"caf\xe9 noir"), None);
        assert_eq!(sniff_mime(&[0x01, 0x02, 0x03]), None);
        assert_eq!(sniff_mime(b""), None);
    }

    const CATALOGUE: &str = include_str!("../../assets/catalogue.json");

    fn catalogue() -> Value {
        serde_json::from_str(CATALOGUE).unwrap_or_else(|e| panic!("catalogue: {e}"))
    }

    fn catalogue_form(code: &str) -> FormDefinition {
        let catalogue = catalogue();
        let forms = catalogue["forms"].as_object().cloned().unwrap_or_default();
        let entry = catalogue["demarches"]
            .as_array()
            .and_then(|ds| ds.iter().find(|d| d["code"] == code))
            .unwrap_or_else(|| panic!("no démarche {code}"));
        match resolve_form(&forms, entry) {
            Ok(Some(f)) => f,
            other => panic!("{code}: {other:?}"),
        }
    }

    #[test]
    fn every_form_of_the_catalogue_is_valid_and_used() {
        let catalogue = catalogue();
        let forms = catalogue["forms"].as_object().cloned().unwrap_or_default();
        for (name, definition) in &forms {
            if let Err(e) = parse_definition(definition) {
                panic!("shared form {name}: {e}");
            }
        }
        let demarches = catalogue["demarches"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(demarches.len() > 90);
        let mut with_form = 0;
        let mut specific = Vec::new();
        let mut used = Vec::new();
        for d in &demarches {
            let code = d["code"].as_str().unwrap_or_default();
            let workflow = d["workflow"].as_str().unwrap_or_default();
            assert!(
                ["report", "decision", "delivery", "answer"].contains(&workflow),
                "{code}: workflow {workflow:?}"
            );
            assert!(crate::workflow::template(workflow).is_some(), "{code}");
            // Incidents in public space follow the report template, and nothing else does.
            assert_eq!(d["group"] == "signalement", workflow == "report", "{code}");
            let form = match resolve_form(&forms, d) {
                Ok(f) => f,
                Err(e) => panic!("{e}"),
            };
            if let Some(form) = form {
                with_form += 1;
                if d["geolocated"] == true {
                    assert!(
                        form.fields
                            .iter()
                            .any(|f| f.kind == Kind::GeoPoint && f.required && f.when.is_none()),
                        "{code}: a geolocated démarche asks for a point"
                    );
                }
            }
            match &d["form"] {
                Value::String(name) => {
                    used.push(name.clone());
                    if name != "generic" {
                        specific.push(code.to_owned());
                    }
                }
                Value::Object(_) => specific.push(code.to_owned()),
                _ => {}
            }
        }
        assert!(with_form >= 12, "{with_form} démarches have a form");
        for name in forms.keys() {
            assert!(
                used.contains(name),
                "shared form {name} is used by no démarche"
            );
        }
        for code in [
            "voirie",
            "tags-graffitis",
            "depot-sauvage",
            "eclairage-public",
            "mobilier-urbain",
            "espaces-verts",
            "encombrants-abandonnes",
            "proprete",
            "signalisation",
            "autre-anomalie",
            "enlevement-tags",
            "enlevement-encombrants",
            "acte-naissance",
            "acte-mariage",
            "acte-deces",
            "occupation-voirie-demenagement",
            "demande-contact",
            "rendez-vous-passeport-cni",
            "candidature-spontanee",
            "reponse-offre-emploi",
            "location-salles",
            "declaration-chien-dangereux",
            "inscription-listes-electorales",
            "objet-perdu",
        ] {
            assert!(
                specific.iter().any(|c| c == code),
                "{code} has no form of its own"
            );
        }
    }

    fn check_catalogue(
        code: &str,
        data: Value,
        files: &[FileMeta],
    ) -> Result<Map<String, Value>, Vec<(String, &'static str)>> {
        validate(&catalogue_form(code), &data, files, TODAY)
            .map_err(|e| e.into_iter().map(|e| (e.field, e.code)).collect())
    }

    #[test]
    fn the_anomaly_form_takes_a_phone_report() {
        let point = json!({"lat": 48.1113, "lon": -1.68, "accuracy_m": 6});
        let photo = file("photos", "image/jpeg", 2 * 1024 * 1024);
        let out = check_catalogue(
            "voirie",
            json!({"location": point, "description": "Nid-de-poule devant le 12",
                   "contact_email": "a@rennes.fr"}),
            std::slice::from_ref(&photo),
        );
        assert!(out.is_ok(), "{out:?}");
        assert_eq!(
            check_catalogue("voirie", json!({"description": "?"}), &[]),
            Err(vec![pc("data.location", "required")])
        );
        let six = vec![photo; 6];
        assert_eq!(
            check_catalogue("tags-graffitis", json!({"location": point}), &six),
            Err(vec![pc("files.photos", "too-many-files")])
        );
        assert_eq!(
            check_catalogue(
                "tags-graffitis",
                json!({"location": point}),
                &[file("photos", "image/heic", 10)]
            ),
            Err(vec![pc("files.photos", "file-type-not-allowed")])
        );
    }

    #[test]
    fn the_room_booking_asks_about_alcohol_only_for_festive_events() {
        let mut booking = json!({
            "room": "neighbourhood_hall", "event_date": "2026-04-18",
            "start_time": "18:30", "end_time": "23:59", "event_type": "meeting",
            "attendance": 40, "purpose": "Assemblée générale de l'association",
            "organiser_kind": "association", "organisation_name": "Les Amis du Thabor",
            "contact_phone": "02 99 00 00 00"
        });
        let insurance = [file("insurance_certificate", "application/pdf", 100_000)];
        assert!(check_catalogue("location-salles", booking.clone(), &insurance).is_ok());
        booking["event_type"] = json!("festive");
        booking["event_date"] = json!("2026-03-17");
        booking["start_time"] = json!("18h30");
        assert_eq!(
            check_catalogue("location-salles", booking.clone(), &insurance),
            Err(vec![
                pc("data.event_date", "out-of-range"),
                pc("data.start_time", "invalid-format"),
                pc("data.alcohol_license", "required"),
            ])
        );
    }

    #[test]
    fn the_bulky_pickup_checks_its_items_and_its_date() {
        let data = json!({
            "address": {"text": "12 rue de Saint-Malo", "postcode": "35000", "city": "Rennes"},
            "items": [{"kind": "furniture", "quantity": 11}, {"kind": "bedding", "quantity": 1}],
            "preferred_date": "2026-03-15", "preferred_slot": "morning",
            "last_name": "Martin", "first_name": "Léa", "contact_phone": "0612345678"
        });
        assert_eq!(
            check_catalogue("enlevement-encombrants", data, &[]),
            Err(vec![
                pc("data.items[0].quantity", "out-of-range"),
                pc("data.preferred_date", "out-of-range"),
            ])
        );
    }

    #[test]
    fn the_electoral_roll_needs_16_years_and_asks_eu_citizens_more() {
        let mut data = json!({
            "last_name": "Rossi", "first_names": "Giulia", "sex": "female",
            "birth_date": "2010-03-15", "birth_place": "Torino", "birth_country": "Italie",
            "nationality": "eu", "link_to_commune": "resident", "address": "3 quai Lamartine"
        });
        let docs = [
            file("identity_document", "image/jpeg", 1000),
            file("proof_of_address", "application/pdf", 1000),
        ];
        assert_eq!(
            check_catalogue("inscription-listes-electorales", data.clone(), &docs),
            Err(vec![
                pc("data.birth_date", "out-of-range"),
                pc("data.eu_country", "required"),
                pc("data.eu_elections", "required"),
            ])
        );
        data["birth_date"] = json!("2010-03-14");
        data["nationality"] = json!("french");
        assert!(check_catalogue("inscription-listes-electorales", data, &docs).is_ok());
    }

    #[test]
    fn the_dangerous_dog_declaration_wants_sterilisation_for_category_1() {
        let mut data = json!({
            "owner_last_name": "Durand", "owner_first_name": "Marc", "owner_birth_date": "1980-05-02",
            "owner_address": "5 rue d'Antrain", "contact_phone": "+33 6 12 34 56 78",
            "dog_name": "Rex", "breed_category": "2", "breed": "Rottweiler", "dog_sex": "male",
            "identification_number": "250268712345678", "rabies_vaccination_date": "2025-06-01",
            "behaviour_assessment_date": "2025-07-01"
        });
        let mut docs = vec![
            file("vaccination_certificate", "application/pdf", 1000),
            file("behaviour_assessment", "application/pdf", 1000),
            file("insurance_certificate", "application/pdf", 1000),
            file("aptitude_certificate", "image/png", 1000),
        ];
        assert!(check_catalogue("declaration-chien-dangereux", data.clone(), &docs).is_ok());
        data["breed_category"] = json!("1");
        data["identification_number"] = json!("12345");
        assert_eq!(
            check_catalogue("declaration-chien-dangereux", data.clone(), &docs),
            Err(vec![
                pc("data.identification_number", "invalid-format"),
                pc("files.sterilisation_certificate", "required"),
            ])
        );
        data["identification_number"] = json!("ABC 123");
        docs.push(file("sterilisation_certificate", "application/pdf", 1000));
        assert!(check_catalogue("declaration-chien-dangereux", data, &docs).is_ok());
    }

    #[test]
    fn certificate_requests_ask_for_parents_only_with_filiation() {
        let mut data = json!({
            "copy_type": "extract", "requester_relationship": "self",
            "person_last_name": "Le Goff", "person_first_names": "Yann Marie",
            "birth_date": "1990-07-14", "birth_place": "Rennes", "copies": 2,
            "recipient_name": "Yann Le Goff", "delivery_address": "8 place de Bretagne, 35000 Rennes"
        });
        assert!(check_catalogue("acte-naissance", data.clone(), &[]).is_ok());
        data["copy_type"] = json!("full");
        data["copies"] = json!(6);
        assert_eq!(
            check_catalogue("acte-naissance", data, &[]),
            Err(vec![
                pc("data.parent_1_name", "required"),
                pc("data.copies", "out-of-range")
            ])
        );
        assert_eq!(
            check_catalogue(
                "acte-mariage",
                json!({"copy_type": "extract", "requester_relationship": "spouse",
                       "spouses": [{"last_name": "A", "first_names": "B"}],
                       "marriage_date": "2030-01-01", "marriage_place": "Rennes", "copies": 1,
                       "recipient_name": "B A", "delivery_address": "1 rue X"}),
                &[]
            ),
            Err(vec![
                pc("data.spouses", "too-few-items"),
                pc("data.marriage_date", "out-of-range")
            ])
        );
    }

    #[test]
    fn the_contact_form_asks_for_a_phone_only_for_a_call_back() {
        let mut data = json!({
            "subject": "information", "message": "Quels sont les horaires de la mairie ?",
            "last_name": "Petit", "first_name": "Jean", "contact_email": "jean@exemple.fr",
            "reply_channel": "phone"
        });
        assert_eq!(
            check_catalogue("demande-contact", data.clone(), &[]),
            Err(vec![pc("data.contact_phone", "required")])
        );
        data["reply_channel"] = json!("email");
        assert!(check_catalogue("demande-contact", data, &[]).is_ok());
    }
}
