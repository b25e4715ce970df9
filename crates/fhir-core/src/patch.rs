//! [`JsonPatch`]: a JSON Patch document (RFC 6902), from a [`serde_json::Value`] or, when the
//! values it writes must keep their text (a decimal such as `1.50`), from JSON text.

use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::Error;

/// A JSON Patch document: an array of operations.
///
/// ```
/// use fhir_core::JsonPatch;
///
/// // From `json!`: convenient, but numbers become floats (`1.50` would be sent as `1.5`).
/// let quick = JsonPatch::from(serde_json::json!([{"op": "replace", "path": "/active", "value": false}]));
/// // From text: sent exactly as written.
/// let exact = JsonPatch::from_text(r#"[{"op":"replace","path":"/valueQuantity/value","value":1.50}]"#)?;
/// assert!(exact.to_text().contains("1.50"));
/// # Ok::<(), fhir_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct JsonPatch(Document);

#[derive(Debug, Clone)]
enum Document {
    Value(Value),
    Text(Box<RawValue>),
}

impl JsonPatch {
    /// A patch written as JSON text, sent byte for byte.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest) when `text` is not one
    /// JSON array.
    pub fn from_text(text: impl Into<String>) -> Result<Self, Error> {
        let raw = RawValue::from_string(text.into()).map_err(|err| {
            Error::invalid_request(format!("the JSON Patch document is not JSON: {err}"))
        })?;
        let patch = Self(Document::Text(raw));
        patch.check()?;
        Ok(patch)
    }

    /// The document as it is sent.
    pub fn to_text(&self) -> String {
        match &self.0 {
            Document::Value(value) => value.to_string(),
            Document::Text(raw) => raw.get().to_owned(),
        }
    }

    /// Fails unless the document is an array of operations.
    pub(crate) fn check(&self) -> Result<(), Error> {
        let is_array = match &self.0 {
            Document::Value(value) => value.is_array(),
            Document::Text(raw) => raw.get().trim_start().starts_with('['),
        };
        if is_array {
            Ok(())
        } else {
            Err(Error::invalid_request(
                "a JSON Patch document must be an array of operations",
            ))
        }
    }
}

impl From<Value> for JsonPatch {
    fn from(value: Value) -> Self {
        Self(Document::Value(value))
    }
}

impl From<&Value> for JsonPatch {
    fn from(value: &Value) -> Self {
        Self(Document::Value(value.clone()))
    }
}
