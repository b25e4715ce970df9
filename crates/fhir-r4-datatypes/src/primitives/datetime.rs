//! `date`, `dateTime`, `instant` and `time`, with the partial precision FHIR allows, checked
//! against the grammar of the specification and kept as their exact text.

use std::fmt;
use std::str::FromStr;

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
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
