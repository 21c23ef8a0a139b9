//! GeoReport's XML: the JSON answer written as elements. An object's members become child
//! elements, an array's items become elements named after the array (`services` holds
//! `service` elements, `attributes` holds `attribute`...), `null` an empty element.

use serde_json::Value;

/// The element name of the items of an array named `list`.
fn item_name(list: &str) -> &str {
    match list {
        "services" => "service",
        "attributes" => "attribute",
        "values" => "value",
        "service_requests" => "request",
        "service_request_updates" => "request_update",
        "errors" => "error",
        "endpoints" => "endpoint",
        "formats" => "format",
        _ => "item",
    }
}

/// The document whose root element is `root`, holding `value`.
pub fn document(root: &str, value: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    element(&mut out, root, value);
    out
}

fn element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Null => {
            out.push('<');
            out.push_str(name);
            out.push_str("/>");
        }
        Value::Array(items) => {
            open(out, name);
            let item = item_name(name);
            for v in items {
                element(out, item, v);
            }
            close(out, name);
        }
        Value::Object(members) => {
            open(out, name);
            for (k, v) in members {
                element(out, k, v);
            }
            close(out, name);
        }
        Value::String(s) => {
            open(out, name);
            escape(out, s);
            close(out, name);
        }
        Value::Bool(b) => {
            open(out, name);
            out.push_str(if *b { "true" } else { "false" });
            close(out, name);
        }
        Value::Number(n) => {
            open(out, name);
            out.push_str(&n.to_string());
            close(out, name);
        }
    }
}

fn open(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

fn close(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Text content, escaped; characters XML 1.0 cannot carry at all are dropped.
fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arrays_name_their_items_and_text_is_escaped() {
        let doc = document(
            "services",
            &json!([{"service_code": "a&b", "metadata": true, "group": null}]),
        );
        assert_eq!(
            doc,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<services><service>\
             <group/><metadata>true</metadata><service_code>a&amp;b</service_code>\
             </service></services>"
        );
        let doc = document("errors", &json!([{"code": 403, "description": "<\u{1}>"}]));
        assert!(doc.ends_with(
            "<errors><error><code>403</code><description>&lt;&gt;</description></error></errors>"
        ));
    }
}
