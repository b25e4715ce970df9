//! [`DiscoveryCache`]: results per base URL and strictness for a time-to-live, one discovery
//! in flight per base.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use url::Url;

use super::{SmartConfiguration, Strictness, discover};
use crate::Error;
use crate::http::HttpClient;

/// One cache entry: the last result and the lock that makes its discovery single-flight.
#[derive(Debug, Default)]
struct CacheSlot {
    value: Option<(Instant, SmartConfiguration)>,
    flight: Arc<tokio::sync::Mutex<()>>,
}

/// Discovery results cached per base URL and [`Strictness`] for a time-to-live, with a
/// forced refresh.
///
/// Concurrent lookups of one base wait for one discovery instead of each fetching the
/// document; lookups of other bases never wait for it (no lock is held across network I/O
/// except the per-base one).
#[derive(Debug)]
pub struct DiscoveryCache {
    ttl: Duration,
    entries: Mutex<HashMap<(String, Strictness), CacheSlot>>,
}

impl DiscoveryCache {
    /// A cache keeping results for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::default(),
        }
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<(String, Strictness), CacheSlot>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The fresh cached value for `key`, or the lock to hold while discovering it.
    fn lookup(
        &self,
        key: &(String, Strictness),
    ) -> Result<SmartConfiguration, Arc<tokio::sync::Mutex<()>>> {
        let mut entries = self.entries();
        let slot = entries.entry(key.clone()).or_default();
        match &slot.value {
            Some((at, config)) if at.elapsed() < self.ttl => Ok(config.clone()),
            _ => Err(Arc::clone(&slot.flight)),
        }
    }

    /// The configuration of `base`: cached while fresh, discovered otherwise.
    ///
    /// # Errors
    ///
    /// As [`discover`].
    pub async fn get(
        &self,
        http: &HttpClient,
        base: &Url,
        strictness: Strictness,
    ) -> Result<SmartConfiguration, Error> {
        let key = (base.to_string(), strictness);
        let flight = match self.lookup(&key) {
            Ok(config) => return Ok(config),
            Err(flight) => flight,
        };
        let _flight = flight.lock().await;
        // Another caller may have discovered it while this one waited.
        if let Ok(config) = self.lookup(&key) {
            return Ok(config);
        }
        let config = discover(http, base, strictness).await?;
        self.entries().entry(key).or_default().value = Some((Instant::now(), config.clone()));
        Ok(config)
    }

    /// Discovers `base` again, replacing any cached result.
    ///
    /// # Errors
    ///
    /// As [`discover`].
    pub async fn refresh(
        &self,
        http: &HttpClient,
        base: &Url,
        strictness: Strictness,
    ) -> Result<SmartConfiguration, Error> {
        if let Some(slot) = self.entries().get_mut(&(base.to_string(), strictness)) {
            slot.value = None;
        }
        self.get(http, base, strictness).await
    }
}
