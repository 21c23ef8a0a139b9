//! One way to call the server under test:
//!
//! ```ignore
//! let receipt = server.post("/api/v1/requests").bearer(&token).json(&body).send().await
//!     .expect(201).json();
//! server.get("/api/v1/nope").send().await.expect_problem(404, "not-found");
//! ```
//!
//! The answer is read whole when it arrives, so its status, headers and body can all be
//! checked in any order, and every failed check names the call and shows the body.

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::TestServer;

impl TestServer {
    /// A call to `path` on this server (or to `path` itself when it is a whole URL, such as a
    /// link the server handed out).
    pub fn call(&self, method: Method, path: &str) -> Call {
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            self.url(path)
        };
        Call {
            what: format!("{method} {path}"),
            request: self.client.request(method, url),
        }
    }

    pub fn get(&self, path: &str) -> Call {
        self.call(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Call {
        self.call(Method::POST, path)
    }

    pub fn put(&self, path: &str) -> Call {
        self.call(Method::PUT, path)
    }

    pub fn patch(&self, path: &str) -> Call {
        self.call(Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> Call {
        self.call(Method::DELETE, path)
    }
}

/// A request being put together; nothing leaves before [`Call::send`].
#[must_use = "a call does nothing until it is sent"]
pub struct Call {
    what: String,
    request: reqwest::RequestBuilder,
}

impl Call {
    /// `Authorization: Bearer <token>`, as an agent or a citizen.
    pub fn bearer(mut self, token: &str) -> Call {
        self.request = self.request.bearer_auth(token);
        self
    }

    /// A JSON body (and its content type).
    pub fn json(mut self, body: &Value) -> Call {
        self.request = self.request.json(body);
        self
    }

    /// A `multipart/form-data` body.
    pub fn multipart(mut self, form: reqwest::multipart::Form) -> Call {
        self.request = self.request.multipart(form);
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Call {
        self.request = self.request.header(name, value);
        self
    }

    /// A body sent as given; set its content type with [`Call::header`].
    pub fn body(mut self, body: impl Into<reqwest::Body>) -> Call {
        self.request = self.request.body(body);
        self
    }

    pub async fn send(self) -> Answer {
        let response = self
            .request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: not sent: {e}", self.what));
        Answer::read(self.what, response).await
    }
}

/// The server's answer, read whole.
pub struct Answer {
    what: String,
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    /// Reads `response` to its end; `what` names the call in failure messages.
    pub async fn read(what: impl Into<String>, response: reqwest::Response) -> Answer {
        let what = what.into();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("{what}: body not read: {e}"));
        Answer {
            what,
            status,
            headers,
            body,
        }
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    /// A header's value, when it is present and is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn bytes(&self) -> &[u8] {
        &self.body
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; fails the test when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} answered {} with a body that is not JSON ({e}): {}",
                self.what,
                self.status,
                self.text()
            )
        })
    }

    /// The body as JSON when it is, else as a JSON string, and `null` when empty.
    pub fn value(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.body).unwrap_or_else(|_| Value::String(self.text()))
    }

    /// Fails the test unless the status is `status`; the answer, for further checks.
    #[track_caller]
    pub fn expect(self, status: u16) -> Answer {
        assert_eq!(
            self.status,
            status,
            "{} answered {} instead of {status}: {}",
            self.what,
            self.status,
            self.text()
        );
        self
    }

    /// The `code` of a problem+json answer; `None` for any other answer.
    pub fn problem_code(&self) -> Option<String> {
        if self.header("content-type") != Some("application/problem+json") {
            return None;
        }
        self.json()["code"].as_str().map(str::to_owned)
    }

    /// Fails the test unless this is problem+json with the given status and code, and the
    /// members every problem has; the problem, for further checks (`field`, `errors`…).
    #[track_caller]
    pub fn expect_problem(self, status: u16, code: &str) -> Value {
        let body = self.json();
        let what = &self.what;
        assert_eq!(self.status, status, "{what}: status of {body}");
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{what}: content type of {body}"
        );
        assert_eq!(body["code"], code, "{what}: code of {body}");
        assert_eq!(body["status"], status, "{what}: status member of {body}");
        assert!(
            body["title"].is_string() && body["detail"].is_string(),
            "{what}: title and detail of {body}"
        );
        body
    }
}
