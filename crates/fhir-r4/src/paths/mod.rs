//! Relative paths and queries for every RESTful interaction, without an HTTP client: what to
//! send (`GET Patient/123/_history/2`), validated and percent-encoded, for any transport.
//!
//! Ids and version ids must match the FHIR id grammar (`[A-Za-z0-9\-\.]{1,64}`); operation
//! names are checked too. Compartments come from the `CompartmentDefinition`s: a resource type
//! outside a compartment cannot be searched in it (compile error).
//!
//! ```
//! use fhir_r4::paths::{self, Method};
//! use fhir_r4::resources::{Observation, Patient};
//! use fhir_r4::search::{Search, observation};
//!
//! let read = paths::read::<Patient>("123")?;
//! assert_eq!((read.method, read.to_string()), (Method::Get, "Patient/123".to_owned()));
//! assert_eq!(paths::vread::<Patient>("123", "2")?.to_string(), "Patient/123/_history/2");
//!
//! let q = Search::<Observation>::new().and(observation::code().eq("8867-4"));
//! let search = paths::patient_compartment("123")?.search(&q);
//! assert_eq!(search.to_string(), "Patient/123/Observation?code=8867-4");
//! assert!(paths::read::<Patient>("no/slash").is_err());
//! # Ok::<(), fhir_r4::paths::PathError>(())
//! ```

use std::fmt;
use std::marker::PhantomData;

use fhir_core::TypedResource;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::search::{Search, Searchable};

pub use crate::generated::paths::*;

/// Characters percent-encoded in a path segment (RFC 3986 `pchar` minus what FHIR uses).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// `name=value&…`, each name and value percent-encoded as fhir-core encodes every query.
pub(crate) fn encode_query(pairs: &[(String, String)]) -> String {
    fhir_core::query::encode_query(pairs.iter().map(|(name, value)| (name, value)))
}

/// A path could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// An id or version id does not match `[A-Za-z0-9\-\.]{1,64}`.
    #[error("`{value}` is not a valid FHIR {what} (1 to 64 of A-Z a-z 0-9 - .)")]
    InvalidId {
        /// `id` or `version id`.
        what: &'static str,
        /// The rejected text.
        value: String,
    },
    /// An operation name is not a name (`everything`, `validate-code`).
    #[error("`{name}` is not a valid operation name")]
    InvalidOperation {
        /// The rejected name.
        name: String,
    },
}

/// The HTTP method of an interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

impl Method {
    /// The method's name (`GET`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

/// A request relative to the server's base: method, percent-encoded path (no leading `/`) and
/// query (no `?`; empty when there is none). For POST `_search` the query is the form body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestPath {
    /// The method.
    pub method: Method,
    /// The path, segments percent-encoded (`Patient/123/_history`).
    pub path: String,
    /// The query (or, for POST `_search`, the `application/x-www-form-urlencoded` body).
    pub query: String,
}

impl RequestPath {
    fn new(method: Method, segments: &[&str]) -> Self {
        let mut path = String::new();
        for (index, segment) in segments.iter().enumerate() {
            if index > 0 {
                path.push('/');
            }
            path.extend(utf8_percent_encode(segment, SEGMENT));
        }
        Self {
            method,
            path,
            query: String::new(),
        }
    }

    fn with_query(mut self, query: String) -> Self {
        self.query = query;
        self
    }
}

/// `path?query`, or the path alone when there is no query.
impl fmt::Display for RequestPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)?;
        if !self.query.is_empty() {
            write!(f, "?{}", self.query)?;
        }
        Ok(())
    }
}

