//! Typed FHIR search: parameters generated per resource type from `search-parameters.json`,
//! typed by kind, escaped once and in the right places, usable without the HTTP client.
//!
//! - One module per resource type (`observation`, `patient`, …, behind the resource's cargo
//!   feature) with a function per search parameter, returning a [`Param`] typed by the resource
//!   and the parameter's kind; reference parameters also carry a marker type naming their
//!   allowed targets ([`ReferenceTarget`]).
//! - [`common`]: `_id`, `_lastUpdated`, `_tag`, … for every resource type.
//! - [`Search<R>`]: the query — clauses AND-ed with `and`, values OR-ed with [`Or`], `_sort`,
//!   `_include`/`_revinclude` (typed), `_summary`, `_elements`, `_total`, `_contained`, a raw
//!   escape hatch checked against the known names — which implements
//!   [`fhir_core::SearchQuery`] for `client.search_with(q)`.
//!
//! ```
//! use fhir_r4::resources::{Observation, Patient};
//! use fhir_r4::search::{Search, Token, common, observation, patient};
//!
//! // Patients with a heart-rate Observation (reverse chain), named "Chalmers" or "Peter".
//! let q = Search::<Patient>::new()
//!     .and(observation::patient().has(observation::code().eq(Token::new("http://loinc.org", "8867-4"))))
//!     .and(patient::name().eq(["Chalmers", "Peter"]))
//!     .and(common::id().not("a,b"));
//! assert_eq!(
//!     q.pairs(),
//!     [
//!         ("_has:Observation:patient:code".to_owned(), "http://loinc.org|8867-4".to_owned()),
//!         ("name".to_owned(), "Chalmers,Peter".to_owned()),
//!         ("_id:not".to_owned(), r"a\,b".to_owned()),
//!     ]
//! );
//! ```

pub mod common;
mod error;
mod param;
mod query;
mod value;

#[cfg(all(test, feature = "patient", feature = "observation"))]
mod tests;

pub use crate::generated::search::*;
pub use error::Error;
pub use param::{
    AnyTarget, Clause, ComponentKind, CompositeKind, CompositeParam, DateKind, DateParam,
    NumberKind, NumberParam, Param, QuantityKind, QuantityParam, ReferenceKind, ReferenceParam,
    ReferenceTarget, SpecialKind, SpecialParam, StringKind, StringParam, TokenKind, TokenParam,
    UriKind, UriParam,
};
pub use query::{Contained, RESULT_PARAMETERS, Search, Searchable, Summary, Total};
pub use value::{
    DateValue, Number, Or, Prefix, Prefixed, Quantity, ReferenceValue, SearchValue, Token,
};
