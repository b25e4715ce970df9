//! Shared test helpers: a mock server with a catch-all, a timer that never waits, a typed test
//! resource, and request assertions.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fhir_core::retry::Timer;
use fhir_core::{Client, ClientBuilder, DecodeError, EncodeError, Resource, TypedResource};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wiremock::{MockServer, Request, ResponseTemplate};

/// A server whose unmatched requests get a 404 OperationOutcome naming the request, so a
/// wrong request fails loudly instead of matching nothing silently.
pub async fn server() -> MockServer {
    fhir_testkit::mock::strict_server().await
}

/// The base URL of the mock server's FHIR endpoint.
pub fn base(server: &MockServer) -> String {
    format!("{}/fhir", server.uri())
}

/// A client builder for `server` with a timer that records sleeps instead of sleeping.
pub fn builder(server: &MockServer, timer: &FakeTimer) -> ClientBuilder {
    Client::builder(&base(server)).timer(timer.clone())
}

/// A client for `server` that never waits.
pub fn client(server: &MockServer) -> Client {
    builder(server, &FakeTimer::default()).build().unwrap()
}

/// A timer that records each requested sleep and returns at once, with a fixed clock.
#[derive(Debug, Clone, Default)]
pub struct FakeTimer {
    sleeps: Arc<Mutex<Vec<Duration>>>,
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

    fn sleep(&self, duration: Duration) -> fhir_core::auth::BoxFuture<'static, ()> {
        self.sleeps.lock().unwrap().push(duration);
        Box::pin(async {})
    }
}

/// The requests `server` received, excluding none.
pub async fn received(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

/// The only request `server` received.
pub async fn only_request(server: &MockServer) -> Request {
    let mut requests = received(server).await;
    assert_eq!(
        requests.len(),
        1,
        "expected exactly one request, got {requests:?}"
    );
    requests.remove(0)
}

/// A header of `request` as text.
pub fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request
        .headers
        .get(name)
        .map(|value| value.to_str().unwrap())
}

/// The path and query of `request`'s URL.
pub fn path_and_query(request: &Request) -> String {
    match request.url.query() {
        Some(query) => format!("{}?{query}", request.url.path()),
        None => request.url.path().to_owned(),
    }
}

/// The body of `request` as JSON.
pub fn json_body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

/// A minimal typed resource, as a model crate would provide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patient {
    #[serde(rename = "resourceType")]
    pub resource_type: PatientTag,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// The only `resourceType` a [`Patient`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PatientTag {
    #[default]
    Patient,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    #[serde(rename = "versionId")]
    pub version_id: Option<String>,
}

impl Resource for Patient {
    fn resource_type(&self) -> Option<&str> {
        Some("Patient")
    }
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn version_id(&self) -> Option<&str> {
        self.meta
            .as_ref()
            .and_then(|meta| meta.version_id.as_deref())
    }
    fn from_json_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
        fhir_core::resource::decode_with_serde(bytes)
    }
    fn to_json_vec(&self) -> Result<Vec<u8>, EncodeError> {
        fhir_core::resource::encode_with_serde(self)
    }
}

impl TypedResource for Patient {
    const RESOURCE_TYPE: &'static str = "Patient";
}

/// A Patient as JSON.
pub fn patient_json(id: &str, version: &str) -> Value {
    json!({"resourceType": "Patient", "id": id, "meta": {"versionId": version}, "active": true})
}

/// An OperationOutcome with one issue.
pub fn outcome(code: &str, diagnostics: &str) -> Value {
    json!({"resourceType": "OperationOutcome",
           "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}]})
}

/// A searchset Bundle of Patients `ids`, with an optional `next` link and total.
pub fn searchset(ids: &[&str], next: Option<&str>, total: Option<u64>) -> Value {
    let mut bundle = json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": ids.iter().map(|id| json!({
            "fullUrl": format!("http://example/fhir/Patient/{id}"),
            "resource": patient_json(id, "1"),
            "search": {"mode": "match"}
        })).collect::<Vec<_>>(),
    });
    if let Some(next) = next {
        bundle["link"] = json!([{"relation": "next", "url": next}]);
    }
    if let Some(total) = total {
        bundle["total"] = json!(total);
    }
    bundle
}

/// A 200 response with a FHIR JSON body.
pub fn fhir_json(body: &Value) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_raw(serde_json::to_vec(body).unwrap(), "application/fhir+json")
}
