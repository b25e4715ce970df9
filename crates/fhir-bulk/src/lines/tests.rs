//! The splitter: lines across chunks, CRLF, blank lines, the cap.

use super::{Split, Splitter};

fn lines(out: &[Split]) -> Vec<Option<String>> {
    out.iter()
        .map(|split| {
            split
                .line
                .as_ref()
                .map(|l| String::from_utf8(l.to_vec()).unwrap())
        })
        .collect()
}

#[test]
fn lines_span_chunks_and_lose_their_line_ends() {
    let mut splitter = Splitter::new(100);
    let mut out = Vec::new();
    for chunk in [&b"{\"a\":1}\r\n{\"b\""[..], b":2}\n", b"\n", b"{\"c\":3}"] {
        splitter.push(chunk, &mut out).unwrap();
    }
    assert_eq!(
        lines(&out),
        [Some("{\"a\":1}".into()), Some("{\"b\":2}".into()), None]
    );
    assert_eq!(out.iter().map(|s| s.consumed).sum::<u64>(), 18);
    let last = splitter.finish().unwrap();
    assert_eq!(last.line.unwrap().as_ref(), b"{\"c\":3}");
    assert_eq!(last.consumed, 7);
    assert!(splitter.finish().is_none());
}

#[test]
fn a_line_past_the_cap_fails_before_it_ends() {
    let mut splitter = Splitter::new(10);
    let mut out = Vec::new();
    splitter.push(b"0123456789", &mut out).unwrap();
    assert_eq!(splitter.push(b"x", &mut out), Err(10));
    let mut splitter = Splitter::new(10);
    assert_eq!(splitter.push(b"01234567890123\n", &mut out), Err(10));
    let mut splitter = Splitter::new(10);
    splitter.push(b"0123456789\n", &mut out).unwrap();
}
