//! Everything the sandbox remembers: registered clients, codes, tokens, launches, the store,
//! queued failures and a log of token requests.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use crate::store::Store;
use crate::{ClientRegistration, TokenRequestRecord};

/// An authorization code waiting to be exchanged.
#[derive(Debug, Clone)]
pub(crate) struct PendingCode {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: String,
    pub(crate) scope: String,
    pub(crate) context: LaunchContext,
    pub(crate) nonce: Option<String>,
    pub(crate) issued: Instant,
    pub(crate) used: bool,
}

/// Launch context carried from the authorize step into tokens.
#[derive(Debug, Clone, Default)]
pub(crate) struct LaunchContext {
    pub(crate) patient: Option<String>,
    pub(crate) encounter: Option<String>,
}

/// What an access token grants.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) scope: String,
    pub(crate) expires: Instant,
}

/// A refresh token and the grant it renews. Rotation marks it used; a reuse revokes the family.
#[derive(Debug, Clone)]
pub(crate) struct RefreshGrant {
    pub(crate) client_id: String,
    pub(crate) scope: String,
    pub(crate) family: u64,
    pub(crate) used: bool,
}

/// Sandbox-wide settings.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) access_token_ttl: Duration,
    pub(crate) token_latency: Duration,
    pub(crate) require_auth: bool,
    pub(crate) default_patient: Option<String>,
}

/// The shared state behind the router.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) root: String,
    pub(crate) settings: Settings,
    pub(crate) store: Store,
    pub(crate) clients: BTreeMap<String, ClientRegistration>,
    pub(crate) codes: HashMap<String, PendingCode>,
    pub(crate) access_tokens: HashMap<String, Grant>,
    pub(crate) refresh_tokens: HashMap<String, RefreshGrant>,
    pub(crate) revoked_families: HashSet<u64>,
    pub(crate) next_family: u64,
    pub(crate) used_jtis: HashSet<String>,
    pub(crate) launches: HashMap<String, LaunchContext>,
    pub(crate) failures: VecDeque<QueuedFailure>,
    pub(crate) token_requests: Vec<TokenRequestRecord>,
    pub(crate) id_token_key: Option<crate::oauth::SigningKey>,
    pub(crate) export: crate::bulk::ExportState,
}

impl State {
    pub(crate) fn new(root: String, settings: Settings, store: Store) -> Self {
        Self {
            root,
            settings,
            store,
            clients: BTreeMap::new(),
            codes: HashMap::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            revoked_families: HashSet::new(),
            next_family: 0,
            used_jtis: HashSet::new(),
            launches: HashMap::new(),
            failures: VecDeque::new(),
            token_requests: Vec::new(),
            id_token_key: None,
            export: crate::bulk::ExportState::default(),
        }
    }

    pub(crate) fn fhir_base(&self) -> String {
        format!("{}/fhir", self.root)
    }

    pub(crate) fn token_endpoint(&self) -> String {
        format!("{}/auth/token", self.root)
    }

    pub(crate) fn issuer(&self) -> String {
        format!("{}/auth", self.root)
    }

    /// Takes the next queued failure for a FHIR request, if any.
    pub(crate) fn next_failure(&mut self) -> Option<Injected> {
        let queued = self.failures.front_mut()?;
        let injected = queued.injected;
        queued.remaining = queued.remaining.saturating_sub(1);
        if queued.remaining == 0 {
            self.failures.pop_front();
        }
        Some(injected)
    }
}

/// A failure answered instead of a FHIR response.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Injected {
    TooManyRequests { retry_after_secs: u64 },
    ServerError { status: u16 },
    MalformedResponse,
}

/// An injected failure and how many more requests get it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueuedFailure {
    pub(crate) injected: Injected,
    pub(crate) remaining: usize,
}

/// A random URL-safe token of 256 bits.
pub(crate) fn random_token() -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
