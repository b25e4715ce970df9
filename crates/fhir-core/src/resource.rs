//! The contract between the client and resource models: [`Resource`] and [`TypedResource`].
//!
//! The client never calls serde on a caller's type directly. It asks the type to decode itself
//! from bytes and to encode itself to bytes, so a model crate such as `fhir-r4` instantiates its
//! (large) serde code once, inside that crate, instead of in every crate that uses the client.

use std::fmt;

use serde_json::Value;

/// A FHIR resource the client can send and receive.
///
/// Implemented for [`serde_json::Value`] (raw JSON, any resource type) and by the generated
/// models of `fhir-r4`. Implementing it for a type of your own takes a few lines:
///
/// ```
/// use fhir_core::{DecodeError, EncodeError, Resource, TypedResource};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// #[serde(tag = "resourceType", rename = "Patient")]
/// struct MyPatient {
///     id: Option<String>,
/// }
///
/// impl Resource for MyPatient {
///     fn resource_type(&self) -> Option<&str> {
///         Some("Patient")
///     }
///     fn id(&self) -> Option<&str> {
///         self.id.as_deref()
///     }
///     fn from_json_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
///         fhir_core::resource::decode_with_serde(bytes)
///     }
///     fn to_json_vec(&self) -> Result<Vec<u8>, EncodeError> {
///         fhir_core::resource::encode_with_serde(self)
///     }
/// }
///
/// impl TypedResource for MyPatient {
///     const RESOURCE_TYPE: &'static str = "Patient";
/// }
///
/// let p = MyPatient::from_json_slice(br#"{"resourceType":"Patient","id":"p1"}"#).unwrap();
/// assert_eq!(p.id(), Some("p1"));
/// ```
pub trait Resource: Sized + Send + Sync + 'static {
    /// The `resourceType` of this value (`"Patient"`), or `None` when raw JSON has none.
    fn resource_type(&self) -> Option<&str>;

    /// The logical id (`Resource.id`), if set.
    fn id(&self) -> Option<&str>;

    /// The version id (`Resource.meta.versionId`), if set.
    fn version_id(&self) -> Option<&str> {
        None
    }

    /// Decodes one resource from FHIR JSON bytes.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] that says what was wrong and where (JSON path, line and column).
    fn from_json_slice(bytes: &[u8]) -> Result<Self, DecodeError>;

    /// Encodes this resource as FHIR JSON.
    ///
    /// # Errors
    ///
    /// An [`EncodeError`] when the value cannot be represented as JSON.
    fn to_json_vec(&self) -> Result<Vec<u8>, EncodeError>;

    /// Whether [`from_json_value`](Self::from_json_value) takes an already parsed
    /// [`serde_json::Value`] without going back to bytes.
    ///
    /// When it does, searches that only want the resources (the `resources()` stream of a
    /// search) parse each page once, resources included, instead of scanning the Bundle and
    /// then decoding every entry from its bytes. The default, `false`, is right for models
    /// that decode from bytes.
    const DECODES_FROM_VALUE: bool = false;

    /// Decodes one resource from a parsed JSON value.
    ///
    /// The default encodes `value` back to bytes and calls
    /// [`from_json_slice`](Self::from_json_slice).
    ///
    /// # Errors
    ///
    /// As [`from_json_slice`](Self::from_json_slice).
    fn from_json_value(value: Value) -> Result<Self, DecodeError> {
        let bytes = serde_json::to_vec(&value)
            .map_err(|err| DecodeError::new(DecodeErrorKind::Other, ".", err.to_string()))?;
        Self::from_json_slice(&bytes)
    }
}

/// A [`Resource`] whose type is known at compile time (`Patient`, `Observation`, …).
///
/// Typed client calls such as `client.read::<Patient>(id)` use [`TypedResource::RESOURCE_TYPE`]
/// to build the request path.
pub trait TypedResource: Resource {
    /// The FHIR resource type name, as it appears in URLs and in `resourceType`.
    const RESOURCE_TYPE: &'static str;
}

impl Resource for Value {
    fn resource_type(&self) -> Option<&str> {
        self.get("resourceType").and_then(Value::as_str)
    }

    fn id(&self) -> Option<&str> {
        self.get("id").and_then(Value::as_str)
    }

    fn version_id(&self) -> Option<&str> {
        self.get("meta")
            .and_then(|meta| meta.get("versionId"))
            .and_then(Value::as_str)
    }

    fn from_json_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_with_serde(bytes)
    }

    fn to_json_vec(&self) -> Result<Vec<u8>, EncodeError> {
        encode_with_serde(self)
    }

    const DECODES_FROM_VALUE: bool = true;

    fn from_json_value(value: Value) -> Result<Self, DecodeError> {
        Ok(value)
    }
}

/// Decodes any `serde` type from JSON bytes, reporting the JSON path of the first error.
///
/// A helper for implementations of [`Resource::from_json_slice`]. A leading UTF-8 byte-order
/// mark, which some servers send before JSON, is skipped (RFC 8259 §8.1 lets a parser ignore
/// it); one anywhere else is an error.
///
/// # Errors
///
/// A [`DecodeError`] with the path (`entry[2].resource`), line and column of the problem.
pub fn decode_with_serde<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    // The fast path tracks no path; only a failing document is decoded again to find where.
    match serde_json::from_slice(bytes) {
        Ok(value) => Ok(value),
        Err(err) => Err(locate_error::<T>(bytes)
            .unwrap_or_else(|| DecodeError::from_serde_json(err, String::from(".")))),
    }
}

