//! Splitting a byte stream into NDJSON lines with a cap on each line, so a file without
//! newlines cannot make the client buffer it whole.

use bytes::{Bytes, BytesMut};

/// Splits chunks into lines (without `\n` or a trailing `\r`); blank lines are skipped but
/// their bytes counted.
#[derive(Debug)]
pub(crate) struct Splitter {
    pending: BytesMut,
    /// How much of `pending` is known to hold no newline.
    scanned: usize,
    max_line: usize,
}

/// A line and the bytes it took in the file (its newline included).
pub(crate) struct Split {
    pub(crate) line: Option<Bytes>,
    pub(crate) consumed: u64,
}

impl Splitter {
    pub(crate) fn new(max_line: usize) -> Self {
        Self {
            pending: BytesMut::new(),
            scanned: 0,
            max_line,
        }
    }

    /// Adds `chunk` and appends every line it completes to `out`.
    ///
    /// Fails with the cap when a line grows past it (before it is complete).
    pub(crate) fn push(&mut self, chunk: &[u8], out: &mut Vec<Split>) -> Result<(), usize> {
        self.pending.extend_from_slice(chunk);
        while let Some(at) = memchr::memchr(b'\n', &self.pending[self.scanned..]) {
            let end = self.scanned + at;
            if end > self.max_line {
                return Err(self.max_line);
            }
            let mut line = self.pending.split_to(end + 1);
            self.scanned = 0;
            let consumed = line.len() as u64;
            line.truncate(end);
            if line.last() == Some(&b'\r') {
                line.truncate(end - 1);
            }
            let line = (!line.iter().all(u8::is_ascii_whitespace)).then(|| line.freeze());
            out.push(Split { line, consumed });
        }
        self.scanned = self.pending.len();
        if self.pending.len() > self.max_line {
            return Err(self.max_line);
        }
        Ok(())
    }

    /// What is left at the end of the body: a last line without a newline, if any.
    pub(crate) fn finish(&mut self) -> Option<Split> {
        let rest = std::mem::take(&mut self.pending);
        self.scanned = 0;
        let consumed = rest.len() as u64;
        if rest.iter().all(u8::is_ascii_whitespace) {
            return (consumed > 0).then_some(Split {
                line: None,
                consumed,
            });
        }
        let mut line = rest;
        if line.last() == Some(&b'\r') {
            line.truncate(line.len() - 1);
        }
        Some(Split {
            line: Some(line.freeze()),
            consumed,
        })
    }

    /// Drops what is buffered (a retry starts again after the last delivered line).
    pub(crate) fn reset(&mut self) {
        self.pending.clear();
        self.scanned = 0;
    }
}

#[cfg(test)]
mod tests;
