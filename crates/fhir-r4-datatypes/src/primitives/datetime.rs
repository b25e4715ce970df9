//! `date`, `dateTime`, `instant` and `time`, with the partial precision FHIR allows, checked
//! against the grammar of the specification and kept as their exact text. They compare by
//! time, not by text (see `chronology.rs`): `10:00:00+05:00` is before `06:00:00Z`.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use super::calendar;
use super::chronology::{self, Span};

use fhir_core::DecodeErrorKind;

use crate::json::{Error, JsonDecode, JsonEncode, Reader, Writer};

/// How much of a date or date-time is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Precision {
    /// `2024`.
    Year,
    /// `2024-03`.
    Month,
    /// `2024-03-15`.
    Day,
    /// `2024-03-15T10:30:00+01:00`, possibly with fractional seconds.
    Second,
}

/// The text does not follow the grammar of the FHIR type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a valid FHIR {type_name}")]
pub struct ParseDateError {
    text: String,
    type_name: &'static str,
}

/// A cursor over ASCII text for the small grammars below.
struct Scan<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Scan<'_> {
    fn digits(&mut self, count: usize) -> Option<u32> {
        let mut value = 0;
        for _ in 0..count {
            let d = *self.bytes.get(self.pos)?;
            if !d.is_ascii_digit() {
                return None;
            }
            value = value * 10 + u32::from(d - b'0');
            self.pos += 1;
        }
        Some(value)
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.bytes.get(self.pos) == Some(&b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn done(&self) -> bool {
        self.pos == self.bytes.len()
    }

    /// `YYYY(-MM(-DD)?)?`, returning the precision reached.
    fn date(&mut self) -> Option<Precision> {
        let year = self.digits(4)?;
        if year == 0 {
            return None;
        }
        if !self.eat(b'-') {
            return Some(Precision::Year);
        }
        let month = self.digits(2)?;
        if !(1..=12).contains(&month) {
            return None;
        }
        if !self.eat(b'-') {
            return Some(Precision::Month);
        }
        let day = self.digits(2)?;
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days_in_month = match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        (1..=days_in_month).contains(&day).then_some(Precision::Day)
    }

    /// `hh:mm:ss(.f+)?`.
    fn time(&mut self) -> Option<()> {
        let hour = self.digits(2)?;
        let ok = hour <= 23 && self.eat(b':');
        let minute = self.digits(2)?;
        let ok = ok && minute <= 59 && self.eat(b':');
        let second = self.digits(2)?;
        if !ok || second > 60 {
            return None;
        }
        if self.eat(b'.') {
            let start = self.pos;
            while self.bytes.get(self.pos).is_some_and(u8::is_ascii_digit) {
                self.pos += 1;
            }
            if self.pos == start {
                return None;
            }
        }
        Some(())
    }

    /// `Z` or `(+|-)hh:mm` with hours up to 14:00.
    fn zone(&mut self) -> Option<()> {
        if self.eat(b'Z') {
            return Some(());
        }
        if !(self.eat(b'+') || self.eat(b'-')) {
            return None;
        }
        let hour = self.digits(2)?;
        if !self.eat(b':') {
            return None;
        }
        let minute = self.digits(2)?;
        (hour < 14 && minute <= 59 || hour == 14 && minute == 0).then_some(())
    }
}

fn scan(text: &str) -> Scan<'_> {
    Scan {
        bytes: text.as_bytes(),
        pos: 0,
    }
}

fn parse_date(text: &str) -> Option<Precision> {
    let mut s = scan(text);
    let precision = s.date()?;
    s.done().then_some(precision)
}

fn parse_date_time(text: &str) -> Option<Precision> {
    let mut s = scan(text);
    let precision = s.date()?;
    if s.done() {
        return Some(precision);
    }
    if precision != Precision::Day || !s.eat(b'T') {
        return None;
    }
    s.time()?;
    s.zone()?;
    s.done().then_some(Precision::Second)
}

fn parse_instant(text: &str) -> Option<Precision> {
    match parse_date_time(text) {
        Some(Precision::Second) => Some(Precision::Second),
        _ => None,
    }
}

fn parse_time(text: &str) -> Option<Precision> {
    let mut s = scan(text);
    s.time()?;
    s.done().then_some(Precision::Second)
}

