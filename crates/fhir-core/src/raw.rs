//! [`RawJson`]: a resource kept as the exact JSON text it came as, for lossless untyped
//! read-modify-write.
//!
//! [`serde_json::Value`] is convenient but not lossless: it stores numbers as `f64`/`i64`, so
//! `1.50` comes back as `1.5`, `100.00` as `100.0`, `0.000000001` as `1e-9`, and decimals with
//! more than 17 significant digits are rounded. In FHIR the precision of a decimal is part of
//! its value. `RawJson` never parses what it does not touch: editing one member leaves every
//! other byte as the server sent it.
//!
//! ```no_run
//! # async fn demo(client: fhir_core::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use fhir_core::RawJson;
//!
//! let read = client.read_raw("Observation", "bp-1").send().await?;
//! let version = read.meta().version_id().map(str::to_owned);
//! let mut observation = read.into_resource();
//! observation.set("status", &"amended")?; // every decimal elsewhere keeps its text
//! let mut update = client.update(&observation);
//! if let Some(version) = &version {
//!     update = update.if_match(version);
//! }
//! update.send().await?;
//! # Ok(()) }
//! ```

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::resource::{BOM, DecodeError, DecodeErrorKind, EncodeError, Resource};

/// A JSON object (a resource) held as its exact text.
///
/// Implements [`Resource`], so every interaction takes and returns it; reads of `id`,
/// `resourceType` and `meta.versionId` look at the text without keeping a tree.
#[derive(Clone)]
pub struct RawJson {
    text: Box<RawValue>,
    resource_type: Option<String>,
    id: Option<String>,
    version_id: Option<String>,
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawJson")
            .field("resource_type", &self.resource_type)
            .field("id", &self.id)
            .field("bytes", &self.text.get().len())
            .finish_non_exhaustive()
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.text.get() == other.text.get()
    }
}

impl RawJson {
    /// Wraps `text`, which must be one JSON object.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] when `text` is not JSON or not an object.
    pub fn from_text(text: impl Into<String>) -> Result<Self, DecodeError> {
        let text = text.into();
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_owned(),
            None => text,
        };
        let raw = RawValue::from_string(text)
            .map_err(|err| DecodeError::from_serde_json(err, String::from(".")))?;
        Self::from_raw(raw)
    }

    fn from_raw(text: Box<RawValue>) -> Result<Self, DecodeError> {
        let top = members(text.get())?;
        let text_of = |name: &str| -> Option<String> {
            let raw = top.iter().find(|(key, _)| key == name)?.1;
            serde_json::from_str::<String>(raw.get()).ok()
        };
        let resource_type = text_of("resourceType");
        let id = text_of("id");
        let version_id = top
            .iter()
            .find(|(key, _)| key == "meta")
            .and_then(|(_, meta)| members(meta.get()).ok())
            .and_then(|meta| {
                let raw = meta.iter().find(|(key, _)| key == "versionId")?.1;
                serde_json::from_str::<String>(raw.get()).ok()
            });
        drop(top);
        Ok(Self {
            text,
            resource_type,
            id,
            version_id,
        })
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.text.get()
    }

    /// The raw text of the member `name`, if present (`"1.50"` for a decimal, exactly).
    pub fn get(&self, name: &str) -> Option<&str> {
        let members = members(self.text.get()).ok()?;
        members
            .into_iter()
            .find(|(key, _)| key == name)
            .map(|(_, raw)| raw.get())
    }

    /// The raw text at a path of member names and array indexes (`["valueQuantity", "value"]`,
    /// `["component", "0", "code"]`).
    pub fn get_path(&self, path: &[&str]) -> Option<&str> {
        let mut current: &str = self.text.get();
        for segment in path {
            current = child(current, segment)?;
        }
        Some(current)
    }

    /// Sets member `name` to `value` (replacing it in place, or appending it), leaving every
    /// other byte unchanged. `value` is written by `serde_json`: pass a [`RawValue`] (or use
    /// [`set_raw`](Self::set_raw)) for a decimal whose text matters.
    ///
    /// # Errors
    ///
    /// An [`EncodeError`] when `value` cannot be written as JSON.
    pub fn set<V: serde::Serialize + ?Sized>(
        &mut self,
        name: &str,
        value: &V,
    ) -> Result<(), EncodeError> {
        let json = serde_json::to_string(value).map_err(|err| EncodeError::new(err.to_string()))?;
        self.set_raw(name, &json)
    }

    /// Sets member `name` to the JSON text `json` (`"1.50"`, `{"value": 1.50}`), leaving every
    /// other byte unchanged.
    ///
    /// # Errors
    ///
    /// An [`EncodeError`] when `json` is not one JSON value.
    pub fn set_raw(&mut self, name: &str, json: &str) -> Result<(), EncodeError> {
        let value: &RawValue = serde_json::from_str(json)
            .map_err(|err| EncodeError::new(format!("the value is not JSON: {err}")))?;
        let text = rebuild(self.text.get(), |members| {
            match members.iter_mut().find(|(key, _)| key == name) {
                Some(member) => member.1 = value,
                None => members.push((name.to_owned(), value)),
            }
        })?;
        self.replace(text)
    }

    /// Removes member `name`; returns whether it was present.
    ///
    /// # Errors
    ///
    /// Never for a `RawJson` built by this crate; the error type is shared with the setters.
    pub fn remove(&mut self, name: &str) -> Result<bool, EncodeError> {
        if self.get(name).is_none() {
            return Ok(false);
        }
        let text = rebuild(self.text.get(), |members| {
            members.retain(|(key, _)| key != name);
        })?;
        self.replace(text)?;
        Ok(true)
    }

    /// A [`serde_json::Value`] copy, for reading. Lossy: decimals lose their text.
    ///
    /// # Errors
    ///
    /// Never for a `RawJson` built by this crate (its text is valid JSON).
    pub fn to_value(&self) -> Result<serde_json::Value, DecodeError> {
        serde_json::from_str(self.text.get())
            .map_err(|err| DecodeError::from_serde_json(err, String::from(".")))
    }

    fn replace(&mut self, text: String) -> Result<(), EncodeError> {
        let raw = RawValue::from_string(text).map_err(|err| EncodeError::new(err.to_string()))?;
        *self = Self::from_raw(raw).map_err(|err| EncodeError::new(err.to_string()))?;
        Ok(())
    }
}

