//! [`Search<R>`]: a whole search of one resource type — filters, result parameters, an optional
//! compartment — ready for `fhir_core::Client::search_with` or for a URL of its own.

use std::fmt;
use std::marker::PhantomData;

use fhir_core::{SearchQuery, TypedResource};

use super::Error;
use super::param::{Clause, Param, ReferenceKind, ReferenceTarget};
use crate::paths::{Compartment, CompartmentOwner, InCompartment, encode_query};

/// A resource type with search parameters: implemented by the generated code for every resource.
pub trait Searchable: TypedResource {
    /// The names of the resource type's own search parameters (from `search-parameters.json`),
    /// sorted.
    const SEARCH_PARAMETERS: &'static [&'static str];
}

/// The names of the result parameters, accepted by [`Search::raw`] for every resource type.
pub const RESULT_PARAMETERS: &[&str] = &[
    "_sort",
    "_count",
    "_include",
    "_revinclude",
    "_summary",
    "_elements",
    "_total",
    "_contained",
    "_containedType",
    "_format",
    "_pretty",
];

/// `_summary`: which part of each resource to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Summary {
    /// `true`: the summary elements.
    True,
    /// `false`: everything.
    False,
    /// `text`: text, id, meta and mandatory elements.
    Text,
    /// `data`: everything but the narrative.
    Data,
    /// `count`: only the count, no entries.
    Count,
}

/// `_total`: how precisely the server counts the matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Total {
    /// `none`: no total.
    None,
    /// `estimate`: a rough total.
    Estimate,
    /// `accurate`: the exact total.
    Accurate,
}

/// `_contained`: whether to search contained resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Contained {
    /// `false`: only top-level resources.
    False,
    /// `true`: only contained resources.
    True,
    /// `both`: either.
    Both,
}

/// A search of resource type `R`: AND-ed clauses (each possibly OR-ing values), result
/// parameters, and optionally a compartment. Clauses of another resource type do not compile.
///
/// ```
/// use fhir_r4::resources::Observation;
/// use fhir_r4::search::{Search, Summary, Token, observation, patient};
///
/// let q = Search::<Observation>::new()
///     .and(observation::code().eq(Token::new("http://loinc.org", "8867-4")))
///     .and(observation::subject().chain(patient::name().contains("Chalmers")))
///     .and(observation::date().ge(fhir_r4::search::DateValue::parse("2024-01")?))
///     .include(observation::patient())
///     .sort_desc(observation::date())
///     .summary(Summary::Data)
///     .count(2);
/// assert_eq!(
///     q.to_query(),
///     "code=http://loinc.org%7C8867-4&subject:Patient.name:contains=Chalmers&date=ge2024-01\
///      &_include=Observation:patient&_summary=data&_count=2&_sort=-date"
/// );
/// # Ok::<(), fhir_r4::search::Error>(())
/// ```
///
/// A parameter of another resource type is a compile error:
///
/// ```compile_fail
/// use fhir_r4::resources::Observation;
/// use fhir_r4::search::{Search, patient};
///
/// let q = Search::<Observation>::new().and(patient::name().eq("Chalmers"));
/// ```
///
/// So is a chain to a type the reference cannot point to (`Observation.subject` is a Patient,
/// Group, Device or Location, never an Organization):
///
/// ```compile_fail
/// use fhir_r4::resources::Observation;
/// use fhir_r4::search::{Search, observation, organization};
///
/// let q = Search::<Observation>::new()
///     .and(observation::subject().chain(organization::name().eq("Acme")));
/// ```
pub struct Search<R> {
    pairs: Vec<(String, String)>,
    sort: Vec<String>,
    compartment: Option<(&'static str, String)>,
    _resource: PhantomData<fn() -> R>,
}

impl<R> Clone for Search<R> {
    fn clone(&self) -> Self {
        Self {
            pairs: self.pairs.clone(),
            sort: self.sort.clone(),
            compartment: self.compartment.clone(),
            _resource: PhantomData,
        }
    }
}

impl<R: Searchable> fmt::Debug for Search<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Search<{}>({})", R::RESOURCE_TYPE, self.to_query())
    }
}