macro_rules! temporal {
    ($(#[$doc:meta])* $name:ident, $fhir:literal, $parse:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(Box<str>);

        impl $name {
            /// The exact text, as it appears in FHIR JSON.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// How much of the value is given.
            pub fn precision(&self) -> Precision {
                $parse(&self.0).unwrap_or(Precision::Second)
            }
        }

        impl FromStr for $name {
            type Err = ParseDateError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match $parse(text) {
                    Some(_) => Ok(Self(text.into())),
                    None => Err(ParseDateError {
                        text: text.to_owned(),
                        type_name: $fhir,
                    }),
                }
            }
        }

        impl TryFrom<&str> for $name {
            type Error = ParseDateError;

            fn try_from(text: &str) -> Result<Self, Self::Error> {
                text.parse()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl JsonDecode for $name {
            fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
                let text = r.read_str()?;
                match $parse(&text) {
                    Some(_) => Ok(Self(text.into())),
                    None => Err(r.error(
                        DecodeErrorKind::InvalidValue,
                        format!("`{text}` is not a valid FHIR {}", $fhir),
                    )),
                }
            }
        }

        impl JsonEncode for $name {
            fn encode(&self, w: &mut Writer) {
                w.string(&self.0);
            }
        }
    };
}

temporal!(
    /// A FHIR `date`: `2024`, `2024-03` or `2024-03-15`, without a time zone.
    Date,
    "date",
    parse_date
);

temporal!(
    /// A FHIR `dateTime`: a date of any precision, or a full date and time with a time zone
    /// (`2024-03-15T10:30:00.5+01:00`).
    DateTime,
    "dateTime",
    parse_date_time
);

temporal!(
    /// A FHIR `instant`: a full date and time, to the second or finer, with a time zone.
    Instant,
    "instant",
    parse_instant
);

temporal!(
    /// A FHIR `time` of day: `hh:mm:ss` with optional fractional seconds, without a time zone.
    Time,
    "time",
    parse_time
);

/// Chronological equality, order and a consistent hash for a type whose values are spans.
macro_rules! chronological {
    ($name:ident) => {
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.chronological_cmp(other) == Some(Ordering::Equal)
            }
        }

        impl Eq for $name {}

        impl Hash for $name {
            fn hash<H: Hasher>(&self, state: &mut H) {
                chronology::hash(Span::of(&self.0), &self.0, state);
            }
        }

        impl $name {
            fn chronological_cmp(&self, other: &Self) -> Option<Ordering> {
                match (Span::of(&self.0), Span::of(&other.0)) {
                    (Some(a), Some(b)) => chronology::compare(a, b),
                    // Unreachable for validated values; the text keeps the relation total there.
                    _ => Some(self.0.cmp(&other.0)),
                }
            }

            /// The year (`1` to `9999`).
            pub fn year(&self) -> u16 {
                calendar::fields(&self.0).map_or(0, |fields| fields.year)
            }

            /// The month (`1` to `12`), when the value has one.
            pub fn month(&self) -> Option<u8> {
                calendar::fields(&self.0).and_then(|fields| fields.month)
            }

            /// The day of the month, when the value has one.
            pub fn day(&self) -> Option<u8> {
                calendar::fields(&self.0).and_then(|fields| fields.day)
            }
        }
    };
}

chronological!(Date);
chronological!(DateTime);
chronological!(Instant);

/// `None` where precision leaves the order open: `2024` and `2024-03` overlap.
impl PartialOrd for Date {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.chronological_cmp(other)
    }
}

/// `None` where precision or an unknown zone leaves the order open: `2024-03-15` and
/// `2024-03-15T10:00:00Z` overlap; `2024-03-15` and `2024-03-17T10:00:00Z` do not.
impl PartialOrd for DateTime {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.chronological_cmp(other)
    }
}

impl PartialOrd for Instant {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Hour, minute, second and offset of a value with a time.
macro_rules! time_fields {
    ($name:ident) => {
        impl $name {
            /// The hour, minute and second as written (local to [`Self::offset_minutes`]), when
            /// the value has a time.
            pub fn hms(&self) -> Option<(u8, u8, u8)> {
                let (time, _) = calendar::fields(&self.0)?.time?;
                Some((time.hour, time.minute, time.second))
            }

            /// The offset from UTC in minutes (`+05:30` is 330, `Z` is 0), when the value has
            /// a time.
            pub fn offset_minutes(&self) -> Option<i32> {
                calendar::fields(&self.0)?.time.map(|(_, offset)| offset)
            }
        }
    };
}

time_fields!(DateTime);
time_fields!(Instant);

/// Instants are all points in time, so their order is total.
impl Ord for Instant {
    fn cmp(&self, other: &Self) -> Ordering {
        self.chronological_cmp(other)
            .unwrap_or_else(|| self.0.cmp(&other.0))
    }
}

impl Instant {
    /// An instant from text our own formatting produced (and so the grammar accepts).
    pub(crate) fn from_valid(text: String) -> Self {
        Instant(text.into())
    }
}

impl DateTime {
    /// The value as an `instant`, when it has a time (and so a zone).
    pub fn to_instant(&self) -> Option<Instant> {
        (self.precision() == Precision::Second).then(|| Instant(self.0.clone()))
    }
}

impl From<Instant> for DateTime {
    fn from(instant: Instant) -> Self {
        DateTime(instant.0)
    }
}

impl PartialEq for Time {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Time {}

impl PartialOrd for Time {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Times of day are ordered from `00:00:00` to `23:59:60`, fractions compared exactly.
impl Ord for Time {
    fn cmp(&self, other: &Self) -> Ordering {
        chronology::compare_times(&self.0, &other.0)
    }
}

impl Hash for Time {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match chronology::time_key(&self.0) {
            Some(key) => key.hash(state),
            None => self.0.hash(state),
        }
    }
}

impl Time {
    /// The hour, minute and second.
    pub fn hms(&self) -> (u8, u8, u8) {
        chronology::time_key(&self.0)
            .map_or((0, 0, 0), |time| (time.hour, time.minute, time.second))
    }
}