/// Checks `value` against the FHIR id grammar `[A-Za-z0-9\-\.]{1,64}`.
///
/// # Errors
///
/// [`PathError::InvalidId`] naming `what` when it does not match.
pub fn check_id<'a>(what: &'static str, value: &'a str) -> Result<&'a str, PathError> {
    let valid = (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if valid {
        Ok(value)
    } else {
        Err(PathError::InvalidId {
            what,
            value: value.to_owned(),
        })
    }
}

fn check_operation(name: &str) -> Result<String, PathError> {
    let bare = name.strip_prefix('$').unwrap_or(name);
    let valid = bare.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && bare
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if valid {
        Ok(format!("${bare}"))
    } else {
        Err(PathError::InvalidOperation {
            name: name.to_owned(),
        })
    }
}

/// `GET [type]/[id]`.
///
/// # Errors
///
/// [`PathError::InvalidId`] for a malformed id.
pub fn read<R: TypedResource>(id: &str) -> Result<RequestPath, PathError> {
    let id = check_id("id", id)?;
    Ok(RequestPath::new(Method::Get, &[R::RESOURCE_TYPE, id]))
}

/// `GET [type]/[id]/_history/[vid]`.
///
/// # Errors
///
/// [`PathError::InvalidId`] for a malformed id or version id.
pub fn vread<R: TypedResource>(id: &str, version_id: &str) -> Result<RequestPath, PathError> {
    let id = check_id("id", id)?;
    let vid = check_id("version id", version_id)?;
    Ok(RequestPath::new(
        Method::Get,
        &[R::RESOURCE_TYPE, id, "_history", vid],
    ))
}

/// `PUT [type]/[id]`.
///
/// # Errors
///
/// [`PathError::InvalidId`] for a malformed id.
pub fn update<R: TypedResource>(id: &str) -> Result<RequestPath, PathError> {
    let id = check_id("id", id)?;
    Ok(RequestPath::new(Method::Put, &[R::RESOURCE_TYPE, id]))
}

/// `PATCH [type]/[id]`.
///
/// # Errors
///
/// [`PathError::InvalidId`] for a malformed id.
pub fn patch<R: TypedResource>(id: &str) -> Result<RequestPath, PathError> {
    let id = check_id("id", id)?;
    Ok(RequestPath::new(Method::Patch, &[R::RESOURCE_TYPE, id]))
}

/// `DELETE [type]/[id]`.
///
/// # Errors
///
/// [`PathError::InvalidId`] for a malformed id.
pub fn delete<R: TypedResource>(id: &str) -> Result<RequestPath, PathError> {
    let id = check_id("id", id)?;
    Ok(RequestPath::new(Method::Delete, &[R::RESOURCE_TYPE, id]))
}

/// `POST [type]`.
pub fn create<R: TypedResource>() -> RequestPath {
    RequestPath::new(Method::Post, &[R::RESOURCE_TYPE])
}

/// Conditional forms (`PUT`, `PATCH`, `DELETE` or `POST`-with-`If-None-Exist` on `[type]?…`):
/// the method and the search that selects the resource.
pub fn conditional<R: Searchable>(method: Method, criteria: &Search<R>) -> RequestPath {
    RequestPath::new(method, &[R::RESOURCE_TYPE]).with_query(criteria.to_query())
}

/// `GET [type]/[id]/_history`.
///
/// # Errors
///
/// [`PathError::InvalidId`] for a malformed id.
pub fn history_instance<R: TypedResource>(id: &str) -> Result<RequestPath, PathError> {
    let id = check_id("id", id)?;
    Ok(RequestPath::new(
        Method::Get,
        &[R::RESOURCE_TYPE, id, "_history"],
    ))
}

/// `GET [type]/_history`.
pub fn history_type<R: TypedResource>() -> RequestPath {
    RequestPath::new(Method::Get, &[R::RESOURCE_TYPE, "_history"])
}

/// `GET _history`.
pub fn history_system() -> RequestPath {
    RequestPath::new(Method::Get, &["_history"])
}

/// `GET [type]?query` (or `GET [compartment]/[id]/[type]?query` when the search is in a
/// compartment).
pub fn search<R: Searchable>(query: &Search<R>) -> RequestPath {
    let path = match query.compartment() {
        Some((owner, id)) => RequestPath::new(Method::Get, &[owner, id, R::RESOURCE_TYPE]),
        None => RequestPath::new(Method::Get, &[R::RESOURCE_TYPE]),
    };
    path.with_query(query.to_query())
}

/// `POST [type]/_search` with the query as the form body (in [`RequestPath::query`]).
pub fn search_post<R: Searchable>(query: &Search<R>) -> RequestPath {
    let path = match query.compartment() {
        Some((owner, id)) => {
            RequestPath::new(Method::Post, &[owner, id, R::RESOURCE_TYPE, "_search"])
        }
        None => RequestPath::new(Method::Post, &[R::RESOURCE_TYPE, "_search"]),
    };
    path.with_query(query.to_query())
}

/// `GET` or `POST [base]/$name` (system-level operation).
///
/// # Errors
///
/// [`PathError::InvalidOperation`] for a malformed name.
pub fn operation_system(method: Method, name: &str) -> Result<RequestPath, PathError> {
    let op = check_operation(name)?;
    Ok(RequestPath::new(method, &[&op]))
}

/// `GET` or `POST [type]/$name` (type-level operation).
///
/// # Errors
///
/// [`PathError::InvalidOperation`] for a malformed name.
pub fn operation_type<R: TypedResource>(
    method: Method,
    name: &str,
) -> Result<RequestPath, PathError> {
    let op = check_operation(name)?;
    Ok(RequestPath::new(method, &[R::RESOURCE_TYPE, &op]))
}

/// `GET` or `POST [type]/[id]/$name` (instance-level operation).
///
/// # Errors
///
/// [`PathError`] for a malformed id or name.
pub fn operation_instance<R: TypedResource>(
    method: Method,
    id: &str,
    name: &str,
) -> Result<RequestPath, PathError> {
    let id = check_id("id", id)?;
    let op = check_operation(name)?;
    Ok(RequestPath::new(method, &[R::RESOURCE_TYPE, id, &op]))
}

/// An operation from an `OperationDefinition` (a marker type in [`operations`], generated).
pub trait Operation {
    /// The name, without `$` (`everything`).
    const CODE: &'static str;
    /// Whether it changes the server's state (then only POST is allowed).
    const AFFECTS_STATE: bool;
}

/// The operation is invoked on the whole server (`[base]/$code`).
pub trait SystemLevel: Operation {}
/// The operation is invoked on a resource type (`[base]/Patient/$code`).
pub trait TypeLevel: Operation {}
/// The operation is invoked on one resource (`[base]/Patient/123/$code`).
pub trait InstanceLevel: Operation {}

/// The operation `O` applies to resources of type `Self` (from the definition's `resource`).
#[diagnostic::on_unimplemented(message = "the operation `{O}` is not defined on `{Self}`")]
pub trait Invocable<O: Operation>: TypedResource {}

fn operation_method<O: Operation>() -> Method {
    if O::AFFECTS_STATE {
        Method::Post
    } else {
        Method::Get
    }
}

/// `[base]/$code` for an operation defined at system level: GET, or POST when it affects
/// state (any operation may also be POSTed with a `Parameters` body; set
/// [`RequestPath::method`]).
///
/// ```
/// use fhir_r4::paths::{self, Method, operations::ResourceMeta};
/// use fhir_r4::resources::Patient;
///
/// assert_eq!(paths::invoke_system::<ResourceMeta>().to_string(), "$meta");
/// let path = paths::invoke_instance::<paths::operations::PatientEverything, Patient>("1")?;
/// assert_eq!((path.method, path.to_string()), (Method::Get, "Patient/1/$everything".into()));
/// # Ok::<(), paths::PathError>(())
/// ```
///
/// An operation on another type, or at a level it is not defined for, does not compile:
///
/// ```compile_fail
/// use fhir_r4::paths::{self, operations::PatientEverything};
/// use fhir_r4::resources::Observation;
///
/// let path = paths::invoke_instance::<PatientEverything, Observation>("1");
/// ```
///
/// ```compile_fail
/// let path = fhir_r4::paths::invoke_system::<fhir_r4::paths::operations::PatientEverything>();
/// ```
pub fn invoke_system<O: SystemLevel>() -> RequestPath {
    let op = format!("${}", O::CODE);
    RequestPath::new(operation_method::<O>(), &[&op])
}

/// `[base]/[type]/$code` for an operation defined at type level on `R`.
pub fn invoke_type<O: TypeLevel, R: Invocable<O>>() -> RequestPath {
    let op = format!("${}", O::CODE);
    RequestPath::new(operation_method::<O>(), &[R::RESOURCE_TYPE, &op])
}

/// `[base]/[type]/[id]/$code` for an operation defined at instance level on `R`.
///
/// # Errors
///
/// [`PathError::InvalidId`] for a malformed id.
pub fn invoke_instance<O: InstanceLevel, R: Invocable<O>>(
    id: &str,
) -> Result<RequestPath, PathError> {
    let id = check_id("id", id)?;
    let op = format!("${}", O::CODE);
    Ok(RequestPath::new(
        operation_method::<O>(),
        &[R::RESOURCE_TYPE, id, &op],
    ))
}

/// The resource type of a compartment (`Patient`, `Encounter`, `RelatedPerson`,
/// `Practitioner`, `Device`); implemented by the generated code.
pub trait CompartmentOwner: TypedResource {}

/// `Self` is a member of the compartment of `C`, through the listed search parameters;
/// implemented by the generated code from the `CompartmentDefinition`s.
///
/// A type outside the compartment cannot be searched in it:
///
/// ```compile_fail
/// use fhir_r4::resources::Organization;
/// use fhir_r4::search::Search;
///
/// let compartment = fhir_r4::paths::patient_compartment("123").unwrap();
/// let path = compartment.search(&Search::<Organization>::new());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not in the `{C}` compartment",
    note = "membership comes from the CompartmentDefinitions of FHIR R4"
)]
pub trait InCompartment<C: CompartmentOwner>: TypedResource {
    /// The parameters of `Self` that link it to the compartment's owner.
    const PARAMS: &'static [&'static str];
}

