//! [`FileRef`]: one file of a manifest, as errors, events and records name it (its URL
//! redacted wherever it is printed).

use std::fmt;
use std::sync::Arc;

use url::Url;

/// Which list of the manifest a file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FileKind {
    /// `output`: resources of the entry's `type`.
    Output,
    /// `deleted`: `Bundle`s listing deleted resources.
    Deleted,
    /// `error`: `OperationOutcome`s.
    Error,
}

impl FileKind {
    /// The manifest member: `output`, `deleted` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Output => "output",
            Self::Deleted => "deleted",
            Self::Error => "error",
        }
    }

    /// The `resourceType` every line of such a file must have, for an entry of `entry_type`.
    pub fn line_type(self, entry_type: &str) -> &str {
        match self {
            Self::Output => entry_type,
            Self::Deleted => "Bundle",
            Self::Error => "OperationOutcome",
        }
    }
}

/// One file of a manifest: its list, its place there, its type, URL and `count`.
///
/// Cheap to clone. `Display` and `Debug` print the URL without its secrets
/// ([`fhir_core::credentials::redact_url`]); [`url`](Self::url) gives it whole.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FileRef {
    inner: Arc<Inner>,
}

#[derive(PartialEq, Eq, Hash)]
struct Inner {
    kind: FileKind,
    index: usize,
    resource_type: String,
    url: Url,
    count: Option<u64>,
}

impl FileRef {
    pub(crate) fn new(
        kind: FileKind,
        index: usize,
        resource_type: String,
        url: Url,
        count: Option<u64>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                kind,
                index,
                resource_type,
                url,
                count,
            }),
        }
    }

    /// `output`, `deleted` or `error`.
    pub fn kind(&self) -> FileKind {
        self.inner.kind
    }

    /// The position in its list of the manifest (0-based).
    pub fn index(&self) -> usize {
        self.inner.index
    }

    /// The entry's `type`.
    pub fn resource_type(&self) -> &str {
        &self.inner.resource_type
    }

    /// The `resourceType` each line must have (`Bundle` for deleted, `OperationOutcome` for
    /// error files).
    pub fn line_type(&self) -> &str {
        self.inner.kind.line_type(&self.inner.resource_type)
    }

    /// The file's URL, secrets included: do not log it ([`redacted_url`](Self::redacted_url)).
    pub fn url(&self) -> &Url {
        &self.inner.url
    }

    /// The URL without user info, fragment or secret query values.
    pub fn redacted_url(&self) -> Url {
        fhir_core::credentials::redact_url(&self.inner.url)
    }

    /// The manifest's `count` for the file.
    pub fn count(&self) -> Option<u64> {
        self.inner.count
    }

    /// A stable name for the file in a directory: `Patient.000.ndjson`,
    /// `deleted.Patient.000.ndjson`, `error.OperationOutcome.000.ndjson` (the type is reduced to
    /// ASCII letters and digits, so a hostile manifest cannot name a path, and a Windows
    /// device name such as `CON` gets a leading `_`).
    pub fn file_name(&self) -> String {
        let clean: String = self
            .inner
            .resource_type
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(64)
            .collect();
        let clean = if clean.is_empty() {
            "Unknown".to_owned()
        } else if is_windows_device(&clean) {
            // `CON.000.ndjson` opens the console on Windows, whatever the extension.
            format!("_{clean}")
        } else {
            clean
        };
        let prefix = match self.inner.kind {
            FileKind::Output => "",
            FileKind::Deleted => "deleted.",
            FileKind::Error => "error.",
        };
        format!("{prefix}{clean}.{:03}.ndjson", self.inner.index)
    }
}

/// Whether `stem` is a name Windows reserves for a device (`CON`, `NUL`, `COM1`, …).
fn is_windows_device(stem: &str) -> bool {
    let upper = stem.to_ascii_uppercase();
    matches!(upper.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((upper.starts_with("COM") || upper.starts_with("LPT"))
            && upper.len() == 4
            && upper.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
}

impl fmt::Display for FileRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} file {} ({}) at {}",
            self.inner.kind.as_str(),
            self.inner.index,
            self.inner.resource_type,
            self.redacted_url()
        )
    }
}

impl fmt::Debug for FileRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileRef")
            .field("kind", &self.inner.kind)
            .field("index", &self.inner.index)
            .field("type", &self.inner.resource_type)
            .field("url", &self.redacted_url().as_str())
            .field("count", &self.inner.count)
            .finish()
    }
}
