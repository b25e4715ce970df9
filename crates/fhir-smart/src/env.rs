//! Configuration from environment variables, with values given in code taking precedence.
//!
//! | Variable | Meaning |
//! |---|---|
//! | `SMART_ISS` (else `FHIR_BASE_URL`) | the FHIR base URL |
//! | `SMART_CLIENT_ID` | the registered client id |
//! | `SMART_REDIRECT_URI` | the registered redirect URI (App Launch) |
//! | `SMART_SCOPE` | the requested scopes |
//! | `SMART_CLIENT_SECRET` | a client secret (confidential symmetric) |
//! | `SMART_PRIVATE_KEY` | a private key: a path to a PEM file, PEM text, or a private JWK |
//! | `SMART_KID` | the key id (required unless the JWK has one) |
//! | `SMART_ALG` | `ES384` (default for EC keys) or `RS384` |
//! | `SMART_JKU` | the registered JWKS URL, sent as `jku` |
//!
//! [`SmartEnv::from_lookup`] takes any lookup function, so tests need not touch the process
//! environment.

use std::fmt;

use url::Url;

use crate::Error;
use crate::assertion::AssertionOptions;
use crate::backend::BackendServices;
use crate::keys::{SigningAlgorithm, SigningKey};
use crate::launch::AppLaunch;
use crate::scopes::Scopes;
use crate::secret::{ClientSecret, PrivateKeyPem};

/// SMART settings read from the environment; setters override what was read.
#[derive(Clone, Default)]
pub struct SmartEnv {
    iss: Option<(String, &'static str)>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    scope: Option<String>,
    client_secret: Option<ClientSecret>,
    private_key: Option<PrivateKeyPem>,
    kid: Option<String>,
    alg: Option<String>,
    jku: Option<String>,
}

impl fmt::Debug for SmartEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmartEnv")
            .field("iss", &self.iss.as_ref().map(|(v, _)| v))
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("scope", &self.scope)
            .field("client_secret", &self.client_secret)
            .field(
                "private_key",
                &self.private_key.as_ref().map(|_| "[redacted]"),
            )
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("jku", &self.jku)
            .finish()
    }
}

