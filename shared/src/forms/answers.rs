//! The checks of submitted data (`data` and the uploads' descriptions) against a definition,
//! and the normalised values they give back.

use std::collections::HashMap;

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

use super::definition::{Bound, Field, FormDefinition, Kind, Rules, parse_date};
use super::files::FileMeta;
use super::phone::normalise_phone;
use super::{DEFAULT_LONG_TEXT_MAX_CHARS, DEFAULT_TEXT_MAX_CHARS, MAX_CITY_CHARS, MAX_ID_CHARS};
use crate::validation::{
    FieldError, MAX_ACCURACY_M, MAX_ADDRESS_CHARS, MAX_EMAIL_CHARS, is_plausible_email,
};

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

/// [`validate`]'s work: the normalised data and the errors side by side, for the complement,
/// which keeps the stored values of the fields the citizen may not change.
pub(super) fn check(
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

pub(super) struct Checker<'a> {
    today: Date,
    pub(super) files: &'a [FileMeta],
    pub(super) errors: Vec<FieldError>,
}

/// Keys are echoed in error paths; an absurd key must not make an absurd answer.
pub(super) fn shown_key(key: &str) -> String {
    if key.chars().count() <= MAX_ID_CHARS {
        key.to_owned()
    } else {
        let mut s: String = key.chars().take(MAX_ID_CHARS).collect();
        s.push('…');
        s
    }
}

impl Checker<'_> {
    pub(super) fn err(
        &mut self,
        path: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) {
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
            Ok(n) => Checked::Valid(Value::String(n)),
            Err(e) => {
                self.errors.push(e.field_error(path));
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::*;
    use super::super::{DEFAULT_MAX_ITEMS, field_ids, parse_definition};
    use super::*;

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
}
