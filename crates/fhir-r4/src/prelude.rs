//! What everyday code with the R4 models needs, in one import: `use fhir_r4::prelude::*;`.
//!
//! - The traits, in scope without their names (so `Patient::from_json_slice`, `.to_json_vec()`
//!   and `.resource_type()` work, and fhir-core's `Resource` trait does not clash with
//!   [`fhir_r4::Resource`](crate::Resource), the enum of any R4 resource).
//! - The everyday datatypes with their constructors (`Coding::new`, `Quantity::ucum`,
//!   `HumanName::new`, …), the primitive value types, and [`ThinVec`] / [`thin_vec!`].
//! - [`OperationOutcome`], the R4 model: the one OperationOutcome an R4 program needs.
//!   `OperationOutcome::from(view)` turns what fhir-core errors and Bundle entries carry into
//!   it, and cannot fail.
//! - With the `rest` feature, typed search: [`Search`],
//!   [`Token`], [`DateValue`].
//!
//! Resource types (`fhir_r4::resources::Observation`) and code enums (`fhir_r4::codes::…`)
//! are imported by name: there are too many to glob.
//!
//! ```
//! use fhir_r4::codes::ObservationStatus;
//! use fhir_r4::prelude::*;
//! use fhir_r4::resources::{Observation, Patient};
//!
//! let heart_rate = Observation::default()
//!     .with_status(ObservationStatus::Final)
//!     .with_code(Coding::new("http://loinc.org", "8867-4"))
//!     .with_subject(Reference::to::<Patient>("123"))
//!     .with_effective(DateTime::now())
//!     .with_value(Quantity::ucum(72, "/min"));
//! // The same as a struct literal, which works without the `setters` feature:
//! let literal = Observation {
//!     status: Some(ObservationStatus::Final.into()),
//!     code: Some(CodeableConcept::from(Coding::new("http://loinc.org", "8867-4")).into()),
//!     subject: Some(Reference::to::<Patient>("123").into()),
//!     effective: heart_rate.effective.clone(),
//!     value: Some(Quantity::ucum(72, "/min").into()),
//!     ..Default::default()
//! };
//! assert_eq!(literal, heart_rate);
//! let json = heart_rate.to_json_vec()?;
//! let back = Observation::from_json_slice(&json)?;
//! assert_eq!(back, heart_rate);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use fhir_core::{Resource as _, TypedResource as _};

pub use crate::datatypes::{
    Annotation, Attachment, CodeableConcept, Coding, ContactPoint, Extension, HumanName,
    Identifier, Meta, Narrative, Period, Quantity, Range, Ratio, Reference,
};
pub use crate::primitives::{Date, DateTime, Decimal, Instant, Primitive, Time};
#[cfg(feature = "operation_outcome")]
pub use crate::resources::OperationOutcome;
#[cfg(feature = "rest")]
pub use crate::search::{DateValue, Search, Token};
pub use crate::{ThinVec, UCUM, thin_vec};