/// The compartment of one `C` (`Patient/123`), with a validated id.
pub struct Compartment<C> {
    id: String,
    _owner: PhantomData<fn() -> C>,
}

impl<C> fmt::Debug for Compartment<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compartment").field("id", &self.id).finish()
    }
}

impl<C> Clone for Compartment<C> {
    fn clone(&self) -> Self {
        Self {
            id: self.id.clone(),
            _owner: PhantomData,
        }
    }
}

impl<C: CompartmentOwner> Compartment<C> {
    /// The compartment of `C` with this id.
    ///
    /// # Errors
    ///
    /// [`PathError::InvalidId`] for a malformed id.
    pub fn new(id: &str) -> Result<Self, PathError> {
        check_id("id", id)?;
        Ok(Self {
            id: id.to_owned(),
            _owner: PhantomData,
        })
    }

    /// The owner's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `GET [owner]/[id]/[type]?query`: a search of a member type in this compartment.
    pub fn search<R: Searchable + InCompartment<C>>(&self, query: &Search<R>) -> RequestPath {
        RequestPath::new(Method::Get, &[C::RESOURCE_TYPE, &self.id, R::RESOURCE_TYPE])
            .with_query(query.to_query())
    }

    /// `GET [owner]/[id]/*`: every member of the compartment.
    pub fn everything(&self) -> RequestPath {
        RequestPath::new(Method::Get, &[C::RESOURCE_TYPE, &self.id, "*"])
    }
}

#[cfg(all(test, feature = "patient", feature = "observation"))]
mod tests;
