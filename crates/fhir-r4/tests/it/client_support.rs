//! Helpers of the typed client tests: a mock server whose unexpected requests fail loudly, the
//! requests it received, and R4 models from JSON.

use fhir_core::Client;
use serde_json::Value;
use wiremock::{MockServer, Request, ResponseTemplate};

/// A server whose unmatched requests get a 404 OperationOutcome naming the request.
pub(crate) async fn server() -> MockServer {
    fhir_testkit::mock::strict_server().await
}

/// The FHIR base URL of `server`.
pub(crate) fn base(server: &MockServer) -> String {
    format!("{}/fhir", server.uri())
}

/// A client for `server`.
pub(crate) fn client(server: &MockServer) -> Client {
    Client::new(&base(server)).unwrap()
}

/// A FHIR JSON response.
pub(crate) fn fhir_json(status: u16, body: &Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_raw(serde_json::to_vec(body).unwrap(), "application/fhir+json")
}

/// Every request `server` received, in order.
pub(crate) async fn received(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

/// The method, path and query of `request` (`GET /fhir/Patient/1/$everything?_count=2`).
pub(crate) fn line(request: &Request) -> String {
    match request.url.query() {
        Some(query) => format!("{} {}?{query}", request.method, request.url.path()),
        None => format!("{} {}", request.method, request.url.path()),
    }
}

/// The body of `request` as JSON.
pub(crate) fn json_body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

/// An R4 model decoded from JSON (strictly).
pub(crate) fn model<R: fhir_core::Resource>(json: Value) -> R {
    R::from_json_slice(&serde_json::to_vec(&json).unwrap()).unwrap()
}
