//! Validation of citizen input. Every rule names the field it concerns and a stable code, so
//! that the API can answer with field-level problem details and clients can branch on codes.

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::api::{Contact, ReportSubmission};
use crate::geo::LatLon;

pub const MAX_DESCRIPTION_CHARS: usize = 2000;
pub const MAX_ADDRESS_CHARS: usize = 300;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_CATEGORY_CHARS: usize = 64;
/// GPS fixes worse than this are not positions but guesses; a pin or an address is better.
pub const MAX_ACCURACY_M: f64 = 5_000.0;
/// Clocks of phones drift; a little future is tolerated.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(10);

/// One broken rule on one field.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Path of the field in the submitted JSON, e.g. `lat` or `contact.email`.
    pub field: String,
    /// Stable machine code, e.g. `out-of-range`.
    pub code: &'static str,
    /// Human-readable explanation (English).
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// Checks a report's fields that need no database: ranges, lengths, shapes.
/// Whether the category exists and the point lies in the service area is checked by the server.
pub fn validate_report(report: &ReportSubmission, now: OffsetDateTime) -> Vec<FieldError> {
    let mut errors = Vec::new();

    let category = report.category.trim();
    if category.is_empty() {
        errors.push(FieldError::new(
            "category",
            "required",
            "a category is required",
        ));
    } else if category.chars().count() > MAX_CATEGORY_CHARS {
        errors.push(FieldError::new(
            "category",
            "too-long",
            "category code is too long",
        ));
    }

    validate_position(&mut errors, report.lat, report.lon);
    if let Some(acc) = report.accuracy_m
        && (!acc.is_finite() || !(0.0..=MAX_ACCURACY_M).contains(&acc))
    {
        errors.push(FieldError::new(
            "accuracy_m",
            "out-of-range",
            format!("accuracy must be between 0 and {MAX_ACCURACY_M} metres"),
        ));
    }

    check_length(
        &mut errors,
        "description",
        &report.description,
        MAX_DESCRIPTION_CHARS,
    );
    if let Some(address) = &report.address {
        check_length(&mut errors, "address", address, MAX_ADDRESS_CHARS);
    }
    if let Some(observed) = report.observed_at
        && observed > now + MAX_CLOCK_SKEW
    {
        errors.push(FieldError::new(
            "observed_at",
            "in-future",
            "the observation time is in the future",
        ));
    }
    if let Some(contact) = &report.contact {
        validate_contact(&mut errors, "contact", contact);
    }
    errors
}

/// WGS84 ranges of a point given as `lat` and `lon`.
pub fn validate_position(errors: &mut Vec<FieldError>, lat: f64, lon: f64) {
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        errors.push(FieldError::new(
            "lat",
            "out-of-range",
            "latitude must be a number between -90 and 90",
        ));
    }
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        errors.push(FieldError::new(
            "lon",
            "out-of-range",
            "longitude must be a number between -180 and 180",
        ));
    }
}

/// The position of a report once its coordinates passed validation.
pub fn report_position(report: &ReportSubmission) -> LatLon {
    LatLon::new(report.lat, report.lon)
}

/// Checks a contact block; errors are reported under `prefix.email` and `prefix.name`.
pub fn validate_contact(errors: &mut Vec<FieldError>, prefix: &str, contact: &Contact) {
    if let Some(email) = &contact.email {
        let field = format!("{prefix}.email");
        if email.chars().count() > MAX_EMAIL_CHARS {
            errors.push(FieldError::new(
                field,
                "too-long",
                "e-mail address is too long",
            ));
        } else if !is_plausible_email(email) {
            errors.push(FieldError::new(
                field,
                "invalid-email",
                "not an e-mail address",
            ));
        }
    }
    if let Some(name) = &contact.name {
        check_length(errors, &format!("{prefix}.name"), name, MAX_NAME_CHARS);
    }
}

fn check_length(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize) {
    let n = value.chars().count();
    if n > max {
        errors.push(FieldError::new(
            field,
            "too-long",
            format!("{field} has {n} characters; at most {max} are allowed"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        errors.push(FieldError::new(
            field,
            "control-characters",
            format!("{field} contains control characters"),
        ));
    }
}

/// A deliberately loose check: one `@`, something on each side, a dot in the domain, no spaces.
/// Real verification is the e-mail that reaches the citizen.
pub fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn report() -> ReportSubmission {
        ReportSubmission {
            client_id: Uuid::nil(),
            category: "voirie".into(),
            lat: 48.1113,
            lon: -1.68,
            accuracy_m: Some(8.0),
            description: "Nid-de-poule devant le 12".into(),
            address: None,
            observed_at: None,
            contact: None,
        }
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(20_000)
    }

    fn codes(r: &ReportSubmission) -> Vec<(String, &'static str)> {
        validate_report(r, now())
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    #[test]
    fn a_plain_report_is_valid() {
        assert!(codes(&report()).is_empty());
    }

    #[test]
    fn coordinates_out_of_range_or_not_finite_are_refused() {
        let mut r = report();
        r.lat = 91.0;
        r.lon = f64::NAN;
        assert_eq!(
            codes(&r),
            vec![
                ("lat".into(), "out-of-range"),
                ("lon".into(), "out-of-range")
            ]
        );
    }

    #[test]
    fn description_length_counts_characters_not_bytes() {
        let mut r = report();
        r.description = "é".repeat(MAX_DESCRIPTION_CHARS);
        assert!(codes(&r).is_empty());
        r.description.push('é');
        assert_eq!(codes(&r), vec![("description".into(), "too-long")]);
    }

    #[test]
    fn contact_fields_are_checked_with_their_path() {
        let mut r = report();
        r.contact = Some(Contact {
            email: Some("not an email".into()),
            name: Some("x".repeat(MAX_NAME_CHARS + 1)),
        });
        assert_eq!(
            codes(&r),
            vec![
                ("contact.email".into(), "invalid-email"),
                ("contact.name".into(), "too-long")
            ]
        );
    }

    #[test]
    fn observation_in_the_future_is_refused_beyond_clock_skew() {
        let mut r = report();
        r.observed_at = Some(now() + Duration::minutes(5));
        assert!(codes(&r).is_empty());
        r.observed_at = Some(now() + Duration::hours(2));
        assert_eq!(codes(&r), vec![("observed_at".into(), "in-future")]);
    }

    #[test]
    fn negative_or_absurd_accuracy_is_refused() {
        let mut r = report();
        r.accuracy_m = Some(-1.0);
        assert_eq!(codes(&r), vec![("accuracy_m".into(), "out-of-range")]);
        r.accuracy_m = Some(1e9);
        assert_eq!(codes(&r), vec![("accuracy_m".into(), "out-of-range")]);
    }

    #[test]
    fn control_characters_are_refused_but_newlines_kept() {
        let mut r = report();
        r.description = "ligne 1\nligne 2".into();
        assert!(codes(&r).is_empty());
        r.description = "bip\u{7}".into();
        assert_eq!(
            codes(&r),
            vec![("description".into(), "control-characters")]
        );
    }

    #[test]
    fn email_plausibility() {
        assert!(is_plausible_email("a.b@rennes.fr"));
        assert!(!is_plausible_email("a@b"));
        assert!(!is_plausible_email("@rennes.fr"));
        assert!(!is_plausible_email("a b@rennes.fr"));
    }
}
