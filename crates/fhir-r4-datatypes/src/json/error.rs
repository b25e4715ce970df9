//! The decoder's error while it unwinds: a kind, a message, the input offset and the path so far.

use std::fmt;

use fhir_core::{DecodeError, DecodeErrorKind};

use super::reader::BOM;

/// One step of a JSON path, recorded innermost first while an error unwinds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(&'static str),
    OwnedKey(Box<str>),
    Index(usize),
}

/// A decoding error inside the JSON runtime.
///
/// It is boxed so that `Result<T, Error>` stays small on the hot path, and it collects the JSON
/// path only while it unwinds, so successful decoding never pays for path bookkeeping.
/// [`Error::into_decode_error`] turns it into the [`DecodeError`] of `fhir-core`.
#[derive(Clone, PartialEq, Eq)]
pub struct Error(Box<Inner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    kind: DecodeErrorKind,
    message: String,
    offset: usize,
    path: Vec<Segment>,
}

impl Error {
    /// Creates an error of `kind` found at byte `offset` of the input.
    pub fn new(kind: DecodeErrorKind, offset: usize, message: impl Into<String>) -> Self {
        Self(Box::new(Inner {
            kind,
            message: message.into(),
            offset,
            path: Vec::new(),
        }))
    }

    /// The category of the problem.
    pub fn kind(&self) -> DecodeErrorKind {
        self.0.kind
    }

    /// The description of the problem.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// Records that the error happened inside the property `key`.
    #[must_use]
    pub fn in_key(mut self, key: &'static str) -> Self {
        self.0.path.push(Segment::Key(key));
        self
    }

    /// Records that the error happened inside a property whose name is only known at run time.
    #[must_use]
    pub fn in_owned_key(mut self, key: &str) -> Self {
        self.0.path.push(Segment::OwnedKey(key.into()));
        self
    }

    /// Records that the error happened inside the array item `index`.
    #[must_use]
    pub fn in_index(mut self, index: usize) -> Self {
        self.0.path.push(Segment::Index(index));
        self
    }

    /// The JSON path collected so far, such as `name[0].given[1]`; empty at the document itself.
    pub fn path(&self) -> String {
        let mut out = String::new();
        for segment in self.0.path.iter().rev() {
            match segment {
                Segment::Key(key) => push_key(&mut out, key),
                Segment::OwnedKey(key) => push_key(&mut out, key),
                Segment::Index(index) => push_index(&mut out, *index),
            }
        }
        out
    }

    /// Whether the error is about the value being read itself, not about something inside it.
    pub(crate) fn is_here(&self) -> bool {
        self.0.path.is_empty()
    }

    /// The byte offset of the problem in the input.
    pub(crate) fn offset(&self) -> usize {
        self.0.offset
    }

    /// Converts into the error of `fhir-core`, with `root` (such as `Patient`) as the first path
    /// segment and the line and column computed from `input`.
    pub fn into_decode_error(self, root: Option<&str>, input: &[u8]) -> DecodeError {
        let path = join_path(root, &self.path());
        let (line, column) = line_column(input, self.0.offset);
        DecodeError::new(self.0.kind, path, self.0.message).at(line, column)
    }
}

/// `root` (such as `Patient`) followed by the path inside it; `.` for the document itself
/// when there is no root.
pub(crate) fn join_path(root: Option<&str>, inner: &str) -> String {
    match (root, inner.is_empty()) {
        (Some(root), true) => root.to_owned(),
        (Some(root), false) if inner.starts_with('[') => format!("{root}{inner}"),
        (Some(root), false) => format!("{root}.{inner}"),
        (None, true) => String::from("."),
        (None, false) => inner.to_owned(),
    }
}

pub(crate) fn push_index(out: &mut String, index: usize) {
    out.push('[');
    out.push_str(itoa::Buffer::new().format(index));
    out.push(']');
}

pub(crate) fn push_key(out: &mut String, key: &str) {
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(key);
}

/// The 1-based line and column (in bytes) of byte `offset` in `input`; a byte-order mark the
/// reader skipped does not count.
pub(crate) fn line_column(input: &[u8], offset: usize) -> (usize, usize) {
    let upto = input.get(..offset).unwrap_or(input);
    let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = match upto.iter().rposition(|&b| b == b'\n') {
        Some(newline) => upto.len() - newline,
        None => upto.strip_prefix(BOM).unwrap_or(upto).len() + 1,
    };
    (line, column)
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("path", &self.path())
            .field("offset", &self.0.offset)
            .field("message", &self.0.message)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at `{}`: {}",
            self.0.kind,
            self.path(),
            self.0.message
        )
    }
}

impl std::error::Error for Error {}
