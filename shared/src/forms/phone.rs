//! The one rule for phone numbers, for a form's phone fields and for the contact of a request:
//! what a citizen types becomes an E.164 number (`+33612345678`), or is refused with a reason.
//!
//! Accepted: a French national number (`06 12 34 56 78`, `0612345678`), or any number with its
//! country code after `+` or `00` (`+33 6 12 34 56 78`, `0033 6 12 34 56 78`,
//! `+44 20 7946 0000`). Spaces, dots, dashes and parentheses separate groups; a trunk `0`
//! written in parentheses after the country code (`+33 (0)6 ...`, `+44 (0)20 ...`) is dropped,
//! as E.164 has none. A French national number whose prefix belongs to an overseas department
//! gets that department's country code: 0692 12 34 56 is +262 692 12 34 56.

use std::fmt;

use crate::validation::FieldError;

/// E.164 allows at most 15 digits, country code included.
pub const MAX_PHONE_DIGITS: usize = 15;
/// Fewer digits, country code included, is no number anyone can be called back on.
pub const MIN_PHONE_DIGITS: usize = 8;

/// Country codes of the French ten-digit numbering plan: France and the overseas departments
/// that share it (Réunion and Mayotte, Guadeloupe with Saint-Martin and Saint-Barthélemy,
/// French Guiana, Martinique). Their numbers have nine digits after the country code, and
/// people often keep the national `0` when they add the code (`+33 06 ...`).
const FRENCH_PLAN: [&str; 5] = ["33", "262", "590", "594", "596"];

/// Why a phone number was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneError {
    /// Nothing but blanks and separators.
    Empty,
    /// A character other than digits, separators and one leading `+`.
    Character(char),
    /// Digits without `+` or `00` in front that are not a French number (`0` then nine
    /// digits): the country is unknown.
    NoCountryCode,
    /// A number of the French plan without nine digits after its country code (ten digits
    /// with the leading `0`).
    FrenchLength,
    /// `+0...`: no country code starts with 0.
    CountryCode,
    /// Fewer than [`MIN_PHONE_DIGITS`] digits, country code included.
    TooShort,
    /// More than [`MAX_PHONE_DIGITS`] digits, country code included.
    TooLong,
}

impl PhoneError {
    /// The API code of every refused phone number.
    pub const CODE: &'static str = "invalid-phone";

    /// This refusal as the error of the field at `path` (`data.contact_phone`,
    /// `contact.phone`...).
    pub fn field_error(self, path: impl Into<String>) -> FieldError {
        FieldError::new(path, Self::CODE, format!("not a phone number: {self}"))
    }
}

impl fmt::Display for PhoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhoneError::Empty => f.write_str("no digits"),
            PhoneError::Character(c) => write!(
                f,
                "{c:?} has no place in it; write digits, grouped with spaces, dots, dashes or \
                 parentheses, and + before a country code"
            ),
            PhoneError::NoCountryCode => f.write_str(
                "give a French number (06 12 34 56 78) or an international one with its \
                 country code (+44 20 7946 0000)",
            ),
            PhoneError::FrenchLength => {
                f.write_str("a French number has ten digits (06 12 34 56 78), or nine after +33")
            }
            PhoneError::CountryCode => f.write_str("no country code starts with 0"),
            PhoneError::TooShort => write!(
                f,
                "too few digits: an international number has at least {MIN_PHONE_DIGITS}, \
                 country code included"
            ),
            PhoneError::TooLong => write!(
                f,
                "too many digits: a phone number has at most {MAX_PHONE_DIGITS}, country code \
                 included"
            ),
        }
    }
}

impl std::error::Error for PhoneError {}

/// Normalises a French or international phone number to E.164 (`+` then digits only), or
/// says why it is not one. See the module documentation for what is understood.
pub fn normalise_phone(input: &str) -> Result<String, PhoneError> {
    let mut digits = String::new();
    let mut plus = false;
    let mut chars = input.trim().chars();
    while let Some(c) = chars.next() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if !plus && digits.is_empty() => plus = true,
            // "+44 (0)20 ...": the national trunk prefix, shown but never dialled from abroad.
            '(' if chars.as_str().starts_with("0)") && has_country_code(plus, &digits) => {
                chars.nth(1);
            }
            ' ' | '.' | '-' | '(' | ')' | '\u{a0}' | '\u{202f}' => {}
            _ => return Err(PhoneError::Character(c)),
        }
    }
    if digits.is_empty() {
        return Err(if plus {
            PhoneError::TooShort
        } else {
            PhoneError::Empty
        });
    }
    let international = if plus {
        digits.as_str()
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest
    } else {
        let national = digits.strip_prefix('0').ok_or(PhoneError::NoCountryCode)?;
        if national.len() != 9 {
            return Err(PhoneError::FrenchLength);
        }
        let country = overseas_country_code(national).unwrap_or("33");
        return Ok(format!("+{country}{national}"));
    };
    if international.starts_with('0') {
        return Err(PhoneError::CountryCode);
    }
    if let Some(code) = FRENCH_PLAN.iter().find(|c| international.starts_with(**c)) {
        let national = &international[code.len()..];
        let national = national.strip_prefix('0').unwrap_or(national);
        if national.len() != 9 || national.starts_with('0') {
            return Err(PhoneError::FrenchLength);
        }
        return Ok(format!("+{code}{national}"));
    }
    if international.len() < MIN_PHONE_DIGITS {
        return Err(PhoneError::TooShort);
    }
    if international.len() > MAX_PHONE_DIGITS {
        return Err(PhoneError::TooLong);
    }
    Ok(format!("+{international}"))
}

