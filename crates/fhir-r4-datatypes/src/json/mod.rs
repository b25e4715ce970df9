//! The JSON runtime behind the generated models: a pull reader, a writer, and the small,
//! non-generic-over-the-format helpers that generated `decode`/`encode` functions call.
//!
//! Each generated type has exactly one concrete decode function and one encode function, all
//! compiled inside this crate or `fhir-r4`; nothing is instantiated per serializer in a user's
//! crate. Use `fhir_r4::Resource::from_slice` and `fhir_r4::Resource::to_vec` rather than this
//! module, unless you are writing a decoder for a type of your own.

mod error;
mod lookahead;
mod reader;
mod report;
mod scan;
mod unknown;
mod writer;

pub mod de;
pub mod ser;

#[cfg(test)]
mod tests;

use fhir_core::DecodeError;

use crate::datatypes::Meta;

pub use error::Error;
pub use reader::{DecodeOptions, MAX_DEPTH, Peek, Reader};
pub use report::{DecodeReport, DecodeWarning};
pub use unknown::UnknownFields;
pub use writer::Writer;

/// A value that can be read from FHIR JSON.
pub trait JsonDecode: Sized {
    /// Reads one value from `r`.
    ///
    /// # Errors
    ///
    /// When the JSON does not match the type; the error's path is relative to this value.
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error>;
}

/// A value that can be written as FHIR JSON.
pub trait JsonEncode {
    /// Writes this value to `w`.
    fn encode(&self, w: &mut Writer);
}

/// A choice element's enum (`ObservationValue` for `Observation.value[x]`).
pub trait Choice {
    /// The JSON name of the variant held (`valueQuantity`).
    fn json_name(&self) -> &'static str;

    /// Writes the variant held as a property of the object being written (`"valueQuantity": …`).
    fn encode_choice(&self, w: &mut Writer);
}

/// Decodes one document of type `T`, whose errors' paths start with `root` (`Patient`).
///
/// # Errors
///
/// A [`DecodeError`] with the JSON path, line and column of the first problem.
pub fn from_slice<T: JsonDecode>(bytes: &[u8], root: &str) -> Result<T, DecodeError> {
    from_slice_with(bytes, root, DecodeOptions::default())
}

/// Like [`from_slice`], with options (such as lenient decoding).
///
/// # Errors
///
/// A [`DecodeError`] with the JSON path, line and column of the first problem.
pub fn from_slice_with<T: JsonDecode>(
    bytes: &[u8],
    root: &str,
    options: DecodeOptions,
) -> Result<T, DecodeError> {
    let mut r = Reader::new(bytes, options);
    decode_document(&mut r, root)
}

/// Like [`from_slice_with`], also returning what lenient decoding dropped or repaired, by
/// JSON path under `root`; the report of a strict decode is empty.
///
/// ```
/// use fhir_core::DecodeErrorKind;
/// use fhir_r4_datatypes::datatypes::HumanName;
/// use fhir_r4_datatypes::json::{self, DecodeOptions};
///
/// let json = br#"{"family":"Doe","family":"Roe","given":[],"period":{}}"#;
/// let strict = json::from_slice::<HumanName>(json, "HumanName").unwrap_err();
/// assert_eq!(strict.kind, DecodeErrorKind::DuplicateProperty);
/// assert_eq!(strict.path, "HumanName.family");
///
/// let (name, report): (HumanName, _) =
///     json::from_slice_with_report(json, "HumanName", DecodeOptions::lenient()).unwrap();
/// assert_eq!(name.family.and_then(|family| family.value).as_deref(), Some("Roe"));
/// let found: Vec<_> = report.warnings().iter().map(|w| (w.kind, w.path.as_str())).collect();
/// assert_eq!(
///     found,
///     [
///         (DecodeErrorKind::DuplicateProperty, "HumanName.family"),
///         (DecodeErrorKind::EmptyValue, "HumanName.given"),
///         (DecodeErrorKind::EmptyValue, "HumanName.period"),
///     ]
/// );
/// ```
///
/// # Errors
///
/// A [`DecodeError`] with the JSON path, line and column of the first problem.
pub fn from_slice_with_report<T: JsonDecode>(
    bytes: &[u8],
    root: &str,
    options: DecodeOptions,
) -> Result<(T, DecodeReport), DecodeError> {
    let mut r = Reader::new(bytes, options);
    let value = decode_document(&mut r, root)?;
    Ok((value, r.into_report(Some(root))))
}

fn decode_document<T: JsonDecode>(r: &mut Reader<'_>, root: &str) -> Result<T, DecodeError> {
    match T::decode(r).and_then(|value| r.finish().map(|()| value)) {
        Ok(value) => Ok(value),
        Err(err) => Err(err.into_decode_error(Some(root), r.input())),
    }
}

/// Encodes a value as compact JSON.
pub fn to_vec<T: JsonEncode + ?Sized>(value: &T) -> Vec<u8> {
    let mut w = Writer::with_capacity(1024);
    value.encode(&mut w);
    w.into_bytes()
}

/// Appends the compact JSON of `value` to `out`, reusing its allocation: the loop of an NDJSON
/// writer, which clears one buffer per line instead of allocating one.
pub fn write_into<T: JsonEncode + ?Sized>(value: &T, out: &mut Vec<u8>) {
    let mut w = Writer::appending_to(std::mem::take(out));
    value.encode(&mut w);
    *out = w.into_bytes();
}

/// The `meta.versionId` of a resource, if set.
pub fn version_id(meta: Option<&Meta>) -> Option<&str> {
    meta?.version_id.as_ref()?.value.as_deref()
}

impl<T: JsonDecode> JsonDecode for Box<T> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        match T::decode(r) {
            Ok(value) => Ok(Box::new(value)),
            Err(err) => Err(err),
        }
    }
}

impl<T: JsonEncode + ?Sized> JsonEncode for Box<T> {
    fn encode(&self, w: &mut Writer) {
        (**self).encode(w);
    }
}
