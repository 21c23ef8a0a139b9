//! The definition of a form: its fields, their kinds, rules and options, read from the
//! catalogue and checked once when it loads ([`check_definition`]).

use std::fmt;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::macros::format_description;
use time::{Date, Duration};

use super::conditions::{Condition, check_condition};
use super::{DEFAULT_MAX_ITEMS, MAX_ID_CHARS, MAX_TEXT_CHARS};
use crate::phase::Lang;

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

    pub(super) fn rules(&self) -> &Rules {
        self.validation.as_ref().unwrap_or(&NO_RULES)
    }

    pub(super) fn max_items(&self) -> usize {
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

pub(super) fn parse_date(s: &str) -> Option<Date> {
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

/// The ids of the top-level fields, in order: what an agent may ask a citizen to correct.
pub fn field_ids(form: &FormDefinition) -> Vec<&str> {
    form.fields.iter().map(|f| f.id.as_str()).collect()
}

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

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::date;

    use super::super::test_support::*;
    use super::*;

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
}
