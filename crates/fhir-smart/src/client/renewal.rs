//! Renewing a [`SmartClient`]'s token set: reading the store back, one token request under
//! the renewal lock, the compare-and-set write, and the id_token check after the lock.
//!
//! A renewal runs as a task of its own ([`SmartClient::detached`]): the refresh request and
//! the store write finish even when the caller's future is dropped (a timeout, a cancelled
//! request, fhir-core's deadline around the 401 hook), so a rotated refresh token the server
//! already issued is never lost.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};

use http::HeaderValue;

use super::{Grant, SmartClient, is_rejected};
use crate::Error;
use crate::error::{TokenEndpointError, TokenErrorCode};
use crate::secret::IdToken;
use crate::store::{StoreKey, StoredToken, now_secs};
use crate::token::TokenResponse;
use crate::token_request::{TokenGrant, token_request};

/// Where a token set comes from: a client adopts only stored sets of its own lineage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Lineage {
    marker: Option<String>,
    patient: Option<String>,
    encounter: Option<String>,
}

impl Lineage {
    pub(super) fn of(token: &StoredToken) -> Self {
        Self {
            marker: token.lineage.clone(),
            patient: token.token.patient.clone(),
            encounter: token.token.encounter.clone(),
        }
    }

    /// Whether `token` continues this lineage: the same marker when both have one, else the
    /// same patient and encounter in context.
    fn admits(&self, token: &StoredToken) -> bool {
        if let (Some(own), Some(other)) = (&self.marker, &token.lineage) {
            return own == other;
        }
        self.patient == token.token.patient && self.encounter == token.token.encounter
    }
}

/// Whether a refused refresh means the refresh token is dead (revoked, expired, used): only
/// an OAuth `invalid_grant`. A bare 400/401/403 (a proxy, a WAF, a misrouted request, an HTML
/// error page) says nothing about the grant, so it leaves the token set in place, as do
/// `temporarily_unavailable`, `server_error`, `invalid_client`, 429 and 5xx.
fn refresh_token_is_dead(err: &TokenEndpointError) -> bool {
    err.error == Some(TokenErrorCode::InvalidGrant)
}

/// What a renewal produced, before its id_token is checked.
pub(super) struct Renewed {
    /// The token set now in use (the new one, or one another caller got meanwhile).
    stored: StoredToken,
    /// The response's id_token, held back until verified (never stored unverified).
    unverified_id_token: Option<IdToken>,
    /// Whether `stored` was written to the store by this renewal.
    written: bool,
}

impl Renewed {
    fn unchanged(stored: StoredToken) -> Self {
        Self {
            stored,
            unverified_id_token: None,
            written: false,
        }
    }
}

