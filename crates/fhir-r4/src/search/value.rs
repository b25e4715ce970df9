//! Search values: what goes right of `=`, escaped once, part by part.

use std::fmt::Write as _;

use fhir_core::query::escape;

use super::Error;
use crate::primitives::{Date, DateTime, Decimal, Instant};

/// A value that writes itself in FHIR search syntax, its literal parts escaped.
pub trait SearchValue {
    /// Appends the value to `out`.
    fn write_to(&self, out: &mut String);
}

fn push_escaped(out: &mut String, text: &str) {
    out.push_str(&escape(text));
}

impl SearchValue for String {
    fn write_to(&self, out: &mut String) {
        push_escaped(out, self);
    }
}

/// One or more values joined by `,` (OR). Build it from one value or from an array or `Vec`.
///
/// ```
/// use fhir_r4::search::{Or, Token};
///
/// let one: Or<Token> = Token::code("a").into();
/// let two: Or<Token> = [Token::code("a"), Token::code("b")].into();
/// assert_eq!((one.len(), two.len()), (1, 2));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Or<V>(Vec<V>);

impl<V> Or<V> {
    /// How many alternatives.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V: SearchValue> Or<V> {
    /// The alternatives, each escaped, joined by `,`.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        for (index, value) in self.0.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            value.write_to(&mut out);
        }
        out
    }
}

impl<V, T: Into<V>, const N: usize> From<[T; N]> for Or<V> {
    fn from(values: [T; N]) -> Self {
        Self(values.into_iter().map(Into::into).collect())
    }
}

impl<V, T: Into<V>> From<Vec<T>> for Or<V> {
    fn from(values: Vec<T>) -> Self {
        Self(values.into_iter().map(Into::into).collect())
    }
}

macro_rules! or_from {
    ($value:ty: $($from:ty),*) => {
        $(impl From<$from> for Or<$value> {
            fn from(value: $from) -> Self {
                Self(vec![value.into()])
            }
        })*
    };
}

or_from!(String: String, &str);
or_from!(Token: Token, &str, String);
or_from!(ReferenceValue: ReferenceValue);
or_from!(Prefixed<DateValue>: Prefixed<DateValue>, DateValue, Date, DateTime, Instant);
or_from!(Prefixed<Number>: Prefixed<Number>, Number, i32, i64, u32, u64, Decimal);
or_from!(Prefixed<Quantity>: Prefixed<Quantity>, Quantity);

/// A token: a code with or without its system (`system|code`, `code`, `|code`, `system|`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    system: Option<String>,
    code: Option<String>,
}

impl Token {
    /// `system|code`: the code in that system.
    pub fn new(system: impl Into<String>, code: impl Into<String>) -> Self {
        Self {
            system: Some(system.into()),
            code: Some(code.into()),
        }
    }

    /// `code`: the code in any system (or none).
    pub fn code(code: impl Into<String>) -> Self {
        Self {
            system: None,
            code: Some(code.into()),
        }
    }

    /// `|code`: the code with no system.
    pub fn no_system(code: impl Into<String>) -> Self {
        Self {
            system: Some(String::new()),
            code: Some(code.into()),
        }
    }

    /// `system|`: any code of the system.
    pub fn system(system: impl Into<String>) -> Self {
        Self {
            system: Some(system.into()),
            code: None,
        }
    }
}

impl From<&str> for Token {
    fn from(code: &str) -> Self {
        Self::code(code)
    }
}

impl From<String> for Token {
    fn from(code: String) -> Self {
        Self::code(code)
    }
}

impl SearchValue for Token {
    fn write_to(&self, out: &mut String) {
        if let Some(system) = &self.system {
            push_escaped(out, system);
            out.push('|');
        }
        if let Some(code) = &self.code {
            push_escaped(out, code);
        }
    }
}

/// The comparison prefix of an ordered value (date, number, quantity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Prefix {
    /// `eq`: equal (the default when no prefix is written).
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `gt`: greater than.
    Gt,
    /// `lt`: less than.
    Lt,
    /// `ge`: greater or equal.
    Ge,
    /// `le`: less or equal.
    Le,
    /// `sa`: starts after.
    Sa,
    /// `eb`: ends before.
    Eb,
    /// `ap`: approximately.
    Ap,
}

impl Prefix {
    /// The prefix as written in a URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Gt => "gt",
            Self::Lt => "lt",
            Self::Ge => "ge",
            Self::Le => "le",
            Self::Sa => "sa",
            Self::Eb => "eb",
            Self::Ap => "ap",
        }
    }

    /// This prefix applied to `value`.
    pub fn with<V>(self, value: impl Into<V>) -> Prefixed<V> {
        Prefixed {
            prefix: Some(self),
            value: value.into(),
        }
    }
}

/// An ordered value with an optional [`Prefix`] (`ge2020`, `lt5.4|http://unitsofmeasure.org|mg`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefixed<V> {
    prefix: Option<Prefix>,
    value: V,
}

impl<V> Prefixed<V> {
    /// `value` without a prefix (equality).
    pub fn new(value: V) -> Self {
        Self {
            prefix: None,
            value,
        }
    }
}

