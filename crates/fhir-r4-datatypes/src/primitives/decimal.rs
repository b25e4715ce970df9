//! `decimal`: kept as its exact text, so `1.50` stays `1.50`.

use std::fmt;
use std::str::FromStr;

use crate::json::{Error, JsonDecode, JsonEncode, Reader, Writer};

/// A FHIR `decimal`, stored as the exact text of its JSON number.
///
/// Precision is significant in FHIR (`1.50` says more than `1.5`), so the text is kept as is;
/// [`Decimal::to_f64`] gives a float for arithmetic.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Decimal(Box<str>);

/// The text is not a JSON number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a decimal number")]
pub struct ParseDecimalError(String);

impl Decimal {
    /// The exact text of the number.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as the nearest `f64`.
    pub fn to_f64(&self) -> f64 {
        self.0.parse().unwrap_or(f64::NAN)
    }
}

fn is_json_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = usize::from(bytes.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let from = *i;
        while bytes.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - from
    };
    let int_start = i;
    let int_digits = digits(&mut i);
    if int_digits == 0 || (int_digits > 1 && bytes.get(int_start) == Some(&b'0')) {
        return false;
    }
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == bytes.len()
}

impl FromStr for Decimal {
    type Err = ParseDecimalError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if is_json_number(text) {
            Ok(Self(text.into()))
        } else {
            Err(ParseDecimalError(text.to_owned()))
        }
    }
}

impl From<i32> for Decimal {
    fn from(value: i32) -> Self {
        Self(value.to_string().into())
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl JsonDecode for Decimal {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.read_number().map(|text| Self(text.into()))
    }
}

impl JsonEncode for Decimal {
    fn encode(&self, w: &mut Writer) {
        w.raw(&self.0);
    }
}