/// The UTF-8 byte-order mark.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Decodes `bytes` again, tracking the JSON path, to say where decoding fails.
fn locate_error<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<DecodeError> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Err(err) => {
            let path = err.path().to_string();
            Some(DecodeError::from_serde_json(err.into_inner(), path))
        }
        Ok(_) => deserializer
            .end()
            .err()
            .map(|err| DecodeError::from_serde_json(err, String::from("."))),
    }
}

/// Encodes any `serde` type as JSON bytes; a helper for [`Resource::to_json_vec`].
///
/// # Errors
///
/// An [`EncodeError`] when serde reports one (for example a map with non-string keys).
pub fn encode_with_serde<T: serde::Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, EncodeError> {
    serde_json::to_vec(value).map_err(|err| EncodeError {
        message: err.to_string(),
    })
}

/// What kind of problem made a document unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The bytes are not JSON.
    Syntax,
    /// The JSON ends early (a truncated document).
    Eof,
    /// A value has the wrong JSON type (a string where a boolean belongs).
    InvalidType,
    /// A value has the right JSON type but an invalid content (a bad date, an out-of-range integer).
    InvalidValue,
    /// A property the model does not know.
    UnknownField,
    /// A required property is missing where the model cannot do without it.
    MissingField,
    /// A `resourceType` other than the one expected, or one that does not exist.
    WrongResourceType,
    /// Nesting deeper than the decoder allows.
    TooDeep,
    /// A property that appears twice in one object (`"id":"a","id":"b"`).
    DuplicateProperty,
    /// An empty array (`[]`), an empty object (`{}`) or a `null` where FHIR JSON requires
    /// content: nulls belong only inside arrays of primitives, aligned with their `_field`
    /// extensions.
    EmptyValue,
    /// Anything else the model reported.
    Other,
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Syntax => "invalid JSON",
            Self::Eof => "unexpected end of input",
            Self::InvalidType => "wrong JSON type",
            Self::InvalidValue => "invalid value",
            Self::UnknownField => "unknown property",
            Self::MissingField => "missing property",
            Self::WrongResourceType => "wrong resource type",
            Self::TooDeep => "nesting too deep",
            Self::DuplicateProperty => "duplicate property",
            Self::EmptyValue => "empty value",
            Self::Other => "invalid resource",
        })
    }
}

/// A document could not be decoded: what was wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at `{path}` (line {line}, column {column}): {message}")]
#[non_exhaustive]
pub struct DecodeError {
    /// The category of the problem.
    pub kind: DecodeErrorKind,
    /// The JSON path of the offending value, such as `Patient.name[0].given[1]` or `entry[3].resource`;
    /// `.` for the document itself.
    pub path: String,
    /// The 1-based line of the problem in the input, or 0 when unknown.
    pub line: usize,
    /// The 1-based column of the problem in the input, or 0 when unknown.
    pub column: usize,
    /// A human-readable description from the decoder.
    pub message: String,
}

impl DecodeError {
    /// Creates an error of `kind` at `path` with no known position.
    pub fn new(kind: DecodeErrorKind, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            path: path.into(),
            line: 0,
            column: 0,
            message: message.into(),
        }
    }

    /// Sets the line and column of the problem.
    #[must_use]
    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = line;
        self.column = column;
        self
    }

    /// Prefixes the path with `prefix`, for errors found inside a nested document
    /// (`entry[3].resource` + `.name[0]`).
    #[must_use]
    pub fn within(mut self, prefix: &str) -> Self {
        self.path = if self.path.is_empty() || self.path == "." {
            prefix.to_owned()
        } else if self.path.starts_with('[') {
            format!("{prefix}{}", self.path)
        } else {
            format!("{prefix}.{}", self.path)
        };
        self
    }

    /// Converts a `serde_json` error found at `path`.
    pub fn from_serde_json(err: serde_json::Error, path: String) -> Self {
        use serde_json::error::Category;
        let message = err.to_string();
        let kind = match err.classify() {
            Category::Eof => DecodeErrorKind::Eof,
            Category::Syntax if message.starts_with("recursion limit exceeded") => {
                DecodeErrorKind::TooDeep
            }
            Category::Syntax | Category::Io => DecodeErrorKind::Syntax,
            Category::Data if message.starts_with("invalid type") => DecodeErrorKind::InvalidType,
            Category::Data if message.starts_with("unknown field") => DecodeErrorKind::UnknownField,
            Category::Data if message.starts_with("missing field") => DecodeErrorKind::MissingField,
            Category::Data => DecodeErrorKind::InvalidValue,
        };
        // serde_json appends " at line L column C"; the position lives in its own fields here.
        let message = match message.rfind(" at line ") {
            Some(cut) => message[..cut].to_owned(),
            None => message,
        };
        let path = if path.is_empty() {
            String::from(".")
        } else {
            path
        };
        Self::new(kind, path, message).at(err.line(), err.column())
    }
}

/// A resource could not be encoded as JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode resource as JSON: {message}")]
#[non_exhaustive]
pub struct EncodeError {
    /// What the encoder reported.
    pub message: String,
}

impl EncodeError {
    /// Creates an encode error with a description.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests;
