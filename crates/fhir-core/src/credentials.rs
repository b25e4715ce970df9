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

use url::{Origin, Url};

/// What replaces a secret value.
pub const REDACTED: &str = "[redacted]";

/// Names (of query parameters, form fields, JSON members, headers) whose values are secrets.
/// [`is_secret_name`] compares names without case, `-` or `_` (so `accessToken`,
/// `Access-Token` and `access_token` are one name) and also treats every `x-amz-*` and
/// `x-goog-*` name as secret (pre-signed storage URLs carry their signatures there).
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
    "password",
    "sig",
    "signature",
    "authorization",
    "proxy_authorization",
    "auth_token",
    "session_token",
    "private_key",
    "secret",
    "cookie",
    "set_cookie",
];

/// Names whose value runs to the end of the line in a header-like text (`Authorization:
/// Negotiate …`, `Cookie: a=1; b=2`).
const LINE_VALUED: &[&str] = &["authorization", "proxyauthorization", "cookie", "setcookie"];

/// `name` lowercase, without an `x-` prefix and without `-` or `_`.
fn normalized(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("x-")
        .or_else(|| lower.strip_prefix("x_"))
        .unwrap_or(&lower);
    rest.chars().filter(|c| *c != '-' && *c != '_').collect()
}

/// Whether the value of a parameter, field or member called `name` is a secret
/// (case-insensitive; `-` and `_` do not count, nor does an `X-` prefix: `X-Api-Key`,
/// `apiKey` and `api_key` are one name).
pub fn is_secret_name(name: &str) -> bool {
    if name.len() > 64 {
        return false;
    }
    let lower = name.to_ascii_lowercase();
    if ["x-amz-", "x-goog-", "x_amz_", "x_goog_"]
        .iter()
        .any(|prefix| lower.starts_with(prefix))
    {
        return true;
    }
    let name = normalized(name);
    SECRET_NAMES.iter().any(|secret| normalized(secret) == name)
}

/// Whether `url` lies under `base`: the same scheme, host and port (the default port counts as
/// given) and a path that is the base path or continues it after a `/`.
///
/// This is the one test that decides where credentials go. `https://h/r4x` is not under
/// `https://h/r4`; `http://h/r4` is not under `https://h/r4`; user info and query are ignored.
/// Both URLs are parsed, so dot segments (`/r4/../admin`, `%2e%2e`) are already resolved. A
/// remainder that some servers would still route outside the base is not under it either: a
/// segment holding an encoded `/`, `\` or `.` (`..%2Fadmin`), a `\`, or a dot segment with
/// parameters (`..;`, as Tomcat and Spring read it).
pub fn is_under_base(base: &Url, url: &Url) -> bool {
    if url.scheme() != base.scheme()
        || url.host() != base.host()
        || url.port_or_known_default() != base.port_or_known_default()
    {
        return false;
    }
    let base_path = base.path().trim_end_matches('/');
    let path = url.path();
    let rest = if path == base_path {
        ""
    } else {
        match path.strip_prefix(base_path) {
            Some(rest) if rest.starts_with('/') => rest,
            _ => return false,
        }
    };
    rest.split('/').all(is_plain_segment)
}

/// Whether a path segment means what it says to every server: no encoded separators or dots,
/// no backslash, no dot segment hidden behind `;` parameters.
fn is_plain_segment(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    if lower.contains("%2f")
        || lower.contains("%5c")
        || lower.contains("%2e")
        || lower.contains('\\')
    {
        return false;
    }
    let name = lower.split(';').next().unwrap_or_default();
    !(lower.contains(';') && (name == "." || name == ".."))
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
/// - the value after a secret name ([`is_secret_name`]) followed by `=` or `:`, quoted,
///   escaped-quoted (JSON inside a JSON string), an array or object, or bare, as in form
///   bodies, query strings, JSON (`"access_token": "…"`) and header lines; for
///   `Authorization` and `Cookie` headers, the rest of the line.
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
            assigned_value(
                bytes,
                word_end,
                LINE_VALUED.contains(&normalized(word).as_str()),
            )
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

/// The credential after an authorization scheme: whitespace (or a form-encoded `+`), then
/// token68 characters.
fn scheme_credential(bytes: &[u8], mut i: usize) -> Option<(usize, usize)> {
    let spaces = bytes[i..]
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t' || b == b'+')
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

/// The value after a secret name: an optional closing quote (escaped or not), `=` or `:` with
/// optional whitespace, then the value: quoted, escaped-quoted, an array or object, the rest
/// of the line (`to_line_end`), or a bare run up to a delimiter.
fn assigned_value(bytes: &[u8], mut i: usize, to_line_end: bool) -> Option<(usize, usize)> {
    if bytes.get(i) == Some(&b'\\') && matches!(bytes.get(i + 1), Some(b'"')) {
        i += 2;
    } else if matches!(bytes.get(i), Some(b'"' | b'\'')) {
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
    let value = match bytes.get(i)? {
        b'\\' if bytes.get(i + 1) == Some(&b'"') => {
            // `\"…\"`: a JSON document inside a JSON string.
            let start = i + 2;
            let end = find(bytes, start, b"\\\"").unwrap_or(bytes.len());
            (start, end)
        }
        &quote @ (b'"' | b'\'') => {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && bytes[end] != quote {
                // Skip escaped characters inside JSON strings.
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            (start, end.min(bytes.len()))
        }
        b'[' | b'{' => (i, matching_close(bytes, i)),
        _ if to_line_end => {
            let len = bytes[i..]
                .iter()
                .take_while(|&&b| b != b'\r' && b != b'\n')
                .count();
            (i, i + len)
        }
        _ => {
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
            (i, i + len)
        }
    };
    (value.1 > value.0).then_some(value)
}

/// The offset of `needle` in `bytes` from `from`.
fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| from + at)
}

/// The end (exclusive) of the array or object opening at `open`, strings skipped; the end of
/// the text when it is cut off.
fn matching_close(bytes: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'[' | b'{' => depth += 1,
                b']' | b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return i + 1;
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    bytes.len()
}

/// Where the `Authorization` of a request may go, decided for every hop (an
/// [`HttpRequest`](crate::exchange::HttpRequest) names its own; interactions use
/// [`UnderBase`](Self::UnderBase)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialScope {
    /// Only under the base URL ([`is_under_base`]),
    /// as for every interaction.
    #[default]
    UnderBase,
    /// Under the base URL, or anywhere on one of these origins (scheme, host and port). Bulk
    /// Data servers may put status URLs and files beside the FHIR base on the same origin.
    Origins(Vec<Origin>),
    /// Never: files on storage hosts, signed URLs.
    Never,
}

impl CredentialScope {
    /// Whether credentials may go to `url` for a client whose base URL is `base`.
    pub fn allows(&self, base: &Url, url: &Url) -> bool {
        match self {
            Self::UnderBase => is_under_base(base, url),
            Self::Origins(origins) => is_under_base(base, url) || origins.contains(&url.origin()),
            Self::Never => false,
        }
    }
}

#[cfg(test)]
mod tests;
