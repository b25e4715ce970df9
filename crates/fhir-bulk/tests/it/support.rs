//! Shared helpers: a mock server whose unmatched requests fail loudly, a timer that records
//! sleeps instead of sleeping, and an event recorder.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fhir_bulk::{BulkClient, BulkConfig, Event};
use fhir_core::auth::BoxFuture;
use fhir_core::retry::Timer;
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// The canary token: it must never appear in any output.
pub const TOKEN: &str = "canary-Zq7Xk2-access-token";

/// A server whose unmatched requests get a 418 OperationOutcome naming them: not
/// fhir-testkit's 404 catch-all, because a 404 for a file means "expired" to this crate and
/// would hide a wrong request behind a plausible error.
pub async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(|request: &Request| {
            ResponseTemplate::new(418).set_body_json(json!({
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "not-supported",
                           "diagnostics": format!("unexpected request {} {}", request.method, request.url)}]
            }))
        })
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    server
}

pub fn base(server: &MockServer) -> String {
    format!("{}/fhir", server.uri())
}

/// A timer that records each sleep and returns at once; its monotonic clock advances by the
/// sleeps so that time limits still work.
#[derive(Debug, Clone)]
pub struct FakeTimer {
    sleeps: Arc<Mutex<Vec<Duration>>>,
    start: Instant,
}

impl Default for FakeTimer {
    fn default() -> Self {
        Self {
            sleeps: Arc::default(),
            start: Instant::now(),
        }
    }
}

/// The fixed "now" of [`FakeTimer`]: 2024-01-01T00:00:00Z.
pub const NOW_SECS: u64 = 1_704_067_200;

impl FakeTimer {
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().unwrap().clone()
    }
}

impl Timer for FakeTimer {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW_SECS)
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        self.sleeps.lock().unwrap().push(duration);
        Box::pin(async {})
    }

    fn monotonic(&self) -> Instant {
        self.start + self.sleeps.lock().unwrap().iter().sum::<Duration>()
    }
}

/// Records events, as Debug text and values.
#[derive(Debug, Clone, Default)]
pub struct Events(Arc<Mutex<Vec<Event>>>);

impl Events {
    pub fn all(&self) -> Vec<Event> {
        self.0.lock().unwrap().clone()
    }
}

/// A fhir-core client for `server` with the canary token and a timer that never waits.
pub fn fhir_client(server: &MockServer, timer: &FakeTimer) -> fhir_core::Client {
    fhir_core::Client::builder(&base(server))
        .auth(fhir_core::BearerToken::new(TOKEN).unwrap())
        .timer(timer.clone())
        .build()
        .unwrap()
}

/// A bulk client for `server` with `config`, the fake timer and an event recorder.
pub fn bulk(server: &MockServer, config: BulkConfig) -> (BulkClient, FakeTimer, Events) {
    let timer = FakeTimer::default();
    let events = Events::default();
    let recorder = events.clone();
    let config = config
        .timer(timer.clone())
        .on_event(move |event| recorder.0.lock().unwrap().push(event.clone()));
    (
        BulkClient::with_config(fhir_client(server, &timer), config),
        timer,
        events,
    )
}

pub fn outcome(code: &str, diagnostics: &str) -> Value {
    json!({"resourceType": "OperationOutcome",
           "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}]})
}

/// Asserts that nothing in `text` holds the canary token.
pub fn assert_no_canary(text: &str) {
    assert!(!text.contains(TOKEN), "the token leaked: {text}");
    assert!(!text.contains("Zq7Xk2"), "part of the token leaked: {text}");
}

/// Answers with each template in turn, then repeats the last.
pub struct Sequence(Mutex<std::collections::VecDeque<ResponseTemplate>>);

pub fn sequence(templates: impl IntoIterator<Item = ResponseTemplate>) -> Sequence {
    Sequence(Mutex::new(templates.into_iter().collect()))
}

impl wiremock::Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut queue = self.0.lock().unwrap();
        if queue.len() > 1 {
            queue.pop_front().unwrap()
        } else {
            queue
                .front()
                .cloned()
                .unwrap_or_else(|| ResponseTemplate::new(500))
        }
    }
}

/// A minimal manifest with the given outputs (type, url, count).
pub fn manifest(requires_token: bool, outputs: &[(&str, &str, Option<u64>)]) -> Value {
    let output: Vec<Value> = outputs
        .iter()
        .map(|(kind, url, count)| match count {
            Some(count) => json!({"type": kind, "url": url, "count": count}),
            None => json!({"type": kind, "url": url}),
        })
        .collect();
    json!({"transactionTime": "2024-01-01T00:00:00Z", "request": "x",
           "requiresAccessToken": requires_token, "output": output, "error": []})
}
