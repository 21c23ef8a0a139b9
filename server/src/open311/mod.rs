//! Open311 GeoReport v2: how démarches, their forms and their requests look to an
//! integrator, and how an integrator's filing becomes a submission of the one pipeline.
//!
//! # Forms as service definitions
//!
//! GeoReport carries some things as core parameters of `POST requests`; the form fields that
//! hold them take these values and are not attributes:
//!
//! | core parameter | form field |
//! |---|---|
//! | `lat`, `long` | the first `geo_point` |
//! | `address_string` | the first `address` (else a `landmark` text field) |
//! | `description` | the first `long_text` |
//! | `email`, `phone` | the first `email`, the first `phone` |
//! | `first_name`, `last_name` | the fields `first_name` and `last_name`, or `contact_name` |
//! | `media` (uploaded) | the first photo field (images only, not personal) |
//!
//! Every other field is an attribute (`attribute[<field id>]`): text and e-mail and phone
//! fields are `string`, long text is `text`, numbers are `number`, dates `datetime`, choices
//! `singlevaluelist`, multi-choices `multivaluelist`, tick boxes a two-value list (`true`,
//! `false`), other addresses `string`. What cannot be expressed (files, other places,
//! repeatable blocks) is left out when optional; a démarche that requires such a field is not
//! offered at all. A field required only under a condition is listed as not required; the
//! pipeline's checks still apply it.

pub mod xml;

use guichet_shared::forms::{Field, FormDefinition, Kind};
use guichet_shared::phase::{Lang, Phase};
use serde_json::{Map, Value, json};

use crate::pipeline::form::first_of_kind;
use crate::pipeline::submit::RequestContact;

/// Which form fields hold GeoReport's core parameters.
#[derive(Debug, Default, Clone)]
pub struct Core<'a> {
    pub point: Option<&'a str>,
    pub address: Option<&'a str>,
    pub description: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub full_name: Option<&'a str>,
    pub photos: Option<&'a str>,
}

impl<'a> Core<'a> {
    pub fn of(form: &'a FormDefinition) -> Core<'a> {
        let with_id = |id: &str| {
            form.fields
                .iter()
                .find(|f| f.id == id && f.kind == Kind::Text)
                .map(|f| f.id.as_str())
        };
        Core {
            point: first_of_kind(form, Kind::GeoPoint),
            address: first_of_kind(form, Kind::Address).or_else(|| with_id("landmark")),
            description: first_of_kind(form, Kind::LongText),
            email: first_of_kind(form, Kind::Email),
            phone: first_of_kind(form, Kind::Phone),
            first_name: with_id("first_name"),
            last_name: with_id("last_name"),
            full_name: with_id("contact_name"),
            photos: form
                .fields
                .iter()
                .find(|f| is_photo_field(f))
                .map(|f| f.id.as_str()),
        }
    }

    fn holds(&self, id: &str) -> bool {
        [
            self.point,
            self.address,
            self.description,
            self.email,
            self.phone,
            self.first_name,
            self.last_name,
            self.full_name,
            self.photos,
        ]
        .contains(&Some(id))
    }
}

fn is_photo_field(f: &Field) -> bool {
    f.kind == Kind::File
        && !f.personal
        && f.file
            .as_ref()
            .is_some_and(|r| !r.mime.is_empty() && r.mime.iter().all(|m| m.starts_with("image/")))
}

/// GeoReport's datatype of a field that is an attribute; `None`: not expressible.
fn datatype(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::Text | Kind::Email | Kind::Phone | Kind::Address => "string",
        Kind::LongText => "text",
        Kind::Integer | Kind::Decimal => "number",
        Kind::Date | Kind::Datetime => "datetime",
        Kind::Boolean | Kind::Choice => "singlevaluelist",
        Kind::MultiChoice => "multivaluelist",
        Kind::File | Kind::GeoPoint | Kind::Block => return None,
    })
}