impl<R: Searchable> Default for Search<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: Searchable> Search<R> {
    /// An empty search (all resources of type `R`).
    pub fn new() -> Self {
        Self {
            pairs: Vec::new(),
            sort: Vec::new(),
            compartment: None,
            _resource: PhantomData,
        }
    }

    /// Adds a clause; repeated clauses are AND-ed (the parameter is repeated).
    #[must_use]
    pub fn and(mut self, clause: Clause<R>) -> Self {
        self.pairs.push(clause.into_pair());
        self
    }

    /// Adds `name=value` after checking that the base name (before any `:` modifier or `.`
    /// chain) is a parameter of `R`, a common parameter or a result parameter. The value is
    /// sent as given: escape literal text with [`fhir_core::query::escape`].
    ///
    /// ```
    /// use fhir_r4::resources::Patient;
    /// use fhir_r4::search::{Error, Search};
    ///
    /// let q = Search::<Patient>::new().raw("general-practitioner:Practitioner.name", "Ng")?;
    /// assert_eq!(q.to_query(), "general-practitioner:Practitioner.name=Ng");
    /// let err = Search::<Patient>::new().raw("colour", "red").unwrap_err();
    /// assert_eq!(
    ///     err,
    ///     Error::UnknownParameter { resource_type: "Patient", name: "colour".into() }
    /// );
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::UnknownParameter`] when the name is unknown for `R`.
    pub fn raw(self, name: &str, value: impl Into<String>) -> Result<Self, Error> {
        let base = name.split([':', '.']).next().unwrap_or(name);
        let known = R::SEARCH_PARAMETERS.binary_search(&base).is_ok()
            || super::common::NAMES.contains(&base)
            || RESULT_PARAMETERS.contains(&base);
        if !known {
            return Err(Error::UnknownParameter {
                resource_type: R::RESOURCE_TYPE,
                name: name.to_owned(),
            });
        }
        Ok(self.raw_unchecked(name, value))
    }

    /// Adds `name=value` with no check at all, for parameters this crate does not know (a
    /// server's custom SearchParameters). The value is sent as given.
    #[must_use]
    pub fn raw_unchecked(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.pairs.push((name.into(), value.into()));
        self
    }

    /// Sorts by a parameter of `R`, ascending (`_sort=name`); later sort keys break ties.
    #[must_use]
    pub fn sort<K>(mut self, param: Param<R, K>) -> Self {
        self.sort.push(param.code().to_owned());
        self
    }

    /// Sorts by a parameter of `R`, descending (`_sort=-name`).
    #[must_use]
    pub fn sort_desc<K>(mut self, param: Param<R, K>) -> Self {
        self.sort.push(format!("-{}", param.code()));
        self
    }

    /// `_count`: the page size.
    #[must_use]
    pub fn count(self, count: u32) -> Self {
        self.result("_count", count.to_string())
    }

    /// `_include=R:param`: also return the resources this reference parameter of `R` points to.
    #[must_use]
    pub fn include<P>(self, param: Param<R, ReferenceKind<P>>) -> Self {
        let value = format!("{}:{}", R::RESOURCE_TYPE, param.code());
        self.result("_include", value)
    }

    /// `_include=R:param:T`: as [`include`](Self::include), only targets of type `T`.
    #[must_use]
    pub fn include_target<T: ReferenceTarget<P>, P>(
        self,
        param: Param<R, ReferenceKind<P>>,
    ) -> Self {
        let value = format!("{}:{}:{}", R::RESOURCE_TYPE, param.code(), T::RESOURCE_TYPE);
        self.result("_include", value)
    }

    /// `_include:iterate=S:param`: includes through a parameter of an included type `S`.
    #[must_use]
    pub fn include_iterate<S: TypedResource, P>(self, param: Param<S, ReferenceKind<P>>) -> Self {
        let value = format!("{}:{}", S::RESOURCE_TYPE, param.code());
        self.result("_include:iterate", value)
    }

    /// `_revinclude=S:param`: also return the resources of type `S` whose reference parameter
    /// points to a match; `R` must be one of the parameter's targets.
    #[must_use]
    pub fn revinclude<S: TypedResource, P>(self, param: Param<S, ReferenceKind<P>>) -> Self
    where
        R: ReferenceTarget<P>,
    {
        let value = format!("{}:{}", S::RESOURCE_TYPE, param.code());
        self.result("_revinclude", value)
    }

    /// `_revinclude:iterate=S:param`: as [`revinclude`](Self::revinclude), also from included
    /// resources.
    #[must_use]
    pub fn revinclude_iterate<S: TypedResource, P>(
        self,
        param: Param<S, ReferenceKind<P>>,
    ) -> Self {
        let value = format!("{}:{}", S::RESOURCE_TYPE, param.code());
        self.result("_revinclude:iterate", value)
    }

    /// `_summary`.
    #[must_use]
    pub fn summary(self, summary: Summary) -> Self {
        let value = match summary {
            Summary::True => "true",
            Summary::False => "false",
            Summary::Text => "text",
            Summary::Data => "data",
            Summary::Count => "count",
        };
        self.result("_summary", value.to_owned())
    }

    /// `_elements=a,b`: only these top-level elements (each escaped).
    #[must_use]
    pub fn elements<'a>(self, elements: impl IntoIterator<Item = &'a str>) -> Self {
        let value = elements
            .into_iter()
            .map(fhir_core::query::escape)
            .collect::<Vec<_>>()
            .join(",");
        self.result("_elements", value)
    }

    /// `_total`.
    #[must_use]
    pub fn total(self, total: Total) -> Self {
        let value = match total {
            Total::None => "none",
            Total::Estimate => "estimate",
            Total::Accurate => "accurate",
        };
        self.result("_total", value.to_owned())
    }

    /// `_contained`.
    #[must_use]
    pub fn contained(self, contained: Contained) -> Self {
        let value = match contained {
            Contained::False => "false",
            Contained::True => "true",
            Contained::Both => "both",
        };
        self.result("_contained", value.to_owned())
    }

    /// Searches only in this compartment (`GET [base]/Patient/123/Observation?…`); `R` must be
    /// a member of the compartment.
    #[must_use]
    pub fn in_compartment<C: CompartmentOwner>(mut self, compartment: &Compartment<C>) -> Self
    where
        R: InCompartment<C>,
    {
        self.compartment = Some((C::RESOURCE_TYPE, compartment.id().to_owned()));
        self
    }

    fn result(mut self, name: &str, value: String) -> Self {
        self.pairs.push((name.to_owned(), value));
        self
    }

    /// The parameters in order (`_sort` last), in FHIR search syntax, not percent-encoded.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = self.pairs.clone();
        if !self.sort.is_empty() {
            pairs.push((String::from("_sort"), self.sort.join(",")));
        }
        pairs
    }

    /// The percent-encoded query string, without `?`.
    pub fn to_query(&self) -> String {
        encode_query(&self.pairs())
    }

    /// The compartment searched in, as `(type, id)`, if any.
    pub fn compartment(&self) -> Option<(&str, &str)> {
        self.compartment
            .as_ref()
            .map(|(owner, id)| (*owner, id.as_str()))
    }
}

impl<R: Searchable> SearchQuery for Search<R> {
    type Resource = R;

    fn into_pairs(self) -> Vec<(String, String)> {
        self.pairs()
    }

    fn compartment(&self) -> Option<(&str, &str)> {
        Search::compartment(self)
    }
}
