//! Conversions between the FHIR date and time types and those of `chrono`, `time` and `jiff`,
//! each behind the cargo feature of the same name. Every conversion goes through RFC 3339
//! text, written and read by the other library and checked by our grammar, so neither side's
//! calendar arithmetic is trusted alone; what one side cannot represent is a typed error, never
//! a clamped value.

use super::datetime::Precision;

#[cfg(feature = "chrono")]
mod with_chrono;
#[cfg(feature = "jiff")]
mod with_jiff;
#[cfg(feature = "time")]
mod with_time;

/// A value could not be converted to or from another library's type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConversionError {
    /// The FHIR value is less precise than the target type needs (`2024-03` is not a day).
    #[error("`{text}` has {has:?} precision; the conversion needs {needs:?}")]
    Imprecise {
        /// The FHIR value's text.
        text: String,
        /// Its precision.
        has: Precision,
        /// The precision the target type needs.
        needs: Precision,
    },
    /// The value lies outside what the other side can represent (FHIR writes the years
    /// 0001–9999).
    #[error("`{text}` cannot be represented as {target}")]
    OutOfRange {
        /// The value as text.
        text: String,
        /// The type it could not become.
        target: &'static str,
    },
}

#[cfg(any(feature = "chrono", feature = "time", feature = "jiff"))]
/// `Imprecise` unless `has` reaches `needs`.
pub(crate) fn require(text: &str, has: Precision, needs: Precision) -> Result<(), ConversionError> {
    if has >= needs {
        Ok(())
    } else {
        Err(ConversionError::Imprecise {
            text: text.to_owned(),
            has,
            needs,
        })
    }
}

#[cfg(any(feature = "chrono", feature = "time", feature = "jiff"))]
/// `OutOfRange` for `text` and `target`.
pub(crate) fn out_of_range(text: impl Into<String>, target: &'static str) -> ConversionError {
    ConversionError::OutOfRange {
        text: text.into(),
        target,
    }
}

#[cfg(test)]
mod tests;