/// Whether the digits read so far hold a country code, after which `(0)` is a trunk prefix.
fn has_country_code(plus: bool, digits: &str) -> bool {
    if plus {
        !digits.is_empty()
    } else {
        digits.len() > 2 && digits.starts_with("00")
    }
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::*;
    use super::super::validate;
    use super::*;

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
            assert_eq!(normalise_phone(given).as_deref(), Ok(expected), "{given}");
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
            assert!(normalise_phone(bad).is_err(), "{bad}");
        }
        let f = one("phone", json!({}));
        assert_eq!(norm(&f, json!("06 12 34 56 78")), json!("+33612345678"));
        assert_eq!(codes(&f, json!("12")), vec!["invalid-phone"]);
        assert_eq!(codes(&f, json!(612345678)), vec!["wrong-type"]);
    }

    fn ok(given: &str) -> String {
        normalise_phone(given).unwrap_or_else(|e| panic!("{given}: {e}"))
    }

    #[test]
    fn french_numbers_in_every_usual_writing() {
        for given in [
            "0612345678",
            "06 12 34 56 78",
            "06.12.34.56.78",
            "06-12-34-56-78",
            "(06) 12 34 56 78",
            " 06 12 34 56 78 ",
            "06\u{a0}12\u{a0}34\u{a0}56\u{a0}78",
            "06\u{202f}12\u{202f}34\u{202f}56\u{202f}78",
            "+33612345678",
            "+33 6 12 34 56 78",
            "+33 (0)6 12 34 56 78",
            "+33 (0) 6 12 34 56 78",
            "+33 06 12 34 56 78",
            "+ 33 6 12 34 56 78",
            "(+33) 6 12 34 56 78",
            "0033 6 12 34 56 78",
            "0033 (0)6 12 34 56 78",
            "00 33 06 12 34 56 78",
        ] {
            assert_eq!(ok(given), "+33612345678", "{given}");
        }
        // Landlines of every region, the 07 mobiles, 08 services and 09 lines.
        for (given, expected) in [
            ("01 42 76 40 40", "+33142764040"),
            ("02 99 28 55 55", "+33299285555"),
            ("03 88 60 90 90", "+33388609090"),
            ("04 91 55 11 11", "+33491551111"),
            ("05 61 22 29 22", "+33561222922"),
            ("07 81 23 45 67", "+33781234567"),
            ("08 00 35 35 35", "+33800353535"),
            ("09 70 80 90 10", "+33970809010"),
        ] {
            assert_eq!(ok(given), expected, "{given}");
        }
    }

    #[test]
    fn overseas_departments_have_their_own_country_codes() {
        for (given, expected) in [
            // Réunion, then Mayotte, which shares its code.
            ("0262 12 34 56", "+262262123456"),
            ("0263 12 34 56", "+262263123456"),
            ("0692 12 34 56", "+262692123456"),
            ("0693 12 34 56", "+262693123456"),
            ("0269 61 12 34", "+262269611234"),
            ("0639 12 34 56", "+262639123456"),
            ("+262 692 12 34 56", "+262692123456"),
            ("+262 (0)692 12 34 56", "+262692123456"),
            ("00262 0692 12 34 56", "+262692123456"),
            // Guadeloupe (and Saint-Martin, Saint-Barthélemy).
            ("0590 12 34 56", "+590590123456"),
            ("0690 12 34 56", "+590690123456"),
            ("0691 12 34 56", "+590691123456"),
            ("+590 690 12 34 56", "+590690123456"),
            // French Guiana.
            ("0594 12 34 56", "+594594123456"),
            ("0694 12 34 56", "+594694123456"),
            ("+594 694 12 34 56", "+594694123456"),
            // Martinique.
            ("0596 12 34 56", "+596596123456"),
            ("0696 12 34 56", "+596696123456"),
            ("0697 12 34 56", "+596697123456"),
            ("0596-12-34-56", "+596596123456"),
            ("+596 (0)696 12 34 56", "+596696123456"),
            // Territories with plans of their own: kept as written.
            ("+687 26 12 34", "+687261234"),
            ("+689 87 12 34 56", "+68987123456"),
            ("+508 41 12 34", "+508411234"),
        ] {
            assert_eq!(ok(given), expected, "{given}");
        }
        for bad in [
            "+262 692 12 34 5",
            "+590 690 12 34 567",
            "+596 0 0696 12 34 56",
        ] {
            assert_eq!(normalise_phone(bad), Err(PhoneError::FrenchLength), "{bad}");
        }
    }

    #[test]
    fn international_numbers_keep_their_country_code() {
        for (given, expected) in [
            ("+44 20 7946 0000", "+442079460000"),
            ("+44 (0)20 7946 0000", "+442079460000"),
            ("0044 (0)20 7946 0000", "+442079460000"),
            ("0044 20 7946 0000", "+442079460000"),
            ("+1 (212) 555-0100", "+12125550100"),
            ("+1.212.555.0100", "+12125550100"),
            ("+49 30 1234567", "+49301234567"),
            ("+32 2 123 45 67", "+3221234567"),
            ("+352 621 123 456", "+352621123456"),
            ("+41 44 668 18 00", "+41446681800"),
            // Italy dials its leading 0 from abroad: only a bracketed 0 is a trunk prefix.
            ("+39 06 1234 5678", "+390612345678"),
            ("+86 138 0013 8000", "+8613800138000"),
            ("+12345678", "+12345678"),
            ("+123456789012345", "+123456789012345"),
        ] {
            assert_eq!(ok(given), expected, "{given}");
        }
    }

    #[test]
    fn everything_else_is_refused_with_its_reason() {
        use PhoneError::*;
        for (bad, why) in [
            ("", Empty),
            ("   ", Empty),
            (" - . ( ) ", Empty),
            ("06 12 34 56 78 x", Character('x')),
            ("tel: 06 12 34 56 78", Character('t')),
            ("06 12 34 56 78 poste 12", Character('p')),
            ("06/12/34/56/78", Character('/')),
            ("06\t12 34 56 78", Character('\t')),
            ("06_12_34_56_78", Character('_')),
            ("\u{ff10}\u{ff16}12345678", Character('\u{ff10}')),
            ("6+12345678", Character('+')),
            ("++33 6 12 34 56 78", Character('+')),
            ("+33 6 12 34 56 78 +", Character('+')),
            ("0612345678;0712345678", Character(';')),
            ("612345678", NoCountryCode),
            ("1 212 555 0100", NoCountryCode),
            ("44 20 7946 0000", NoCountryCode),
            ("33 6 12 34 56 78", NoCountryCode),
            ("06 12 34 56 7", FrenchLength),
            ("06 12 34 56 789", FrenchLength),
            ("0 6", FrenchLength),
            ("020 7946 0000", FrenchLength),
            ("+33 6 12 34 56 7", FrenchLength),
            ("+33 06 12 34 56 7", FrenchLength),
            ("+33 6 12 34 56 789", FrenchLength),
            ("+33 00 12 34 56 78", FrenchLength),
            ("0033 6 12 34 56", FrenchLength),
            ("+0612345678", CountryCode),
            ("000 44 20 7946 0000", CountryCode),
            ("+", TooShort),
            ("00", TooShort),
            ("+1234567", TooShort),
            ("00 12 34 56", TooShort),
            ("+49 123", TooShort),
            ("+1234567890123456", TooLong),
            ("0044 1234 5678 9012 34", TooLong),
        ] {
            assert_eq!(normalise_phone(bad), Err(why), "{bad:?}");
        }
    }

    #[test]
    fn a_normalised_number_normalises_to_itself() {
        for given in [
            "06 12 34 56 78",
            "0692 12 34 56",
            "+44 (0)20 7946 0000",
            "+39 06 1234 5678",
            "+687 26 12 34",
        ] {
            let once = ok(given);
            assert_eq!(ok(&once), once, "{given}");
        }
    }

    #[test]
    fn a_refusal_is_a_field_error_with_one_code() {
        let e = PhoneError::FrenchLength.field_error("contact.phone");
        assert_eq!(e.field, "contact.phone");
        assert_eq!(e.code, "invalid-phone");
        assert!(
            e.message.starts_with("not a phone number: "),
            "{}",
            e.message
        );
        assert!(e.message.contains("ten digits"), "{}", e.message);
        let f = one("phone", json!({}));
        let e = validate(&f, &json!({"x": "06 12 34 56 7"}), &[], TODAY)
            .err()
            .unwrap_or_default();
        assert_eq!(e, vec![PhoneError::FrenchLength.field_error("data.x")]);
    }
}