impl Resource for RawJson {
    fn resource_type(&self) -> Option<&str> {
        self.resource_type.as_deref()
    }

    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    fn version_id(&self) -> Option<&str> {
        self.version_id.as_deref()
    }

    fn from_json_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        let text = std::str::from_utf8(bytes).map_err(|err| {
            DecodeError::new(
                DecodeErrorKind::Syntax,
                ".",
                format!("invalid UTF-8 at byte {}", err.valid_up_to()),
            )
        })?;
        let raw: Box<RawValue> = serde_json::from_str(text)
            .map_err(|err| DecodeError::from_serde_json(err, String::from(".")))?;
        Self::from_raw(raw)
    }

    fn to_json_vec(&self) -> Result<Vec<u8>, EncodeError> {
        Ok(self.text.get().as_bytes().to_vec())
    }
}

/// One member of an object: its (unescaped) name and its raw value.
type Member<'a> = (String, &'a RawValue);

/// The members of the object `text`, in order, values kept raw.
fn members(text: &str) -> Result<Vec<Member<'_>>, DecodeError> {
    struct Members;

    impl<'de> Visitor<'de> for Members {
        type Value = Vec<Member<'de>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut members: Vec<Member<'de>> = Vec::new();
            // Resources have tens of members; a set is kept only for objects that have more.
            let mut seen: Option<std::collections::HashSet<String>> = None;
            while let Some(key) = map.next_key::<String>()? {
                let value: &'de RawValue = map.next_value()?;
                if members.len() == 32 {
                    seen = Some(members.iter().map(|(key, _)| key.clone()).collect());
                }
                // Servers disagree on which of two equal keys wins: edits would be ambiguous.
                let duplicate = match &mut seen {
                    Some(seen) => !seen.insert(key.clone()),
                    None => members.iter().any(|(known, _)| *known == key),
                };
                if duplicate {
                    return Err(de::Error::custom(format_args!("duplicate member `{key}`")));
                }
                members.push((key, value));
            }
            Ok(members)
        }
    }

    let mut deserializer = serde_json::Deserializer::from_str(text);
    let members = de::Deserializer::deserialize_map(&mut deserializer, Members)
        .and_then(|members| deserializer.end().map(|()| members))
        .map_err(|err| DecodeError::from_serde_json(err, String::from(".")))?;
    Ok(members)
}

/// The raw child of the object or array `text` named by `segment` (a member name, or an index
/// into an array).
fn child<'t>(text: &'t str, segment: &str) -> Option<&'t str> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let index: usize = segment.parse().ok()?;
        let items: Vec<&'t RawValue> = serde_json::from_str(text).ok()?;
        return items.get(index).map(|raw| raw.get());
    }
    members(text)
        .ok()?
        .into_iter()
        .find(|(key, _)| key == segment)
        .map(|(_, raw)| raw.get())
}

/// The object `text` with its members changed by `edit`, written back member by member.
fn rebuild<'a>(
    text: &'a str,
    edit: impl FnOnce(&mut Vec<Member<'a>>),
) -> Result<String, EncodeError> {
    let mut members = members(text).map_err(|err| EncodeError::new(err.to_string()))?;
    edit(&mut members);
    let mut out = String::with_capacity(text.len() + 32);
    out.push('{');
    for (index, (key, value)) in members.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        let key = serde_json::to_string(key).map_err(|err| EncodeError::new(err.to_string()))?;
        out.push_str(&key);
        out.push(':');
        out.push_str(value.get());
    }
    out.push('}');
    Ok(out)
}

/// The object `raw` without its member `name` (every other byte of the members kept).
#[cfg(feature = "client")]
pub(crate) fn without_member(raw: Box<RawValue>, name: &str) -> Result<Box<RawValue>, DecodeError> {
    let present = members(raw.get())?.iter().any(|(key, _)| key == name);
    if !present {
        return Ok(raw);
    }
    let text = rebuild(raw.get(), |members| members.retain(|(key, _)| key != name))
        .map_err(|err| DecodeError::new(DecodeErrorKind::Other, ".", err.message))?;
    RawValue::from_string(text).map_err(|err| DecodeError::from_serde_json(err, String::from(".")))
}

#[cfg(test)]
mod tests;
