//! [`UnknownFields`]: the properties a lenient decoder kept without knowing them.

use std::collections::HashMap;

use super::Writer;

/// Properties a lenient decoder did not know, kept as raw JSON in their original order.
///
/// Empty (and one pointer wide) unless [`DecodeOptions::lenient`](super::DecodeOptions::lenient)
/// was on and the input had properties the model does not define. They are written back after
/// the known properties.
#[derive(Debug, Clone, Default)]
pub struct UnknownFields(Option<Box<Kept>>);

/// One kept property: its name and its raw JSON text.
type UnknownField = (String, Box<str>);

/// Past this many kept properties, names are looked up in an index: a linear search per
/// property would make a hostile object of many unknown names quadratic.
const INDEXED: usize = 16;

#[derive(Debug, Clone, Default)]
struct Kept {
    fields: Vec<UnknownField>,
    /// Name → position in `fields`, once there are more than [`INDEXED`] of them.
    index: HashMap<String, usize>,
}

impl Kept {
    fn position(&self, key: &str) -> Option<usize> {
        if self.fields.len() > INDEXED {
            return self.index.get(key).copied();
        }
        self.fields.iter().position(|(kept, _)| kept == key)
    }

    fn push(&mut self, key: String, json: Box<str>) {
        if self.fields.len() == INDEXED {
            for (at, (kept, _)) in self.fields.iter().enumerate() {
                self.index.entry(kept.clone()).or_insert(at);
            }
        }
        if self.fields.len() >= INDEXED {
            self.index.entry(key.clone()).or_insert(self.fields.len());
        }
        self.fields.push((key, json));
    }
}

impl UnknownFields {
    /// Whether no unknown property was kept.
    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|kept| kept.fields.is_empty())
    }

    /// The kept properties: name and raw JSON text.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .flat_map(|kept| kept.fields.iter())
            .map(|(key, json)| (key.as_str(), &**json))
    }

    /// Keeps a property; `json` must be one valid JSON value.
    pub fn push(&mut self, key: String, json: Box<str>) {
        self.0.get_or_insert_with(Box::default).push(key, json);
    }

    /// Keeps a property, or replaces the value of the one of that name already kept, in its
    /// place (of a duplicate property, lenient decoding keeps the last value); returns whether
    /// there was one. Takes constant time on average, however many properties are kept.
    pub fn insert(&mut self, key: &str, json: &str) -> bool {
        let kept = self.0.get_or_insert_with(Box::default);
        match kept.position(key).and_then(|at| kept.fields.get_mut(at)) {
            Some((_, kept_json)) => {
                *kept_json = json.into();
                true
            }
            None => {
                kept.push(key.to_owned(), json.into());
                false
            }
        }
    }

    /// Writes the kept properties as members of the object being written.
    pub fn encode(&self, w: &mut Writer) {
        for (key, json) in self.iter() {
            w.key(key);
            w.raw(json);
        }
    }
}

impl PartialEq for UnknownFields {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for UnknownFields {}
