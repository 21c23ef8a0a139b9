//! "Please complete your request": an agent names the fields to correct, the citizen answers
//! only those, and the whole request is checked again.

use serde_json::{Map, Value};
use time::Date;

use super::answers::{check, shown_key};
use super::definition::FormDefinition;
use super::files::{FileMeta, active_file_fields};
use crate::validation::FieldError;

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
/// `field-not-editable`. The merged whole must then go through [`validate`](super::validate)
/// (or use [`validate_complement`], which does both).
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::*;
    use super::*;

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
}
