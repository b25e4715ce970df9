//! One FHIR answer before it becomes HTTP: status, body and headers. An HTTP request turns it
//! into a wiremock response; a batch or transaction entry turns it into `entry.response`.

use serde_json::{Value, json};
use wiremock::ResponseTemplate;

use super::FHIR_JSON;

/// The body of a [`Reply`].
#[derive(Debug, Clone)]
pub(crate) enum ReplyBody {
    Empty,
    Json(Value),
    /// Bytes that are not a JSON value (an injected malformed response).
    Raw(&'static str),
}

/// A FHIR answer: status, body and headers (lower-case names).
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: ReplyBody,
    pub(crate) headers: Vec<(&'static str, String)>,
    /// `meta.lastUpdated` of the resource written or read: a batch entry's
    /// `response.lastModified` (HTTP answers carry no `Last-Modified`).
    pub(crate) last_updated: Option<String>,
}

impl Reply {
    /// A FHIR JSON body.
    pub(crate) fn fhir(status: u16, body: Value) -> Self {
        Self {
            status,
            body: ReplyBody::Json(body),
            headers: Vec::new(),
            last_updated: None,
        }
    }

    /// No body.
    pub(crate) fn empty(status: u16) -> Self {
        Self {
            status,
            body: ReplyBody::Empty,
            headers: Vec::new(),
            last_updated: None,
        }
    }

    /// An OperationOutcome with one issue of severity `error`.
    pub(crate) fn outcome(status: u16, code: &str, diagnostics: &str) -> Self {
        Self::fhir(status, outcome_resource("error", code, diagnostics))
    }

    /// Adds a header.
    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The value of the header `name`, if set.
    pub(crate) fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Whether the status is 2xx.
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The HTTP response.
    pub(crate) fn into_template(self) -> ResponseTemplate {
        let mut template = ResponseTemplate::new(self.status);
        for (name, value) in self.headers {
            template = template.insert_header(name, value);
        }
        match self.body {
            ReplyBody::Empty => template,
            ReplyBody::Json(body) => {
                template.set_body_raw(serde_json::to_vec(&body).unwrap_or_default(), FHIR_JSON)
            }
            ReplyBody::Raw(text) => template.set_body_raw(text, FHIR_JSON),
        }
    }
}

/// An OperationOutcome with one issue.
pub(crate) fn outcome_resource(severity: &str, code: &str, diagnostics: &str) -> Value {
    json!({"resourceType": "OperationOutcome",
           "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}]})
}
