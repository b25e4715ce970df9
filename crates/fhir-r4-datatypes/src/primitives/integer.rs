//! `positiveInt` and `unsignedInt`: range-checked 32-bit integers.

use std::fmt;

use fhir_core::DecodeErrorKind;

use crate::json::{Error, JsonDecode, JsonEncode, Reader, Writer};

fn decode_in_range(r: &mut Reader<'_>, min: u32, name: &str) -> Result<u32, Error> {
    let text = r.read_number()?;
    match text.parse::<u32>() {
        Ok(value) if value >= min && value <= i32::MAX as u32 => Ok(value),
        _ => Err(r.error(
            DecodeErrorKind::InvalidValue,
            format!("`{text}` is not a valid {name} ({min} to 2147483647)"),
        )),
    }
}

/// A FHIR `positiveInt`: an integer from 1 to 2,147,483,647.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PositiveInt(u32);

impl PositiveInt {
    /// The value, or `None` when it is 0 or above `i32::MAX`.
    pub fn new(value: u32) -> Option<Self> {
        (1..=i32::MAX as u32)
            .contains(&value)
            .then_some(Self(value))
    }

    /// The value.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for PositiveInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl JsonDecode for PositiveInt {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        decode_in_range(r, 1, "positiveInt").map(Self)
    }
}

impl JsonEncode for PositiveInt {
    fn encode(&self, w: &mut Writer) {
        w.i64(i64::from(self.0));
    }
}

/// A FHIR `unsignedInt`: an integer from 0 to 2,147,483,647.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnsignedInt(u32);

impl UnsignedInt {
    /// The value, or `None` when it is above `i32::MAX`.
    pub fn new(value: u32) -> Option<Self> {
        (value <= i32::MAX as u32).then_some(Self(value))
    }

    /// The value.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for UnsignedInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl JsonDecode for UnsignedInt {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        decode_in_range(r, 0, "unsignedInt").map(Self)
    }
}

impl JsonEncode for UnsignedInt {
    fn encode(&self, w: &mut Writer) {
        w.i64(i64::from(self.0));
    }
}