impl SmartClient {
    /// Runs `job` as a task of its own and waits for it: dropping the returned future does
    /// not stop the job. Without a tokio runtime (another executor), the job runs in place.
    pub(super) async fn detached<T, F>(
        &self,
        job: impl FnOnce(SmartClient) -> F,
    ) -> Result<T, Error>
    where
        F: Future<Output = Result<T, Error>> + Send + 'static,
        T: Send + 'static,
    {
        let job = job(self.clone());
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return job.await;
        };
        match runtime.spawn(job).await {
            Ok(result) => result,
            // The job's panic (a token store's, say) is the caller's, as if it ran in place.
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(_) => Err(Error::Store {
                reason: String::from("the renewal was cancelled: the runtime is shutting down"),
            }),
        }
    }

    /// The newest token set: the store's when it has one, else the cached one.
    ///
    /// App Launch clients adopt a stored set only if it continues their own lineage; a set
    /// of another launch (another patient) is refused, never silently taken over.
    pub(super) async fn latest(&self) -> Result<Option<StoredToken>, Error> {
        let stored = self.inner.store.get(&self.inner.key).await?;
        if let (Some(token), Grant::RefreshToken) = (&stored, &self.inner.grant) {
            let mut lineage = self
                .inner
                .lineage
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            match &*lineage {
                Some(own) if !own.admits(token) => {
                    return Err(Error::Store {
                        reason: String::from(
                            "the store holds the token set of another launch under this key \
                             (different patient, encounter or lineage); refusing to adopt it",
                        ),
                    });
                }
                Some(_) => {}
                None => *lineage = Some(Lineage::of(token)),
            }
        }
        let latest = stored.or_else(|| self.snapshot());
        self.set_current(latest.clone());
        Ok(latest)
    }

    /// With the renewal lock held: uses a token another caller or client got meanwhile, or
    /// renews. `rejected` is the header a 401 refused, which must not be reused.
    pub(super) async fn renew_if_needed(
        &self,
        rejected: Option<&HeaderValue>,
    ) -> Result<Renewed, Error> {
        let latest = self.latest().await?;
        if let Some(token) = &latest
            && self.usable(Some(token))
            && (rejected.is_none() || !is_rejected(token, rejected))
        {
            return Ok(Renewed::unchanged(token.clone()));
        }
        self.renew(latest, None).await
    }

    /// One renewal (the caller holds the per-key lock of this process), in a
    /// `smart.token_renewal` span of its own: `grant_type`, `url.full` (the token endpoint,
    /// without query), and once done `smart.outcome` (`renewed`, or `unchanged` when another
    /// process renewed first) or `error.type` (the error's kind). Never a token or secret.
    pub(super) async fn renew(
        &self,
        base: Option<StoredToken>,
        narrower_scope: Option<String>,
    ) -> Result<Renewed, Error> {
        let span = tracing::info_span!(
            "smart.token_renewal",
            otel.kind = "client",
            grant_type = match self.inner.grant {
                Grant::RefreshToken => "refresh_token",
                Grant::ClientCredentials { .. } => "client_credentials",
            },
            url.full = %crate::http::redact_url(&self.inner.token_endpoint),
            smart.outcome = tracing::field::Empty,
            error.type = tracing::field::Empty,
        );
        let result =
            tracing::Instrument::instrument(self.renew_leased(base, narrower_scope), span.clone())
                .await;
        match &result {
            Ok(renewed) if !renewed.written => span.record("smart.outcome", "unchanged"),
            Ok(_) => span.record("smart.outcome", "renewed"),
            Err(err) => span.record("error.type", err.kind()),
        };
        result
    }

    /// [`renew`](Self::renew) inside its span: under the store's lease across processes when
    /// it has one, reading the store again once the lease is held, since another process may
    /// have renewed while this one waited.
    async fn renew_leased(
        &self,
        base: Option<StoredToken>,
        narrower_scope: Option<String>,
    ) -> Result<Renewed, Error> {
        let inner = &self.inner;
        let Some(lease) = inner
            .store
            .acquire_lease(&inner.key, inner.lease_ttl)
            .await?
        else {
            return self.renew_unleased(base, narrower_scope, false).await;
        };
        let taken_over = lease.taken_over();
        let result = async {
            let latest = self.latest().await?;
            let base_version = base.as_ref().map(|b| b.version);
            if let Some(latest) = &latest
                && Some(latest.version) != base_version
                && narrower_scope.is_none()
                && self.usable(Some(latest))
            {
                return Ok(Renewed::unchanged(latest.clone()));
            }
            self.renew_unleased(latest, narrower_scope, taken_over)
                .await
        }
        .await;
        if let Err(err) = lease.release().await {
            // It lapses by itself; the renewal's own result stands.
            tracing::warn!(error = %err, "the renewal lease could not be released");
        }
        result
    }

    /// One token request and the store write (under the lease, if the store has one).
    async fn renew_unleased(
        &self,
        base: Option<StoredToken>,
        narrower_scope: Option<String>,
        taken_over: bool,
    ) -> Result<Renewed, Error> {
        let inner = &self.inner;
        let refresh_token = base.as_ref().and_then(|b| b.token.refresh_token.clone());
        let grant = match &inner.grant {
            Grant::ClientCredentials { scope } => TokenGrant::ClientCredentials { scope },
            Grant::RefreshToken => {
                let Some(refresh_token) = &refresh_token else {
                    return Err(Error::ReauthorizationRequired {
                        reason: String::from(
                            "the access token expired and there is no refresh token",
                        ),
                        source: None,
                    });
                };
                TokenGrant::RefreshToken {
                    refresh_token,
                    scope: narrower_scope.as_deref(),
                }
            }
        };
        let response = token_request(
            &inner.http,
            &inner.token_endpoint,
            &inner.credentials,
            grant,
        )
        .await;
        let mut response = match (response, &inner.grant) {
            (Ok(response), _) => response,
            (Err(Error::TokenEndpoint(err)), Grant::RefreshToken)
                if refresh_token_is_dead(&err) =>
            {
                // The refresh token is dead: forget it so nobody replays it, unless another
                // process stored a newer set meanwhile (then this client adopts that one on
                // its next renewal).
                let current = inner.store.get(&inner.key).await?.map(|t| t.version);
                if current.is_none() || current == base.as_ref().map(|b| b.version) {
                    inner.store.delete(&inner.key).await?;
                }
                self.set_current(base.map(|mut b| {
                    b.token.refresh_token = None;
                    b
                }));
                return Err(Error::ReauthorizationRequired {
                    reason: String::from(if taken_over {
                        "the refresh token was rejected; a process holding the renewal lease \
                         stopped mid-renewal (its lease lapsed), so the server may have rotated \
                         this refresh token without the new one being stored"
                    } else {
                        "the refresh token was rejected"
                    }),
                    source: Some(err),
                });
            }
            (Err(err), _) => return Err(err),
        };
        // The launch verified its id_token: a new one is verified too, after the lock is
        // released (a JWKS fetch must not hold up every request), and stored only then.
        let unverified_id_token = match inner.id_tokens {
            Some(_) => response.id_token.take(),
            None => None,
        };
        let previous = base.clone();
        let lineage = base.as_ref().and_then(|b| b.lineage.clone());
        let expected = base.as_ref().map(|b| b.version);
        let merged = match (base, &inner.grant) {
            (Some(old), Grant::RefreshToken) => merge(old.token, response),
            (_, Grant::ClientCredentials { scope }) if response.scope.is_none() => {
                tracing::warn!("the token response has no scope; assuming the requested one");
                TokenResponse {
                    scope: Some(scope.clone()),
                    ..response
                }
            }
            (_, _) => response,
        };
        let mut stored = StoredToken::new(merged, inner.default_lifetime);
        stored.reuse_until = now_secs().saturating_add(inner.min_reuse.as_secs());
        if let Some(previous) = &previous {
            stored.replaces(previous);
        }
        if matches!(inner.grant, Grant::RefreshToken) && lineage.is_some() {
            stored.lineage = lineage;
        }
        stored.version = expected.map_or(0, |v| v.wrapping_add(1));
        let mut written = inner
            .store
            .compare_and_set(&inner.key, expected, stored.clone())
            .await?;
        if !written {
            if inner.store.get(&inner.key).await?.is_none() {
                // The set was removed (or never stored): nothing newer to keep.
                inner.store.set(&inner.key, stored.clone()).await?;
                written = true;
            } else {
                // Another process stored a set while this request was in flight: keep it,
                // and use this one in memory until the next renewal reads the store back.
                tracing::warn!(
                    "the token store changed during the renewal; not overwriting the newer set"
                );
            }
        }
        self.set_current(Some(stored.clone()));
        Ok(Renewed {
            stored,
            unverified_id_token,
            written,
        })
    }

    /// After the renewal lock is released: verifies the new id_token (OpenID Connect Core
    /// §12.2: like the launch's, with the same `iss` and `sub`), then adds it to the set this
    /// renewal wrote, unless a later renewal replaced that set meanwhile. An id_token that
    /// does not verify is discarded; the previous one stays.
    pub(super) async fn finish(&self, renewed: Renewed) -> Result<StoredToken, Error> {
        let Renewed {
            stored,
            unverified_id_token,
            written,
        } = renewed;
        let (Some(check), Some(id_token)) = (&self.inner.id_tokens, unverified_id_token) else {
            return Ok(stored);
        };
        if let Err(err) = check.verify(&self.inner.http, &id_token).await {
            tracing::warn!(error = %err, "discarding the id_token of a refresh response");
            return Ok(stored);
        }
        let _guard = self.inner.lock.lock().await;
        let mut verified = stored.clone();
        verified.token.id_token = Some(id_token);
        verified.version = stored.version.wrapping_add(1);
        if written
            && !self
                .inner
                .store
                .compare_and_set(&self.inner.key, Some(stored.version), verified.clone())
                .await?
        {
            // A later renewal replaced the set: its own id_token stands.
            return Ok(stored);
        }
        let mut current = self
            .inner
            .current
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if current.as_ref().is_some_and(|c| {
            c.version == stored.version && c.token.access_token == stored.token.access_token
        }) {
            *current = Some(verified.clone());
        }
        Ok(verified)
    }
}

