//! [`AuthorizeUrl`]: the SMART authorize request from the app's own state and PKCE verifier,
//! for apps with their own session layer (the seeds' `buildAuthorizeUrl`).
//!
//! [`AppLaunch`](crate::AppLaunch) builds its requests with it, generating state, verifier
//! and nonce itself; an app that keeps those in its own session uses it directly, then
//! [`exchange_code`](crate::exchange_code) at the callback.
//!
//! ```
//! use fhir_smart::AuthorizeUrl;
//! use fhir_smart::discovery::{SmartConfiguration, Strictness};
//! use fhir_smart::pkce::PkceVerifier;
//! use fhir_smart::state::State;
//!
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let base = url::Url::parse("https://ehr.example.org/fhir")?;
//! let config = SmartConfiguration::from_json(
//!     &base,
//!     br#"{"authorization_endpoint": "https://ehr.example.org/authorize",
//!          "token_endpoint": "https://ehr.example.org/token",
//!          "capabilities": ["launch-standalone"]}"#,
//!     Strictness::Lenient,
//! )?;
//! // Kept in the app's own session until the callback.
//! let state = State::generate();
//! let verifier = PkceVerifier::generate();
//! let url = AuthorizeUrl::new(
//!     &config,
//!     "my-app",
//!     "https://app.example.org/callback",
//!     &"launch/patient patient/Observation.rs".parse()?,
//!     base.as_str(),
//!     &state,
//!     &verifier,
//! )?
//! .url()?;
//! assert!(url.as_str().contains("code_challenge_method=S256"));
//! # Ok(()) }
//! ```

use url::Url;

use crate::Error;
use crate::discovery::SmartConfiguration;
use crate::http::check_tls;
use crate::pkce::{CODE_CHALLENGE_METHOD, PkceChallenge, PkceVerifier};
use crate::scopes::Scopes;
use crate::state::State;

/// Parameter names the builder sets itself; extra parameters may not repeat them.
const RESERVED: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "launch",
    "scope",
    "state",
    "aud",
    "code_challenge",
    "code_challenge_method",
    "nonce",
];

/// Whether `name` may be added to `extra`: not a parameter the builder sends, not given
/// twice, and not named like a credential (a browser redirect must never carry one).
pub(crate) fn check_extra(name: &str, extra: &[(String, String)]) -> Result<(), Error> {
    if RESERVED.contains(&name) || extra.iter().any(|(n, _)| n == name) {
        return Err(Error::configuration(
            name,
            "this authorize parameter is already sent",
        ));
    }
    if fhir_core::credentials::is_secret_name(name) {
        return Err(Error::configuration(
            name,
            "a credential is never sent in an authorize request",
        ));
    }
    Ok(())
}

/// An authorize request (SMART App Launch step 4) from values the caller owns.
///
/// Sends `response_type=code`, `client_id`, `redirect_uri`, `launch` (EHR launch, byte for
/// byte), `scope` (exactly as given: add `launch` or `launch/patient` yourself), `state`,
/// `aud` (exactly as given), the S256 `code_challenge` of the verifier, `nonce` when set, and
/// extra parameters, each once. The PKCE verifier itself is never part of the request.
#[derive(Debug, Clone)]
pub struct AuthorizeUrl {
    endpoint: Url,
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: State,
    challenge: PkceChallenge,
    aud: String,
    launch: Option<String>,
    nonce: Option<String>,
    extra: Vec<(String, String)>,
    allow_loopback_http: bool,
}

impl AuthorizeUrl {
    /// The request to `config`'s authorization endpoint for `client_id` with `redirect_uri`
    /// (sent exactly as registered), asking for `scope` on behalf of the FHIR server `aud`,
    /// bound to the caller's `state` and PKCE `verifier`.
    ///
    /// # Errors
    ///
    /// [`Error::Discovery`] when the server has no authorization endpoint;
    /// [`Error::Configuration`] for an empty scope.
    pub fn new(
        config: &SmartConfiguration,
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
        scope: &Scopes,
        aud: impl Into<String>,
        state: &State,
        verifier: &PkceVerifier,
    ) -> Result<Self, Error> {
        if scope.is_empty() {
            return Err(Error::configuration("scope", "the scope is empty"));
        }
        Ok(Self {
            endpoint: config.require_authorization_endpoint()?.clone(),
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            scope: scope.to_string(),
            state: state.clone(),
            challenge: verifier.challenge(),
            aud: aud.into(),
            launch: None,
            nonce: None,
            extra: Vec::new(),
            allow_loopback_http: false,
        })
    }

    /// The EHR's `launch` value (EHR launch only), echoed byte for byte.
    #[must_use]
    pub fn launch(mut self, launch: impl Into<String>) -> Self {
        self.launch = Some(launch.into());
        self
    }

    /// An OpenID Connect `nonce` (recommended with `openid`); check it in the id_token with
    /// [`Expectations::nonce`](crate::id_token::Expectations::nonce).
    #[must_use]
    pub fn nonce(mut self, nonce: impl Into<String>) -> Self {
        self.nonce = Some(nonce.into());
        self
    }

    /// An extra parameter, such as `prompt=none` or `id_token_hint`.
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] for a parameter the builder already sends, one given twice,
    /// or one named like a credential (`code_verifier`, `client_secret`, …: a browser
    /// redirect must never carry one).
    pub fn param(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, Error> {
        let name = name.into();
        check_extra(&name, &self.extra)?;
        self.extra.push((name, value.into()));
        Ok(self)
    }

    /// Allows a plain-`http://` authorization endpoint on a loopback host (tests, local
    /// sandboxes), as [`HttpClient::allow_loopback_http`](crate::HttpClient::allow_loopback_http).
    #[must_use]
    pub fn allow_loopback_http(mut self, allow: bool) -> Self {
        self.allow_loopback_http = allow;
        self
    }

    /// The parameters in the order they are sent: the query of [`url`](Self::url), or the
    /// fields of an `authorize-post` form.
    pub fn fields(&self) -> Vec<(String, String)> {
        let mut fields: Vec<(String, String)> = vec![
            ("response_type".into(), "code".into()),
            ("client_id".into(), self.client_id.clone()),
            ("redirect_uri".into(), self.redirect_uri.clone()),
        ];
        if let Some(launch) = &self.launch {
            fields.push(("launch".into(), launch.clone()));
        }
        fields.push(("scope".into(), self.scope.clone()));
        fields.push(("state".into(), self.state.as_str().to_owned()));
        fields.push(("aud".into(), self.aud.clone()));
        fields.push(("code_challenge".into(), self.challenge.as_str().to_owned()));
        fields.push(("code_challenge_method".into(), CODE_CHALLENGE_METHOD.into()));
        if let Some(nonce) = &self.nonce {
            fields.push(("nonce".into(), nonce.clone()));
        }
        fields.extend(self.extra.iter().cloned());
        fields
    }

    /// The authorization endpoint (the `action` of a POST form).
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// The URL to send the browser to: the endpoint's own query parameters kept, these
    /// appended, percent-encoded.
    ///
    /// # Errors
    ///
    /// [`Error::InsecureUrl`] for a plain-HTTP endpoint (loopback aside, when allowed).
    pub fn url(&self) -> Result<Url, Error> {
        check_tls(&self.endpoint, self.allow_loopback_http)?;
        let mut url = self.endpoint.clone();
        url.query_pairs_mut().extend_pairs(self.fields());
        Ok(url)
    }
}

#[cfg(test)]
mod tests;
