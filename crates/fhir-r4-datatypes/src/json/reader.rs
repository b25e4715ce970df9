//! A pull-style JSON reader over a byte slice.
//!
//! Generated decoders ask for exactly what they expect next (`begin_object`, `next_key`,
//! `read_str`, …), so no intermediate tree is built and numbers keep their literal text.
//!
//! A UTF-8 byte-order mark at the very start of the input is skipped: some servers send one.
//! Anywhere else it is not whitespace, so it is a syntax error (inside a string it is the
//! character U+FEFF, kept as it is).
//!
//! One file: the scanner's hot paths (whitespace, strings, numbers, keys) share the cursor
//! and inline into each other; split, they would cross module boundaries on every byte.

use std::borrow::Cow;

use fhir_core::DecodeErrorKind;

use super::Error;
use super::report::{self, DecodeReport, Pending};
use super::scan;

/// The UTF-8 byte-order mark.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The deepest nesting of objects and arrays the reader accepts; deeper input is a
/// [`DecodeErrorKind::TooDeep`] error rather than a stack overflow.
pub const MAX_DEPTH: usize = 128;

/// How strictly a document is read.
///
/// **Strict** (the default) rejects, with a [`fhir_core::DecodeError`] naming the JSON path:
/// unknown properties and resource types; a property that appears twice in one object
/// ([`DecodeErrorKind::DuplicateProperty`], `resourceType` and `_field` included); empty arrays,
/// empty objects and `null` outside arrays of primitives ([`DecodeErrorKind::EmptyValue`]); in
/// an array of primitives and its `_field` array, an index that is `null` in both (or `null`
/// in the one array while the other is absent) and a `_field` array of nulls only
/// ([`DecodeErrorKind::EmptyValue`]), and the two arrays of different lengths
/// ([`DecodeErrorKind::InvalidValue`]; `_field` alone, for values that only have extensions,
/// is fine); a resource decoded as a type of its own without `resourceType`
/// ([`DecodeErrorKind::MissingField`]).
///
/// **Lenient** ([`DecodeOptions::lenient`]) reads what strict decoding rejects, as far as it can
/// without guessing: unknown properties are kept (see [`Self::lenient`]); of a duplicate property
/// the last value is kept; empty arrays and objects and `null`s are dropped, and so is an
/// object or array item left with nothing in it; of misaligned arrays of primitives the
/// shorter is padded with `null`s, and items with neither a value nor an extension are dropped. Each of these is reported as a
/// [`DecodeWarning`](super::DecodeWarning) by the `…_with_report` entry points. What has no
/// lenient reading is still an error: wrong JSON types, invalid values, two variants of one
/// choice element, a `resourceType` naming another type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Read leniently instead of strictly (see [`DecodeOptions`]).
    ///
    /// Off by default: a property the model does not know is an error naming its JSON path.
    /// When on, unknown properties are kept as raw JSON on the object that holds them and written
    /// back on output, and unknown resource types are kept as a `fhir_r4::RawResource`.
    pub lenient: bool,
    /// Reject a code outside the value set of a `required` binding instead of keeping it.
    ///
    /// Off by default: such a code is read into the enum's `Unrecognized` variant, kept exactly
    /// and written back unchanged (no data is lost). When on, it is a
    /// [`DecodeErrorKind::InvalidValue`] error naming the JSON path, the code and the value
    /// set, in strict and lenient decoding alike.
    pub reject_unrecognized_codes: bool,
}

impl DecodeOptions {
    /// Options that keep unknown properties and resource types instead of rejecting them, keep
    /// the last value of a duplicate property, and drop empty values (see [`DecodeOptions`]).
    pub fn lenient() -> Self {
        Self {
            lenient: true,
            ..Self::default()
        }
    }

    /// These options, also rejecting codes outside the value sets of `required` bindings
    /// ([`Self::reject_unrecognized_codes`]).
    ///
    /// ```
    /// use fhir_r4_datatypes::json::DecodeOptions;
    ///
    /// let options = DecodeOptions::default().rejecting_unrecognized_codes();
    /// assert!(options.reject_unrecognized_codes && !options.lenient);
    /// ```
    #[must_use]
    pub fn rejecting_unrecognized_codes(mut self) -> Self {
        self.reject_unrecognized_codes = true;
        self
    }
}

