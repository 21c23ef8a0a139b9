//! Conditions: a field is asked only when an earlier sibling holds a value (`"when"`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::definition::{Field, Kind};

/// When a field is asked: a test on the value of an earlier sibling field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawCondition", into = "RawCondition")]
pub struct Condition {
    pub field: String,
    pub test: Test,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Equals(Value),
    In(Vec<Value>),
    /// `true`: the sibling has a value; `false`: it has none.
    Filled(bool),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCondition {
    field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    equals: Option<Value>,
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    one_of: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    filled: Option<bool>,
}

impl TryFrom<RawCondition> for Condition {
    type Error = String;

    fn try_from(raw: RawCondition) -> Result<Self, String> {
        let test = match (raw.equals, raw.one_of, raw.filled) {
            (Some(v), None, None) => Test::Equals(v),
            (None, Some(vs), None) => Test::In(vs),
            (None, None, Some(b)) => Test::Filled(b),
            _ => {
                return Err(format!(
                    "the condition on {:?} needs exactly one of equals, in, filled",
                    raw.field
                ));
            }
        };
        Ok(Condition {
            field: raw.field,
            test,
        })
    }
}

impl From<Condition> for RawCondition {
    fn from(c: Condition) -> Self {
        let (equals, one_of, filled) = match c.test {
            Test::Equals(v) => (Some(v), None, None),
            Test::In(vs) => (None, Some(vs), None),
            Test::Filled(b) => (None, None, Some(b)),
        };
        RawCondition {
            field: c.field,
            equals,
            one_of,
            filled,
        }
    }
}

impl Condition {
    /// `value` is the sibling's value (normalised), `None` when it has none.
    pub fn holds(&self, value: Option<&Value>) -> bool {
        let matches = |wanted: &Value| {
            value.is_some_and(|v| {
                v == wanted || v.as_array().is_some_and(|items| items.contains(wanted))
            })
        };
        match &self.test {
            Test::Equals(wanted) => matches(wanted),
            Test::In(wanted) => wanted.iter().any(matches),
            Test::Filled(filled) => value.is_some() == *filled,
        }
    }
}

pub(super) fn check_condition(c: &Condition, target: &Field, problem: &mut impl FnMut(String)) {
    if matches!(target.kind, Kind::File | Kind::Block) {
        problem(format!(
            "a condition cannot test {:?}, a {}",
            c.field, target.kind
        ));
        return;
    }
    let values: &[Value] = match &c.test {
        Test::Equals(v) => std::slice::from_ref(v),
        Test::In(vs) => {
            if vs.is_empty() {
                problem("a condition with `in` needs values".into());
            }
            vs
        }
        Test::Filled(_) => &[],
    };
    for v in values {
        let ok = match target.kind {
            Kind::Choice | Kind::MultiChoice => v
                .as_str()
                .is_some_and(|s| target.options.iter().any(|o| o.value == s)),
            Kind::Boolean => v.is_boolean(),
            Kind::Integer | Kind::Decimal => v.is_number(),
            _ => v.is_string(),
        };
        if !ok {
            problem(format!(
                "the condition compares {:?} with {v}, which it can never hold",
                c.field
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::super::FormDefinition;
    use super::super::test_support::*;
    use super::*;

    fn event_form() -> FormDefinition {
        form(vec![
            json!({"id": "event_type", "kind": "choice", "required": true,
                   "options": options(&["festive", "meeting", "sport"])}),
            json!({"id": "alcohol_license", "kind": "boolean", "required": true,
                   "when": {"field": "event_type", "equals": "festive"}}),
            json!({"id": "guests", "kind": "integer", "required": true,
                   "when": {"field": "event_type", "in": ["festive", "sport"]}}),
            json!({"id": "phone", "kind": "phone"}),
            json!({"id": "call_time", "kind": "text", "required": true,
                   "when": {"field": "phone", "filled": true}}),
            json!({"id": "postal", "kind": "address", "required": true,
                   "when": {"field": "phone", "filled": false}}),
        ])
    }

    #[test]
    fn conditions_decide_what_is_asked_and_kept() {
        let f = event_form();
        let out = valid(
            &f,
            json!({"event_type": "meeting", "alcohol_license": true, "guests": 3,
                   "postal": "1 rue Le Bastard"}),
        );
        assert_eq!(
            out,
            valid(
                &f,
                json!({"event_type": "meeting", "postal": "1 rue Le Bastard"})
            )
        );
        assert_eq!(out.get("alcohol_license"), None);
        assert_eq!(out.get("guests"), None);
        assert_eq!(
            errors(&f, json!({"event_type": "festive", "postal": "x"}), &[]),
            vec![
                pc("data.alcohol_license", "required"),
                pc("data.guests", "required")
            ]
        );
        assert_eq!(
            errors(&f, json!({"event_type": "sport", "postal": "x"}), &[]),
            vec![pc("data.guests", "required")]
        );
        assert_eq!(
            errors(
                &f,
                json!({"event_type": "meeting", "phone": "06 12 34 56 78"}),
                &[]
            ),
            vec![pc("data.call_time", "required")]
        );
        assert_eq!(
            errors(&f, json!({"event_type": "meeting"}), &[]),
            vec![pc("data.postal", "required")]
        );
        let out = valid(
            &f,
            json!({"event_type": "meeting", "phone": "0612345678", "call_time": "le matin",
                   "postal": "dropped because a phone is given"}),
        );
        assert_eq!(out.get("postal"), None);
        assert_eq!(out.get("phone"), Some(&json!("+33612345678")));
    }

    #[test]
    fn a_refused_value_does_not_cascade_into_required_errors() {
        let f = event_form();
        assert_eq!(
            errors(&f, json!({"event_type": "festif", "postal": "x"}), &[]),
            vec![pc("data.event_type", "not-an-option")]
        );
        // A phone that is given but wrong still counts as given for `filled`.
        assert_eq!(
            errors(
                &f,
                json!({"event_type": "meeting", "phone": "12", "call_time": "midi"}),
                &[]
            ),
            vec![pc("data.phone", "invalid-phone")]
        );
    }

    #[test]
    fn conditions_chain_and_test_multi_choices_by_membership() {
        let f = form(vec![
            json!({"id": "docs", "kind": "multi_choice", "required": true,
                   "options": options(&["passport", "id_card"])}),
            json!({"id": "passport_lost", "kind": "boolean",
                   "when": {"field": "docs", "equals": "passport"}}),
            json!({"id": "declaration", "kind": "text", "required": true,
                   "when": {"field": "passport_lost", "equals": true}}),
        ]);
        assert_eq!(
            errors(
                &f,
                json!({"docs": ["id_card", "passport"], "passport_lost": true}),
                &[]
            ),
            vec![pc("data.declaration", "required")]
        );
        // Not asked for a passport: its loss and the declaration are dropped together.
        let out = valid(&f, json!({"docs": ["id_card"], "passport_lost": true}));
        assert_eq!(
            out,
            Map::from_iter([("docs".to_owned(), json!(["id_card"]))])
        );
    }

    #[test]
    fn condition_shapes() {
        let parse = |v: Value| serde_json::from_value::<Condition>(v);
        assert!(parse(json!({"field": "a", "equals": 1})).is_ok());
        assert!(parse(json!({"field": "a", "in": [1, 2]})).is_ok());
        assert!(parse(json!({"field": "a", "filled": false})).is_ok());
        assert!(parse(json!({"field": "a"})).is_err());
        assert!(parse(json!({"field": "a", "equals": 1, "in": [1]})).is_err());
        assert!(parse(json!({"field": "a", "is": 1})).is_err());
        let c = Condition {
            field: "a".into(),
            test: Test::In(vec![json!("x")]),
        };
        assert_eq!(
            serde_json::to_value(&c).ok(),
            Some(json!({"field": "a", "in": ["x"]}))
        );
        assert!(c.holds(Some(&json!("x"))));
        assert!(c.holds(Some(&json!(["y", "x"]))));
        assert!(!c.holds(Some(&json!("y"))));
        assert!(!c.holds(None));
    }
}
