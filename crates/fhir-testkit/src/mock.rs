//! A wiremock server for protocol tests that fails loudly: a request no mock matches gets a
//! 404 OperationOutcome naming it, so a wrong request shows up in the client's error instead
//! of as a silent empty match. fhir-core's and fhir-r4's integration tests use it.

use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// A started wiremock server whose unmatched requests get a 404 OperationOutcome whose
/// diagnostics are `unexpected request METHOD URL`. Mount the expected mocks on it as usual;
/// the catch-all has the lowest priority.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let server = fhir_testkit::mock::strict_server().await;
/// let client = fhir_core::Client::new(&format!("{}/fhir", server.uri())).unwrap();
/// let error = client.read_json("Patient", "1").send().await.unwrap_err();
/// assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
/// assert!(error.to_string().contains("unexpected request GET"));
/// # }
/// ```
pub async fn strict_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(|request: &Request| {
            ResponseTemplate::new(404).set_body_json(json!({
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "not-found",
                           "diagnostics": format!("unexpected request {} {}", request.method, request.url)}]
            }))
        })
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    server
}
