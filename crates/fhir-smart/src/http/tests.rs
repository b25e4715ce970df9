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
