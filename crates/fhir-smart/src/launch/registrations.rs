//! [`Registrations`]: one app registration per EHR `iss`.

use super::{
    AppLaunch, AuthorizationRequest, LaunchParams, LaunchSession, PendingAuthorization, same_base,
};
use crate::Error;
use crate::client::SmartClient;

/// Several app registrations keyed by EHR `iss` (each EHR assigns its own client id,
/// secret or key, and redirect URI).
#[derive(Debug, Clone, Default)]
pub struct Registrations {
    entries: Vec<(String, AppLaunch)>,
}

impl Registrations {
    /// No registration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `app` for the EHR whose FHIR base URL is `iss` (also added to the app's
    /// allow-list).
    #[must_use]
    pub fn register(mut self, iss: impl Into<String>, app: AppLaunch) -> Self {
        let iss = iss.into();
        let app = app.allow_iss(iss.clone());
        self.entries.push((iss, app));
        self
    }

    /// The registration for `iss`.
    ///
    /// # Errors
    ///
    /// [`Error::IssNotAllowed`] when no registration matches.
    pub fn for_iss(&self, iss: &str) -> Result<&AppLaunch, Error> {
        self.entries
            .iter()
            .find(|(registered, _)| same_base(registered, iss))
            .map(|(_, app)| app)
            .ok_or_else(|| Error::IssNotAllowed {
                iss: iss.to_owned(),
            })
    }

    /// Step one of an EHR launch with the registration for the launch's `iss`.
    ///
    /// # Errors
    ///
    /// As [`AppLaunch::ehr`].
    pub async fn ehr(&self, launch: &LaunchParams) -> Result<AuthorizationRequest, Error> {
        self.for_iss(&launch.iss)?.ehr(launch).await
    }

    /// Restores a launch's client with the registration it was made with.
    ///
    /// # Errors
    ///
    /// As [`AppLaunch::restore`].
    pub async fn restore(&self, session: &LaunchSession) -> Result<SmartClient, Error> {
        self.for_iss(session.aud())?.restore(session).await
    }

    /// Step two with the registration the pending authorization was made for.
    ///
    /// # Errors
    ///
    /// As [`AppLaunch::complete`].
    pub async fn complete(
        &self,
        pending: PendingAuthorization,
        callback_url: &str,
    ) -> Result<SmartClient, Error> {
        let app = self.for_iss(&pending.aud)?;
        app.complete(pending, callback_url).await
    }
}
