//! [`PendingAuthorizations`]: an in-memory keeper of the records between the authorize
//! redirect and the callback, bound to the user's session, expiring, and bounded in size.
//!
//! A web app calls [`insert`](PendingAuthorizations::insert) in its `/login` route with the
//! user's session id, and [`take`](PendingAuthorizations::take) in its `/callback` route with
//! the same session id. A record is keyed by its `state` and bound to the session: a callback
//! from another browser (login CSRF: an attacker's own `state` and code planted in a victim's
//! browser, or a victim's `state` replayed by an attacker) finds nothing, and neither consumes
//! nor cancels the record it names.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::Error;
use crate::launch::{Callback, DEFAULT_PENDING_TTL, PendingAuthorization};

/// How many pending authorizations a keeper holds by default.
pub const DEFAULT_PENDING_CAPACITY: usize = 10_000;

/// The session a record is bound to, kept as a digest: the keeper never holds the session
/// id itself (a credential of the app), and digests of equal length compare in constant time.
#[derive(Clone, Copy)]
struct SessionDigest([u8; 32]);

impl SessionDigest {
    fn of(session: &[u8]) -> Self {
        Self(Sha256::digest(session).into())
    }

    fn matches(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

struct Entry {
    pending: PendingAuthorization,
    session: SessionDigest,
    inserted: Instant,
    /// The insertion number, so a stale queue slot of a removed record is recognized.
    seq: u64,
}

#[derive(Default)]
struct Records {
    by_state: HashMap<String, Entry>,
    /// States in insertion order (so oldest first, and also soonest to expire, since every
    /// record has the same TTL); slots of records already taken are skipped lazily.
    order: VecDeque<(u64, String)>,
    next_seq: u64,
}

impl Records {
    fn remove_slot(&mut self, seq: u64, state: &str) {
        if self.by_state.get(state).is_some_and(|e| e.seq == seq) {
            self.by_state.remove(state);
        }
    }

    /// Drops expired records from the front of the queue.
    fn evict_expired(&mut self, now: Instant, ttl: Duration) {
        while let Some((seq, state)) = self.order.front() {
            let fresh = self
                .by_state
                .get(state.as_str())
                .filter(|e| e.seq == *seq)
                .is_some_and(|e| now.saturating_duration_since(e.inserted) < ttl);
            if fresh {
                break;
            }
            if let Some((seq, state)) = self.order.pop_front() {
                self.remove_slot(seq, &state);
            }
        }
    }

    /// Drops the oldest live record.
    fn evict_oldest(&mut self) {
        while let Some((seq, state)) = self.order.pop_front() {
            if self.by_state.get(&state).is_some_and(|e| e.seq == seq) {
                self.by_state.remove(&state);
                return;
            }
        }
    }

    /// Keeps the queue within a constant factor of the live records, so taken records
    /// never pile up in it.
    fn compact(&mut self) {
        if self.order.len() > 2 * self.by_state.len() + 16 {
            let by_state = &self.by_state;
            self.order
                .retain(|(seq, state)| by_state.get(state).is_some_and(|e| e.seq == *seq));
        }
    }
}

/// An in-memory keeper of [`PendingAuthorization`]s, keyed by state and bound to the
/// caller's session.
///
/// - **Bound to a session**: [`insert`](Self::insert) takes the app's session id (compared
///   as a SHA-256 digest, in constant time); [`take`](Self::take) returns a record only to
///   the same session. A callback with an unknown state, or with another session's state,
///   gets the same error and changes nothing.
/// - **Single use**: `take` removes the record, so a replayed callback finds nothing.
/// - **Expiring**: a record older than the TTL (default [`DEFAULT_PENDING_TTL`], 10 minutes)
///   is evicted and never returned.
/// - **Bounded**: at most `capacity` records (default [`DEFAULT_PENDING_CAPACITY`]). When
///   full, **the oldest record is evicted** to make room (a `warn` is logged). Refusing new
///   records instead would let a flood of `/login` requests lock every user out for a whole
///   TTL; evicting the oldest means a flood can at worst make a slow user's login fail (they
///   start again), memory stays bounded, and new logins always work. Apps exposed to such
///   floods should also rate-limit the route that begins authorizations.
///
/// Apps with several instances keep records in their shared session store instead (the
/// record is serializable) with the same rules: key by state, bind to the session, expire,
/// delete on use.
///
/// ```
/// use fhir_smart::PendingAuthorizations;
///
/// # fn demo(request: fhir_smart::AuthorizationRequest, session_id: &str, callback_url: &str)
/// #     -> Result<(), fhir_smart::Error> {
/// let pending = PendingAuthorizations::new();
/// // `/login`: keep the record of this browser's session.
/// pending.insert(session_id, request.pending)?;
/// // `/callback`: only this session gets it back, once.
/// let record = pending.take(session_id, callback_url)?;
/// # let _ = record;
/// # Ok(()) }
/// ```
pub struct PendingAuthorizations {
    records: Mutex<Records>,
    ttl: Duration,
    capacity: usize,
}

impl Default for PendingAuthorizations {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for PendingAuthorizations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingAuthorizations")
            .field("entries", &self.len())
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl PendingAuthorizations {
    /// An empty keeper with the default TTL (10 minutes) and capacity (10,000).
    pub fn new() -> Self {
        Self {
            records: Mutex::default(),
            ttl: DEFAULT_PENDING_TTL,
            capacity: DEFAULT_PENDING_CAPACITY,
        }
    }

    /// How long a record stays usable (default 10 minutes); older records are evicted.
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The most records kept (default 10,000, at least 1); when full, the oldest is evicted.
    #[must_use]
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    fn records(&self) -> MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many live records are held (expired ones not yet evicted included).
    pub fn len(&self) -> usize {
        self.records().by_state.len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps `pending` under its state, bound to `session` (the app's session id for the
    /// browser that will come back to the callback).
    ///
    /// Expired records are evicted first; when the keeper is still full, the oldest record
    /// is evicted. The same session may insert a record again (it replaces its own).
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] for an empty session id (it would bind nothing), or a state
    /// already pending for another session (replacing it would cancel that login).
    pub fn insert(
        &self,
        session: impl AsRef<[u8]>,
        pending: PendingAuthorization,
    ) -> Result<(), Error> {
        self.insert_at(Instant::now(), session.as_ref(), pending)
    }

    pub(crate) fn insert_at(
        &self,
        now: Instant,
        session: &[u8],
        pending: PendingAuthorization,
    ) -> Result<(), Error> {
        if session.is_empty() {
            return Err(Error::configuration(
                "session",
                "a pending authorization must be bound to a non-empty session id",
            ));
        }
        let digest = SessionDigest::of(session);
        let mut records = self.records();
        records.evict_expired(now, self.ttl);
        let state = pending.state().to_owned();
        if let Some(held) = records.by_state.get(&state)
            && !held.session.matches(&digest)
        {
            // Replacing it would cancel another session's login.
            return Err(Error::configuration(
                "state",
                "this state is pending for another session",
            ));
        }
        if !records.by_state.contains_key(&state) {
            let mut evicted = 0usize;
            while records.by_state.len() >= self.capacity {
                records.evict_oldest();
                evicted += 1;
            }
            if evicted > 0 {
                tracing::warn!(
                    capacity = self.capacity,
                    "the pending-authorization keeper is full; evicted the oldest record"
                );
            }
        }
        let seq = records.next_seq;
        records.next_seq = seq.wrapping_add(1);
        records.order.push_back((seq, state.clone()));
        records.by_state.insert(
            state,
            Entry {
                pending,
                session: digest,
                inserted: now,
                seq,
            },
        );
        records.compact();
        Ok(())
    }

    /// Removes and returns the record for the `state` of `callback_url`, if it is bound to
    /// `session` and has not expired.
    ///
    /// A callback with a state that is unknown, expired, already used or bound to another
    /// session gets the same error, and **no record is consumed or cancelled**: an attacker
    /// who knows (or plants) a state cannot use up another user's record.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCallback`] when the callback has no state, or no live record of this
    /// session matches it.
    pub fn take(
        &self,
        session: impl AsRef<[u8]>,
        callback_url: &str,
    ) -> Result<PendingAuthorization, Error> {
        self.take_at(Instant::now(), session.as_ref(), callback_url)
    }

    pub(crate) fn take_at(
        &self,
        now: Instant,
        session: &[u8],
        callback_url: &str,
    ) -> Result<PendingAuthorization, Error> {
        let callback = Callback::parse(callback_url)?;
        let state = callback
            .get("state")
            .ok_or_else(|| Error::callback("the callback has no state"))?;
        let digest = SessionDigest::of(session);
        let mut records = self.records();
        records.evict_expired(now, self.ttl);
        let Some(entry) = records.by_state.get(state) else {
            return Err(no_record());
        };
        // Checked before anything changes: a wrong session leaves the record in place.
        if !entry.session.matches(&digest) || !entry.pending.state_matches(state) {
            return Err(no_record());
        }
        let entry = records.by_state.remove(state).ok_or_else(no_record)?;
        records.compact();
        Ok(entry.pending)
    }
}

fn no_record() -> Error {
    Error::callback("no pending authorization of this session for this state")
}

#[cfg(test)]
mod tests;
