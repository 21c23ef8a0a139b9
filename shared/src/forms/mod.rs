//! Declarative forms of the démarches: what a citizen is asked and the checks on what they
//! send back. A definition is data (it ships in `assets/catalogue.json`), so a new démarche
//! needs no code; the same definition drives the citizen UI (kinds, labels, hints), the
//! server's checks ([`validate`]) and the "please complete your request" loop
//! ([`validate_complement`]). Pure: the caller reads the request and sniffs the uploads
//! ([`crate::sniff`]).
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
//! | `phone` | French, or with its country code | E.164: `+33612345678` ([`normalise_phone`]) |
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
//! Every error is a [`FieldError`](crate::validation::FieldError) with a stable kebab-case
//! code. Paths: `data` (the whole object), `data.<id>`, `data.<id>.<part>` (address and geo
//! point parts), `data.<id>[<i>]` (one element of a multi-choice or one item of a block),
//! `data.<block>[<i>].<sub>`, and `files.<id>` for everything about the uploads of a file
//! field (the message names the file). All errors are collected, in the order of the
//! definition.
//!
//! Codes: `required`, `unknown-field`, `wrong-type`, `too-short`, `too-long`,
//! `control-characters`, `out-of-range`, `invalid-format`, `invalid-email`, `invalid-phone`,
//! `invalid-date`, `not-an-option`, `duplicate-value`, `too-few-items`, `too-many-items`,
//! `too-many-files`, `file-too-large`, `file-empty`, `file-type-not-allowed`, and
//! `field-not-editable` for a complement that touches a field it was not asked about.
//!
//! # Where things are
//!
//! `definition.rs`: the definition types and their checks; `conditions.rs`: `when`;
//! `answers.rs`: the checks of submitted data; `files.rs`: uploads; `phone.rs`: the one phone
//! number rule; `complement.rs`: the "please complete your request" loop. Every public item is
//! re-exported here, so callers name it `forms::X` whatever file it lives in.

mod answers;
#[cfg(test)]
mod catalogue_tests;
mod complement;
mod conditions;
mod definition;
mod files;
mod phone;
#[cfg(test)]
mod test_support;

pub use answers::{strip_personal, validate};
pub use complement::{
    Complement, Completed, editable_fields, merge_complement, merge_complement_files,
    validate_complement,
};
pub use conditions::{Condition, Test};
pub use definition::{
    Bound, Choice, Field, FileRules, FormDefinition, Kind, Pattern, Rules, ShiftUnit,
    check_definition, field_ids, parse_definition, resolve_form,
};
pub use files::{FileMeta, active_file_fields, sniff_mime};
pub use phone::{MAX_PHONE_DIGITS, MIN_PHONE_DIGITS, PhoneError, normalise_phone};

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
