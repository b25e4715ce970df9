//! What a lenient decoder dropped or repaired: [`DecodeReport`] and its [`DecodeWarning`]s.
//!
//! While decoding, a warning records only the byte offset of the value it is about (the
//! decoder does not track its path on the way down, so strict decoding pays nothing for it);
//! once the document is decoded, one walk over it turns the offsets into JSON paths.

use std::fmt;

use fhir_core::DecodeErrorKind;

use super::error::{join_path, line_column, push_index, push_key};
use super::{DecodeOptions, Error, Peek, Reader};

/// What lenient decoding ([`DecodeOptions::lenient`]) dropped or repaired, in document order.
///
/// Strict decoding rejects the same input with a [`fhir_core::DecodeError`] of the same kind,
/// so a report is empty after a strict decode. Returned by `fhir_r4::Resource::from_slice_with_report`
/// and [`super::from_slice_with_report`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeReport {
    warnings: Vec<DecodeWarning>,
}

impl DecodeReport {
    /// The warnings, in the order of their position in the document.
    pub fn warnings(&self) -> &[DecodeWarning] {
        &self.warnings
    }

    /// Whether nothing was dropped or repaired.
    pub fn is_empty(&self) -> bool {
        self.warnings.is_empty()
    }

    /// The warnings, owned.
    pub fn into_warnings(self) -> Vec<DecodeWarning> {
        self.warnings
    }
}

impl<'r> IntoIterator for &'r DecodeReport {
    type Item = &'r DecodeWarning;
    type IntoIter = std::slice::Iter<'r, DecodeWarning>;

    fn into_iter(self) -> Self::IntoIter {
        self.warnings.iter()
    }
}

/// One thing lenient decoding dropped or repaired.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeWarning {
    /// The error strict decoding reports for the same input:
    /// [`DecodeErrorKind::DuplicateProperty`] (the earlier value was dropped, the last one kept;
    /// inside an unknown property kept as raw JSON, both are kept as read),
    /// [`DecodeErrorKind::EmptyValue`] (an empty or `null` value was dropped),
    /// [`DecodeErrorKind::InvalidValue`] (misaligned primitive arrays, padded), or
    /// [`DecodeErrorKind::MissingField`] (a typed resource without `resourceType`).
    pub kind: DecodeErrorKind,
    /// The JSON path of the value concerned, such as `Patient.name[0].given`.
    pub path: String,
    /// The 1-based line of the value in the input.
    pub line: usize,
    /// The 1-based column (in bytes) of the value in the input.
    pub column: usize,
    /// What was found and what was done about it.
    pub message: String,
}

impl fmt::Display for DecodeWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at `{}` (line {}, column {}): {}",
            self.kind, self.path, self.line, self.column, self.message
        )
    }
}

/// A warning before its path is known: the offset of the value it is about and, for checks
/// made once an object is read, the property of that object (`given`).
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub(crate) kind: DecodeErrorKind,
    pub(crate) offset: usize,
    pub(crate) suffix: Option<Box<str>>,
    pub(crate) message: String,
}

/// Turns pending warnings into a report, with paths found by one walk over `input`.
pub(crate) fn resolve(input: &[u8], root: Option<&str>, mut pending: Vec<Pending>) -> DecodeReport {
    if pending.is_empty() {
        return DecodeReport::default();
    }
    pending.sort_by_key(|warning| warning.offset);
    let mut targets: Vec<usize> = pending.iter().map(|warning| warning.offset).collect();
    targets.dedup();
    let mut locator = Locator {
        targets: &targets,
        next: 0,
        found: Vec::with_capacity(targets.len()),
    };
    let mut r = Reader::new(input, DecodeOptions::lenient());
    // The document was just decoded, so the walk cannot fail; if it did, the paths left
    // unresolved fall back to the root.
    let _ = locator.walk(&mut r, &mut String::new());
    let warnings = pending
        .into_iter()
        .map(|warning| {
            let inner = locator
                .found
                .binary_search_by_key(&warning.offset, |(offset, _)| *offset)
                .ok()
                .and_then(|at| locator.found.get(at))
                .map_or("", |(_, path)| path.as_str());
            let mut inner = inner.to_owned();
            if let Some(suffix) = &warning.suffix {
                push_key(&mut inner, suffix);
            }
            let (line, column) = line_column(input, warning.offset);
            DecodeWarning {
                kind: warning.kind,
                path: join_path(root, &inner),
                line,
                column,
                message: warning.message,
            }
        })
        .collect();
    DecodeReport { warnings }
}

/// Finds the JSON path of the values starting at the target offsets, in one pass.
struct Locator<'t> {
    targets: &'t [usize],
    next: usize,
    found: Vec<(usize, String)>,
}

impl Locator<'_> {
    /// Walks the value at the reader's position; returns `true` once every target is found.
    fn walk(&mut self, r: &mut Reader<'_>, path: &mut String) -> Result<bool, Error> {
        let start = r.value_offset();
        // A target that is not the start of a value (it never is) gets the enclosing path.
        while let Some(&target) = self.targets.get(self.next) {
            if target > start {
                break;
            }
            self.found.push((target, path.clone()));
            self.next += 1;
        }
        if self.next == self.targets.len() {
            return Ok(true);
        }
        match r.peek()? {
            Peek::Object => {
                r.begin_object()?;
                while let Some(key) = r.next_key()? {
                    let len = path.len();
                    push_key(path, &key);
                    if self.walk(r, path)? {
                        return Ok(true);
                    }
                    path.truncate(len);
                }
            }
            Peek::Array => {
                r.begin_array()?;
                let mut index = 0;
                while r.next_item()? {
                    let len = path.len();
                    push_index(path, index);
                    if self.walk(r, path)? {
                        return Ok(true);
                    }
                    path.truncate(len);
                    index += 1;
                }
            }
            _ => r.skip_value()?,
        }
        Ok(false)
    }
}
