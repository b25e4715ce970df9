//! [`SearchParams`]: an ordered list of search (or operation) parameters, and the two kinds of
//! escaping they need.
//!
//! FHIR search values have their own escaping (`\,` `\$` `\|` `\\`, see [`escape`]), applied by
//! the caller to literal text inside a value; URL percent-encoding is applied by the client to
//! every name and value on the way out, so nothing a caller passes can break the query.

use std::fmt;

pub use crate::query::escape;

/// An ordered list of `name=value` parameters; names may repeat (AND semantics in searches).
///
/// ```
/// use fhir_core::SearchParams;
///
/// let params = SearchParams::new()
///     .with("family", "O'Brien")
///     .with("birthdate", "ge1970")
///     .with("_count", "50");
/// assert_eq!(params.to_query(), "family=O'Brien&birthdate=ge1970&_count=50");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchParams {
    pairs: Vec<(String, String)>,
}

impl SearchParams {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `name=value` (the value as FHIR search syntax; see [`escape`] for literal text).
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.pairs.push((name.into(), value.into()));
        self
    }

    /// Appends `name=value` and returns the list, for chaining.
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.push(name, value);
        self
    }

    /// Appends a token parameter `name=system|code` with both parts escaped.
    #[must_use]
    pub fn with_token(self, name: impl Into<String>, system: Option<&str>, code: &str) -> Self {
        let value = match system {
            Some(system) => format!("{}|{}", escape(system), escape(code)),
            None => escape(code),
        };
        self.with(name, value)
    }

    /// Replaces every parameter called `name` with one `name=value`.
    pub fn set(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.pairs.retain(|(existing, _)| existing != name);
        self.pairs.push((name.to_owned(), value.into()));
        self
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(existing, _)| existing == name)
            .map(|(_, value)| value.as_str())
    }

    /// The parameters in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The number of parameters.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Appends every parameter of `other`.
    pub fn extend(&mut self, other: SearchParams) {
        self.pairs.extend(other.pairs);
    }

    /// Parses a query string (`a=1&b=2`, with or without a leading `?`), decoding percent-encoding
    /// and treating `+` as a space, as servers do.
    pub fn parse(query: &str) -> Self {
        let query = query.strip_prefix('?').unwrap_or(query);
        Self {
            pairs: url::form_urlencoded::parse(query.as_bytes())
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect(),
        }
    }

    /// The percent-encoded query string, without the leading `?`.
    pub fn to_query(&self) -> String {
        crate::query::encode_query(self.pairs.iter().map(|(name, value)| (name, value)))
    }

    /// The parameters as an `application/x-www-form-urlencoded` body (for POST `_search`).
    pub fn to_form(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.pairs.iter())
            .finish()
    }
}

impl fmt::Display for SearchParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_query())
    }
}

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for SearchParams {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        Self {
            pairs: iter
                .into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
        }
    }
}

impl<N: Into<String>, V: Into<String>> Extend<(N, V)> for SearchParams {
    fn extend<I: IntoIterator<Item = (N, V)>>(&mut self, iter: I) {
        self.pairs.extend(
            iter.into_iter()
                .map(|(name, value)| (name.into(), value.into())),
        );
    }
}

#[cfg(test)]
mod tests;
