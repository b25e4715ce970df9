//! `Display` for primitives and the datatypes people print: the text a person reads, not the
//! JSON (use the `json` module for that).

use std::fmt;

use crate::datatypes::{CodeableConcept, Coding, ContactPoint, HumanName, Quantity};
use crate::primitives::Primitive;

impl<T: fmt::Display> fmt::Display for Primitive<T> {
    /// The value; nothing when the element carries only extensions.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => value.fmt(f),
            None => Ok(()),
        }
    }
}

/// The value of an optional primitive, or nothing.
fn value<T: fmt::Display>(primitive: Option<&Primitive<T>>) -> Option<String> {
    primitive
        .and_then(|p| p.value.as_ref())
        .map(ToString::to_string)
}

impl fmt::Display for Coding {
    /// The display text; else `system|code` (or the code alone).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(display) = value(self.display.as_ref()) {
            return f.write_str(&display);
        }
        match (value(self.system.as_ref()), value(self.code.as_ref())) {
            (Some(system), Some(code)) => write!(f, "{system}|{code}"),
            (None, Some(code)) => f.write_str(&code),
            (Some(system), None) => write!(f, "{system}|"),
            (None, None) => Ok(()),
        }
    }
}

impl fmt::Display for CodeableConcept {
    /// The text; else the first coding that has a display; else the first coding as
    /// `system|code`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(text) = value(self.text.as_ref()) {
            return f.write_str(&text);
        }
        let shown = self
            .coding
            .iter()
            .find(|coding| coding.display.as_ref().is_some_and(|d| d.value.is_some()))
            .or_else(|| self.coding.first());
        match shown {
            Some(coding) => coding.fmt(f),
            None => Ok(()),
        }
    }
}

impl fmt::Display for Quantity {
    /// `comparator value unit` as present (`<5 mg`, `72 /min`); the coded unit stands in for
    /// a missing human-readable one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = String::new();
        if let Some(comparator) = value(self.comparator.as_ref()) {
            parts.push_str(&comparator);
        }
        if let Some(number) = value(self.value.as_ref()) {
            parts.push_str(&number);
        }
        if let Some(unit) = value(self.unit.as_ref()).or_else(|| value(self.code.as_ref())) {
            if !parts.is_empty() {
                parts.push(' ');
            }
            parts.push_str(&unit);
        }
        f.write_str(&parts)
    }
}

impl fmt::Display for HumanName {
    /// The text; else prefixes, given names, family name and suffixes, in that order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(text) = value(self.text.as_ref()) {
            return f.write_str(&text);
        }
        let words: Vec<String> = self
            .prefix
            .iter()
            .chain(&self.given)
            .chain(self.family.as_ref())
            .chain(&self.suffix)
            .filter_map(|part| part.value.clone())
            .filter(|word| !word.is_empty())
            .collect();
        f.write_str(&words.join(" "))
    }
}

impl fmt::Display for ContactPoint {
    /// The value (the number, the address).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&value(self.value.as_ref()).unwrap_or_default())
    }
}
