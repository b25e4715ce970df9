//! The hook between typed search builders of a model crate and the client: [`SearchQuery`],
//! FHIR search escaping ([`escape`]) and the one query percent-encoding ([`encode_query`]).
//! Compiled without the `client` feature, so a model crate can implement the trait and build
//! query strings without an HTTP stack.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::resource::TypedResource;

/// Characters percent-encoded in query names and values: everything RFC 3986 does not allow in
/// a query, plus the query's own delimiters (`&`, `=`, `+`, `#`). FHIR's separators `,` `$` `:`
/// `/` stay readable; they mean the same to the server either way.
const QUERY: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'=')
    .add(b'>')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// `name=value&…` with each name and value percent-encoded, as the client sends a query
/// (`SearchParams::to_query` and typed searches both use this).
///
/// ```
/// let query = fhir_core::query::encode_query([("name", "a&b"), ("date", "ge2020-01-01T00:00:00+01:00")]);
/// assert_eq!(query, "name=a%26b&date=ge2020-01-01T00:00:00%2B01:00");
/// ```
pub fn encode_query<N: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (N, V)>,
) -> String {
    let mut query = String::new();
    for (index, (name, value)) in pairs.into_iter().enumerate() {
        if index > 0 {
            query.push('&');
        }
        query.extend(utf8_percent_encode(name.as_ref(), QUERY));
        query.push('=');
        query.extend(utf8_percent_encode(value.as_ref(), QUERY));
    }
    query
}

/// A finished search over one resource type, built elsewhere (for instance by
/// `fhir_r4::search::Search`), that the client sends with
/// [`Client::search_with`](crate::Client::search_with).
///
/// `into_pairs` returns the query parameters in order, already in FHIR search syntax (values
/// escaped with [`escape`]); the client only percent-encodes them.
///
/// ```
/// use fhir_core::SearchQuery;
/// # use fhir_core::{DecodeError, EncodeError, Resource, TypedResource};
/// # struct Patient;
/// # impl Resource for Patient {
/// #     fn resource_type(&self) -> Option<&str> { Some("Patient") }
/// #     fn id(&self) -> Option<&str> { None }
/// #     fn version_id(&self) -> Option<&str> { None }
/// #     fn from_json_slice(_: &[u8]) -> Result<Self, DecodeError> { Ok(Patient) }
/// #     fn to_json_vec(&self) -> Result<Vec<u8>, EncodeError> { Ok(Vec::new()) }
/// # }
/// # impl TypedResource for Patient { const RESOURCE_TYPE: &'static str = "Patient"; }
///
/// struct ByFamily(String);
///
/// impl SearchQuery for ByFamily {
///     type Resource = Patient;
///
///     fn into_pairs(self) -> Vec<(String, String)> {
///         vec![("family".into(), fhir_core::query::escape(&self.0))]
///     }
/// }
/// assert_eq!(ByFamily("a,b".into()).into_pairs()[0].1, r"a\,b");
/// ```
pub trait SearchQuery {
    /// The resource type searched for; matches decode as this type.
    type Resource: TypedResource;

    /// The parameters, in order, as `(name, value)` in FHIR search syntax.
    fn into_pairs(self) -> Vec<(String, String)>;

    /// The compartment to search in, as `(compartment type, id)` (`("Patient", "123")` for
    /// `GET [base]/Patient/123/[type]?…`), or `None` for a type-level search.
    fn compartment(&self) -> Option<(&str, &str)> {
        None
    }
}

/// Escapes literal text for use inside a FHIR search value: `\` `,` `$` `|` get a backslash
/// (FHIR R4 §3.1.1.5.7), so `a,b` is searched as one value, not as `a` OR `b`.
///
/// ```
/// assert_eq!(fhir_core::query::escape(r"a,b|c$d\e"), r"a\,b\|c\$d\\e");
/// ```
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '\\' | ',' | '$' | '|') {
            escaped.push('\\');
        }
        escaped.push(ch);
    }
    escaped
}
