//! [`RawResource`]: a resource kept as raw JSON.

use std::borrow::Cow;

use fhir_core::{DecodeError, DecodeErrorKind};

use crate::RESOURCE_TYPES;
use crate::json::{DecodeOptions, Error, JsonEncode, Reader, Writer};

/// A resource kept as its raw JSON text, losslessly: a resource type whose cargo feature is off,
/// or (in lenient mode) a resource type FHIR R4 does not define.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResource {
    resource_type: String,
    id: Option<String>,
    json: Box<str>,
}

impl RawResource {
    /// Reads one resource as raw JSON; it must be an object with a string `resourceType`.
    ///
    /// # Errors
    ///
    /// When the text is not JSON or has no `resourceType`.
    pub fn from_json(json: &str) -> Result<Self, DecodeError> {
        let bytes = json.as_bytes();
        let mut r = Reader::new(bytes, DecodeOptions::lenient());
        let raw = Self::peek_type(&mut r)
            .and_then(|ty| Self::decode_as(&mut r, &ty))
            .and_then(|raw| r.finish().map(|()| raw));
        raw.map_err(|err| err.into_decode_error(None, bytes))
    }

    /// The `resourceType`.
    pub fn resource_type(&self) -> &str {
        &self.resource_type
    }

    /// The logical id, if set.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The JSON text, as it was read.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// Reads the `resourceType` of the object at the reader's position, wherever it appears.
    pub(crate) fn peek_type<'a>(r: &mut Reader<'a>) -> Result<Cow<'a, str>, Error> {
        match r.find_string_key("resourceType")? {
            Some(ty) => Ok(ty),
            None => Err(r
                .error(
                    DecodeErrorKind::MissingField,
                    "missing property `resourceType`",
                )
                .in_key("resourceType")),
        }
    }

    /// Reads the object at the reader's position as a raw resource of type `resource_type`.
    ///
    /// A type R4 does not define is an error unless the reader is lenient.
    pub(crate) fn decode_as(r: &mut Reader<'_>, resource_type: &str) -> Result<Self, Error> {
        if !r.options().lenient && RESOURCE_TYPES.binary_search(&resource_type).is_err() {
            return Err(r
                .error(
                    DecodeErrorKind::WrongResourceType,
                    format!("unknown resource type `{resource_type}`"),
                )
                .in_key("resourceType"));
        }
        let id = r.find_string_key("id")?.map(Cow::into_owned);
        let json = r.raw_value()?;
        Ok(Self {
            resource_type: resource_type.to_owned(),
            id,
            json: json.into(),
        })
    }
}

impl JsonEncode for RawResource {
    fn encode(&self, w: &mut Writer) {
        w.raw(&self.json);
    }
}
