//! Step two of a launch: the callback checked against the pending record (which comes back
//! from client storage and is not trusted), the code exchanged, the id_token verified, and
//! the client built.

use std::sync::Arc;

use url::Url;

use super::params::Callback;
use super::{AppLaunch, LaunchSession, PENDING_CLOCK_SKEW, PendingAuthorization, same_base};
use crate::Error;
use crate::client::{IdTokenCheck, SmartClient};
use crate::client_auth::{AuthMethod, ClientAuth, ClientCredentials};
use crate::discovery::SmartConfiguration;
use crate::exchange::exchange_code;
use crate::id_token::{Expectations, IdTokenVerifier};
use crate::scopes::Scopes;
use crate::secret::AuthorizationCode;
use crate::state::random_id;
use crate::store::now_secs;

impl AppLaunch {
    /// The client authentication for `method`, the one a pending record or launch session
    /// names, from this app's credentials.
    pub(super) fn auth_for_method(&self, method: AuthMethod) -> Result<ClientAuth, Error> {
        if let Some(auth) = &self.client_auth
            && auth.method() == method
        {
            return Ok(auth.clone());
        }
        match method {
            AuthMethod::None => Ok(ClientAuth::Public),
            AuthMethod::ClientSecretBasic => self
                .secret
                .clone()
                .map(|secret| ClientAuth::ClientSecretBasic {
                    secret,
                    encoding: crate::client_auth::BasicEncoding::Raw,
                })
                .ok_or_else(|| Error::configuration("client_secret", "is not set")),
            AuthMethod::PrivateKeyJwt => self
                .key
                .clone()
                .map(|key| ClientAuth::PrivateKeyJwt {
                    key: Arc::new(key),
                    options: self.assertion.clone(),
                })
                .ok_or_else(|| Error::configuration("private_key", "is not set")),
            other => Err(Error::configuration(
                "client_auth",
                format!("the pending authorization used `{other}`, which is not configured now"),
            )),
        }
    }

    /// Checks a callback against `pending` and returns the authorization code.
    ///
    /// # Errors
    ///
    /// [`Error::Authorization`] for an `error=` callback; [`Error::StateMismatch`];
    /// [`Error::InvalidCallback`] for an expired record, a wrong path, or no code.
    pub fn verify_callback(
        &self,
        pending: &PendingAuthorization,
        callback_url: &str,
    ) -> Result<AuthorizationCode, Error> {
        let now = now_secs();
        if pending.created_at > now.saturating_add(PENDING_CLOCK_SKEW) {
            // Otherwise the record would never expire.
            return Err(Error::callback(
                "the pending authorization was created in the future",
            ));
        }
        if now.saturating_sub(pending.created_at) > self.pending_ttl.as_secs() {
            return Err(Error::callback("the pending authorization has expired"));
        }
        let callback = Callback::parse(callback_url)?;
        let expected_path = Url::parse(&pending.redirect_uri)
            .map(|u| u.path().to_owned())
            .map_err(|_| Error::configuration("redirect_uri", "not a URL"))?;
        if callback.path != expected_path {
            return Err(Error::callback(
                "the callback path differs from the redirect URI",
            ));
        }
        let state = callback.get("state");
        if let Some(code) = callback.get("error") {
            // The OAuth error is reported even without a state; a wrong state wins.
            if state.is_some_and(|s| !pending.state.matches(s)) {
                return Err(Error::StateMismatch);
            }
            return Err(Error::Authorization {
                code: code.into(),
                description: callback.get("error_description").map(str::to_owned),
                uri: callback.get("error_uri").map(str::to_owned),
            });
        }
        let state = state.ok_or_else(|| Error::callback("the callback has no state"))?;
        if !pending.state.matches(state) {
            return Err(Error::StateMismatch);
        }
        // RFC 9207: a server that names itself must be the one the request went to.
        if let (Some(iss), Some(issuer)) = (callback.get("iss"), pending.issuer.as_deref())
            && iss != issuer
        {
            return Err(Error::callback(
                "the callback `iss` is not the authorization server of this request",
            ));
        }
        callback
            .get("code")
            .filter(|c| !c.is_empty())
            .map(AuthorizationCode::new)
            .ok_or_else(|| Error::callback("the callback has no code"))
    }

    /// Checks what `pending` says about this app and its server (it comes back from client
    /// storage, so it is not trusted): `aud` must be the configured FHIR base or an allowed
    /// `iss`, and the client id and redirect URI must be this app's.
    fn check_pending_identity(&self, pending: &PendingAuthorization) -> Result<(), Error> {
        self.check_identity(&pending.aud, &pending.client_id)?;
        if pending.redirect_uri != self.redirect_uri {
            return Err(Error::callback(
                "the pending authorization names another redirect URI",
            ));
        }
        Ok(())
    }

    /// Whether a record from client storage (a pending authorization, a launch session)
    /// names an `aud` this app may talk to and this app's client id.
    pub(super) fn check_identity(&self, aud: &str, client_id: &str) -> Result<(), Error> {
        let allowed = self
            .fhir_base
            .iter()
            .chain(&self.allowed_iss)
            .any(|a| same_base(a, aud));
        if !allowed {
            return Err(Error::IssNotAllowed {
                iss: aud.to_owned(),
            });
        }
        if client_id != self.client_id {
            return Err(Error::callback(
                "the pending authorization was made for another client id",
            ));
        }
        Ok(())
    }

