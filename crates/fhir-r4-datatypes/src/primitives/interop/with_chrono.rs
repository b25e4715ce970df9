//! `chrono` conversions (feature `chrono`): `DateTime<Tz>` ↔ `Instant` / `DateTime` (the
//! offset kept), `NaiveDate` ↔ `Date`.

use chrono::{FixedOffset, NaiveDate, SecondsFormat, TimeZone};

use super::{ConversionError, out_of_range, require};
use crate::primitives::{Date, DateTime, Instant, Precision};

fn rfc3339<Tz: TimeZone>(value: &chrono::DateTime<Tz>) -> String {
    value
        .fixed_offset()
        .to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

impl<Tz: TimeZone> TryFrom<chrono::DateTime<Tz>> for Instant {
    type Error = ConversionError;

    /// The same instant with the same offset (`Z` for UTC); an error outside the years
    /// 0001–9999.
    ///
    /// ```
    /// use fhir_r4_datatypes::primitives::Instant;
    ///
    /// let at = chrono::DateTime::parse_from_rfc3339("2024-03-15T10:30:00.25+05:30").unwrap();
    /// assert_eq!(Instant::try_from(at).unwrap().as_str(), "2024-03-15T10:30:00.250+05:30");
    /// ```
    fn try_from(value: chrono::DateTime<Tz>) -> Result<Self, Self::Error> {
        let text = rfc3339(&value);
        text.parse()
            .map_err(|_| out_of_range(text, "a FHIR instant"))
    }
}

impl<Tz: TimeZone> TryFrom<chrono::DateTime<Tz>> for DateTime {
    type Error = ConversionError;

    /// As for [`Instant`].
    fn try_from(value: chrono::DateTime<Tz>) -> Result<Self, Self::Error> {
        Instant::try_from(value).map(DateTime::from)
    }
}

fn to_chrono(text: &str) -> Result<chrono::DateTime<FixedOffset>, ConversionError> {
    chrono::DateTime::parse_from_rfc3339(text).map_err(|_| out_of_range(text, "a chrono::DateTime"))
}

impl TryFrom<&Instant> for chrono::DateTime<FixedOffset> {
    type Error = ConversionError;

    fn try_from(value: &Instant) -> Result<Self, Self::Error> {
        to_chrono(value.as_str())
    }
}

impl TryFrom<&DateTime> for chrono::DateTime<FixedOffset> {
    type Error = ConversionError;

    /// Only a value with a time (and so a zone) is one point in time.
    fn try_from(value: &DateTime) -> Result<Self, Self::Error> {
        require(value.as_str(), value.precision(), Precision::Second)?;
        to_chrono(value.as_str())
    }
}

impl TryFrom<NaiveDate> for Date {
    type Error = ConversionError;

    fn try_from(value: NaiveDate) -> Result<Self, Self::Error> {
        let text = value.format("%Y-%m-%d").to_string();
        text.parse().map_err(|_| out_of_range(text, "a FHIR date"))
    }
}

impl TryFrom<&Date> for NaiveDate {
    type Error = ConversionError;

    /// Only a full date (`2024-03-15`) is a day.
    fn try_from(value: &Date) -> Result<Self, Self::Error> {
        require(value.as_str(), value.precision(), Precision::Day)?;
        NaiveDate::parse_from_str(value.as_str(), "%Y-%m-%d")
            .map_err(|_| out_of_range(value.as_str(), "a chrono::NaiveDate"))
    }
}
