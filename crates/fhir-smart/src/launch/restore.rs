//! Restoring a launch's [`SmartClient`] from the token store: [`AppLaunch::restore`], the one
//! call that turns a [`LaunchSession`] (kept with the user's session) back into a client.

use std::sync::Arc;

use url::Url;

use super::AppLaunch;
use crate::Error;
use crate::client::{IdTokenCheck, SmartClient};
use crate::client_auth::ClientCredentials;
use crate::id_token::Expectations;
use crate::launch_session::LaunchSession;
use crate::scopes::Scopes;

impl LaunchSession {
    /// The record of the launch `pending` started, under `launch_id`.
    pub(crate) fn new(
        pending: &super::PendingAuthorization,
        launch_id: String,
        id_token_sub: Option<String>,
    ) -> Self {
        Self {
            launch_id,
            aud: pending.aud.clone(),
            token_endpoint: pending.token_endpoint.clone(),
            issuer: pending.issuer.clone(),
            client_id: pending.client_id.clone(),
            auth_method: pending.auth_method,
            scope: pending.scope.clone(),
            id_token_sub,
        }
    }
}

impl AppLaunch {
    /// Rebuilds the client of an earlier launch from the [`store`](Self::store), as
    /// [`complete`](Self::complete) returned it: same store key (launch id and user key),
    /// same client authentication, launch context and tokens as last stored (refreshed
    /// ones included), and, when the launch verified its id_token, the same check of
    /// refreshed id_tokens (same issuer and `sub`).
    ///
    /// `session` comes back from the app's session storage, so it is checked like a pending
    /// authorization: its `aud` must be the configured FHIR base or an allowed `iss`, its
    /// client id this app's, and its token endpoint and issuer those discovery gives for
    /// that `aud`.
    ///
    /// ```no_run
    /// # async fn demo(app: fhir_smart::AppLaunch, pending: fhir_smart::PendingAuthorization,
    /// #     callback_url: &str) -> Result<(), Box<dyn std::error::Error>> {
    /// // At the callback: keep the session record with the user's session.
    /// let smart = app.complete(pending, callback_url).await?;
    /// let saved = serde_json::to_string(&smart.launch_session().ok_or("not a launch")?)?;
    ///
    /// // Later, in another request or process sharing the token store:
    /// let smart = app.restore(&serde_json::from_str(&saved)?).await?;
    /// # let _ = smart;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] without a store; [`Error::IssNotAllowed`] or
    /// [`Error::InvalidCallback`] for a session that does not match this app or its server;
    /// [`Error::ReauthorizationRequired`] when the store holds no token set for the launch
    /// (it was never stored, or its refresh token was rejected since); discovery and store
    /// errors.
    pub async fn restore(&self, session: &LaunchSession) -> Result<SmartClient, Error> {
        if self.options.store.is_none() {
            return Err(Error::configuration(
                "store",
                "restoring a launch needs the token store it was kept in",
            ));
        }
        self.check_identity(&session.aud, &session.client_id)?;
        let config = self
            .check_server(&session.aud, &session.token_endpoint, &session.issuer)
            .await?;
        let credentials = ClientCredentials {
            client_id: self.client_id.clone(),
            auth: self.auth_for_method(session.auth_method)?,
            include_client_id: self.include_client_id,
        };
        let base =
            Url::parse(&session.aud).map_err(|_| Error::configuration("aud", "not a URL"))?;
        let scope: Scopes = session.scope.parse()?;
        let mut builder = SmartClient::builder(base, config.token_endpoint.clone(), credentials)
            .token_client_options(self.options.clone())
            .scope(&scope)
            .launch_id(session.launch_id.clone())
            .launch_session(session.clone());
        if let Some(subject) = &self.store_subject {
            builder = builder.store_subject(subject.clone());
        }
        // Refreshed id_tokens are checked like the launch's, if the launch verified one and
        // this app still verifies (the stored id_tokens were verified before they were kept).
        if let (Some(verifier), Some(sub), Some(issuer)) =
            (&self.id_tokens, &session.id_token_sub, &config.issuer)
        {
            builder = builder.id_token_check(IdTokenCheck {
                verifier: Arc::clone(verifier),
                expected: Expectations::new(self.client_id.clone()).issuer(issuer.clone()),
                sub: Some(sub.clone()),
            });
        }
        let smart = builder.build().await?;
        if smart.token_response().is_none() {
            return Err(Error::ReauthorizationRequired {
                reason: String::from("the store holds no token set for this launch"),
                source: None,
            });
        }
        Ok(smart)
    }
}
