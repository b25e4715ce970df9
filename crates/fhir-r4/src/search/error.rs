//! The errors of typed search building.

/// A search parameter or value was rejected before any request was made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// [`Search::raw`](super::Search::raw) was given a name that is neither a parameter of the
    /// resource type nor a common or result parameter.
    #[error("`{name}` is not a search parameter of {resource_type}")]
    UnknownParameter {
        /// The resource type searched.
        resource_type: &'static str,
        /// The parameter name as given (with any modifier or chain).
        name: String,
    },
    /// A value does not follow the grammar of its kind (a date, a number).
    #[error("`{text}` is not a valid search {kind}")]
    InvalidValue {
        /// What was expected (`date`, `number`).
        kind: &'static str,
        /// The rejected text.
        text: String,
    },
}
