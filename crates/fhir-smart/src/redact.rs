//! Scrubbing of token-endpoint answers before they become errors.
//!
//! A token endpoint may echo what it was sent (the refresh token, the code, the PKCE
//! verifier, the client secret or assertion) in any shape: a JSON member at any depth, an
//! array element, a form-encoded pair, a sentence of plain text or HTML. Two rules apply to
//! every string of the answer:
//!
//! - the value of any member or pair named in [`SECRET_MEMBERS`] (case-insensitive) is
//!   replaced, in JSON, in form-encoded bodies and in `name=value` / `name: value` text;
//! - every credential this request carried ([`SentSecrets`]) is replaced wherever it occurs,
//!   raw, form-encoded, percent-encoded or JSON-escaped.

use std::fmt;

use base64::Engine as _;
use serde_json::Value;

use crate::error::SECRET_MEMBERS;

/// What a redacted value becomes.
pub(crate) const REDACTED: &str = "[redacted]";

/// Sent values shorter than this are not searched for: they carry no entropy worth hiding,
/// and replacing every occurrence of a two-letter string would shred the message.
const MIN_SECRET_LEN: usize = 4;

/// The form members of a token request that carry credentials.
const SENT_SECRET_FIELDS: &[&str] = &[
    "code",
    "code_verifier",
    "refresh_token",
    "client_secret",
    "client_assertion",
    "assertion",
];

/// The credentials one token request carried, in every encoding an echo could use.
#[derive(Clone, Default)]
pub(crate) struct SentSecrets {
    /// Longest first, so a secret containing another is replaced whole.
    needles: Vec<String>,
}

impl fmt::Debug for SentSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentSecrets")
            .field("count", &self.needles.len())
            .finish()
    }
}

impl SentSecrets {
    /// The secrets of a token request: its credential form members and, for
    /// `client_secret_basic`, the `Authorization` header's credentials.
    pub(crate) fn of_request(form: &[(&str, String)], basic: Option<&str>) -> Self {
        let mut sent = Self::default();
        for (name, value) in form {
            if SENT_SECRET_FIELDS.contains(name) {
                sent.add(value);
            }
        }
        if let Some(header) = basic {
            sent.add_basic(header);
        }
        sent
    }

