//! Step one of a launch: discovery (or the configured endpoints), the scopes for this
//! server, the client authentication, and the authorize request with what to keep.

use url::Url;

use super::{AppLaunch, PendingAuthorization, same_base};
use crate::Error;
use crate::authorize::AuthorizeUrl;
use crate::client_auth::ClientAuth;
use crate::discovery::{Capability, ConfigurationSource, SmartConfiguration, discover};
use crate::launch::LaunchParams;
use crate::pkce::PkceVerifier;
use crate::scopes::{LaunchScope, Scope, ScopeVersion, Scopes};
use crate::state::{State, random_id};
use crate::store::now_secs;

/// A POST form for the authorize endpoint (`authorize-post`): the app renders it as an
/// auto-submitting HTML form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeForm {
    /// The form's `action`.
    pub action: Url,
    /// The form fields, in order.
    pub fields: Vec<(String, String)>,
}

/// Step one's result: where to send the browser, and what to keep until the callback.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AuthorizationRequest {
    /// The authorize URL with every parameter in the query (GET).
    pub url: Url,
    /// The same request as a POST form, when the server advertises `authorize-post` and
    /// POST was preferred.
    pub post_form: Option<AuthorizeForm>,
    /// What to keep (keyed by its state) until the callback.
    pub pending: PendingAuthorization,
}

impl AppLaunch {
    pub(super) async fn configuration_for(&self, base: &str) -> Result<SmartConfiguration, Error> {
        if let Some(config) = &self.configuration {
            return Ok(config.clone());
        }
        let url = Url::parse(base).map_err(|_| Error::configuration("aud", "not a URL"))?;
        match &self.discovery_cache {
            Some(cache) => cache.get(&self.options.http, &url, self.strictness).await,
            None => discover(&self.options.http, &url, self.strictness).await,
        }
    }

    /// Step one of a standalone launch: discovery on the configured FHIR base, then the
    /// authorize request (no `launch` parameter).
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] without a FHIR base; discovery errors.
    pub async fn standalone(&self) -> Result<AuthorizationRequest, Error> {
        let base = self
            .fhir_base
            .clone()
            .ok_or_else(|| Error::configuration("fhir_base", "no FHIR base URL configured"))?;
        let config = self.configuration_for(&base).await?;
        self.authorize(&config, &base, None)
    }

    /// Step one of an EHR launch: checks `iss` against the allow-list (before any request),
    /// discovers, and builds the authorize request with `aud = iss` and `launch` echoed.
    ///
    /// # Errors
    ///
    /// [`Error::IssNotAllowed`]; discovery errors.
    pub async fn ehr(&self, launch: &LaunchParams) -> Result<AuthorizationRequest, Error> {
        let allowed = self
            .allowed_iss
            .iter()
            .chain(self.fhir_base.as_ref())
            .any(|a| same_base(a, &launch.iss));
        if !allowed {
            return Err(Error::IssNotAllowed {
                iss: launch.iss.clone(),
            });
        }
        let config = self.configuration_for(&launch.iss).await?;
        self.authorize(&config, &launch.iss, Some(&launch.launch))
    }

    fn choose_auth(&self, config: &SmartConfiguration) -> Result<ClientAuth, Error> {
        match &self.client_auth {
            Some(auth) => Ok(auth.clone()),
            None => ClientAuth::choose(
                config,
                self.secret.clone(),
                self.key.clone(),
                self.assertion.clone(),
            ),
        }
    }

    /// The scopes to request from this server: syntax per its capabilities, plus the
    /// context scopes the launch type needs.
    fn scopes_for(&self, config: &SmartConfiguration, ehr: bool) -> Scopes {
        let mut scopes = self.scope.clone();
        // One syntax per request, never a mix (some servers answer 400).
        if config.scope_version() == ScopeVersion::V1 {
            scopes = match scopes.to_v1() {
                Ok(v1) => v1,
                Err(err) => {
                    tracing::warn!(
                        scope = %err.scope,
                        "the server lists only SMART v1 scopes, but a scope has no v1 form; sending v2 syntax"
                    );
                    scopes.to_v2()
                }
            };
        } else if scopes.is_mixed() {
            scopes = scopes.to_v2();
        }
        if ehr {
            scopes.push(Scope::Launch);
        } else if scopes.has_patient_scope() {
            scopes.push(Scope::LaunchContext {
                context: LaunchScope::Patient,
                role: None,
            });
        }
        scopes
    }

    /// Builds the authorize request for `config` without any network access.
    ///
    /// `aud` is sent exactly as given; `launch` (EHR launch) is echoed byte for byte.
    ///
    /// # Errors
    ///
    /// [`Error::Discovery`] when the server has no authorization endpoint;
    /// [`Error::InsecureUrl`] for a plain-HTTP endpoint; [`Error::Configuration`] for an empty
    /// scope or an unsupported client authentication.
    pub fn authorize(
        &self,
        config: &SmartConfiguration,
        aud: &str,
        launch: Option<&str>,
    ) -> Result<AuthorizationRequest, Error> {
        let endpoint = config.require_authorization_endpoint()?;
        self.options.http.check_url(endpoint)?;
        self.options.http.check_url(&config.token_endpoint)?;
        let scopes = self.scopes_for(config, launch.is_some());
        if scopes.is_empty() {
            return Err(Error::configuration("scope", "the scope is empty"));
        }
        let auth = self.choose_auth(config)?;
        let state = State::generate();
        let verifier = PkceVerifier::generate();
        let nonce = scopes
            .contains(&Scope::OpenId)
            .then(|| State::generate().as_str().to_owned());
        let scope_text = scopes.to_string();
        let mut request = AuthorizeUrl::new(
            config,
            self.client_id.clone(),
            self.redirect_uri.clone(),
            &scopes,
            aud,
            &state,
            &verifier,
        )?
        .allow_loopback_http(self.options.http.allows_loopback_http());
        if let Some(launch) = launch {
            request = request.launch(launch);
        }
        if let Some(nonce) = &nonce {
            request = request.nonce(nonce.clone());
        }
        for (name, value) in &self.extra {
            request = request.param(name.clone(), value.clone())?;
        }
        let url = request.url()?;
        let post_form =
            (self.prefer_post && config.supports(&Capability::AuthorizePost)).then(|| {
                AuthorizeForm {
                    action: endpoint.clone(),
                    fields: request.fields(),
                }
            });
        if config.source == ConfigurationSource::CapabilityStatement {
            tracing::debug!("PKCE support unknown (CapabilityStatement discovery); sending S256");
        }
        Ok(AuthorizationRequest {
            url,
            post_form,
            pending: PendingAuthorization {
                state,
                code_verifier: verifier,
                redirect_uri: self.redirect_uri.clone(),
                aud: aud.to_owned(),
                token_endpoint: config.token_endpoint.clone(),
                issuer: config.issuer.clone(),
                jwks_uri: config.jwks_uri.clone(),
                client_id: self.client_id.clone(),
                auth_method: auth.method(),
                scope: scope_text,
                launch: launch.map(str::to_owned),
                nonce,
                created_at: now_secs(),
                launch_id: random_id(),
            },
        })
    }
}
