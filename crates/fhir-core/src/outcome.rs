//! [`OperationOutcome`]: the server's structured report of errors and warnings.
//!
//! Kept version-agnostic (the shape is the same in R4 and R5) and lossless: the parsed issues are
//! a convenience view over the original JSON, which stays available through
//! [`OperationOutcome::as_json`].

use serde::Deserialize;
use serde_json::Value;

use crate::resource::{DecodeError, DecodeErrorKind, EncodeError, Resource, TypedResource};

/// A FHIR `OperationOutcome`: a collection of issues reported by the server.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationOutcome {
    issues: Vec<Issue>,
    raw: Value,
}

/// One `OperationOutcome.issue`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Issue {
    /// `fatal | error | warning | information`.
    #[serde(default)]
    pub severity: String,
    /// The issue type code (`not-found`, `invalid`, `conflict`, …).
    #[serde(default)]
    pub code: String,
    /// `details.text`, when present.
    #[serde(default, rename = "details", deserialize_with = "details_text")]
    pub details: Option<String>,
    /// Additional diagnostic information from the server.
    #[serde(default)]
    pub diagnostics: Option<String>,
    /// FHIRPath expressions of the elements concerned.
    #[serde(default)]
    pub expression: Vec<String>,
    /// Deprecated XPath-style locations of the elements concerned.
    #[serde(default)]
    pub location: Vec<String>,
}

fn details_text<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Details {
        text: Option<String>,
    }
    Ok(Option::<Details>::deserialize(deserializer)?.and_then(|details| details.text))
}

impl OperationOutcome {
    /// Reads an OperationOutcome from JSON; `None` when `value` is not one.
    pub fn from_json(value: Value) -> Option<Self> {
        if value.get("resourceType").and_then(Value::as_str) != Some("OperationOutcome") {
            return None;
        }
        // A malformed issue list still leaves the raw JSON available.
        let issues = value
            .get("issue")
            .and_then(|issues| Vec::<Issue>::deserialize(issues).ok())
            .unwrap_or_default();
        Some(Self { issues, raw: value })
    }

    /// The issues, in the server's order.
    pub fn issues(&self) -> &[Issue] {
        &self.issues
    }

    /// The original JSON, with every element the server sent.
    pub fn as_json(&self) -> &Value {
        &self.raw
    }

    /// The issues' diagnostics (or details text), joined with `; `, for messages.
    pub fn summary(&self) -> String {
        let texts: Vec<&str> = self
            .issues
            .iter()
            .filter_map(|issue| issue.diagnostics.as_deref().or(issue.details.as_deref()))
            .collect();
        if texts.is_empty() {
            self.issues
                .iter()
                .map(|issue| format!("{} {}", issue.severity, issue.code))
                .collect::<Vec<_>>()
                .join("; ")
        } else {
            texts.join("; ")
        }
    }

    /// Whether any issue has severity `error` or `fatal`.
    pub fn has_errors(&self) -> bool {
        self.issues
            .iter()
            .any(|issue| matches!(issue.severity.as_str(), "error" | "fatal"))
    }
}

impl Resource for OperationOutcome {
    fn resource_type(&self) -> Option<&str> {
        Some("OperationOutcome")
    }

    fn id(&self) -> Option<&str> {
        self.raw.get("id").and_then(Value::as_str)
    }

    fn from_json_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        let value = Value::from_json_slice(bytes)?;
        let found = value.resource_type().map(str::to_owned);
        Self::from_json(value).ok_or_else(|| {
            DecodeError::new(
                DecodeErrorKind::WrongResourceType,
                "resourceType",
                format!(
                    "expected OperationOutcome, found {}",
                    found.as_deref().unwrap_or("no resourceType")
                ),
            )
        })
    }

    fn to_json_vec(&self) -> Result<Vec<u8>, EncodeError> {
        self.raw.to_json_vec()
    }
}

impl TypedResource for OperationOutcome {
    const RESOURCE_TYPE: &'static str = "OperationOutcome";
}
