use super::*;

#[test]
fn sealed_values_open_only_with_their_key_and_associated_data() {
    let key = EncryptionKey::generate();
    let sealed = key.seal(b"token set", b"ns:abc:7").unwrap();
    assert_eq!(
        key.open(&sealed, b"ns:abc:7").as_deref(),
        Some(&b"token set"[..])
    );
    assert_eq!(key.open(&sealed, b"ns:abc:8"), None, "another version");
    assert_eq!(key.open(&sealed, b"ns:xyz:7"), None, "another key");
    assert_eq!(EncryptionKey::generate().open(&sealed, b"ns:abc:7"), None);
    let mut flipped = sealed.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert_eq!(key.open(&flipped, b"ns:abc:7"), None, "altered");
    assert_eq!(key.open(&sealed[..5], b"ns:abc:7"), None, "cut short");
    // A fresh nonce each time: the same value never seals to the same bytes.
    assert_ne!(
        key.seal(b"token set", b"a").unwrap(),
        key.seal(b"token set", b"a").unwrap()
    );
}

#[test]
fn keys_come_from_32_bytes_of_base64_and_never_show() {
    let text = STANDARD.encode([7u8; 32]);
    let key = EncryptionKey::from_base64(&text).unwrap();
    assert_eq!(format!("{key:?}"), "EncryptionKey([redacted])");
    assert!(EncryptionKey::from_base64("not base64!").is_err());
    assert!(EncryptionKey::from_base64(&STANDARD.encode([7u8; 31])).is_err());
    assert!(EncryptionKey::from_base64(&STANDARD.encode([7u8; 33])).is_err());
}
