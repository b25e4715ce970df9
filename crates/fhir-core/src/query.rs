//! The hook between typed search builders of a model crate and the client: [`SearchQuery`], and
//! FHIR search escaping ([`escape`]). Compiled without the `client` feature, so a model crate
//! can implement the trait without an HTTP stack.

use crate::resource::TypedResource;

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
