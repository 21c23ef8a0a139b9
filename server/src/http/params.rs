//! Parsing query parameters into typed values with field-level errors. Query strings are
//! taken as text first so that a bad number is reported on its field (422), not as an opaque
//! extractor rejection.

use guichet_shared::validation::FieldError;

pub fn required<'a>(field: &str, value: Option<&'a str>) -> Result<&'a str, FieldError> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            FieldError::new(
                field,
                "required",
                format!("the `{field}` parameter is required"),
            )
        })
}

pub fn number(field: &str, value: &str) -> Result<f64, FieldError> {
    let n: f64 = value.trim().parse().map_err(|_| {
        FieldError::new(field, "invalid-type", format!("`{field}` must be a number"))
    })?;
    if !n.is_finite() {
        return Err(FieldError::new(
            field,
            "out-of-range",
            format!("`{field}` must be finite"),
        ));
    }
    Ok(n)
}

pub fn latitude(field: &str, value: &str) -> Result<f64, FieldError> {
    let v = number(field, value)?;
    if !(-90.0..=90.0).contains(&v) {
        return Err(FieldError::new(
            field,
            "out-of-range",
            "latitude must be between -90 and 90",
        ));
    }
    Ok(v)
}

pub fn longitude(field: &str, value: &str) -> Result<f64, FieldError> {
    let v = number(field, value)?;
    if !(-180.0..=180.0).contains(&v) {
        return Err(FieldError::new(
            field,
            "out-of-range",
            "longitude must be between -180 and 180",
        ));
    }
    Ok(v)
}

/// A day, `YYYY-MM-DD`, if given; a field error otherwise.
pub fn day(errors: &mut Vec<FieldError>, field: &str, v: Option<&str>) -> Option<time::Date> {
    let v = v.map(str::trim).filter(|v| !v.is_empty())?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(v, format) {
        Ok(d) if (1970..=9000).contains(&d.year()) => Some(d),
        _ => {
            errors.push(FieldError::new(
                field,
                "invalid-date",
                format!("`{field}` is a day, YYYY-MM-DD"),
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_must_be_finite_and_in_range() {
        assert_eq!(latitude("lat", " 48.1 ").ok(), Some(48.1));
        assert_eq!(
            latitude("lat", "NaN").err().map(|e| e.code),
            Some("out-of-range")
        );
        assert_eq!(
            latitude("lat", "inf").err().map(|e| e.code),
            Some("out-of-range")
        );
        assert_eq!(
            latitude("lat", "91").err().map(|e| e.code),
            Some("out-of-range")
        );
        assert_eq!(
            longitude("lon", "abc").err().map(|e| e.code),
            Some("invalid-type")
        );
        assert_eq!(
            required("category", Some("  ")).err().map(|e| e.code),
            Some("required")
        );
    }
}