impl<V: SearchValue> SearchValue for Prefixed<V> {
    fn write_to(&self, out: &mut String) {
        if let Some(prefix) = self.prefix {
            out.push_str(prefix.as_str());
        }
        self.value.write_to(out);
    }
}

macro_rules! prefixed_from {
    ($value:ty: $($from:ty),*) => {
        $(impl From<$from> for Prefixed<$value> {
            fn from(value: $from) -> Self {
                Self::new(value.into())
            }
        })*
    };
}

prefixed_from!(DateValue: DateValue, Date, DateTime, Instant);
prefixed_from!(Number: Number, i32, i64, u32, u64, Decimal);
prefixed_from!(Quantity: Quantity);

/// A date search value: a FHIR `date`, `dateTime` or `instant`, possibly partial (`2024`,
/// `2024-03`, `2024-03-15T10:00:00Z`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateValue(String);

impl DateValue {
    /// Validates `text` as a partial date, dateTime or instant. A time without a zone
    /// (`2024-03-15T10:00:00`) is accepted too: in a search the server's zone applies.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidValue`] when it is none of them.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let zoneless_time = text.contains('T')
            && !text.ends_with('Z')
            && format!("{text}Z").parse::<DateTime>().is_ok();
        if zoneless_time || text.parse::<DateTime>().is_ok() || text.parse::<Instant>().is_ok() {
            Ok(Self(text.to_owned()))
        } else {
            Err(Error::InvalidValue {
                kind: "date",
                text: text.to_owned(),
            })
        }
    }
}

impl From<Date> for DateValue {
    fn from(date: Date) -> Self {
        Self(date.as_str().to_owned())
    }
}

impl From<DateTime> for DateValue {
    fn from(date: DateTime) -> Self {
        Self(date.as_str().to_owned())
    }
}

impl From<Instant> for DateValue {
    fn from(instant: Instant) -> Self {
        Self(instant.as_str().to_owned())
    }
}

impl SearchValue for DateValue {
    fn write_to(&self, out: &mut String) {
        // Validated: digits, `-`, `:`, `.`, `T`, `Z` and `+` need no escaping.
        out.push_str(&self.0);
    }
}

/// A number search value (`5`, `-0.5`, `1.2e3`), keeping its text and so its precision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number(String);

impl Number {
    /// Validates `text` as a decimal number, optionally with an exponent.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidValue`] when it is not a number.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if is_number(text) {
            Ok(Self(text.to_owned()))
        } else {
            Err(Error::InvalidValue {
                kind: "number",
                text: text.to_owned(),
            })
        }
    }
}

fn is_number(text: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let text = text.strip_prefix('-').unwrap_or(text);
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (text, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => digits(int) && digits(frac),
        None => digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(digits)
}

macro_rules! number_from_int {
    ($($int:ty),*) => {
        $(impl From<$int> for Number {
            fn from(value: $int) -> Self {
                Self(value.to_string())
            }
        })*
    };
}

number_from_int!(i32, i64, u32, u64);

impl From<Decimal> for Number {
    fn from(value: Decimal) -> Self {
        Self(value.as_str().to_owned())
    }
}

impl SearchValue for Number {
    fn write_to(&self, out: &mut String) {
        out.push_str(&self.0);
    }
}

/// A quantity search value: a number with an optional unit (`5.4|http://unitsofmeasure.org|mg`,
/// `5.4||mg`, `5.4`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantity {
    number: Number,
    unit: Option<(String, String)>,
}

impl Quantity {
    /// A number without a unit.
    pub fn new(number: impl Into<Number>) -> Self {
        Self {
            number: number.into(),
            unit: None,
        }
    }

    /// With a coded unit (`number|system|code`).
    #[must_use]
    pub fn unit(mut self, system: impl Into<String>, code: impl Into<String>) -> Self {
        self.unit = Some((system.into(), code.into()));
        self
    }

    /// With a unit code or text in any system (`number||code`).
    #[must_use]
    pub fn code(mut self, code: impl Into<String>) -> Self {
        self.unit = Some((String::new(), code.into()));
        self
    }
}

impl SearchValue for Quantity {
    fn write_to(&self, out: &mut String) {
        self.number.write_to(out);
        if let Some((system, code)) = &self.unit {
            out.push('|');
            push_escaped(out, system);
            out.push('|');
            push_escaped(out, code);
        }
    }
}

/// A reference search value: `Type/id`, a bare id, or an absolute URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceValue(String);

impl ReferenceValue {
    /// A bare id (`123`), of any target type.
    pub fn id(id: &str) -> Self {
        Self(escape(id))
    }

    /// `Type/id` with the type unchecked (see `Param::to` for the checked form).
    pub fn typed(resource_type: &str, id: &str) -> Self {
        let mut text = escape(resource_type);
        let _ = write!(text, "/{}", escape(id));
        Self(text)
    }

    /// An absolute (or canonical) URL.
    pub fn url(url: &str) -> Self {
        Self(escape(url))
    }
}

impl SearchValue for ReferenceValue {
    fn write_to(&self, out: &mut String) {
        // Escaped when built.
        out.push_str(&self.0);
    }
}
