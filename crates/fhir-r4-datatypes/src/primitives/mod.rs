//! FHIR primitive types: the value types (`Decimal`, `Date`, `DateTime`, …) and [`Primitive`],
//! which carries a value together with the element's `id` and `extension` (`_field` in JSON).
//!
//! Text-like primitives (`string`, `code`, `uri`, `id`, `markdown`, …) are plain [`String`]s;
//! `boolean` is [`bool`] and `integer` is [`i32`].

mod calendar;
mod chronology;
mod clock;
mod datetime;
mod decimal;
mod integer;
mod interop;

#[cfg(test)]
mod tests;

pub use datetime::{Date, DateTime, Instant, ParseDateError, Precision, Time};
pub use decimal::{Decimal, NonFiniteError, ParseDecimalError};
pub use integer::{PositiveInt, UnsignedInt};
pub use interop::ConversionError;

use fhir_core::DecodeErrorKind;

use crate::ThinVec;
use crate::datatypes::Extension;
use crate::json::{Error, JsonDecode, JsonEncode, Reader, UnknownFields, Writer, de, ser};

/// A primitive element: an optional value plus the optional `id` and `extension` that FHIR JSON
/// carries in the `_field` property next to `field`.
///
/// The extensions sit behind one pointer, so a primitive without extensions costs the value
/// and eight bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Primitive<T> {
    /// The value; `None` when the element only carries extensions.
    pub value: Option<T>,
    /// The element's `id` and `extension`, if any.
    pub extension: Option<Box<PrimitiveExtension>>,
}

impl<T> Default for Primitive<T> {
    fn default() -> Self {
        Self {
            value: None,
            extension: None,
        }
    }
}

impl<T> Primitive<T> {
    /// A primitive with a value and no extensions.
    pub fn new(value: T) -> Self {
        Self {
            value: Some(value),
            extension: None,
        }
    }

    /// The value, if any.
    pub fn value(&self) -> Option<&T> {
        self.value.as_ref()
    }

    /// The element's `id`, if any.
    pub fn id(&self) -> Option<&str> {
        self.extension.as_ref().and_then(|ext| ext.id.as_deref())
    }

    /// The element's extensions.
    pub fn extensions(&self) -> &[Extension] {
        self.extension.as_ref().map_or(&[], |ext| &ext.extension)
    }
}

impl<T> From<T> for Primitive<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Primitive<String> {
    fn from(value: &str) -> Self {
        Self::new(value.to_owned())
    }
}

/// The `id` and `extension` of a primitive element (the `_field` object of FHIR JSON).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PrimitiveExtension {
    /// Unique id for inter-element referencing.
    pub id: Option<String>,
    /// Additional content defined by implementations.
    pub extension: ThinVec<Extension>,
    /// Properties not defined by FHIR R4, kept by a lenient decoder.
    pub unknown: UnknownFields,
}

impl JsonDecode for PrimitiveExtension {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        de::object(r, |out: &mut Self, r, key| match &*key {
            "id" => de::opt(r, "id", &mut out.id),
            "extension" => de::vec(r, "extension", &mut out.extension),
            _ => de::unknown(r, key, &mut out.unknown),
        })
    }
}

impl JsonEncode for PrimitiveExtension {
    fn encode(&self, w: &mut Writer) {
        w.begin_object();
        ser::opt(w, "id", &self.id);
        ser::vec(w, "extension", &self.extension);
        self.unknown.encode(w);
        w.end_object();
    }
}

impl JsonDecode for String {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.read_string()
    }
}

impl JsonEncode for String {
    fn encode(&self, w: &mut Writer) {
        w.string(self);
    }
}

impl JsonEncode for str {
    fn encode(&self, w: &mut Writer) {
        w.string(self);
    }
}

impl JsonDecode for bool {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.read_bool()
    }
}

impl JsonEncode for bool {
    fn encode(&self, w: &mut Writer) {
        w.bool(*self);
    }
}

impl JsonDecode for i32 {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        let text = r.read_number()?;
        text.parse().map_err(|_| {
            r.error(
                DecodeErrorKind::InvalidValue,
                format!("`{text}` is not an integer in the range of a FHIR integer (32 bits)"),
            )
        })
    }
}

impl JsonEncode for i32 {
    fn encode(&self, w: &mut Writer) {
        w.i64(i64::from(*self));
    }
}
