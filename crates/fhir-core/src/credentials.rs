//! The credential vocabulary shared by every crate of the workspace: where credentials may go
//! ([`is_under_base`]), and how URLs and text are cleaned of secrets before they reach an
//! error, a log line or a `Debug` output ([`redact_url`], [`redact_text`], [`is_secret_name`]).
//!
//! One module, so that the client, SMART and Bulk Data agree on what a secret is.
//!
//! ```
//! use fhir_core::credentials::{is_under_base, redact_text, redact_url};
//! use url::Url;
//!
//! let base = Url::parse("https://fhir.example.org/r4").unwrap();
//! assert!(is_under_base(&base, &Url::parse("https://fhir.example.org/r4/Patient/1").unwrap()));
//! assert!(!is_under_base(&base, &Url::parse("https://fhir.example.org/r4x").unwrap()));
//! assert!(!is_under_base(&base, &Url::parse("http://fhir.example.org/r4/Patient").unwrap()));
//!
//! let url = Url::parse("https://h.example/cb?code=abc&state=1#frag").unwrap();
//! assert_eq!(redact_url(&url).as_str(), "https://h.example/cb?code=%5Bredacted%5D&state=1");
//!
//! assert_eq!(redact_text("WWW: Bearer eyJhbGciOi.x.y"), "WWW: Bearer [redacted]");
//! assert_eq!(redact_text("Authorization: Bearer eyJhbGciOi.x.y"), "Authorization: [redacted]");
//! assert_eq!(redact_text(r#"{"refresh_token": "r-123"}"#), r#"{"refresh_token": "[redacted]"}"#);
//! ```

use std::borrow::Cow;

use url::Url;

/// What replaces a secret value.
pub const REDACTED: &str = "[redacted]";

/// Names (of query parameters, form fields, JSON members, headers) whose values are secrets,
/// lowercase; [`is_secret_name`] also treats every `x-amz-*` and `x-goog-*` name as secret
/// (pre-signed storage URLs carry their signatures and credentials there).
pub const SECRET_NAMES: &[&str] = &[
    "access_token",
    "id_token",
    "refresh_token",
    "code",
    "code_verifier",
    "client_secret",
    "client_assertion",
    "assertion",
    "token",
    "key",
    "api_key",
    "apikey",
    "password",
    "sig",
    "signature",
    "authorization",
    "auth_token",
    "private_key",
    "secret",
    "cookie",
    "set_cookie",
];

/// Whether the value of a parameter, field or member called `name` is a secret
/// (case-insensitive; `-` and `_` are the same, and an `X-` prefix does not count:
/// `X-Api-Key` is `api_key`).
pub fn is_secret_name(name: &str) -> bool {
    if name.len() > 64 {
        return false;
    }
    let mut lower = name.to_ascii_lowercase();
    if lower.starts_with("x-amz-")
        || lower.starts_with("x-goog-")
        || lower.starts_with("x_amz_")
        || lower.starts_with("x_goog_")
    {
        return true;
    }
    if lower.contains('-') {
        lower = lower.replace('-', "_");
    }
    SECRET_NAMES.contains(&lower.as_str())
        || lower
            .strip_prefix("x_")
            .is_some_and(|rest| SECRET_NAMES.contains(&rest))
}