/// The kind of the next JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peek {
    /// `{`.
    Object,
    /// `[`.
    Array,
    /// `"`.
    String,
    /// `-` or a digit.
    Number,
    /// `true` or `false`.
    Bool,
    /// `null`.
    Null,
}

impl Peek {
    /// The name of this kind of value, for error messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Object => "an object",
            Self::Array => "an array",
            Self::String => "a string",
            Self::Number => "a number",
            Self::Bool => "a boolean",
            Self::Null => "null",
        }
    }
}

/// A pull-style reader over one JSON document held in memory.
#[derive(Debug)]
pub struct Reader<'a> {
    input: &'a [u8],
    /// The input as text when it is all UTF-8 (checked once, up front), so strings are sliced
    /// from it without checking each again; `None` sends every string through its own check,
    /// which then says where the bad bytes are.
    text: Option<&'a str>,
    pos: usize,
    depth: usize,
    first: bool,
    options: DecodeOptions,
    /// Properties without a slot of their own already read in the object being decoded, when
    /// its decoder tracks them (`de::resource`, `de::element`): bit 0 is `resourceType`, then
    /// one bit for each array of primitives and one for its `_field` array.
    seen: u64,
    /// The offset of that object's `{`.
    object_start: usize,
    /// What lenient decoding dropped or repaired, until the end of the document.
    warnings: Vec<Pending>,
}

impl<'a> Reader<'a> {
    /// Creates a reader over `input`, after a byte-order mark if it starts with one; strings
    /// are checked to be UTF-8 (the whole document in one pass when it is).
    pub fn new(input: &'a [u8], options: DecodeOptions) -> Self {
        Self {
            input,
            text: std::str::from_utf8(input).ok(),
            pos: if input.starts_with(BOM) { BOM.len() } else { 0 },
            depth: 0,
            first: false,
            options,
            seen: 0,
            object_start: 0,
            warnings: Vec::new(),
        }
    }

    /// The warnings of a lenient decode, with their JSON paths under `root` (`Patient`).
    ///
    /// Call it once the document is decoded; the paths are found by walking the input again,
    /// which happens only when there is something to report.
    pub fn into_report(self, root: Option<&str>) -> DecodeReport {
        report::resolve(self.input, root, self.warnings)
    }

    /// Records a warning about the value at `offset`, or about the property `suffix` of the
    /// object starting at `offset`.
    pub(crate) fn warn(
        &mut self,
        kind: DecodeErrorKind,
        offset: usize,
        suffix: Option<&str>,
        message: String,
    ) {
        self.warnings.push(Pending {
            kind,
            offset,
            suffix: suffix.map(Box::from),
            message,
        });
    }

    /// Starts tracking the properties of a new object; returns what the outer object tracked.
    pub(crate) fn take_seen(&mut self) -> (u64, usize) {
        (std::mem::take(&mut self.seen), self.object_start)
    }

    /// Gives the outer object back what it tracked; returns the bits of the object just read.
    pub(crate) fn restore_seen(&mut self, (seen, start): (u64, usize)) -> u64 {
        self.object_start = start;
        std::mem::replace(&mut self.seen, seen)
    }

    /// Sets the offset of the `{` of the tracked object being read.
    pub(crate) fn set_object_start(&mut self, start: usize) {
        self.object_start = start;
    }

    /// The offset of the `{` of the tracked object being read.
    pub(crate) fn object_start(&self) -> usize {
        self.object_start
    }

    /// Marks `bit` as read in the current object; returns whether it already was.
    pub(crate) fn mark(&mut self, bit: u32) -> bool {
        let mask = 1u64 << (bit & 63);
        let was = self.seen & mask != 0;
        self.seen |= mask;
        was
    }

    /// Forgets that `bit` was read in the current object (lenient decoding dropped what it
    /// stood for).
    pub(crate) fn unmark(&mut self, bit: u32) {
        self.seen &= !(1u64 << (bit & 63));
    }

    /// Whether `bit` is marked as read in the current object.
    pub(crate) fn is_marked(&self, bit: u32) -> bool {
        self.seen & (1u64 << (bit & 63)) != 0
    }

    /// The offset of the next value, after whitespace.
    pub(crate) fn value_offset(&mut self) -> usize {
        self.skip_whitespace();
        self.pos
    }

