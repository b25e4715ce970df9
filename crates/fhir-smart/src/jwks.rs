//! The JWKS cache of [`IdTokenVerifier`](crate::id_token::IdTokenVerifier): per issuer, with
//! a lifetime and a rate limit on fetches.
//!
//! - Keys are trusted for the lifetime the JWKS response gives in `Cache-Control: max-age`
//!   (`no-store` / `no-cache` count as the minimum), else a default, always within
//!   `[min_ttl, max_ttl]`: a key the issuer removed stops being trusted at most `max_ttl`
//!   after it was fetched.
//! - An unknown `kid` triggers a refetch (the issuer may have rotated its keys) at most once
//!   per `min_refetch` window per issuer, whatever the number of tokens with made-up kids.
//! - A failed fetch is remembered for the same window: during an outage, or against a JWKS
//!   endpoint an attacker makes fail, verifications fail at once instead of each causing a
//!   request.
//! - Fetches are single-flight per issuer, and never hold a lock another issuer waits on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use jose_jwk::Jwk;
use serde_json::Value;
use url::Url;

use crate::Error;
use crate::http::HttpClient;

/// The least time between two fetches of one issuer's keys caused by unknown `kid`s or
/// after a failed fetch.
pub const DEFAULT_MIN_REFETCH: Duration = Duration::from_secs(30);
/// How long a JWKS is trusted when its response has no `Cache-Control: max-age`.
pub const DEFAULT_JWKS_TTL: Duration = Duration::from_secs(600);
/// The shortest lifetime given to a JWKS, whatever its `Cache-Control` says.
pub const MIN_JWKS_TTL: Duration = Duration::from_secs(60);
/// The longest lifetime given to a JWKS, whatever its `Cache-Control` says: a removed key is
/// trusted at most this long.
pub const MAX_JWKS_TTL: Duration = Duration::from_secs(3600);

fn invalid(reason: impl Into<String>) -> Error {
    Error::IdToken {
        reason: reason.into(),
    }
}

/// Lifetimes and the refetch rate limit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JwksPolicy {
    pub(crate) min_refetch: Duration,
    pub(crate) default_ttl: Duration,
    pub(crate) min_ttl: Duration,
    pub(crate) max_ttl: Duration,
}

impl Default for JwksPolicy {
    fn default() -> Self {
        Self {
            min_refetch: DEFAULT_MIN_REFETCH,
            default_ttl: DEFAULT_JWKS_TTL,
            min_ttl: MIN_JWKS_TTL,
            max_ttl: MAX_JWKS_TTL,
        }
    }
}

impl JwksPolicy {
    /// The lifetime of a JWKS response with this `Cache-Control`, within the bounds.
    pub(crate) fn ttl(&self, cache_control: Option<&str>) -> Duration {
        let mut ttl = None;
        for directive in cache_control.unwrap_or_default().split(',') {
            let directive = directive.trim().to_ascii_lowercase();
            if directive == "no-store" || directive == "no-cache" {
                ttl = Some(Duration::ZERO);
                break;
            }
            if let Some(seconds) = directive.strip_prefix("max-age=")
                && let Ok(seconds) = seconds.trim_matches('"').parse::<u64>()
            {
                ttl = Some(Duration::from_secs(seconds));
            }
        }
        let max = self.max_ttl.max(self.min_ttl);
        ttl.unwrap_or(self.default_ttl).clamp(self.min_ttl, max)
    }
}

/// Keys handed to a verification.
pub(crate) struct Keys {
    pub(crate) keys: Arc<Vec<Jwk>>,
    pub(crate) generation: u64,
    /// Fetched by this call (so an unknown kid is not worth another fetch).
    pub(crate) fresh: bool,
}

#[derive(Debug, Default)]
struct Slot {
    keys: Option<Arc<Vec<Jwk>>>,
    /// Bumped on every successful fetch, so a caller can ask for keys newer than it saw.
    generation: u64,
    /// Until when the keys are trusted.
    expires: Option<Instant>,
    /// The last fetch attempt, successful or not: the start of the rate-limit window.
    last_attempt: Option<Instant>,
    /// Why the last attempt failed, while it is within the window.
    last_error: Option<String>,
    flight: Arc<tokio::sync::Mutex<()>>,
}

/// What a caller may do with a slot now.
enum Decision {
    Use(Keys),
    Fail(String),
    Fetch(Arc<tokio::sync::Mutex<()>>),
}

/// JWKS documents per issuer.
#[derive(Debug, Default)]
pub(crate) struct JwksCache {
    slots: Mutex<HashMap<String, Slot>>,
}

