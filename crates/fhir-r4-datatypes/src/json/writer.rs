//! A compact JSON writer into a `Vec<u8>`, with serde_json's string escaping.

use super::scan;

/// Writes one JSON document, inserting commas and escaping strings.
#[derive(Debug, Default)]
pub struct Writer {
    out: Vec<u8>,
    comma: bool,
}

impl Writer {
    /// Creates a writer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            out: Vec::with_capacity(capacity),
            comma: false,
        }
    }

    /// Creates a writer that appends to `out`, keeping its allocation.
    pub fn appending_to(out: Vec<u8>) -> Self {
        Self { out, comma: false }
    }

    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.out
    }

    fn separate(&mut self) {
        if self.comma {
            self.out.push(b',');
        }
    }

    /// Writes `{`.
    pub fn begin_object(&mut self) {
        self.separate();
        self.out.push(b'{');
        self.comma = false;
    }

    /// Writes `}`.
    pub fn end_object(&mut self) {
        self.out.push(b'}');
        self.comma = true;
    }

    /// Writes `[`.
    pub fn begin_array(&mut self) {
        self.separate();
        self.out.push(b'[');
        self.comma = false;
    }

    /// Writes `]`.
    pub fn end_array(&mut self) {
        self.out.push(b']');
        self.comma = true;
    }

    /// Writes a key and its `:`; the value must follow.
    pub fn key(&mut self, key: &str) {
        self.separate();
        self.escaped(key);
        self.out.push(b':');
        self.comma = false;
    }

    /// Writes a key made of three parts (`_` + `value` + `String`), each a FHIR name that needs
    /// no escaping, and its `:`.
    pub fn key_parts(&mut self, first: &str, second: &str, third: &str) {
        self.separate();
        self.out.push(b'"');
        self.out.extend_from_slice(first.as_bytes());
        self.out.extend_from_slice(second.as_bytes());
        self.out.extend_from_slice(third.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.comma = false;
    }

    /// Writes a key known to need no escaping (the name of a FHIR element) and its `:`.
    ///
    /// Generated code writes every key of the model this way: it skips the scan for
    /// characters to escape, which is a measurable part of writing small objects.
    pub fn name(&mut self, name: &'static str) {
        debug_assert!(!name.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\'));
        self.separate();
        self.out.reserve(name.len() + 3);
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.comma = false;
    }

    /// Writes a string value.
    pub fn string(&mut self, value: &str) {
        self.separate();
        self.escaped(value);
        self.comma = true;
    }

    /// Writes text that is already valid JSON (a number literal, a raw value).
    pub fn raw(&mut self, json: &str) {
        self.separate();
        self.out.extend_from_slice(json.as_bytes());
        self.comma = true;
    }

    /// Writes `true` or `false`.
    pub fn bool(&mut self, value: bool) {
        self.raw(if value { "true" } else { "false" });
    }

    /// Writes `null`.
    pub fn null(&mut self) {
        self.raw("null");
    }

    /// Writes an integer.
    pub fn i64(&mut self, value: i64) {
        let mut buffer = itoa::Buffer::new();
        self.raw(buffer.format(value));
    }

    fn escaped(&mut self, value: &str) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let bytes = value.as_bytes();
        self.out.reserve(bytes.len() + 2);
        self.out.push(b'"');
        // Copy each plain run whole, found a word at a time; escape the byte that ends it.
        let mut start = 0;
        while let Some(at) = scan::find_special_from(bytes, start) {
            self.out
                .extend_from_slice(bytes.get(start..at).unwrap_or_default());
            let byte = bytes.get(at).copied().unwrap_or_default();
            let control;
            let escape: &[u8] = match byte {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0c => b"\\f",
                _ => {
                    control = [
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        HEX[usize::from(byte >> 4)],
                        HEX[usize::from(byte & 0xf)],
                    ];
                    &control
                }
            };
            self.out.extend_from_slice(escape);
            start = at + 1;
        }
        self.out
            .extend_from_slice(bytes.get(start..).unwrap_or_default());
        self.out.push(b'"');
    }
}
