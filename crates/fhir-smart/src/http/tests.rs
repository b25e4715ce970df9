//! Tests for the `http` module.

use super::*;

fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

#[test]
fn plain_http_is_refused_by_default() {
    let http = HttpClient::new();
    assert!(http.check_url(&url("https://h/token")).is_ok());
    assert!(matches!(
        http.check_url(&url("http://127.0.0.1:8080/token")),
        Err(Error::InsecureUrl { .. })
    ));
}

#[test]
fn loopback_http_only_when_allowed() {
    let http = HttpClient::new().allow_loopback_http(true);
    for ok in [
        "http://127.0.0.1:1/t",
        "http://localhost/t",
        "http://[::1]:9/t",
        "http://127.1.2.3/t",
    ] {
        assert!(http.check_url(&url(ok)).is_ok(), "{ok}");
    }
    for bad in [
        "http://example.org/t",
        "http://10.0.0.1/t",
        "http://localhost.evil.org/t",
        "ftp://127.0.0.1/t",
    ] {
        assert!(http.check_url(&url(bad)).is_err(), "{bad}");
    }
}

#[test]
fn a_client_that_cannot_be_built_fails_requests_instead_of_panicking() {
    let bad = || reqwest::Client::builder().user_agent("bad\nagent");
    match HttpClient::from_builder(bad()) {
        Err(Error::Configuration { name, reason }) => {
            assert_eq!(name, "http");
            assert!(reason.contains("cannot be built"), "{reason}");
        }
        other => panic!("expected a configuration error, got {other:?}"),
    }
    // The infallible constructors keep the failure and report it on use.
    let http = HttpClient::from_built(bad().build());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let result = runtime.block_on(http.get(&url("https://h/x"), "application/json"));
    assert!(
        matches!(&result, Err(Error::Configuration { reason, .. }) if reason.contains("cannot be built")),
        "{result:?}"
    );
    assert!(HttpClient::try_new().is_ok());
}

#[test]
fn insecure_url_errors_carry_no_query_or_credentials() {
    let http = HttpClient::new();
    let err = http
        .check_url(&url(
            "http://user:pw@ehr.example.org/fhir/Patient?name=Jane%20Doe&birthdate=1970-01-01#x",
        ))
        .unwrap_err();
    let Error::InsecureUrl {
        url: refused,
        loopback,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(refused, "http://ehr.example.org/fhir/Patient");
    assert!(!loopback);
    assert!(!err.to_string().contains("allow_loopback_http"), "{err}");

    // A local test server: the message names the setting that allows it.
    let err = http
        .check_url(&url("http://127.0.0.1:8080/fhir"))
        .unwrap_err();
    assert!(
        matches!(err, Error::InsecureUrl { loopback: true, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("allow_loopback_http(true)"),
        "{err}"
    );
    let text = format!("{err} {err:?} {}", err.to_json());
    for leaked in ["Jane", "1970", "pw", "user", "#x"] {
        assert!(!text.contains(leaked), "{leaked} in {text}");
    }
}