/// Whether `url` lies under `base`: the same scheme, host and port (the default port counts as
/// given) and a path that is the base path or continues it after a `/`.
///
/// This is the one test that decides where credentials go. `https://h/r4x` is not under
/// `https://h/r4`; `http://h/r4` is not under `https://h/r4`; user info and query are ignored.
/// Both URLs are parsed, so dot segments (`/r4/../admin`, `%2e%2e`) are already resolved.
pub fn is_under_base(base: &Url, url: &Url) -> bool {
    if url.scheme() != base.scheme()
        || url.host() != base.host()
        || url.port_or_known_default() != base.port_or_known_default()
    {
        return false;
    }
    let base_path = base.path().trim_end_matches('/');
    let path = url.path();
    path == base_path
        || path
            .strip_prefix(base_path)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Whether `from` → `to` leaves the origin (scheme, host, port).
pub fn is_cross_origin(from: &Url, to: &Url) -> bool {
    from.origin() != to.origin()
}

/// `url` fit for an error or a log line: no user name or password, no fragment, and the value
/// of every secret query parameter ([`is_secret_name`]) replaced by `[redacted]`.
pub fn redact_url(url: &Url) -> Url {
    let mut clean = url.clone();
    // Both setters fail only for URLs that cannot have credentials, which then have none.
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean.set_fragment(None);
    if clean.query().is_some()
        && clean
            .query_pairs()
            .any(|(name, value)| is_secret_name(&name) && value != REDACTED)
    {
        let pairs: Vec<(String, String)> = clean
            .query_pairs()
            .map(|(name, value)| {
                let value = if is_secret_name(&name) {
                    REDACTED.to_owned()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        clean.query_pairs_mut().clear().extend_pairs(pairs);
    }
    clean
}

/// `text` (a body excerpt, a message) with secrets masked:
///
/// - the credential after `Bearer`, `Basic` or `DPoP` (any case), as in an echoed
///   `Authorization` header;
/// - the value after a secret name ([`is_secret_name`]) followed by `=` or `:`, quoted or not,
///   as in form bodies, query strings, JSON (`"access_token": "…"`) and header lines.
///
/// Only the values are replaced; the rest of the text is kept, so a message stays readable.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !is_word_byte(bytes[i]) || (i > 0 && is_word_byte(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let word_end = i + bytes[i..].iter().take_while(|&&b| is_word_byte(b)).count();
        let word = &text[i..word_end];
        let value = if is_scheme(word) {
            scheme_credential(bytes, word_end)
        } else if is_secret_name(word) {
            assigned_value(bytes, word_end)
        } else {
            None
        };
        match value {
            Some((start, end)) if &text[start..end] != REDACTED => {
                let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
                out.push_str(&text[copied..start]);
                out.push_str(REDACTED);
                copied = end;
                i = end;
            }
            _ => i = word_end,
        }
    }
    match out {
        Some(mut out) => {
            out.push_str(&text[copied..]);
            Cow::Owned(out)
        }
        None => Cow::Borrowed(text),
    }
}

/// Every occurrence of each of `secrets` in `text` replaced by `[redacted]`, for text that may
/// echo a secret we sent without naming it (a server's plain-text error page). Secrets shorter
/// than 4 bytes are ignored: masking them would mangle ordinary text and hide nothing.
pub fn redact_values<'t>(text: &'t str, secrets: &[&str]) -> Cow<'t, str> {
    let mut text = Cow::Borrowed(text);
    for secret in secrets.iter().filter(|secret| secret.len() >= 4) {
        if text.contains(secret) {
            text = Cow::Owned(text.replace(secret, REDACTED));
        }
    }
    text
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn is_scheme(word: &str) -> bool {
    ["bearer", "basic", "dpop"]
        .iter()
        .any(|scheme| word.eq_ignore_ascii_case(scheme))
}

/// The credential after an authorization scheme: whitespace, then token68 characters.
fn scheme_credential(bytes: &[u8], mut i: usize) -> Option<(usize, usize)> {
    let spaces = bytes[i..]
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    if spaces == 0 {
        return None;
    }
    i += spaces;
    let len = bytes[i..]
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
        .count();
    (len > 0).then_some((i, i + len))
}

/// The value after a name: an optional closing quote, `=` or `:` with optional whitespace,
/// then a quoted string (its content) or a run up to a delimiter.
fn assigned_value(bytes: &[u8], mut i: usize) -> Option<(usize, usize)> {
    if matches!(bytes.get(i), Some(b'"' | b'\'')) {
        i += 1;
    }
    let skip_spaces = |i: &mut usize| {
        while matches!(bytes.get(*i), Some(b' ' | b'\t')) {
            *i += 1;
        }
    };
    skip_spaces(&mut i);
    if !matches!(bytes.get(i), Some(b'=' | b':')) {
        return None;
    }
    i += 1;
    skip_spaces(&mut i);
    match bytes.get(i) {
        Some(&quote @ (b'"' | b'\'')) => {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && bytes[end] != quote {
                // Skip escaped characters inside JSON strings.
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            let end = end.min(bytes.len());
            (end > start).then_some((start, end))
        }
        Some(_) => {
            let len = bytes[i..]
                .iter()
                .take_while(|&&b| !b" \t\r\n&,;}]<>\"'".contains(&b))
                .count();
            // `Authorization: Bearer x`: the value is the scheme and its credential.
            let run = std::str::from_utf8(&bytes[i..i + len]).unwrap_or_default();
            if is_scheme(run)
                && let Some((_, end)) = scheme_credential(bytes, i + len)
            {
                return Some((i, end));
            }
            (len > 0).then_some((i, i + len))
        }
        None => None,
    }
}

#[cfg(test)]
mod tests;
