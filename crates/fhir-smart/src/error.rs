//! The crate's one error type, [`Error`], and the OAuth error codes it carries.
//!
//! No variant holds a token, secret, key, authorization code or PKCE verifier, so `Display`,
//! `Debug` and the JSON form from [`Error::to_json`] are safe to log.

use std::fmt;

use fhir_core::auth::AuthError;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::redact::{SentSecrets, redact_body, redact_text};
use crate::scopes::ScopeParseError;

/// A boxed error kept as the source of a transport failure: fhir-core's [`AuthError`], under
/// its old second name.
#[deprecated(
    since = "0.2.0",
    note = "use `fhir_core::auth::AuthError`, the same type"
)]
pub type BoxError = AuthError;

/// Everything that can go wrong in a SMART flow.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Discovery failed: the document could not be fetched, parsed or validated.
    #[error("SMART discovery at {url} failed: {reason}")]
    Discovery {
        /// The URL that was tried (the well-known URL, or `/metadata` after the fallback).
        url: String,
        /// What was wrong, naming the field when a field is missing or malformed.
        reason: String,
    },

    /// The token endpoint refused the request (RFC 6749 §5.2) or answered with an unusable body.
    #[error(transparent)]
    TokenEndpoint(Box<TokenEndpointError>),

    /// The token endpoint answered 200 with a body that is not a valid token response.
    #[error("invalid token response: {reason}")]
    InvalidTokenResponse {
        /// What was wrong (the field name; never a token value).
        reason: String,
    },

    /// The token cannot be renewed (the refresh token was rejected, or there is none): the
    /// user has to authorize the app again.
    #[error("reauthorization required: {reason}")]
    ReauthorizationRequired {
        /// Why.
        reason: String,
        /// The token endpoint's answer, when a refresh was refused.
        #[source]
        source: Option<Box<TokenEndpointError>>,
    },

    /// The authorization server redirected back with `error=` (RFC 6749 §4.1.2.1).
    #[error("authorization failed: {code}{}", describe(description.as_deref()))]
    Authorization {
        /// The error code.
        code: AuthorizeErrorCode,
        /// `error_description`, if sent.
        description: Option<String>,
        /// `error_uri`, if sent.
        uri: Option<String>,
    },

    /// The callback's `state` does not match the pending authorization.
    #[error("the callback state does not match the pending authorization")]
    StateMismatch,

    /// The callback is malformed (no `code`, no `state`, wrong path) or the pending
    /// authorization is expired or already used.
    #[error("invalid authorization callback: {reason}")]
    InvalidCallback {
        /// What was wrong.
        reason: String,
    },

    /// An EHR launch named an `iss` that is not on the allow-list.
    #[error("the launch `iss` {iss} is not on the allow-list")]
    IssNotAllowed {
        /// The rejected `iss`.
        iss: String,
    },

    /// A setting is missing or invalid.
    #[error("configuration error in {name}: {reason}")]
    Configuration {
        /// The setting that is wrong: the builder method (`private_key`, `scope`) for
        /// configuration in code, the environment variable (`SMART_CLIENT_ID`) for
        /// [`SmartEnv`](crate::SmartEnv).
        name: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A plain `http://` URL was refused for a request that carries credentials.
    #[error("refusing to send credentials over plain HTTP to {url}{}", loopback_hint(*.loopback))]
    InsecureUrl {
        /// The refused URL.
        url: String,
        /// Whether it is a loopback address, which
        /// [`HttpClient::allow_loopback_http`](crate::HttpClient::allow_loopback_http) allows
        /// (for a local test server); the message then names that setting.
        loopback: bool,
    },

    /// A key could not be imported, generated, exported or used.
    #[error("key error: {reason}")]
    Key {
        /// What was wrong (never key material).
        reason: String,
    },

    /// A scope string is malformed.
    #[error(transparent)]
    Scope(#[from] ScopeParseError),

    /// An id_token failed validation.
    #[error("invalid id_token: {reason}")]
    IdToken {
        /// Which check failed.
        reason: String,
    },

    /// The token store failed.
    #[error("token store error: {reason}")]
    Store {
        /// What the store reported.
        reason: String,
    },

    /// The request never got an HTTP answer (DNS, connection, TLS, timeout).
    #[error("request to {url} failed")]
    Transport {
        /// The URL of the request.
        url: String,
        /// The underlying failure.
        #[source]
        source: AuthError,
    },
}

impl From<TokenEndpointError> for Error {
    fn from(err: TokenEndpointError) -> Self {
        Self::TokenEndpoint(Box::new(err))
    }
}

fn describe(description: Option<&str>) -> String {
    description.map(|d| format!(": {d}")).unwrap_or_default()
}

impl Error {
    pub(crate) fn configuration(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Configuration {
            name: name.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn key(reason: impl Into<String>) -> Self {
        Self::Key {
            reason: reason.into(),
        }
    }

    pub(crate) fn callback(reason: impl Into<String>) -> Self {
        Self::InvalidCallback {
            reason: reason.into(),
        }
    }

    /// The OAuth error code (`invalid_grant`, `access_denied`, …) when the server sent one.
    pub fn oauth_code(&self) -> Option<&str> {
        match self {
            Self::TokenEndpoint(err)
            | Self::ReauthorizationRequired {
                source: Some(err), ..
            } => err.error.as_ref().map(TokenErrorCode::as_str),
            Self::Authorization { code, .. } => Some(code.as_str()),
            _ => None,
        }
    }

    /// A short machine-readable name of the variant, as used in [`Error::to_json`].
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Discovery { .. } => "discovery",
            Self::TokenEndpoint(_) => "token_endpoint",
            Self::InvalidTokenResponse { .. } => "invalid_token_response",
            Self::ReauthorizationRequired { .. } => "reauthorization_required",
            Self::Authorization { .. } => "authorization",
            Self::StateMismatch => "state_mismatch",
            Self::InvalidCallback { .. } => "invalid_callback",
            Self::IssNotAllowed { .. } => "iss_not_allowed",
            Self::Configuration { .. } => "configuration",
            Self::InsecureUrl { .. } => "insecure_url",
            Self::Key { .. } => "key",
            Self::Scope(_) => "scope",
            Self::IdToken { .. } => "id_token",
            Self::Store { .. } => "store",
            Self::Transport { .. } => "transport",
        }
    }

    /// This error as a JSON value for logs and error trackers (no secret is included).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("kind", self.kind())?;
        map.serialize_entry("message", &self.to_string())?;
        match self {
            Self::TokenEndpoint(err)
            | Self::ReauthorizationRequired {
                source: Some(err), ..
            } => {
                map.serialize_entry("status", &err.status)?;
                map.serialize_entry("error", &err.error.as_ref().map(TokenErrorCode::as_str))?;
                map.serialize_entry("error_description", &err.description)?;
                map.serialize_entry("error_uri", &err.uri)?;
                map.serialize_entry("content_type", &err.content_type)?;
                map.serialize_entry("body", &err.body)?;
            }
            Self::Authorization {
                code,
                description,
                uri,
            } => {
                map.serialize_entry("error", code.as_str())?;
                map.serialize_entry("error_description", description)?;
                map.serialize_entry("error_uri", uri)?;
            }
            Self::Configuration { name, .. } => map.serialize_entry("name", name)?,
            Self::Discovery { url, .. }
            | Self::InsecureUrl { url, .. }
            | Self::Transport { url, .. } => map.serialize_entry("url", url)?,
            Self::Scope(err) => map.serialize_entry("position", &err.position)?,
            _ => {}
        }
        map.end()
    }
}