    /// The server configuration of `aud` (from discovery, or the configured one), checked
    /// against the token endpoint and issuer a record from client storage names.
    pub(super) async fn check_server(
        &self,
        aud: &str,
        token_endpoint: &Url,
        issuer: &Option<String>,
    ) -> Result<SmartConfiguration, Error> {
        let config = self.configuration_for(aud).await?;
        if config.token_endpoint != *token_endpoint {
            return Err(Error::callback(
                "the pending authorization's token endpoint is not the one discovery gives for its `aud`",
            ));
        }
        if config.issuer != *issuer {
            return Err(Error::callback(
                "the pending authorization's issuer is not the one discovery gives for its `aud`",
            ));
        }
        Ok(config)
    }

    /// Step two: verifies the callback, exchanges the code (with the PKCE verifier and the
    /// client authentication chosen in step one) and returns a ready client.
    ///
    /// `pending` is consumed: a replayed callback needs a record that no longer exists.
    /// It is not trusted either: its `aud` must be the configured FHIR base or an allowed
    /// `iss`, its client id and redirect URI this app's, and its token endpoint and issuer
    /// those that discovery (or the configured [`SmartConfiguration`]) gives for that `aud`
    /// (the [`discovery_cache`](Self::discovery_cache) answers without a second request while
    /// the result of step one is fresh).
    ///
    /// # Errors
    ///
    /// [`Error::IssNotAllowed`] for an `aud` that is not allowed; [`Error::InvalidCallback`]
    /// for a pending record that does not match this app or its server; as
    /// [`AppLaunch::verify_callback`]; discovery, token-endpoint and transport errors;
    /// [`Error::IdToken`] when the id_token must be verified and cannot be.
    pub async fn complete(
        &self,
        pending: PendingAuthorization,
        callback_url: &str,
    ) -> Result<SmartClient, Error> {
        self.check_pending_identity(&pending)?;
        let code = self.verify_callback(&pending, callback_url)?;
        let config = self
            .check_server(&pending.aud, &pending.token_endpoint, &pending.issuer)
            .await?;
        let auth = self.auth_for_method(pending.auth_method)?;
        let credentials = ClientCredentials {
            client_id: self.client_id.clone(),
            auth,
            include_client_id: self.include_client_id,
        };
        let mut token = exchange_code(
            &self.options.http,
            &config.token_endpoint,
            &credentials,
            &code,
            &pending.code_verifier,
            &pending.redirect_uri,
        )
        .await?;
        if token.scope.is_none() {
            tracing::warn!("the token response has no scope; assuming the requested one");
            token.scope = Some(pending.scope.clone());
        }
        let mut id_token_check = None;
        // The nonce is sent exactly when `openid` is requested.
        let openid = pending.nonce.is_some();
        if let Some(verifier) = self.id_tokens.as_ref().filter(|_| openid) {
            match &token.id_token {
                Some(id_token) => {
                    // `iss` must equal the issuer from discovery; without one there is
                    // nothing trustworthy to fetch keys from, so verification fails closed.
                    let issuer = config.issuer.clone().ok_or_else(|| Error::IdToken {
                        reason: String::from(
                            "no issuer is known from discovery, so the id_token cannot be verified",
                        ),
                    })?;
                    let mut expected = Expectations::new(self.client_id.clone()).issuer(issuer);
                    expected.nonce = pending.nonce.clone();
                    let claims = verifier
                        .get_or_init(|| IdTokenVerifier::new(self.options.http.clone()))
                        .verify(id_token, &expected)
                        .await?;
                    // Refreshed id_tokens carry no nonce (OIDC Core §12.2).
                    expected.nonce = None;
                    id_token_check = Some(IdTokenCheck {
                        verifier: Arc::clone(verifier),
                        expected,
                        sub: claims.sub,
                    });
                }
                None => {
                    tracing::warn!("openid was requested but the server sent no id_token");
                }
            }
        }
        let base =
            Url::parse(&pending.aud).map_err(|_| Error::configuration("aud", "not a URL"))?;
        let scope: Scopes = pending.scope.parse()?;
        let launch_id = if pending.launch_id.is_empty() {
            random_id()
        } else {
            pending.launch_id.clone()
        };
        let session = LaunchSession::new(
            &pending,
            launch_id.clone(),
            id_token_check.as_ref().and_then(|check| check.sub.clone()),
        );
        let mut builder = SmartClient::builder(base, config.token_endpoint.clone(), credentials)
            .token_client_options(self.options.clone())
            .scope(&scope)
            .launch_id(launch_id)
            .launch_session(session)
            .token(token);
        if let Some(check) = id_token_check {
            builder = builder.id_token_check(check);
        }
        if let Some(subject) = &self.store_subject {
            builder = builder.store_subject(subject.clone());
        }
        builder.build().await
    }
}
