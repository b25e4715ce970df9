//! Scrubbing of token-endpoint answers before they become errors.
//!
//! A token endpoint may echo what it was sent (the refresh token, the code, the PKCE
//! verifier, the client secret or assertion) in any shape: a JSON member at any depth, an
//! array element, a form-encoded pair, a sentence of plain text or HTML. Two rules apply to
//! every string of the answer:
//!
//! - the workspace's credential vocabulary, [`fhir_core::credentials`]: the value of any
//!   member, pair or header whose name is a secret ([`is_secret_name`], any case), and the
//!   credential after `Bearer`/`Basic`, in JSON, in form-encoded bodies and in text;
//! - what fhir-core cannot know: every credential this request carried ([`SentSecrets`]) is
//!   replaced wherever it occurs, raw, form-encoded, percent-encoded or JSON-escaped, even
//!   without a name next to it. JSON is also walked after parsing, so an echo hidden behind
//!   `\u` escapes is found too.

use std::fmt;

use base64::Engine as _;
use fhir_core::credentials::{REDACTED, is_secret_name, redact_values};
use serde_json::Value;

/// Sent values shorter than this are not searched for: they carry no entropy worth hiding,
/// and replacing every occurrence of a two-letter string would shred the message (the same
/// bound as [`redact_values`]).
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
        let needles: Vec<&str> = self.needles.iter().map(String::as_str).collect();
        redact_values(text, &needles).into_owned()
    }
}

/// Redacts a string: sent secrets anywhere, then the workspace's rules
/// ([`fhir_core::credentials::redact_text`]): secret `name=value` / `name: value` pairs,
/// JSON members and `Bearer`/`Basic` credentials.
pub(crate) fn redact_text(text: &str, sent: &SentSecrets) -> String {
    fhir_core::credentials::redact_text(&sent.scrub(text)).into_owned()
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
