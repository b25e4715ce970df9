//! What the kick-off asked that a server may ignore (K7): `_type` and `_elements`, checked
//! against the files and lines that come back.

use url::Url;

/// The `_type`, `_elements` and `_typeFilter` of an export, as the kick-off sent them.
///
/// Known when this client kicked the job off; for a job resumed from its status URL, read
/// from the manifest's `request` URL (a POST kick-off's URL carries none: nothing is checked
/// then). Servers may ignore these parameters (`Prefer: handling=lenient`); the downloads
/// report what looks ignored with [`Event::ParameterIgnored`](crate::Event::ParameterIgnored):
/// an output file of a type outside `_type`, and a resource `_elements` should have subset
/// that is not tagged `SUBSETTED`. `_typeFilter` cannot be checked without evaluating the
/// searches; a server that could not apply one says so in its error files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Requested {
    /// `_type`, split at commas (empty: every type).
    pub types: Vec<String>,
    /// `_elements`, split at commas (`Patient.name`, or `id` for every type).
    pub elements: Vec<String>,
    /// `_typeFilter`, one query each.
    pub type_filters: Vec<String>,
}

impl Requested {
    /// The parameters in the query of a kick-off URL (the manifest's `request`).
    pub fn from_kick_off_url(url: &str) -> Self {
        let mut requested = Self::default();
        let Ok(url) = Url::parse(url) else {
            return requested;
        };
        for (name, value) in url.query_pairs() {
            let list = || {
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            };
            match &*name {
                "_type" => requested.types.extend(list()),
                "_elements" => requested.elements.extend(list()),
                "_typeFilter" => requested.type_filters.push(value.into_owned()),
                _ => {}
            }
        }
        requested
    }

    /// Whether `_type` leaves out `resource_type`.
    pub fn excludes_type(&self, resource_type: &str) -> bool {
        !self.types.is_empty() && !self.types.iter().any(|wanted| wanted == resource_type)
    }

    /// Whether `_elements` names an element of `resource_type` (bare, or prefixed with the
    /// type): its resources should come back subset and tagged `SUBSETTED`.
    pub fn subsets(&self, resource_type: &str) -> bool {
        self.elements
            .iter()
            .any(|element| match element.split_once('.') {
                Some((prefix, _)) => prefix == resource_type,
                None => true,
            })
    }
}

/// The `SUBSETTED` tag's system (`_elements` results carry it).
const SUBSETTED_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

#[derive(serde::Deserialize)]
struct Peek {
    #[serde(default)]
    meta: Option<PeekMeta>,
}

#[derive(serde::Deserialize)]
struct PeekMeta {
    #[serde(default)]
    tag: Vec<PeekCoding>,
}

#[derive(serde::Deserialize)]
struct PeekCoding {
    #[serde(default)]
    system: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

/// Whether the resource in `line` has the `SUBSETTED` tag in `meta.tag`. A line that is not
/// a resource answers `true`: the line checks report it.
pub(crate) fn is_subsetted(line: &[u8]) -> bool {
    let Ok(peek) = serde_json::from_slice::<Peek>(line) else {
        return true;
    };
    peek.meta.is_some_and(|meta| {
        meta.tag.iter().any(|tag| {
            tag.code.as_deref() == Some("SUBSETTED")
                && tag
                    .system
                    .as_deref()
                    .is_none_or(|system| system == SUBSETTED_SYSTEM)
        })
    })
}

#[cfg(test)]
mod tests;
