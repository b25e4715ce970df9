//! `decimal`: kept as its exact text, so `1.50` stays `1.50`.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::json::{Error, JsonDecode, JsonEncode, Reader, Writer};

/// A FHIR `decimal`, stored as the exact text of its JSON number.
///
/// Precision is significant in FHIR (`1.50` says more than `1.5`), so the text is kept as is
/// and equality is equality of the text; [`Decimal::to_f64`] gives a float for arithmetic.
/// The order is by exact value (any number of digits, no rounding), then by text, so `9 < 10`
/// and `1.5 < 1.50 < 1.6`:
///
/// ```
/// use fhir_r4_datatypes::primitives::Decimal;
///
/// let mut values: Vec<Decimal> = ["10", "9.99", "1.50", "-2", "1.5", "1e1"]
///     .iter()
///     .map(|text| text.parse().unwrap())
///     .collect();
/// values.sort();
/// let texts: Vec<&str> = values.iter().map(Decimal::as_str).collect();
/// assert_eq!(texts, ["-2", "1.5", "1.50", "9.99", "10", "1e1"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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

/// A JSON number's value as sign, significant digits and exponent: `0.d₁d₂… × 10^exponent`
/// with no leading or trailing zero digits (zero has no digits).
struct Value {
    negative: bool,
    digits: String,
    exponent: i64,
}

fn value_of(text: &str) -> Value {
    let negative = text.starts_with('-');
    let unsigned = text.trim_start_matches('-');
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], &unsigned[at + 1..]),
        None => (unsigned, "0"),
    };
    let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    // Exponents beyond i64 saturate; no decimal a server sends is within 10^(2^62) of another.
    let exponent_negative = exponent.starts_with('-');
    let exponent = exponent
        .trim_start_matches(['+', '-'])
        .bytes()
        .fold(0i64, |acc, digit| {
            acc.saturating_mul(10)
                .saturating_add(i64::from(digit.saturating_sub(b'0')))
        });
    let exponent = if exponent_negative {
        -exponent
    } else {
        exponent
    };
    let all: String = integer.chars().chain(fraction.chars()).collect();
    let leading = all.len() - all.trim_start_matches('0').len();
    let digits = all.trim_matches('0').to_owned();
    let integer_len = i64::try_from(integer.len()).unwrap_or(i64::MAX);
    let leading = i64::try_from(leading).unwrap_or(i64::MAX);
    Value {
        negative: negative && !digits.is_empty(),
        exponent: exponent.saturating_add(integer_len).saturating_sub(leading),
        digits,
    }
}

/// The exact numeric order of two JSON numbers.
fn compare_values(a: &str, b: &str) -> Ordering {
    let (a, b) = (value_of(a), value_of(b));
    let magnitude = |a: &Value, b: &Value| match (a.digits.is_empty(), b.digits.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a
            .exponent
            .cmp(&b.exponent)
            .then_with(|| a.digits.cmp(&b.digits)),
    };
    match (a.negative, b.negative) {
        (false, false) => magnitude(&a, &b),
        (true, true) => magnitude(&b, &a),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_values(&self.0, &other.0).then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Decimal {
    /// Whether the two have the same value, whatever their precision (`1.5` and `1.50`).
    pub fn same_value(&self, other: &Decimal) -> bool {
        compare_values(&self.0, &other.0) == Ordering::Equal
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

macro_rules! from_integer {
    ($($int:ty),*) => {$(
        impl From<$int> for Decimal {
            /// The integer's exact decimal text (`42`).
            fn from(value: $int) -> Self {
                Self(value.to_string().into())
            }
        }
    )*};
}

from_integer!(i8, i16, i32, i64, i128, u8, u16, u32, u64, u128);

/// A float that is not a number (`NaN`, an infinity) has no decimal text.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("{0} is not a finite number, so it has no FHIR decimal form")]
pub struct NonFiniteError(pub f64);

impl TryFrom<f64> for Decimal {
    type Error = NonFiniteError;

    /// The shortest text that reads back as the same `f64` (`0.1`, not
    /// `0.1000000000000000055511151231257827`), never in exponent form.
    ///
    /// ```
    /// use fhir_r4_datatypes::primitives::Decimal;
    ///
    /// assert_eq!(Decimal::try_from(0.1).unwrap().as_str(), "0.1");
    /// assert_eq!(Decimal::try_from(1e-9).unwrap().as_str(), "0.000000001");
    /// assert_eq!(Decimal::try_from(72.0).unwrap().as_str(), "72");
    /// assert!(Decimal::try_from(f64::NAN).is_err());
    /// ```
    fn try_from(value: f64) -> Result<Self, Self::Error> {
        if value.is_finite() {
            // `Display` of a finite f64 is its shortest round-trip digits without an exponent.
            Ok(Self(value.to_string().into()))
        } else {
            Err(NonFiniteError(value))
        }
    }
}

impl TryFrom<&str> for Decimal {
    type Error = ParseDecimalError;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        text.parse()
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
