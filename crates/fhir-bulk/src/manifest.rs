//! The completion manifest (Bulk Data IG 2.0.0 §"Response - Complete Status"), typed, with
//! every member the server sent kept.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use crate::error::BulkError;
use crate::file::{FileKind, FileRef};
use crate::requested::Requested;

/// A completion manifest: when the data was taken, what was asked, and the files. Its
/// `Debug` shows URLs without their secrets.
///
/// Members this crate does not know (vendor additions) are kept in
/// [`other`](Self::other), so a manifest saved by the directory sink is the server's.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Manifest {
    /// `transactionTime`: the instant the export's data reflects (use it as the next
    /// `_since`).
    pub transaction_time: String,
    /// `request`: the kick-off URL.
    pub request: String,
    /// `requiresAccessToken`: whether file requests need the access token (a missing member
    /// reads as `false`: no token is sent).
    #[serde(default)]
    pub requires_access_token: bool,
    /// `output`: the files of resources.
    #[serde(default)]
    pub output: Vec<ManifestEntry>,
    /// `deleted`: files of `Bundle`s listing deleted resources (exports with `_since`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted: Vec<ManifestEntry>,
    /// `error`: files of `OperationOutcome`s. A non-empty list is a partial success.
    #[serde(default)]
    pub error: Vec<ManifestEntry>,
    /// `extension`: the server's extension object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<Map<String, Value>>,
    /// `link` (3.0, `allowPartialManifests`): links to other manifest pages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub link: Vec<ManifestLink>,
    /// Every other member, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
    /// The `Expires` header of the completion response: files may vanish after it.
    #[serde(skip)]
    pub expires: Option<SystemTime>,
    /// What the kick-off asked, when this client sent it (see [`requested`](Self::requested)).
    #[serde(skip)]
    requested: Option<Requested>,
}

/// The longest `type` accepted (the longest R5 resource type has 40 letters).
const MAX_TYPE_LEN: usize = 64;

/// One entry of `output`, `deleted` or `error`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ManifestEntry {
    /// `type`: the resource type of the file's lines (for `deleted` and `error`, the type the
    /// file is about).
    #[serde(rename = "type")]
    pub resource_type: String,
    /// `url`: where to fetch the file (may be a signed storage URL: do not log it).
    pub url: String,
    /// `count`: the number of resources in the file, when the server says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// `extension`, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<Map<String, Value>>,
    /// Every other member, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// One `link` of a manifest page.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ManifestLink {
    /// `relation`: `next` for the following page.
    pub relation: String,
    /// `url`.
    pub url: String,
}

/// A URL as `Debug` shows it: without its secrets (signed-URL signatures, credentials).
fn shown(url: &str) -> String {
    Url::parse(url).map_or_else(
        // A relative link: its path, without the query that may be a signature.
        |_| url.split(['?', '#']).next().unwrap_or_default().to_owned(),
        |url| fhir_core::credentials::redact_url(&url).into(),
    )
}

// Hand-written so that signed file URLs never reach logs through `{:?}`.
impl std::fmt::Debug for Manifest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manifest")
            .field("transaction_time", &self.transaction_time)
            .field("request", &shown(&self.request))
            .field("requires_access_token", &self.requires_access_token)
            .field("output", &self.output)
            .field("deleted", &self.deleted)
            .field("error", &self.error)
            .field("link", &self.link)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ManifestEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManifestEntry")
            .field("resource_type", &self.resource_type)
            .field("url", &shown(&self.url))
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ManifestLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManifestLink")
            .field("relation", &self.relation)
            .field("url", &shown(&self.url))
            .finish()
    }
}