impl JwksCache {
    fn slots(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn decide(
        &self,
        issuer: &str,
        stale: Option<u64>,
        now: Instant,
        policy: &JwksPolicy,
    ) -> Decision {
        let mut slots = self.slots();
        let slot = slots.entry(issuer.to_owned()).or_default();
        let in_window = slot
            .last_attempt
            .is_some_and(|at| now.saturating_duration_since(at) < policy.min_refetch);
        let live = slot.expires.is_some_and(|expires| now < expires);
        match &slot.keys {
            Some(keys) if live && (stale != Some(slot.generation) || in_window) => {
                Decision::Use(Keys {
                    keys: Arc::clone(keys),
                    generation: slot.generation,
                    fresh: false,
                })
            }
            _ => match &slot.last_error {
                Some(reason) if in_window => Decision::Fail(reason.clone()),
                _ => Decision::Fetch(Arc::clone(&slot.flight)),
            },
        }
    }

    /// The keys of `issuer` at `now`: cached while live, else fetched once however many
    /// callers wait. `stale` is the generation a caller saw and found no key for.
    pub(crate) async fn keys(
        &self,
        http: &HttpClient,
        issuer: &str,
        stale: Option<u64>,
        now: Instant,
        policy: &JwksPolicy,
    ) -> Result<Keys, Error> {
        let flight = match self.decide(issuer, stale, now, policy) {
            Decision::Use(keys) => return Ok(keys),
            Decision::Fail(reason) => return Err(invalid(reason)),
            Decision::Fetch(flight) => flight,
        };
        let _flight = flight.lock().await;
        // Another caller may have fetched (or failed) while this one waited.
        match self.decide(issuer, stale, now, policy) {
            Decision::Use(keys) => return Ok(keys),
            Decision::Fail(reason) => return Err(invalid(reason)),
            Decision::Fetch(_) => {}
        }
        let fetched = fetch(http, issuer).await;
        let mut slots = self.slots();
        let slot = slots.entry(issuer.to_owned()).or_default();
        slot.last_attempt = Some(now);
        match fetched {
            Ok((keys, cache_control)) => {
                let keys = Arc::new(keys);
                slot.keys = Some(Arc::clone(&keys));
                slot.generation = slot.generation.wrapping_add(1);
                slot.expires = Some(now + policy.ttl(cache_control.as_deref()));
                slot.last_error = None;
                Ok(Keys {
                    keys,
                    generation: slot.generation,
                    fresh: true,
                })
            }
            Err(err) => {
                let reason = match &err {
                    Error::IdToken { reason } => reason.clone(),
                    other => format!("the issuer's keys could not be fetched: {other}"),
                };
                slot.last_error = Some(reason);
                if slot.expires.is_none_or(|expires| now >= expires) {
                    // Expired keys are never used again, even when the refetch fails.
                    slot.keys = None;
                }
                Err(err)
            }
        }
    }
}

/// GETs `{issuer}/.well-known/openid-configuration`, then its `jwks_uri`; returns the usable
/// keys and the JWKS response's `Cache-Control`.
async fn fetch(http: &HttpClient, issuer: &str) -> Result<(Vec<Jwk>, Option<String>), Error> {
    let base = Url::parse(issuer).map_err(|_| invalid("`iss` is not a URL"))?;
    let config_url = Url::parse(&format!(
        "{}/.well-known/openid-configuration",
        base.as_str().trim_end_matches('/')
    ))
    .map_err(|_| invalid("cannot build the OpenID configuration URL"))?;
    let response = http.get(&config_url, "application/json").await?;
    if !response.is_success() {
        return Err(invalid(format!(
            "the OpenID configuration answered HTTP {}",
            response.status
        )));
    }
    let config: Value = serde_json::from_slice(&response.body)
        .map_err(|_| invalid("the OpenID configuration is not JSON"))?;
    if config.get("issuer").and_then(Value::as_str) != Some(issuer) {
        return Err(invalid(
            "the OpenID configuration `issuer` differs from the token `iss`",
        ));
    }
    let jwks_uri = config
        .get("jwks_uri")
        .and_then(Value::as_str)
        .and_then(|u| Url::parse(u).ok())
        .ok_or_else(|| invalid("the OpenID configuration has no valid `jwks_uri`"))?;
    let response = http.get(&jwks_uri, "application/json").await?;
    if !response.is_success() {
        return Err(invalid(format!(
            "the JWKS answered HTTP {}",
            response.status
        )));
    }
    let jwks: Value =
        serde_json::from_slice(&response.body).map_err(|_| invalid("the JWKS is not JSON"))?;
    // One unusable key must not hide the others.
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|key| serde_json::from_value(key.clone()).ok())
        .collect();
    Ok((keys, response.cache_control))
}