/// A refresh response over the previous token set: present values win, absent ones are
/// kept (refresh token, launch context, id_token).
pub(super) fn merge(old: TokenResponse, new: TokenResponse) -> TokenResponse {
    let mut extra = old.extra;
    extra.extend(new.extra);
    TokenResponse {
        access_token: new.access_token,
        token_type: new.token_type,
        expires_in: new.expires_in,
        scope: new.scope.or(old.scope),
        refresh_token: new.refresh_token.or(old.refresh_token),
        id_token: new.id_token.or(old.id_token),
        patient: new.patient.or(old.patient),
        encounter: new.encounter.or(old.encounter),
        fhir_context: if new.fhir_context.is_empty() {
            old.fhir_context
        } else {
            new.fhir_context
        },
        need_patient_banner: new.need_patient_banner.or(old.need_patient_banner),
        smart_style_url: new.smart_style_url.or(old.smart_style_url),
        intent: new.intent.or(old.intent),
        tenant: new.tenant.or(old.tenant),
        authorization_details: new.authorization_details.or(old.authorization_details),
        extra,
    }
}

/// One async lock per store key, shared by every client in the process, so two clients on
/// one store never renew the same token set at the same time.
static RENEWAL_LOCKS: LazyLock<Mutex<HashMap<StoreKey, Weak<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(Mutex::default);

pub(super) fn renewal_lock(key: &StoreKey) -> Arc<tokio::sync::Mutex<()>> {
    let mut locks = RENEWAL_LOCKS.lock().unwrap_or_else(PoisonError::into_inner);
    locks.retain(|_, lock| lock.strong_count() > 0);
    if let Some(lock) = locks.get(key).and_then(Weak::upgrade) {
        return lock;
    }
    let lock = Arc::new(tokio::sync::Mutex::new(()));
    locks.insert(key.clone(), Arc::downgrade(&lock));
    lock
}
