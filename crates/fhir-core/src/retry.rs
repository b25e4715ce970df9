//! When and how long to wait before retrying: [`RetryPolicy`], `Retry-After` parsing and the
//! injectable [`Timer`].
//!
//! Which requests may be retried at all is decided by the transport: idempotent requests on
//! 429, 503 and connection failures; any request on 429 or when the connection could not be
//! opened (the server never saw it).

use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use http::HeaderMap;
use rand::Rng as _;

use crate::auth::BoxFuture;

/// How often and how long the client retries a request.
///
/// The default retries up to 3 times, with exponential backoff from 250 ms up to 10 s and full
/// jitter, and honours a server's `Retry-After` of up to 60 s (a longer wait ends the retries and
/// reports the error, with [`Error::retry_after`](crate::Error::retry_after) set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The number of retries after the first attempt.
    #[must_use]
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// The first backoff delay; each retry doubles it.
    #[must_use]
    pub fn initial_backoff(mut self, delay: Duration) -> Self {
        self.initial_backoff = delay;
        self
    }

    /// The longest backoff delay.
    #[must_use]
    pub fn max_backoff(mut self, delay: Duration) -> Self {
        self.max_backoff = delay;
        self
    }

    /// The longest `Retry-After` the client waits for; a longer one ends the retries.
    #[must_use]
    pub fn max_retry_after(mut self, delay: Duration) -> Self {
        self.max_retry_after = delay;
        self
    }

    /// Whether backoff delays are randomized (full jitter). On by default, so that many clients
    /// failing together do not retry together.
    #[must_use]
    pub fn jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// The configured number of retries.
    pub fn retries(&self) -> u32 {
        self.max_retries
    }

    /// The delay before retry number `retry` (0-based) without server guidance.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exponential = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(retry.min(31)));
        let capped = exponential.min(self.max_backoff);
        if self.jitter && !capped.is_zero() {
            let nanos = u64::try_from(capped.as_nanos()).unwrap_or(u64::MAX);
            Duration::from_nanos(rand::thread_rng().gen_range(0..=nanos))
        } else {
            capped
        }
    }

    /// The delay before retry number `retry`, given the server's `Retry-After`, or `None` when the
    /// server asked for a longer wait than [`max_retry_after`](Self::max_retry_after).
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Option<Duration> {
        match retry_after {
            Some(wait) if wait > self.max_retry_after => None,
            Some(wait) => Some(wait),
            None => Some(self.backoff(retry)),
        }
    }
}

/// Parses `Retry-After` (RFC 9110 §10.2.3): delay seconds or an HTTP date, relative to `now`.
///
/// A date in the past means "now" (zero). Malformed values are ignored (`None`).
pub fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The clock and sleep the client uses, injectable so that tests never wait.
pub trait Timer: fmt::Debug + Send + Sync {
    /// The current wall-clock time (used to interpret `Retry-After` dates).
    fn now(&self) -> SystemTime;

    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;

    /// The monotonic clock the call deadline is measured on
    /// ([`ClientBuilder::deadline`](crate::ClientBuilder::deadline)). The default is the
    /// real one; a test timer that does not sleep advances its own by each sleep, so that
    /// retry waits count against the deadline without taking time.
    fn monotonic(&self) -> Instant {
        Instant::now()
    }
}

/// The real clock and `tokio::time::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTimer;

impl Timer for TokioTimer {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

#[cfg(test)]
mod tests;
