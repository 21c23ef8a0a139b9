//! How the pipeline reads a démarche's form: the stored definition, or a minimal one for
//! démarches the catalogue gives none, and where the place and text of a request are.

use guichet_shared::forms::{FormDefinition, Kind};

use crate::db::DbError;

/// A message (required): démarches without their own form still take a written request.
pub fn message_only() -> FormDefinition {
    FormDefinition {
        fields: vec![guichet_shared::forms::Field {
            id: "message".to_owned(),
            kind: Kind::LongText,
            label: "Votre demande".to_owned(),
            label_en: "Your request".to_owned(),
            hint: None,
            hint_en: None,
            required: true,
            personal: true,
            when: None,
            validation: None,
            options: Vec::new(),
            file: None,
            fields: Vec::new(),
            min_items: None,
            max_items: None,
        }],
    }
}

/// Parses a stored definition (`None`: the démarche has no form of its own).
pub fn parse(code: &str, stored: Option<&serde_json::Value>) -> Result<FormDefinition, DbError> {
    match stored {
        Some(def) => serde_json::from_value(def.clone())
            .map_err(|e| DbError::Data(format!("form of {code}: {e}"))),
        None => Ok(message_only()),
    }
}

/// The id of the form's first top-level field of a kind (its place, its description...).
pub fn first_of_kind(form: &FormDefinition, kind: Kind) -> Option<&str> {
    form.fields
        .iter()
        .find(|f| f.kind == kind)
        .map(|f| f.id.as_str())
}
