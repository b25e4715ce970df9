//! Hand-written additions to the generated types.

#[cfg(feature = "operation_outcome")]
mod outcome;
#[cfg(feature = "parameters")]
mod parameters;
pub(crate) mod raw;
mod resource;