impl Manifest {
    /// Reads a manifest from JSON, resolving file URLs against `base` (the URL it came from)
    /// and checking that every one is an `http(s)` URL.
    ///
    /// # Errors
    ///
    /// [`BulkError::InvalidManifest`] naming the JSON path of the problem.
    pub fn from_json_slice(bytes: &[u8], base: &Url) -> Result<Self, BulkError> {
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let mut manifest: Self =
            serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
                BulkError::InvalidManifest {
                    reason: format!("{}: {}", err.path(), err.inner()),
                }
            })?;
        for (kind, entries) in [
            ("output", &mut manifest.output),
            ("deleted", &mut manifest.deleted),
            ("error", &mut manifest.error),
        ] {
            for (index, entry) in entries.iter_mut().enumerate() {
                let url = resolve(base, &entry.url).ok_or_else(|| BulkError::InvalidManifest {
                    reason: format!(
                        "{kind}[{index}].url is not an http(s) URL, or is plain http in a manifest read over https"
                    ),
                })?;
                entry.url = url.into();
                // A resource type name (`Patient`): the type reaches file names, error text
                // and logs, so a hostile manifest cannot put paths or secrets there.
                let name = &entry.resource_type;
                let is_type_name = name.len() <= MAX_TYPE_LEN
                    && name.starts_with(|c: char| c.is_ascii_alphabetic())
                    && name.chars().all(|c| c.is_ascii_alphanumeric());
                if !is_type_name {
                    return Err(BulkError::InvalidManifest {
                        reason: format!("{kind}[{index}].type is not a resource type name"),
                    });
                }
            }
        }
        Ok(manifest)
    }

    /// The `next` page's URL (3.0 partial manifests), resolved against `base`.
    pub fn next_page(&self, base: &Url) -> Option<Url> {
        self.link
            .iter()
            .find(|link| link.relation == "next")
            .and_then(|link| resolve(base, &link.url))
    }

    /// What the kick-off asked (`_type`, `_elements`, `_typeFilter`), for the checks that
    /// report ignored parameters: as this client sent it when it kicked the job off, else
    /// as the [`request`](Self::request) URL's query says.
    pub fn requested(&self) -> Requested {
        self.requested
            .clone()
            .unwrap_or_else(|| Requested::from_kick_off_url(&self.request))
    }

    /// Records what the kick-off asked, for a manifest read back from disk whose job was
    /// kicked off by POST (its `request` URL carries no parameters).
    pub fn set_requested(&mut self, requested: Requested) {
        self.requested = Some(requested);
    }

    /// Every file of the manifest, outputs first, then deleted, then error files.
    pub fn files(&self) -> Vec<FileRef> {
        let mut files = Vec::new();
        for (kind, entries) in [
            (FileKind::Output, &self.output),
            (FileKind::Deleted, &self.deleted),
            (FileKind::Error, &self.error),
        ] {
            for (index, entry) in entries.iter().enumerate() {
                // Checked when the manifest was read; a hand-built one may hold anything.
                if let Ok(url) = Url::parse(&entry.url) {
                    files.push(FileRef::new(
                        kind,
                        index,
                        entry.resource_type.clone(),
                        url,
                        entry.count,
                    ));
                }
            }
        }
        files
    }

    /// The number of files listed.
    pub(crate) fn file_count(&self) -> usize {
        self.output.len() + self.deleted.len() + self.error.len()
    }

    /// Drops the entries of this page whose URL an earlier page listed (a server that repeats
    /// entries must not make files download twice); records the others in `seen`.
    pub(crate) fn drop_repeated(&mut self, seen: &mut std::collections::HashSet<String>) {
        for entries in [&mut self.output, &mut self.deleted, &mut self.error] {
            entries.retain(|entry| seen.insert(entry.url.clone()));
        }
    }

    /// Appends the files of a later manifest page (3.0 partial manifests).
    pub fn extend(&mut self, page: Manifest) {
        self.output.extend(page.output);
        self.deleted.extend(page.deleted);
        self.error.extend(page.error);
        self.link = page.link;
        self.expires = match (self.expires, page.expires) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// `reference` resolved against `base`: an `http(s)` URL, and never plain `http` when `base`
/// is `https` (patient data does not fall back to cleartext).
pub(crate) fn resolve(base: &Url, reference: &str) -> Option<Url> {
    let url = base.join(reference).ok()?;
    let allowed = match url.scheme() {
        "https" => true,
        "http" => base.scheme() == "http",
        _ => false,
    };
    allowed.then_some(url)
}

#[cfg(test)]
mod tests;
