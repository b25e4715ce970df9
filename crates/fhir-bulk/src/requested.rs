//! What the kick-off asked that a server may ignore (K7): `_type` and `_elements`, checked
//! against the files and lines that come back.

use std::borrow::Cow;

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
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
        requested.bounded()
    }

    /// Deduplicated and bounded: a list past its cap, or with an item that is not a name,
    /// is dropped (nothing is checked for it) rather than trusted, so a hostile `request`
    /// URL cannot make the checks cost memory or time.
    pub(crate) fn bounded(mut self) -> Self {
        fn tidy(items: &mut Vec<String>, cap: usize, allowed: fn(char) -> bool) {
            let mut seen = std::collections::HashSet::new();
            items.retain(|item| seen.insert(item.clone()));
            let names = items.iter().all(|item| {
                !item.is_empty() && item.len() <= MAX_NAME && item.chars().all(allowed)
            });
            if items.len() > cap || !names {
                items.clear();
            }
        }
        tidy(&mut self.types, MAX_TYPES, |c| c.is_ascii_alphanumeric());
        tidy(&mut self.elements, MAX_ELEMENTS, |c| {
            c.is_ascii_alphanumeric() || c == '.' || c == '_'
        });
        if self.type_filters.len() > MAX_TYPES {
            self.type_filters.clear();
        }
        self
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

/// The most `_type` items (and `_typeFilter` queries) checked.
const MAX_TYPES: usize = 256;
/// The most `_elements` items checked.
const MAX_ELEMENTS: usize = 1024;
/// The longest type or element name checked.
const MAX_NAME: usize = 128;

/// The `SUBSETTED` tag's systems (`_elements` results carry it): R4's and STU3's.
const SUBSETTED_SYSTEMS: [&str; 2] = [
    "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "http://hl7.org/fhir/v3/ObservationValue",
];

/// Reads a resource's `meta.tag` as it streams by, keeping nothing but whether one tag is
/// `SUBSETTED` (no list of tags is built, whatever its length).
struct Subsetted(bool);

impl<'de> serde::Deserialize<'de> for Subsetted {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Members(Level::Resource))
    }
}

#[derive(Clone, Copy)]
enum Level {
    Resource,
    Meta,
}

/// The members of the resource (looking for `meta`) or of `meta` (looking for `tag`).
struct Members(Level);

impl<'de> serde::de::Visitor<'de> for Members {
    type Value = Subsetted;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Subsetted, E> {
        Ok(Subsetted(false))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Subsetted, A::Error> {
        let mut found = false;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match (self.0, &*key) {
                (Level::Resource, "meta") => found |= map.next_value::<MetaTags>()?.0,
                (Level::Meta, "tag") => found |= map.next_value::<Tags>()?.0,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(Subsetted(found))
    }
}

struct MetaTags(bool);

impl<'de> serde::Deserialize<'de> for MetaTags {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self(deserializer.deserialize_any(Members(Level::Meta))?.0))
    }
}

struct Tags(bool);

impl<'de> serde::Deserialize<'de> for Tags {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Tags;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of Codings")
            }

            fn visit_seq<S: serde::de::SeqAccess<'de>>(self, mut seq: S) -> Result<Tags, S::Error> {
                let mut found = false;
                // One Coding at a time, dropped before the next.
                while let Some(coding) = seq.next_element::<Coding<'de>>()? {
                    found |= coding.code.as_deref() == Some("SUBSETTED")
                        && coding
                            .system
                            .as_deref()
                            .is_none_or(|system| SUBSETTED_SYSTEMS.contains(&system));
                }
                Ok(Tags(found))
            }
        }
        deserializer.deserialize_seq(Visit)
    }
}

#[derive(serde::Deserialize)]
struct Coding<'a> {
    #[serde(default, borrow)]
    system: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    code: Option<Cow<'a, str>>,
}

/// Whether the resource in `line` has the `SUBSETTED` tag in `meta.tag`. A line without the
/// word is answered at once; a line that is not a resource answers `true` (the line checks
/// report it).
pub(crate) fn is_subsetted(line: &[u8]) -> bool {
    if memchr::memmem::find(line, b"SUBSETTED").is_none() {
        // Escaped spellings (`\u0053UBSETTED`) are possible in JSON: only then parse.
        if memchr::memchr(b'\\', line).is_none() {
            return false;
        }
    }
    serde_json::from_slice::<Subsetted>(line).is_ok_and(|found| found.0)
        || serde_json::from_slice::<serde::de::IgnoredAny>(line).is_err()
}

#[cfg(test)]
mod tests;