    /// The input this reader reads.
    pub fn input(&self) -> &'a [u8] {
        self.input
    }

    /// The options this reader was created with.
    pub fn options(&self) -> DecodeOptions {
        self.options
    }

    /// The byte offset of the reader in its input.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// An error of `kind` at the current offset.
    pub fn error(&self, kind: DecodeErrorKind, message: impl Into<String>) -> Error {
        Error::new(kind, self.pos, message)
    }

    /// Checks a code just read for an element with a `required` binding to `value_set`:
    /// `recognized` says whether the value set has it. An unrecognized code is an error only
    /// when [`DecodeOptions::reject_unrecognized_codes`] is on.
    ///
    /// # Errors
    ///
    /// [`DecodeErrorKind::InvalidValue`] for an unrecognized code, when the options say so.
    #[inline]
    pub fn check_code(&self, recognized: bool, code: &str, value_set: &str) -> Result<(), Error> {
        if recognized || !self.options.reject_unrecognized_codes {
            Ok(())
        } else {
            Err(self.unrecognized_code(code, value_set))
        }
    }

    #[cold]
    fn unrecognized_code(&self, code: &str, value_set: &str) -> Error {
        // The code is the input's: bounded, so a huge one does not become a huge message.
        const SHOWN: usize = 64;
        let shown: String = code.chars().take(SHOWN).collect();
        let more = if code.chars().count() > SHOWN {
            "…"
        } else {
            ""
        };
        self.error(
            DecodeErrorKind::InvalidValue,
            format!("code `{shown}{more}` is not in the required value set <{value_set}>"),
        )
    }

    /// An "expected X, found Y" error for the next value; of kind
    /// [`DecodeErrorKind::EmptyValue`] when it is `null`, which FHIR JSON never uses for a value.
    pub fn invalid_type(&mut self, expected: &str) -> Error {
        match self.peek() {
            Ok(Peek::Null) => self.error(
                DecodeErrorKind::EmptyValue,
                format!("expected {expected}, found null"),
            ),
            Ok(found) => self.error(
                DecodeErrorKind::InvalidType,
                format!("expected {expected}, found {}", found.name()),
            ),
            Err(err) => err,
        }
    }

    fn skip_whitespace(&mut self) {
        while let Some(&b) = self.input.get(self.pos) {
            if matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn peek_byte(&mut self) -> Result<u8, Error> {
        self.skip_whitespace();
        match self.input.get(self.pos) {
            Some(&b) => Ok(b),
            None => Err(self.error(DecodeErrorKind::Eof, "unexpected end of input")),
        }
    }

    /// The kind of the next value, without consuming it.
    ///
    /// # Errors
    ///
    /// At the end of input, or when the next byte cannot start a JSON value.
    pub fn peek(&mut self) -> Result<Peek, Error> {
        match self.peek_byte()? {
            b'{' => Ok(Peek::Object),
            b'[' => Ok(Peek::Array),
            b'"' => Ok(Peek::String),
            b'-' | b'0'..=b'9' => Ok(Peek::Number),
            b't' | b'f' => Ok(Peek::Bool),
            b'n' => Ok(Peek::Null),
            other => Err(self.error(
                DecodeErrorKind::Syntax,
                format!("unexpected character `{}`", char::from(other)),
            )),
        }
    }

    /// Checks that nothing but whitespace follows the document.
    ///
    /// # Errors
    ///
    /// A syntax error when anything else follows.
    pub fn finish(&mut self) -> Result<(), Error> {
        self.skip_whitespace();
        if self.pos < self.input.len() {
            return Err(self.error(
                DecodeErrorKind::Syntax,
                "trailing characters after the document",
            ));
        }
        Ok(())
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(
                DecodeErrorKind::TooDeep,
                format!("more than {MAX_DEPTH} nested objects and arrays"),
            ));
        }
        Ok(())
    }

    /// Consumes the `{` that opens an object.
    ///
    /// # Errors
    ///
    /// When the next value is not an object, or nesting is too deep.
    pub fn begin_object(&mut self) -> Result<(), Error> {
        if self.peek_byte()? != b'{' {
            return Err(self.invalid_type("an object"));
        }
        self.enter()?;
        self.pos += 1;
        self.first = true;
        Ok(())
    }

    /// The next key of the current object (with its `:` consumed), or `None` after its `}`.
    ///
    /// # Errors
    ///
    /// On malformed or truncated JSON.
    pub fn next_key(&mut self) -> Result<Option<Cow<'a, str>>, Error> {
        let b = self.peek_byte()?;
        if b == b'}' {
            self.pos += 1;
            self.depth -= 1;
            self.first = false;
            return Ok(None);
        }
        if self.first {
            self.first = false;
        } else if b == b',' {
            self.pos += 1;
        } else {
            return Err(self.error(DecodeErrorKind::Syntax, "expected `,` or `}` in object"));
        }
        if self.peek_byte()? != b'"' {
            return Err(self.error(DecodeErrorKind::Syntax, "expected a string key"));
        }
        let key = self.read_str()?;
        if self.peek_byte()? != b':' {
            return Err(self.error(DecodeErrorKind::Syntax, "expected `:` after key"));
        }
        self.pos += 1;
        Ok(Some(key))
    }

    /// Consumes the `[` that opens an array.
    ///
    /// # Errors
    ///
    /// When the next value is not an array, or nesting is too deep.
    pub fn begin_array(&mut self) -> Result<(), Error> {
        if self.peek_byte()? != b'[' {
            return Err(self.invalid_type("an array"));
        }
        self.enter()?;
        self.pos += 1;
        self.first = true;
        Ok(())
    }

    /// Whether the current array has another item; consumes the `,` before it or the closing `]`.
    ///
    /// # Errors
    ///
    /// On malformed or truncated JSON.
    pub fn next_item(&mut self) -> Result<bool, Error> {
        let b = self.peek_byte()?;
        if b == b']' {
            self.pos += 1;
            self.depth -= 1;
            self.first = false;
            return Ok(false);
        }
        if self.first {
            self.first = false;
        } else if b == b',' {
            self.pos += 1;
            if self.peek_byte()? == b']' {
                return Err(self.error(DecodeErrorKind::Syntax, "trailing comma in array"));
            }
        } else {
            return Err(self.error(DecodeErrorKind::Syntax, "expected `,` or `]` in array"));
        }
        Ok(true)
    }

    /// Consumes a `null` if one comes next.
    ///
    /// # Errors
    ///
    /// At the end of input, or on a malformed literal.
    pub fn read_null(&mut self) -> Result<bool, Error> {
        if self.peek_byte()? == b'n' {
            self.literal(b"null")?;
            return Ok(true);
        }
        Ok(false)
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Error> {
        if self.input.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else if self.input.len() < self.pos + word.len()
            && word.starts_with(&self.input[self.pos..])
        {
            Err(self.error(DecodeErrorKind::Eof, "unexpected end of input"))
        } else {
            Err(self.error(DecodeErrorKind::Syntax, "invalid literal"))
        }
    }

    /// Reads a boolean.
    ///
    /// # Errors
    ///
    /// When the next value is not `true` or `false`.
    pub fn read_bool(&mut self) -> Result<bool, Error> {
        match self.peek_byte()? {
            b't' => self.literal(b"true").map(|()| true),
            b'f' => self.literal(b"false").map(|()| false),
            _ => Err(self.invalid_type("a boolean")),
        }
    }

    /// Reads a number and returns its literal text, checked against the JSON grammar.
    ///
    /// # Errors
    ///
    /// When the next value is not a number.
    pub fn read_number(&mut self) -> Result<&'a str, Error> {
        let b = self.peek_byte()?;
        if b != b'-' && !b.is_ascii_digit() {
            return Err(self.invalid_type("a number"));
        }
        let start = self.pos;
        let input = self.input;
        let mut i = start;
        if input.get(i) == Some(&b'-') {
            i += 1;
        }
        let digits = |i: &mut usize| {
            let from = *i;
            while input.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - from
        };
        let int_start = i;
        let int_digits = digits(&mut i);
        let mut valid = int_digits > 0 && !(int_digits > 1 && input.get(int_start) == Some(&b'0'));
        if input.get(i) == Some(&b'.') {
            i += 1;
            valid &= digits(&mut i) > 0;
        }
        if matches!(input.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(input.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            valid &= digits(&mut i) > 0;
        }
        if !valid {
            self.pos = i;
            let kind = if i >= input.len() {
                DecodeErrorKind::Eof
            } else {
                DecodeErrorKind::Syntax
            };
            return Err(self.error(kind, "invalid number"));
        }
        self.pos = i;
        self.utf8(start, i)
    }

    /// Reads a string, borrowing it from the input when it has no escapes.
    ///
    /// # Errors
    ///
    /// When the next value is not a string, or the string is malformed.
    pub fn read_str(&mut self) -> Result<Cow<'a, str>, Error> {
        if self.peek_byte()? != b'"' {
            return Err(self.invalid_type("a string"));
        }
        self.pos += 1;
        let input = self.input;
        let start = self.pos;
        let Some(i) = scan::find_special_from(input, start) else {
            self.pos = input.len();
            return Err(self.error(DecodeErrorKind::Eof, "unterminated string"));
        };
        match input.get(i) {
            Some(b'"') => {
                self.pos = i + 1;
                return self.utf8(start, i).map(Cow::Borrowed);
            }
            Some(b'\\') => {}
            _ => {
                self.pos = i;
                return Err(self.error(DecodeErrorKind::Syntax, "control character in string"));
            }
        }
        let mut out = String::with_capacity(i - start + 16);
        out.push_str(self.utf8(start, i)?);
        self.pos = i;
        self.unescape_rest(&mut out)?;
        Ok(Cow::Owned(out))
    }

    /// Reads a string into an owned `String`.
    ///
    /// # Errors
    ///
    /// When the next value is not a string, or the string is malformed.
    pub fn read_string(&mut self) -> Result<String, Error> {
        self.read_str().map(Cow::into_owned)
    }

    fn unescape_rest(&mut self, out: &mut String) -> Result<(), Error> {
        let input = self.input;
        loop {
            let run_start = self.pos;
            let i = scan::find_special_from(input, run_start).unwrap_or(input.len());
            out.push_str(self.utf8(run_start, i)?);
            self.pos = i;
            match input.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    let escaped = match input.get(i + 1) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos = i + 2;
                            let c = self.unicode_escape()?;
                            out.push(c);
                            continue;
                        }
                        Some(_) => {
                            return Err(self.error(DecodeErrorKind::Syntax, "invalid escape"));
                        }
                        None => return Err(self.error(DecodeErrorKind::Eof, "unterminated string")),
                    };
                    self.pos = i + 2;
                    out.push(escaped);
                }
                Some(_) => {
                    return Err(self.error(DecodeErrorKind::Syntax, "control character in string"));
                }
                None => return Err(self.error(DecodeErrorKind::Eof, "unterminated string")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let Some(digits) = self.input.get(self.pos..self.pos + 4) else {
            return Err(self.error(DecodeErrorKind::Eof, "unterminated string"));
        };
        let mut value = 0;
        for &d in digits {
            let Some(v) = char::from(d).to_digit(16) else {
                return Err(self.error(DecodeErrorKind::Syntax, "invalid \\u escape"));
            };
            value = value * 16 + v;
        }
        self.pos += 4;
        Ok(value)
    }

    /// Decodes the `XXXX` (and a following low surrogate) after `\u`.
    fn unicode_escape(&mut self) -> Result<char, Error> {
        let first = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&first) {
            if self.input.get(self.pos..self.pos + 2) != Some(b"\\u") {
                return Err(self.error(DecodeErrorKind::Syntax, "lone surrogate in \\u escape"));
            }
            self.pos += 2;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return Err(self.error(DecodeErrorKind::Syntax, "lone surrogate in \\u escape"));
            }
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else {
            first
        };
        char::from_u32(code)
            .ok_or_else(|| self.error(DecodeErrorKind::Syntax, "lone surrogate in \\u escape"))
    }

    /// Skips the next value, whatever it is, and returns its raw text.
    ///
    /// A property that appears twice in one of its objects is an error in strict mode and a
    /// warning in lenient mode, where the text is kept as it is.
    ///
    /// # Errors
    ///
    /// On malformed or truncated JSON, nesting that is too deep, or (strict) a duplicate
    /// property.
    pub fn raw_value(&mut self) -> Result<&'a str, Error> {
        self.skip_whitespace();
        let start = self.pos;
        self.skip_unique()?;
        self.utf8(start, self.pos)
    }

    /// [`Self::skip_value`], checking that no object has a property twice.
    fn skip_unique(&mut self) -> Result<(), Error> {
        match self.peek()? {
            Peek::Object => {
                self.begin_object()?;
                // Key and offset of the value of every property; raw values are rare and
                // small, and sorting keeps a huge adversarial object from being quadratic.
                let mut keys: Vec<(Cow<'a, str>, usize)> = Vec::new();
                while let Some(key) = self.next_key()? {
                    let offset = self.value_offset();
                    if let Err(err) = self.skip_unique() {
                        return Err(inside(err, |err| err.in_owned_key(&key)));
                    }
                    keys.push((key, offset));
                }
                self.check_unique(keys)
            }
            Peek::Array => {
                self.begin_array()?;
                let mut index = 0;
                while self.next_item()? {
                    if let Err(err) = self.skip_unique() {
                        return Err(inside(err, |err| err.in_index(index)));
                    }
                    index += 1;
                }
                Ok(())
            }
            _ => self.skip_value(),
        }
    }

    #[cold]
    fn check_unique(&mut self, mut keys: Vec<(Cow<'a, str>, usize)>) -> Result<(), Error> {
        if keys.len() < 2 {
            return Ok(());
        }
        // Stable: of equal keys, the later occurrences follow the first.
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        for pair in keys.windows(2) {
            let [(first, _), (key, offset)] = pair else {
                continue;
            };
            if first != key {
                continue;
            }
            let kind = DecodeErrorKind::DuplicateProperty;
            if !self.options.lenient {
                let message = format!("duplicate property `{key}`");
                return Err(Error::new(kind, *offset, message).in_owned_key(key));
            }
            let message =
                format!("duplicate property `{key}` in a value kept as raw JSON; kept as read");
            self.warn(kind, *offset, None, message);
        }
        Ok(())
    }

    /// Skips the next value, whatever it is.
    ///
    /// # Errors
    ///
    /// On malformed or truncated JSON, or nesting that is too deep.
    pub fn skip_value(&mut self) -> Result<(), Error> {
        match self.peek()? {
            Peek::Object => {
                self.begin_object()?;
                while self.next_key()?.is_some() {
                    self.skip_value()?;
                }
                Ok(())
            }
            Peek::Array => {
                self.begin_array()?;
                while self.next_item()? {
                    self.skip_value()?;
                }
                Ok(())
            }
            Peek::String => self.read_str().map(drop),
            Peek::Number => self.read_number().map(drop),
            Peek::Bool => self.read_bool().map(drop),
            Peek::Null => self.read_null().map(drop),
        }
    }

    /// Finds the string value of `key` in the object that starts at the current position,
    /// without consuming anything. Used to read `resourceType` wherever it appears.
    ///
    /// # Errors
    ///
    /// When the next value is not an object, or the object is malformed.
    pub fn find_string_key(&mut self, key: &str) -> Result<Option<Cow<'a, str>>, Error> {
        self.skip_whitespace();
        if let Some(found) =
            super::lookahead::find_top_level_string(self.input, self.pos, key.as_bytes())
        {
            return Ok(Some(Cow::Borrowed(found)));
        }
        let (pos, depth, first) = (self.pos, self.depth, self.first);
        let found = self.find_string_key_inner(key);
        self.pos = pos;
        self.depth = depth;
        self.first = first;
        found
    }

    fn find_string_key_inner(&mut self, key: &str) -> Result<Option<Cow<'a, str>>, Error> {
        self.begin_object()?;
        while let Some(k) = self.next_key()? {
            if k == key {
                return match self.peek()? {
                    Peek::String => self.read_str().map(Some),
                    _ => Err(self.invalid_type("a string").in_owned_key(key)),
                };
            }
            self.skip_value()?;
        }
        Ok(None)
    }

    /// The input between `start` and `end` as text.
    fn utf8(&self, start: usize, end: usize) -> Result<&'a str, Error> {
        if let Some(text) = self.text.and_then(|text| text.get(start..end)) {
            return Ok(text);
        }
        let bytes = self.input.get(start..end).unwrap_or_default();
        std::str::from_utf8(bytes).map_err(|err| {
            Error::new(
                DecodeErrorKind::Syntax,
                start + err.valid_up_to(),
                "invalid UTF-8 in string",
            )
        })
    }
}

/// The path of a duplicate property inside a raw value names it; other errors (such as nesting
/// too deep) are reported at the property holding the raw value, as when it is skipped.
fn inside(err: Error, segment: impl FnOnce(Error) -> Error) -> Error {
    if err.kind() == DecodeErrorKind::DuplicateProperty {
        segment(err)
    } else {
        err
    }
}