/// An error answer from the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct TokenEndpointError {
    /// The HTTP status (200 when the server put an `error` member in a 200 answer).
    pub status: u16,
    /// The RFC 6749 §5.2 `error` code, or `None` when the body was not an OAuth error object.
    pub error: Option<TokenErrorCode>,
    /// `error_description`, if sent.
    pub description: Option<String>,
    /// `error_uri`, if sent.
    pub uri: Option<String>,
    /// The `Content-Type` of the answer.
    pub content_type: Option<String>,
    /// The body (at most 2 KiB) when it was not an OAuth error object, redacted: the values
    /// of secret members ([`fhir_core::credentials::is_secret_name`]: `refresh_token`,
    /// `code`, `client_secret`, … at any depth of JSON, in form-encoded pairs or in
    /// `name=value` text), `Bearer`/`Basic` credentials, and every credential the request
    /// carried, wherever it appears.
    pub body: Option<String>,
}

impl fmt::Display for TokenEndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.error {
            Some(code) => write!(f, "token endpoint error {code} (HTTP {})", self.status)?,
            None => write!(f, "token endpoint answered HTTP {}", self.status)?,
        }
        if let Some(description) = &self.description {
            write!(f, ": {description}")?;
        }
        Ok(())
    }
}

impl TokenEndpointError {
    /// Classifies a token-endpoint answer that is not a successful token response.
    ///
    /// The `error` code decides the kind first, the status second (servers disagree about
    /// statuses). Every text kept from the answer (code, description, URI, content type,
    /// body) is redacted first: secret members at any depth, and any credential in `sent`.
    pub(crate) fn from_response(
        status: u16,
        content_type: Option<String>,
        body: &[u8],
        sent: &SentSecrets,
    ) -> Self {
        let content_type = content_type.map(|t| redact_text(&t, sent));
        let parsed: Option<serde_json::Map<String, serde_json::Value>> =
            serde_json::from_slice(body).ok();
        if let Some(object) = &parsed
            && let Some(code) = object.get("error").and_then(serde_json::Value::as_str)
        {
            let text = |name: &str| {
                object
                    .get(name)
                    .and_then(serde_json::Value::as_str)
                    .map(|text| truncate(redact_text(text, sent), 2048))
            };
            return Self {
                status,
                error: Some(TokenErrorCode::from(redact_text(code, sent).as_str())),
                description: text("error_description"),
                uri: text("error_uri"),
                content_type,
                body: None,
            };
        }
        // Redacted before truncation: a cut could otherwise split a secret and let half of
        // it through.
        let body = redact_body(content_type.as_deref(), body, sent);
        Self {
            status,
            error: None,
            description: None,
            uri: None,
            content_type,
            body: Some(truncate(body, 2048)),
        }
    }
}

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A code this crate does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The code as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)*
                    Self::Other(code) => code,
                }
            }
        }

        impl From<&str> for $name {
            fn from(code: &str) -> Self {
                match code {
                    $($text => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

code_enum! {
    /// The `error` code of a token-endpoint error response (RFC 6749 §5.2).
    TokenErrorCode {
        /// `invalid_request`.
        InvalidRequest => "invalid_request",
        /// `invalid_client`: client authentication failed.
        InvalidClient => "invalid_client",
        /// `invalid_grant`: the code or refresh token is invalid, expired or revoked.
        InvalidGrant => "invalid_grant",
        /// `unauthorized_client`.
        UnauthorizedClient => "unauthorized_client",
        /// `unsupported_grant_type`.
        UnsupportedGrantType => "unsupported_grant_type",
        /// `invalid_scope`.
        InvalidScope => "invalid_scope",
    }
}

code_enum! {
    /// The `error` code of an authorization callback (RFC 6749 §4.1.2.1 and OpenID Connect).
    AuthorizeErrorCode {
        /// `invalid_request`.
        InvalidRequest => "invalid_request",
        /// `unauthorized_client`.
        UnauthorizedClient => "unauthorized_client",
        /// `access_denied`: the user or server refused.
        AccessDenied => "access_denied",
        /// `unsupported_response_type`.
        UnsupportedResponseType => "unsupported_response_type",
        /// `invalid_scope`.
        InvalidScope => "invalid_scope",
        /// `server_error`.
        ServerError => "server_error",
        /// `temporarily_unavailable`.
        TemporarilyUnavailable => "temporarily_unavailable",
        /// `invalid_client` (sent by some sandboxes on the redirect).
        InvalidClient => "invalid_client",
        /// OpenID Connect `login_required`.
        LoginRequired => "login_required",
        /// OpenID Connect `interaction_required`.
        InteractionRequired => "interaction_required",
        /// OpenID Connect `consent_required`.
        ConsentRequired => "consent_required",
        /// OpenID Connect `account_selection_required`.
        AccountSelectionRequired => "account_selection_required",
    }
}

#[cfg(test)]
mod tests;

/// What an [`Error::InsecureUrl`] to a loopback address adds: the setting that allows it.
fn loopback_hint(loopback: bool) -> &'static str {
    if loopback {
        " (a loopback address: a local test server is allowed with \
         `HttpClient::allow_loopback_http(true)`, given to the builder's `http` setting)"
    } else {
        ""
    }
}