impl SmartEnv {
    /// Reads the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (empty values count as unset).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        Self {
            iss: get("SMART_ISS")
                .map(|v| (v, "SMART_ISS"))
                .or_else(|| get("FHIR_BASE_URL").map(|v| (v, "FHIR_BASE_URL"))),
            client_id: get("SMART_CLIENT_ID"),
            redirect_uri: get("SMART_REDIRECT_URI"),
            scope: get("SMART_SCOPE"),
            client_secret: get("SMART_CLIENT_SECRET").map(ClientSecret::new),
            private_key: get("SMART_PRIVATE_KEY").map(PrivateKeyPem::new),
            kid: get("SMART_KID"),
            alg: get("SMART_ALG"),
            jku: get("SMART_JKU"),
        }
    }

    /// Overrides the FHIR base URL.
    #[must_use]
    pub fn iss(mut self, iss: impl Into<String>) -> Self {
        self.iss = Some((iss.into(), "SMART_ISS"));
        self
    }

    /// Overrides the client id.
    #[must_use]
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// Overrides the redirect URI.
    #[must_use]
    pub fn redirect_uri(mut self, redirect_uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(redirect_uri.into());
        self
    }

    /// Overrides the scope.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// Overrides the client secret.
    #[must_use]
    pub fn client_secret(mut self, secret: ClientSecret) -> Self {
        self.client_secret = Some(secret);
        self
    }

    /// Overrides the private key (path, PEM or JWK text).
    #[must_use]
    pub fn private_key(mut self, key: PrivateKeyPem) -> Self {
        self.private_key = Some(key);
        self
    }

    /// Overrides the key id.
    #[must_use]
    pub fn kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// Overrides the algorithm.
    #[must_use]
    pub fn alg(mut self, alg: impl Into<String>) -> Self {
        self.alg = Some(alg.into());
        self
    }

    /// Overrides the JWKS URL sent as `jku`.
    #[must_use]
    pub fn jku(mut self, jku: impl Into<String>) -> Self {
        self.jku = Some(jku.into());
        self
    }

    /// The FHIR base URL as configured (used verbatim as `aud`).
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] naming `SMART_ISS` when unset or not a URL.
    pub fn fhir_base(&self) -> Result<(String, Url), Error> {
        let (text, name) = self
            .iss
            .clone()
            .ok_or_else(|| Error::configuration("SMART_ISS", "is not set (nor FHIR_BASE_URL)"))?;
        let url = Url::parse(&text)
            .map_err(|err| Error::configuration(name, format!("not a URL: {err}")))?;
        Ok((text, url))
    }

    fn required(value: Option<&String>, name: &str) -> Result<String, Error> {
        value
            .cloned()
            .ok_or_else(|| Error::configuration(name, "is not set"))
    }

    /// The requested scopes.
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] naming `SMART_SCOPE` when unset or malformed.
    pub fn scopes(&self) -> Result<Scopes, Error> {
        Self::required(self.scope.as_ref(), "SMART_SCOPE")?
            .parse()
            .map_err(|err| Error::configuration("SMART_SCOPE", format!("{err}")))
    }

    fn algorithm(&self) -> Result<Option<SigningAlgorithm>, Error> {
        self.alg
            .as_deref()
            .map(|alg| {
                alg.parse()
                    .map_err(|_| Error::configuration("SMART_ALG", "must be ES384 or RS384"))
            })
            .transpose()
    }

    /// The signing key, if `SMART_PRIVATE_KEY` is set: a private JWK, PEM text, or a path
    /// to a PEM file.
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] naming `SMART_PRIVATE_KEY`, `SMART_KID` or `SMART_ALG`.
    pub fn signing_key(&self) -> Result<Option<SigningKey>, Error> {
        let Some(value) = &self.private_key else {
            return Ok(None);
        };
        let alg = self.algorithm()?;
        let text = value.expose_secret().trim();
        let key_error = |err: Error| Error::configuration("SMART_PRIVATE_KEY", err.to_string());
        if text.starts_with('{') {
            return SigningKey::from_jwk(text, alg).map(Some).map_err(key_error);
        }
        let pem = if text.contains("-----BEGIN") {
            text.to_owned()
        } else {
            std::fs::read_to_string(text).map_err(|err| {
                Error::configuration(
                    "SMART_PRIVATE_KEY",
                    format!("cannot read the key file: {}", err.kind()),
                )
            })?
        };
        let kid = Self::required(self.kid.as_ref(), "SMART_KID")?;
        SigningKey::from_pem(&pem, kid, alg)
            .map(Some)
            .map_err(key_error)
    }

    /// Assertion options with `SMART_JKU`.
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] naming `SMART_JKU` when it is not a URL.
    pub fn assertion_options(&self) -> Result<AssertionOptions, Error> {
        let mut options = AssertionOptions::default();
        if let Some(jku) = &self.jku {
            options.jku =
                Some(Url::parse(jku).map_err(|_| Error::configuration("SMART_JKU", "not a URL"))?);
        }
        Ok(options)
    }

    /// A Backend Services client from these settings: `private_key_jwt` with
    /// `SMART_PRIVATE_KEY`, else `client_secret_basic` with `SMART_CLIENT_SECRET`.
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] naming the first missing or invalid variable.
    pub fn backend_services(&self) -> Result<BackendServices, Error> {
        let (_, base) = self.fhir_base()?;
        let client_id = Self::required(self.client_id.as_ref(), "SMART_CLIENT_ID")?;
        let scopes = self.scopes()?;
        let backend = match (self.signing_key()?, &self.client_secret) {
            (Some(key), _) => BackendServices::new(base, client_id, key, scopes),
            (None, Some(secret)) => {
                BackendServices::with_client_secret(base, client_id, secret.clone(), scopes)
            }
            (None, None) => {
                return Err(Error::configuration(
                    "SMART_PRIVATE_KEY",
                    "is not set (nor SMART_CLIENT_SECRET)",
                ));
            }
        };
        Ok(backend.assertion_options(self.assertion_options()?))
    }

    /// An App Launch configuration from these settings (with the secret and key, if set).
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] naming the first missing or invalid variable.
    pub fn app_launch(&self) -> Result<AppLaunch, Error> {
        let (base, _) = self.fhir_base()?;
        let client_id = Self::required(self.client_id.as_ref(), "SMART_CLIENT_ID")?;
        let redirect_uri = Self::required(self.redirect_uri.as_ref(), "SMART_REDIRECT_URI")?;
        Url::parse(&redirect_uri)
            .map_err(|_| Error::configuration("SMART_REDIRECT_URI", "not a URL"))?;
        let mut app = AppLaunch::new(client_id, redirect_uri, self.scopes()?)
            .fhir_base(base)
            .assertion_options(self.assertion_options()?);
        if let Some(secret) = &self.client_secret {
            app = app.client_secret(secret.clone());
        }
        if let Some(key) = self.signing_key()? {
            app = app.private_key(key);
        }
        Ok(app)
    }
}

#[cfg(test)]
mod tests;
