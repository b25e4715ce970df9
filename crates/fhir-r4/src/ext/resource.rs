//! Entry points on [`Resource`]: decoding and encoding FHIR JSON, and the `fhir-core` trait.

use fhir_core::{DecodeError, EncodeError};

use crate::json::{self, DecodeOptions, DecodeReport, Reader};
use crate::validate::{self, Issue};
use crate::{RawResource, Resource};

impl Resource {
    /// Decodes one resource of any type from FHIR JSON, strictly: an unknown property or
    /// resource type, a duplicate property, an empty array or object, a misplaced `null` is an
    /// error naming its JSON path (`Patient.name[0].given[1]`); see [`DecodeOptions`].
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] with the kind, JSON path, line and column of the first problem.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::from_slice_with(bytes, DecodeOptions::default())
    }

    /// Decodes one resource with `options`, such as [`DecodeOptions::lenient`], which keeps
    /// unknown properties and resource types instead of rejecting them. What lenient decoding
    /// drops is not reported; [`Self::from_slice_with_report`] reports it.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] with the kind, JSON path, line and column of the first problem.
    pub fn from_slice_with(bytes: &[u8], options: DecodeOptions) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes, options);
        Self::decode_document(&mut r)
    }

    /// Decodes one resource with `options`, and reports what lenient decoding dropped or
    /// repaired (a strict decode fails instead, so its report is empty).
    ///
    /// ```
    /// use fhir_core::DecodeErrorKind;
    /// use fhir_r4::{DecodeOptions, Resource};
    ///
    /// let json = br#"{"resourceType":"Patient","id":"a","id":"b","name":[{}],"_birthDate":{}}"#;
    /// let (patient, report) = Resource::from_slice_with_report(json, DecodeOptions::lenient())?;
    /// assert_eq!(patient.id(), Some("b"));
    /// assert_eq!(patient.to_vec(), br#"{"resourceType":"Patient","id":"b"}"#);
    /// let warnings: Vec<_> = report.warnings().iter().map(|w| (w.kind, w.path.as_str())).collect();
    /// assert_eq!(
    ///     warnings,
    ///     [
    ///         (DecodeErrorKind::DuplicateProperty, "Patient.id"),
    ///         (DecodeErrorKind::EmptyValue, "Patient.name[0]"),
    ///         (DecodeErrorKind::EmptyValue, "Patient._birthDate"),
    ///     ]
    /// );
    /// // Strictly, the first of them is the error.
    /// let err = Resource::from_slice(json).unwrap_err();
    /// assert_eq!((err.kind, err.path.as_str()), (DecodeErrorKind::DuplicateProperty, "Patient.id"));
    /// # Ok::<(), fhir_core::DecodeError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] with the kind, JSON path, line and column of the first problem.
    pub fn from_slice_with_report(
        bytes: &[u8],
        options: DecodeOptions,
    ) -> Result<(Self, DecodeReport), DecodeError> {
        let mut r = Reader::new(bytes, options);
        let resource = Self::decode_document(&mut r)?;
        let report = r.into_report(Some(resource.resource_type()));
        Ok((resource, report))
    }

    fn decode_document(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let resource =
            json::JsonDecode::decode(r).and_then(|resource| r.finish().map(|()| resource));
        resource.map_err(|err| {
            let bytes = r.input();
            let mut peek = Reader::new(bytes, DecodeOptions::lenient());
            let root = RawResource::peek_type(&mut peek).ok();
            err.into_decode_error(root.as_deref(), bytes)
        })
    }

    /// Encodes this resource as canonical FHIR JSON: `resourceType` first, no empty elements.
    pub fn to_vec(&self) -> Vec<u8> {
        json::to_vec(self)
    }

    /// Appends the same encoding as [`Self::to_vec`] to `out`, reusing its allocation (clear it
    /// between documents to write NDJSON lines from one buffer).
    pub fn write_into(&self, out: &mut Vec<u8>) {
        json::write_into(self, out);
    }

    /// The required elements (minimum cardinality 1) this resource lacks, by path; parsing
    /// accepts such gaps, so they are reported here.
    pub fn missing_required(&self) -> Vec<Issue> {
        // The encoder writes well-formed JSON, which the validator always reads.
        validate::missing_required(&self.to_vec()).unwrap_or_default()
    }
}

impl fhir_core::Resource for Resource {
    fn resource_type(&self) -> Option<&str> {
        Some(Resource::resource_type(self))
    }

    fn id(&self) -> Option<&str> {
        Resource::id(self)
    }

    fn version_id(&self) -> Option<&str> {
        json::version_id(self.meta())
    }

    fn from_json_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::from_slice(bytes)
    }

    fn to_json_vec(&self) -> Result<Vec<u8>, EncodeError> {
        Ok(self.to_vec())
    }
}
