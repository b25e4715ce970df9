//! `time` conversions (feature `time`): `OffsetDateTime` ↔ `Instant` / `DateTime` (the offset
//! kept), `time::Date` ↔ `Date`.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{ConversionError, out_of_range, require};
use crate::primitives::{Date, DateTime, Instant, Precision};

impl TryFrom<OffsetDateTime> for Instant {
    type Error = ConversionError;

    /// The same instant with the same offset; an error outside the years 0001–9999.
    ///
    /// ```
    /// use fhir_r4_datatypes::primitives::Instant;
    ///
    /// let at = time::OffsetDateTime::UNIX_EPOCH;
    /// assert_eq!(Instant::try_from(at).unwrap().as_str(), "1970-01-01T00:00:00Z");
    /// ```
    fn try_from(value: OffsetDateTime) -> Result<Self, Self::Error> {
        let text = value
            .format(&Rfc3339)
            .map_err(|_| out_of_range(value.to_string(), "a FHIR instant"))?;
        text.parse()
            .map_err(|_| out_of_range(text, "a FHIR instant"))
    }
}

impl TryFrom<OffsetDateTime> for DateTime {
    type Error = ConversionError;

    /// As for [`Instant`].
    fn try_from(value: OffsetDateTime) -> Result<Self, Self::Error> {
        Instant::try_from(value).map(DateTime::from)
    }
}

fn to_time(text: &str) -> Result<OffsetDateTime, ConversionError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| out_of_range(text, "a time::OffsetDateTime"))
}

impl TryFrom<&Instant> for OffsetDateTime {
    type Error = ConversionError;

    fn try_from(value: &Instant) -> Result<Self, Self::Error> {
        to_time(value.as_str())
    }
}

impl TryFrom<&DateTime> for OffsetDateTime {
    type Error = ConversionError;

    /// Only a value with a time (and so a zone) is one point in time.
    fn try_from(value: &DateTime) -> Result<Self, Self::Error> {
        require(value.as_str(), value.precision(), Precision::Second)?;
        to_time(value.as_str())
    }
}

impl TryFrom<time::Date> for Date {
    type Error = ConversionError;

    fn try_from(value: time::Date) -> Result<Self, Self::Error> {
        let text = format!(
            "{:04}-{:02}-{:02}",
            value.year(),
            u8::from(value.month()),
            value.day()
        );
        text.parse().map_err(|_| out_of_range(text, "a FHIR date"))
    }
}

impl TryFrom<&Date> for time::Date {
    type Error = ConversionError;

    /// Only a full date (`2024-03-15`) is a day.
    fn try_from(value: &Date) -> Result<Self, Self::Error> {
        require(value.as_str(), value.precision(), Precision::Day)?;
        let unrepresentable = || out_of_range(value.as_str(), "a time::Date");
        let month = value.month().ok_or_else(unrepresentable)?;
        let month = time::Month::try_from(month).map_err(|_| unrepresentable())?;
        let day = value.day().ok_or_else(unrepresentable)?;
        time::Date::from_calendar_date(i32::from(value.year()), month, day)
            .map_err(|_| unrepresentable())
    }
}
