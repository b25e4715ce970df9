//! Finding the bytes a JSON string cannot hold as they are — `"`, `\` and control characters —
//! eight bytes at a time.
//!
//! Strings are most of what FHIR JSON carries (a narrative is kilobytes of XHTML), so the reader
//! looks for the end of a string, and the writer for the next byte to escape, a word at a time
//! rather than a byte at a time. The word tricks are the classic "has a zero byte" ones, in safe
//! code; they can flag bytes above a real hit falsely, never below it, so the lowest flag is exact.

/// Every byte of a word set to one.
const ONES: u64 = u64::from_le_bytes([0x01; 8]);
/// The high bit of every byte of a word.
const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);

/// Whether `byte` must be escaped inside a JSON string.
#[inline]
pub(super) fn is_special(byte: u8) -> bool {
    byte == b'"' || byte == b'\\' || byte < 0x20
}

/// The high bit of each byte of `word` that may be special; the lowest one set is the first
/// special byte exactly.
#[inline]
fn special_bits(word: u64) -> u64 {
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let quote = quote.wrapping_sub(ONES) & !quote;
    let backslash = backslash.wrapping_sub(ONES) & !backslash;
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    (quote | backslash | control) & HIGHS
}

/// The index in `bytes` of the first byte at or after `from` that must be escaped in a JSON
/// string.
#[inline]
pub(super) fn find_special_from(bytes: &[u8], from: usize) -> Option<usize> {
    find_special(bytes.get(from..).unwrap_or_default()).map(|n| from + n)
}

/// The index of the first byte of `bytes` that must be escaped in a JSON string.
#[inline]
pub(super) fn find_special(bytes: &[u8]) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        if let Ok(array) = <[u8; 8]>::try_from(chunk) {
            let bits = special_bits(u64::from_le_bytes(array));
            if bits != 0 {
                // Bit 7 of byte n is bit 8n + 7.
                return Some(offset + (bits.trailing_zeros() / 8) as usize);
            }
        }
        offset += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&byte| is_special(byte))
        .map(|at| offset + at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_special_byte_is_found_at_every_position_and_nothing_else_is() {
        let specials: Vec<u8> = (0..=255u8).filter(|&b| is_special(b)).collect();
        assert_eq!(specials.len(), 34);
        // Every byte value as filler, every special at every offset of strings up to 24 bytes,
        // with specials of every kind after it that must not win.
        for filler in (0..=255u8).filter(|&b| !is_special(b)) {
            for len in 0..24 {
                let plain = vec![filler; len];
                assert_eq!(find_special(&plain), None, "filler {filler:#x}, len {len}");
                for at in 0..len {
                    for &special in &specials {
                        let mut bytes = plain.clone();
                        bytes[at] = special;
                        for after in at + 1..len {
                            bytes[after] = specials[after % specials.len()];
                        }
                        assert_eq!(
                            find_special(&bytes),
                            Some(at),
                            "filler {filler:#x}, special {special:#x} at {at} of {len}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn multibyte_text_is_plain() {
        let text = "Größe ≥ 1,5 m — 体重 🙂 and more text to fill a few words";
        assert_eq!(find_special(text.as_bytes()), None);
        let quoted = format!("{text}\"");
        assert_eq!(find_special(quoted.as_bytes()), Some(text.len()));
    }
}
