//! `jiff` conversions (feature `jiff`): `Timestamp` ↔ `Instant` / `DateTime` (in UTC), `Zoned`
//! → `Instant` / `DateTime` (its offset kept), `civil::Date` ↔ `Date`.

use jiff::Timestamp;
use jiff::civil;

use super::{ConversionError, out_of_range, require};
use crate::primitives::{Date, DateTime, Instant, Precision};

fn instant(text: String) -> Result<Instant, ConversionError> {
    text.parse()
        .map_err(|_| out_of_range(text, "a FHIR instant"))
}

impl TryFrom<Timestamp> for Instant {
    type Error = ConversionError;

    /// The same instant in UTC; an error before the year 0001.
    ///
    /// ```
    /// use fhir_r4_datatypes::primitives::Instant;
    ///
    /// let at: jiff::Timestamp = "2024-03-15T10:30:00.5+01:00".parse().unwrap();
    /// assert_eq!(Instant::try_from(at).unwrap().as_str(), "2024-03-15T09:30:00.5Z");
    /// ```
    fn try_from(value: Timestamp) -> Result<Self, Self::Error> {
        instant(value.to_string())
    }
}

impl TryFrom<&jiff::Zoned> for Instant {
    type Error = ConversionError;

    /// The same instant with the zone's offset at that instant.
    fn try_from(value: &jiff::Zoned) -> Result<Self, Self::Error> {
        instant(
            value
                .timestamp()
                .display_with_offset(value.offset())
                .to_string(),
        )
    }
}

impl TryFrom<Timestamp> for DateTime {
    type Error = ConversionError;

    /// As for [`Instant`].
    fn try_from(value: Timestamp) -> Result<Self, Self::Error> {
        Instant::try_from(value).map(DateTime::from)
    }
}

impl TryFrom<&jiff::Zoned> for DateTime {
    type Error = ConversionError;

    /// As for [`Instant`].
    fn try_from(value: &jiff::Zoned) -> Result<Self, Self::Error> {
        Instant::try_from(value).map(DateTime::from)
    }
}

fn to_timestamp(text: &str) -> Result<Timestamp, ConversionError> {
    text.parse()
        .map_err(|_| out_of_range(text, "a jiff::Timestamp"))
}

impl TryFrom<&Instant> for Timestamp {
    type Error = ConversionError;

    fn try_from(value: &Instant) -> Result<Self, Self::Error> {
        to_timestamp(value.as_str())
    }
}

impl TryFrom<&DateTime> for Timestamp {
    type Error = ConversionError;

    /// Only a value with a time (and so a zone) is one point in time.
    fn try_from(value: &DateTime) -> Result<Self, Self::Error> {
        require(value.as_str(), value.precision(), Precision::Second)?;
        to_timestamp(value.as_str())
    }
}

impl TryFrom<civil::Date> for Date {
    type Error = ConversionError;

    fn try_from(value: civil::Date) -> Result<Self, Self::Error> {
        let text = value.to_string();
        text.parse().map_err(|_| out_of_range(text, "a FHIR date"))
    }
}

impl TryFrom<&Date> for civil::Date {
    type Error = ConversionError;

    /// Only a full date (`2024-03-15`) is a day.
    fn try_from(value: &Date) -> Result<Self, Self::Error> {
        require(value.as_str(), value.precision(), Precision::Day)?;
        value
            .as_str()
            .parse()
            .map_err(|_| out_of_range(value.as_str(), "a jiff::civil::Date"))
    }
}
