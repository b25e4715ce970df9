//! A quick look ahead for one top-level string property of an object (`resourceType` when it is
//! not the first key), without validating what it passes over.
//!
//! The decoder reads the same bytes right after, validating everything, so the look-ahead only
//! has to find value boundaries: strings (with their escapes) and bracket nesting. Only a found
//! value is trusted; anything else (no such key, an escaped value, the input ends, an
//! unexpected shape) runs the validating scan instead, so errors stay those of the validating
//! reader. The
//! cost is one `memchr`-driven pass over the object instead of a full tokenization, which
//! matters for Bundles, whose entries are each looked ahead within the Bundle's own pass.

/// The string value of the top-level property `key` of the object at `input[start]`, when it
/// has one without escapes; `None` when the validating scan must answer.
pub(super) fn find_top_level_string<'a>(
    input: &'a [u8],
    start: usize,
    key: &[u8],
) -> Option<&'a str> {
    let mut pos = start;
    if input.get(pos) != Some(&b'{') {
        return None;
    }
    pos += 1;
    let mut depth = 1usize;
    // At depth 1, whether the next string is a key.
    let mut expect_key = true;
    while let Some(&byte) = input.get(pos) {
        match byte {
            b'"' => {
                let end = string_end(input, pos + 1)?;
                if depth == 1 && expect_key {
                    let name = input.get(pos + 1..end)?;
                    // An escaped key may spell `key` once unescaped: the validating scan decides.
                    if name.contains(&b'\\') {
                        return None;
                    }
                    pos = end + 1;
                    expect_key = false;
                    if name == key {
                        return value_string(input, pos);
                    }
                    continue;
                }
                // The closing quote; the loop steps past it.
                pos = end;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return None;
                }
            }
            b',' if depth == 1 => expect_key = true,
            _ => {}
        }
        pos += 1;
    }
    None
}

/// The index of the closing quote of the string whose content starts at `from`.
fn string_end(input: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let offset = memchr::memchr2(b'"', b'\\', input.get(from..)?)?;
        let at = from + offset;
        if input[at] == b'"' {
            return Some(at);
        }
        // A backslash escapes the next byte (the rest of `\uXXXX` holds no quote).
        from = at + 2;
    }
}

/// The string after `:` at `pos`, if it is one without escapes.
fn value_string(input: &[u8], mut pos: usize) -> Option<&str> {
    let skip_space = |pos: &mut usize| {
        while input
            .get(*pos)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            *pos += 1;
        }
    };
    skip_space(&mut pos);
    if input.get(pos) != Some(&b':') {
        return None;
    }
    pos += 1;
    skip_space(&mut pos);
    if input.get(pos) != Some(&b'"') {
        return None;
    }
    let end = string_end(input, pos + 1)?;
    let bytes = input.get(pos + 1..end)?;
    if super::scan::find_special(bytes).is_some() {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(json: &str) -> Option<&str> {
        find_top_level_string(json.as_bytes(), 0, b"resourceType")
    }

    #[test]
    fn finds_only_top_level_keys_and_says_when_unsure() {
        assert_eq!(find(r#"{"resourceType":"Patient"}"#), Some("Patient"));
        assert_eq!(
            find(
                r#"{"id":"x","text":{"resourceType":"No"},"a":["resourceType"],"resourceType" : "Bundle"}"#
            ),
            Some("Bundle")
        );
        // Quotes and brackets inside strings, escaped quotes.
        assert_eq!(
            find(r#"{"note":"a \"resourceType\": [{","resourceType":"Observation"}"#),
            Some("Observation")
        );
        assert_eq!(
            find(r#"{"id":"x","contained":[{"resourceType":"Patient"}]}"#),
            None
        );
        assert_eq!(find(r#"{"resourceType":"Pat\u0069ent"}"#), None);
        // An escaped key that spells `resourceType` comes first: only the validating scan knows.
        assert_eq!(
            find(r#"{"resource\u0054ype":"Patient","resourceType":"Zzz"}"#),
            None
        );
        assert_eq!(find(r#"{"resourceType":7}"#), None);
        assert_eq!(find(r#"{"id":"x""#), None);
        assert_eq!(find(r#"{"id":"x\"#), None);
        assert_eq!(find("[1]"), None);
        assert_eq!(find(""), None);
        // Unbalanced closers end the object early: an answer the validating decode then checks.
        assert_eq!(find(r#"{"a":]}"#), None);
    }
}
