//! Helpers for the forms' unit tests: small definitions built from JSON, and short ways to
//! read what a check gave back.

use serde_json::{Map, Value, json};
use time::Date;
use time::macros::date;

use super::{FileMeta, FormDefinition, parse_definition, validate};

pub(super) const TODAY: Date = date!(2026 - 03 - 14);

/// Gives a field (and its sub-fields) labels, which most tests do not care about.
pub(super) fn labelled(mut v: Value) -> Value {
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

pub(super) fn form(fields: Vec<Value>) -> FormDefinition {
    let fields: Vec<Value> = fields.into_iter().map(labelled).collect();
    parse_definition(&json!({ "fields": fields })).unwrap_or_else(|e| panic!("{e}"))
}

/// A form with the single field `x`.
pub(super) fn one(kind: &str, extra: Value) -> FormDefinition {
    let mut f = json!({"id": "x", "kind": kind});
    if let (Some(o), Value::Object(extra)) = (f.as_object_mut(), extra) {
        o.extend(extra);
    }
    form(vec![f])
}

pub(super) fn errors(
    form: &FormDefinition,
    data: Value,
    files: &[FileMeta],
) -> Vec<(String, &'static str)> {
    match validate(form, &data, files, TODAY) {
        Ok(out) => panic!("expected errors, got {out:?}"),
        Err(e) => e.into_iter().map(|e| (e.field, e.code)).collect(),
    }
}

pub(super) fn valid(form: &FormDefinition, data: Value) -> Map<String, Value> {
    validate(form, &data, &[], TODAY).unwrap_or_else(|e| panic!("{e:?}"))
}

/// The normalised value of `x`, `Null` when it was dropped.
pub(super) fn norm(form: &FormDefinition, x: Value) -> Value {
    valid(form, json!({ "x": x }))
        .get("x")
        .cloned()
        .unwrap_or(Value::Null)
}

/// The codes of the errors for `x`.
pub(super) fn codes(form: &FormDefinition, x: Value) -> Vec<&'static str> {
    errors(form, json!({ "x": x }), &[])
        .into_iter()
        .map(|(_, c)| c)
        .collect()
}

pub(super) fn path_codes(form: &FormDefinition, x: Value) -> Vec<(String, &'static str)> {
    errors(form, json!({ "x": x }), &[])
}

pub(super) fn file(field: &str, mime: &str, bytes: u64) -> FileMeta {
    FileMeta {
        field: field.into(),
        filename: format!("{field}.bin"),
        mime: mime.into(),
        bytes,
    }
}

pub(super) fn pc(path: &str, code: &'static str) -> (String, &'static str) {
    (path.to_owned(), code)
}

pub(super) fn options(values: &[&str]) -> Value {
    Value::Array(
        values
            .iter()
            .map(|v| json!({"value": v, "label": v, "label_en": v}))
            .collect(),
    )
}

pub(super) fn files_form() -> FormDefinition {
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