/// The attributes of a form, in GeoReport's shape; `None` when a required field cannot be
/// expressed (the démarche is then not offered).
pub fn attributes(form: &FormDefinition, lang: Lang) -> Option<Vec<Value>> {
    let core = Core::of(form);
    let mut out = Vec::new();
    for field in &form.fields {
        if core.holds(&field.id) {
            continue;
        }
        let Some(datatype) = datatype(field.kind) else {
            if field.required {
                return None;
            }
            continue;
        };
        let values: Vec<Value> = match field.kind {
            Kind::Boolean => match lang {
                Lang::Fr => vec![
                    json!({"key": "true", "name": "Oui"}),
                    json!({"key": "false", "name": "Non"}),
                ],
                Lang::En => vec![
                    json!({"key": "true", "name": "Yes"}),
                    json!({"key": "false", "name": "No"}),
                ],
            },
            Kind::Choice | Kind::MultiChoice => field
                .options
                .iter()
                .map(|o| {
                    let name = match lang {
                        Lang::Fr => &o.label,
                        Lang::En => &o.label_en,
                    };
                    json!({"key": o.value, "name": name})
                })
                .collect(),
            _ => Vec::new(),
        };
        let mut attribute = json!({
            "variable": true,
            "code": field.id,
            "datatype": datatype,
            "required": field.required && field.when.is_none(),
            "datatype_description": field.hint_in(lang),
            "order": out.len() + 1,
            "description": field.label_in(lang),
        });
        if !values.is_empty() {
            attribute["values"] = Value::Array(values);
        }
        out.push(attribute);
    }
    Some(out)
}

/// A service of `GET services`, in `lang` (English texts fall back to the French ones a
/// revision lacks); `None` when the démarche cannot be filed through GeoReport.
pub fn service(row: &crate::db::open311::ServiceRow, lang: Lang) -> Option<Value> {
    let form = crate::pipeline::form::parse(&row.code, row.form.as_ref()).ok()?;
    let attributes = attributes(&form, lang)?;
    Some(json!({
        "service_code": row.code,
        "service_name": in_lang(lang, &row.title, &row.title_en),
        "description": in_lang(lang, &row.description, &row.description_en),
        "metadata": !attributes.is_empty(),
        "type": "realtime",
        "keywords": keywords_in(lang, &row.keywords, &row.keywords_en).join(","),
        "group": in_lang(lang, &row.group_title, &row.group_title_en),
    }))
}

/// The English text when asked for and present, the French one otherwise.
fn in_lang<'a>(lang: Lang, fr: &'a str, en: &'a str) -> &'a str {
    match lang {
        Lang::En if !en.trim().is_empty() => en,
        _ => fr,
    }
}

fn keywords_in<'a>(lang: Lang, fr: &'a [String], en: &'a [String]) -> &'a [String] {
    match lang {
        Lang::En if !en.is_empty() => en,
        _ => fr,
    }
}

/// `open` or `closed`, from a public phase.
pub fn status(phase: &str) -> &'static str {
    match Phase::parse(phase) {
        Some(p) if p.is_open() => "open",
        _ => "closed",
    }
}

/// The integrator's answers to the form's questions, read from a `POST requests`.
#[derive(Debug, Default, Clone)]
pub struct Posted {
    pub lat: Option<String>,
    pub long: Option<String>,
    pub address_string: Option<String>,
    pub description: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `attribute[code]` (and `attribute[code][]`), in the order given.
    pub attributes: Vec<(String, String)>,
}

/// What is wrong with a filing: `(parameter, message)` pairs.
pub type PostedErrors = Vec<(String, String)>;

/// The form data and contact of a filing.
pub fn form_data(
    form: &FormDefinition,
    posted: &Posted,
) -> Result<(Map<String, Value>, RequestContact), PostedErrors> {
    let core = Core::of(form);
    let mut data = Map::new();
    let mut errors = Vec::new();
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    match (given(&posted.lat), given(&posted.long)) {
        (Some(lat), Some(lon)) => match (number(&lat), number(&lon)) {
            (Some(lat), Some(lon)) => {
                if let Some(id) = core.point {
                    data.insert(id.to_owned(), json!({"lat": lat, "lon": lon}));
                }
            }
            _ => errors.push(("lat".to_owned(), "lat and long must be numbers".to_owned())),
        },
        (None, None) => {}
        _ => errors.push((
            "lat".to_owned(),
            "lat and long go together: give both or neither".to_owned(),
        )),
    }
    let mut put = |id: Option<&str>, value: Option<String>| {
        if let (Some(id), Some(value)) = (id, value) {
            data.insert(id.to_owned(), Value::String(value));
        }
    };
    put(core.address, given(&posted.address_string));
    put(core.description, given(&posted.description));
    put(core.email, given(&posted.email));
    put(core.phone, given(&posted.phone));
    put(core.first_name, given(&posted.first_name));
    put(core.last_name, given(&posted.last_name));
    let full_name = match (given(&posted.first_name), given(&posted.last_name)) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (f, l) => f.or(l),
    };
    put(core.full_name, full_name.clone());
    let contact = RequestContact {
        name: full_name,
        email: given(&posted.email),
        phone: given(&posted.phone),
    };

    for (code, _) in &posted.attributes {
        let known = form
            .fields
            .iter()
            .any(|f| &f.id == code && !core.holds(code) && datatype(f.kind).is_some());
        if !known {
            errors.push((
                format!("attribute[{code}]"),
                "not an attribute of this service; see its service definition".to_owned(),
            ));
        }
    }
    for field in &form.fields {
        if core.holds(&field.id) || datatype(field.kind).is_none() {
            continue;
        }
        let values: Vec<&str> = posted
            .attributes
            .iter()
            .filter(|(code, _)| code == &field.id)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            continue;
        }
        match attribute_value(field.kind, &values) {
            Ok(v) => {
                data.insert(field.id.clone(), v);
            }
            Err(message) => errors.push((format!("attribute[{}]", field.id), message)),
        }
    }
    if errors.is_empty() {
        Ok((data, contact))
    } else {
        Err(errors)
    }
}

