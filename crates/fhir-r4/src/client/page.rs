//! [`TypedPageExt`]: the R4 view of a search page's includes and outcomes.

use fhir_core::page::{Entry, SearchMode};
use fhir_core::{DecodeError, Page, TypedResource};

use super::sealed::Sealed;
use crate::Resource;
use crate::resources::OperationOutcome;

/// R4 decoding of the parts of a [`Page`] that are not its matches.
///
/// The matches themselves are [`Page::resources`] (typed as the searched `T`), or
/// [`Page::matches`] for the raw entries. Errors name the entry: `entry[3].resource.name[0]`.
///
/// ```no_run
/// # #[cfg(all(feature = "patient", feature = "observation"))]
/// # async fn demo(client: fhir_core::Client) -> Result<(), Box<dyn std::error::Error>> {
/// use fhir_r4::client::TypedPageExt as _;
/// use fhir_r4::resources::{Observation, Patient};
///
/// let page = client
///     .search::<Observation>()
///     .param("code", "http://loinc.org|8867-4")
///     .param("_include", "Observation:patient")
///     .send()
///     .await?;
/// let observations: Vec<Observation> = page.resources()?;
/// let patients: Vec<Patient> = page.included_of()?;
/// for outcome in page.operation_outcomes()? {
///     eprintln!("the server says: {:?}", outcome.issue);
/// }
/// # Ok(()) }
/// ```
pub trait TypedPageExt: Sealed {
    /// Every resource added by `_include` / `_revinclude`, whatever its type.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] naming the entry when an included resource is not valid R4.
    fn included_resources(&self) -> Result<Vec<Resource>, DecodeError>;

    /// The included resources of type `R` (other types are skipped).
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] naming the entry when an included `R` is not valid.
    fn included_of<R: TypedResource>(&self) -> Result<Vec<R>, DecodeError>;

    /// The OperationOutcomes about the search itself (`search.mode = outcome`), such as
    /// warnings about parameters the server ignored.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] naming the entry when an outcome entry is not a valid
    /// OperationOutcome.
    fn operation_outcomes(&self) -> Result<Vec<OperationOutcome>, DecodeError>;
}

impl<T: fhir_core::Resource> Sealed for Page<T> {}

impl<T: fhir_core::Resource> TypedPageExt for Page<T> {
    fn included_resources(&self) -> Result<Vec<Resource>, DecodeError> {
        self.included_as()
    }

    fn included_of<R: TypedResource>(&self) -> Result<Vec<R>, DecodeError> {
        self.included()
            .filter(|entry| entry.resource_type() == Some(R::RESOURCE_TYPE))
            .map(Entry::decode)
            .collect()
    }

    fn operation_outcomes(&self) -> Result<Vec<OperationOutcome>, DecodeError> {
        self.entries()
            .iter()
            .filter(|entry| entry.search_mode() == Some(&SearchMode::Outcome))
            .map(Entry::decode)
            .collect()
    }
}
