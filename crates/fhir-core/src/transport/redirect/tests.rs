//! Unit tests of the redirect policy.

use super::*;
use http::HeaderValue;

fn hop(method: Method, url: &str, body: bool) -> Hop {
    Hop {
        method,
        url: Url::parse(url).unwrap(),
        body: body.then(|| Body::fhir_json(b"{}".to_vec())),
    }
}

fn location(value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::LOCATION, HeaderValue::from_str(value).unwrap());
    headers
}

fn follow(status: u16, current: &Hop, to: &str) -> Result<Hop, Refusal> {
    let origin = current.url.clone();
    next_hop(
        StatusCode::from_u16(status).unwrap(),
        &location(to),
        current,
        &origin,
        0,
        10,
    )
}

#[test]
fn relative_locations_resolve_against_the_current_url_without_fragment() {
    let current = hop(Method::GET, "https://h.example/r4/Patient?x=1", false);
    let next = follow(302, &current, "/r4/Patient/2#frag").unwrap();
    assert_eq!(next.url.as_str(), "https://h.example/r4/Patient/2");
    assert_eq!(next.method, Method::GET);
}

#[test]
fn https_to_http_and_other_schemes_are_refused() {
    let current = hop(Method::GET, "https://h.example/r4/Patient", false);
    assert_eq!(
        follow(301, &current, "http://h.example/r4/Patient").unwrap_err(),
        Refusal::Downgrade
    );
    assert_eq!(
        follow(301, &current, "file:///etc/passwd").unwrap_err(),
        Refusal::Scheme
    );
    assert_eq!(
        follow(301, &current, "http://[::1").unwrap_err(),
        Refusal::BadLocation
    );
}

#[test]
fn bodies_are_not_resent_to_another_origin() {
    let post = hop(Method::POST, "https://h.example/r4/Patient", true);
    for status in [307, 308] {
        assert_eq!(
            follow(status, &post, "https://other.example/r4/Patient").unwrap_err(),
            Refusal::BodyToOtherOrigin
        );
        let same = follow(status, &post, "/r4/other").unwrap();
        assert_eq!(same.method, Method::POST);
        assert!(same.body.is_some());
    }
    // 303 (and 301/302 for POST) drop the body and turn into GET, which may go anywhere.
    for status in [301, 302, 303] {
        let next = follow(status, &post, "https://other.example/x").unwrap();
        assert_eq!(next.method, Method::GET);
        assert!(next.body.is_none());
    }
    let put = hop(Method::PUT, "https://h.example/r4/Patient/1", true);
    assert_eq!(
        follow(302, &put, "https://other.example/r4/Patient/1").unwrap_err(),
        Refusal::BodyToOtherOrigin
    );
}

#[test]
fn hop_limits_apply() {
    let current = hop(Method::GET, "https://h.example/a", false);
    let headers = location("/b");
    let origin = current.url.clone();
    assert_eq!(
        next_hop(StatusCode::FOUND, &headers, &current, &origin, 0, 0).unwrap_err(),
        Refusal::Disabled
    );
    assert_eq!(
        next_hop(StatusCode::FOUND, &headers, &current, &origin, 3, 3).unwrap_err(),
        Refusal::TooMany
    );
    assert_eq!(
        next_hop(
            StatusCode::FOUND,
            &HeaderMap::new(),
            &current,
            &origin,
            0,
            3
        )
        .unwrap_err(),
        Refusal::BadLocation
    );
}
