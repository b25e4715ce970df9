//! The parameters every resource type has (`_id`, `_lastUpdated`, …), generic over the resource
//! so they fit any [`Search<R>`](super::Search).

use super::param::{DateParam, SpecialParam, StringParam, TokenParam, UriParam};

/// The names of the common parameters, for [`Search::raw`](super::Search::raw).
pub const NAMES: &[&str] = &[
    "_id",
    "_lastUpdated",
    "_tag",
    "_profile",
    "_security",
    "_source",
    "_text",
    "_content",
    "_list",
    "_type",
    "_has",
    "_query",
    "_filter",
];

/// `_id`: the logical id.
pub const fn id<R>() -> TokenParam<R> {
    TokenParam::new("_id")
}

/// `_lastUpdated`: when the resource last changed (`meta.lastUpdated`).
pub const fn last_updated<R>() -> DateParam<R> {
    DateParam::new("_lastUpdated")
}

/// `_tag`: a tag (`meta.tag`).
pub const fn tag<R>() -> TokenParam<R> {
    TokenParam::new("_tag")
}

/// `_profile`: a claimed profile (`meta.profile`).
pub const fn profile<R>() -> UriParam<R> {
    UriParam::new("_profile")
}

/// `_security`: a security label (`meta.security`).
pub const fn security<R>() -> TokenParam<R> {
    TokenParam::new("_security")
}

/// `_source`: where the resource came from (`meta.source`).
pub const fn source<R>() -> UriParam<R> {
    UriParam::new("_source")
}

/// `_text`: a search of the narrative.
pub const fn text<R>() -> StringParam<R> {
    StringParam::new("_text")
}

/// `_content`: a search of the whole resource's text.
pub const fn content<R>() -> StringParam<R> {
    StringParam::new("_content")
}

/// `_list`: members of the List with this id (or a functional list such as `$current-allergies`).
pub const fn list<R>() -> SpecialParam<R> {
    SpecialParam::new("_list")
}

/// `_type`: the resource types of a system-level or compartment search.
pub const fn type_<R>() -> TokenParam<R> {
    TokenParam::new("_type")
}