fn number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// An attribute's value as the form engine expects it for the field's kind.
fn attribute_value(kind: Kind, values: &[&str]) -> Result<Value, String> {
    if kind == Kind::MultiChoice {
        let items: Vec<Value> = values
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| Value::String(v.to_owned()))
            .collect();
        return Ok(Value::Array(items));
    }
    let [value] = values else {
        return Err("given more than once".to_owned());
    };
    let value = *value;
    Ok(match kind {
        Kind::Integer => Value::from(
            value
                .parse::<i64>()
                .map_err(|_| "expected a whole number".to_owned())?,
        ),
        Kind::Decimal => number(value)
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| "expected a number".to_owned())?,
        Kind::Boolean => match value.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "oui" | "on" => Value::Bool(true),
            "false" | "0" | "no" | "non" | "off" => Value::Bool(false),
            _ => return Err("expected true or false".to_owned()),
        },
        // A datetime answers a date question by its day.
        Kind::Date => match value.get(..10) {
            Some(day) if value.len() == 10 || value[10..].starts_with(['T', 't', ' ']) => {
                Value::String(day.to_owned())
            }
            _ => return Err("expected a date, YYYY-MM-DD or an ISO 8601 date and time".into()),
        },
        _ => Value::String(value.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: Value) -> FormDefinition {
        serde_json::from_value(json!({ "fields": fields })).unwrap()
    }

    fn field(id: &str, kind: &str, required: bool) -> Value {
        json!({"id": id, "kind": kind, "label": id, "label_en": id, "required": required})
    }

    #[test]
    fn core_fields_are_no_attributes_and_the_rest_map_to_datatypes() {
        let f = form(json!([
            field("location", "geo_point", true),
            field("description", "long_text", false),
            field("contact_email", "email", false),
            field("count", "integer", true),
            field("when", "date", false),
            field("lit", "boolean", false),
            {"id": "kind", "kind": "choice", "label": "k", "label_en": "k",
             "options": [{"value": "a", "label": "A", "label_en": "A"}]},
        ]));
        let attrs = attributes(&f, Lang::En).unwrap();
        let codes: Vec<&str> = attrs.iter().map(|a| a["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["count", "when", "lit", "kind"]);
        assert_eq!(attrs[0]["datatype"], "number");
        assert_eq!(attrs[0]["required"], true);
        assert_eq!(attrs[0]["order"], 1);
        assert_eq!(attrs[1]["datatype"], "datetime");
        assert_eq!(attrs[2]["values"][0]["key"], "true");
        assert_eq!(attrs[3]["datatype"], "singlevaluelist");
    }

    #[test]
    fn a_required_file_or_block_is_not_offered() {
        let f = form(json!([field("proof", "file", true)]));
        assert!(attributes(&f, Lang::Fr).is_none());
    }

    #[test]
    fn posted_values_become_form_data() {
        let f = form(json!([
            field("location", "geo_point", true),
            field("count", "integer", true),
            field("lit", "boolean", false),
            field("contact_name", "text", false),
        ]));
        let posted = Posted {
            lat: Some("48.11".into()),
            long: Some("-1.68".into()),
            first_name: Some("Ada".into()),
            last_name: Some("L".into()),
            attributes: vec![("count".into(), "3".into()), ("lit".into(), "false".into())],
            ..Posted::default()
        };
        let (data, contact) = form_data(&f, &posted).unwrap();
        assert_eq!(data["location"], json!({"lat": 48.11, "lon": -1.68}));
        assert_eq!(data["count"], 3);
        assert_eq!(data["lit"], false);
        assert_eq!(data["contact_name"], "Ada L");
        assert_eq!(contact.name.as_deref(), Some("Ada L"));
        let bad = Posted {
            attributes: vec![("nope".into(), "1".into()), ("count".into(), "x".into())],
            ..Posted::default()
        };
        assert_eq!(form_data(&f, &bad).unwrap_err().len(), 2);
    }
}
