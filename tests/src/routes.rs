//! The router's routes, read from its one listing in `server/src/http/mod.rs`: the tests that
//! must cover every route (the authorisation matrix, the OpenAPI document) compare against it,
//! so that a new route cannot be left out of either.

use std::collections::BTreeSet;

/// Every (method, path) of the router, read from its one listing in `server/src/http/mod.rs`.
pub fn router_routes() -> BTreeSet<(String, String)> {
    let source = std::fs::read_to_string("../server/src/http/mod.rs").expect("the router");
    let (api, root) = source
        .split_once(".nest(\"/api/v1\", api)")
        .expect("the API nested at /api/v1");
    let mut routes = BTreeSet::new();
    for (part, prefix) in [(api, "/api/v1"), (root, "")] {
        let mut rest = part;
        while let Some(at) = rest.find(".route(") {
            let call = balanced(&rest[at + ".route".len()..]);
            let path = call.split('"').nth(1).expect("a path");
            for method in ["get", "post", "put", "patch", "delete"] {
                let called = call.match_indices(&format!("{method}(")).any(|(i, _)| {
                    i == 0
                        || !call.as_bytes()[i - 1].is_ascii_alphanumeric()
                            && call.as_bytes()[i - 1] != b'_'
                });
                if called {
                    routes.insert((method.to_uppercase(), format!("{prefix}{path}")));
                }
            }
            rest = &rest[at + ".route".len() + call.len()..];
        }
        let mut rest = part;
        while let Some(at) = rest.find(".nest_service(") {
            let call = balanced(&rest[at + ".nest_service".len()..]);
            let path = call.split('"').nth(1).expect("a path");
            routes.insert(("GET".to_owned(), format!("{prefix}{path}/*")));
            rest = &rest[at + ".nest_service".len() + call.len()..];
        }
    }
    routes
}

/// The text of a parenthesised call, parentheses included.
fn balanced(text: &str) -> &str {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[..=i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced call in the router");
}