    /// `Basic <base64>`: the base64 text, and the decoded id and secret.
    fn add_basic(&mut self, header: &str) {
        let Some(encoded) = header
            .split_once(' ')
            .map(|(_, rest)| rest.trim())
            .filter(|rest| !rest.is_empty())
        else {
            return;
        };
        self.add(encoded);
        if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded)
            && let Ok(decoded) = String::from_utf8(decoded)
            && let Some((_, secret)) = decoded.split_once(':')
        {
            self.add(secret);
            // The form-urlencoded variant of Basic encodes the secret before base64.
            let plain: String = url::form_urlencoded::parse(format!("s={secret}").as_bytes())
                .map(|(_, v)| v.into_owned())
                .next()
                .unwrap_or_default();
            self.add(&plain);
        }
    }

    fn add(&mut self, secret: &str) {
        if secret.len() < MIN_SECRET_LEN {
            return;
        }
        let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let percent = form.replace('+', "%20");
        let json = serde_json::to_string(secret)
            .ok()
            .and_then(|quoted| {
                quoted
                    .strip_prefix('"')
                    .and_then(|q| q.strip_suffix('"'))
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        for needle in [secret.to_owned(), form, percent, json] {
            if needle.len() >= MIN_SECRET_LEN && !self.needles.contains(&needle) {
                self.needles.push(needle);
            }
        }
        self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    }

    fn scrub(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for needle in &self.needles {
            if text.contains(needle.as_str()) {
                text = text.replace(needle.as_str(), REDACTED);
            }
        }
        text
    }
}

/// Whether `name` is a secret member, ignoring ASCII case.
pub(crate) fn is_secret_name(name: &str) -> bool {
    SECRET_MEMBERS.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// Redacts a string: sent secrets anywhere, and the values of `name=value` or `name: value`
/// pairs (optionally quoted) whose name is a secret member.
pub(crate) fn redact_text(text: &str, sent: &SentSecrets) -> String {
    redact_pairs(&sent.scrub(text))
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn ends_value(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b'&' | b'"' | b'\'' | b',' | b';' | b'<' | b'>' | b'}' | b']' | b')'
        )
}

/// Replaces the values that follow secret names used as keys in free text.
fn redact_pairs(text: &str) -> String {
    let bytes = text.as_bytes();
    let lower = text.to_ascii_lowercase();
    let lower = lower.as_bytes();
    // (start, end) byte ranges of values to replace, in order, non-overlapping.
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if i > 0 && is_name_byte(bytes[i - 1]) {
            i += 1;
            continue;
        }
        let Some(name) = SECRET_MEMBERS
            .iter()
            .filter(|name| lower[i..].starts_with(name.as_bytes()))
            .max_by_key(|name| name.len())
        else {
            i += 1;
            continue;
        };
        let mut j = i + name.len();
        if j < bytes.len() && is_name_byte(bytes[j]) {
            // A longer word that merely starts with a secret name.
            i += 1;
            continue;
        }
        if j < bytes.len() && matches!(bytes[j], b'"' | b'\'') {
            j += 1;
        }
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        if j >= bytes.len() || !matches!(bytes[j], b'=' | b':') {
            i += 1;
            continue;
        }
        j += 1;
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        let quote = (j < bytes.len() && matches!(bytes[j], b'"' | b'\'')).then(|| bytes[j]);
        if quote.is_some() {
            j += 1;
        }
        let start = j;
        while j < bytes.len() && !ends_value(bytes[j]) {
            j += 1;
        }
        if let Some(quote) = quote {
            // A quoted value may hold spaces: it ends at its closing quote.
            while j < bytes.len() && bytes[j] != quote {
                j += 1;
            }
        }
        if j > start {
            cuts.push((start, j));
        }
        i = j.max(i + 1);
    }
    if cuts.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end) in cuts {
        // Cuts start and end at ASCII bytes or the text's ends, so they are char boundaries.
        out.push_str(&text[last..start]);
        out.push_str(REDACTED);
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

/// Redacts a JSON value in place, at any depth: values of secret members, object keys and
/// strings holding a sent secret or a secret pair.
pub(crate) fn redact_json(value: &mut Value, sent: &SentSecrets) {
    match value {
        Value::Object(object) => {
            let members = std::mem::take(object);
            for (name, mut member) in members {
                if is_secret_name(&name) && !member.is_null() {
                    member = Value::String(REDACTED.to_owned());
                } else {
                    redact_json(&mut member, sent);
                }
                object.insert(redact_text(&name, sent), member);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| redact_json(item, sent)),
        Value::String(text) => *text = redact_text(text, sent),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Whether a non-JSON body is form-encoded (by its type, or by its look: `a=b&c=d`).
fn is_form(content_type: Option<&str>, text: &str) -> bool {
    content_type.is_some_and(|t| {
        t.to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    }) || (text.contains('=')
        && !text.trim().chars().any(char::is_whitespace)
        && !text.contains('<'))
}

/// A token-endpoint body as safe text: JSON redacted member by member, form-encoded bodies
/// pair by pair (names decoded first), anything else as text.
pub(crate) fn redact_body(content_type: Option<&str>, body: &[u8], sent: &SentSecrets) -> String {
    if let Ok(mut value) = serde_json::from_slice::<Value>(body) {
        redact_json(&mut value, sent);
        return value.to_string();
    }
    let text = String::from_utf8_lossy(body);
    if is_form(content_type, &text) {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(text.trim().as_bytes())
            .map(|(name, value)| {
                let value = if is_secret_name(&name) {
                    REDACTED.to_owned()
                } else {
                    redact_text(&value, sent)
                };
                (redact_text(&name, sent), value)
            })
            .collect();
        return url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
    }
    redact_text(&text, sent)
}

#[cfg(test)]
mod tests;
