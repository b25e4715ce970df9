//! Unit tests of the credential vocabulary.

use super::*;

fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

#[test]
fn under_base_needs_scheme_host_port_and_a_path_boundary() {
    let base = url("https://fhir.example.org/r4/");
    for inside in [
        "https://fhir.example.org/r4/Patient/1;version=2",
        "https://fhir.example.org/r4/Patient/a.b",
        "https://fhir.example.org/r4",
        "https://fhir.example.org/r4/",
        "https://fhir.example.org:443/r4/Patient/1?x=y#f",
        "https://FHIR.example.org/r4/Patient",
        "https://user:pw@fhir.example.org/r4/Patient",
    ] {
        assert!(is_under_base(&base, &url(inside)), "{inside}");
    }
    for outside in [
        "http://fhir.example.org/r4/Patient",
        "https://fhir.example.org:8443/r4/Patient",
        "https://fhir.example.org/r4x/Patient",
        "https://fhir.example.org/r/Patient",
        "https://fhir.example.org/",
        "https://fhir.example.org/r4/../admin",
        "https://fhir.example.org/r4/%2e%2e/admin",
        "https://fhir.example.org/r4/..;/admin",
        "https://fhir.example.org/r4/Patient/..;x=1/..;/admin",
        "https://fhir.example.org/r4/..%2Fadmin",
        "https://fhir.example.org/r4/..%2fadmin",
        "https://fhir.example.org/r4/%2E%2E%5Cadmin",
        "https://fhir.example.org/r4/a%5c..%5cadmin",
        "https://fhir.example.org.evil.test/r4/Patient",
        "https://evil.test/r4/Patient",
    ] {
        assert!(!is_under_base(&base, &url(outside)), "{outside}");
    }
    // A root base admits the whole origin.
    assert!(is_under_base(
        &url("https://h.example"),
        &url("https://h.example/anything")
    ));
}

#[test]
fn secret_names_are_case_and_dash_insensitive() {
    for name in [
        "access_token",
        "ACCESS_TOKEN",
        "Refresh_Token",
        "code",
        "client_secret",
        "Api-Key",
        "apikey",
        "sig",
        "Signature",
        "X-Amz-Signature",
        "x-amz-credential",
        "X-Goog-Signature",
        "password",
        "token",
        "key",
        "X-Api-Key",
        "x-auth-token",
        "Cookie",
        "Set-Cookie",
        "accessToken",
        "AccessToken",
        "IdToken",
        "RefreshToken",
        "clientSecret",
        "authToken",
        "sessionToken",
        "codeVerifier",
    ] {
        assert!(is_secret_name(name), "{name}");
    }
    for name in [
        "family",
        "_count",
        "state",
        "patient",
        "codes",
        "keyword",
        "x-request-id",
    ] {
        assert!(!is_secret_name(name), "{name}");
    }
}

#[test]
fn urls_lose_user_info_fragment_and_secret_values() {
    let cleaned = redact_url(&url(
        "https://u:p@h.example/f?Access_Token=a1&family=Doe&X-Amz-Signature=s1&sig=s2#code=c1",
    ));
    let text = cleaned.as_str();
    for secret in ["u:p", "a1", "s1", "s2", "c1", "#"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert!(text.contains("family=Doe"), "{text}");
    // Nothing to redact: the URL is unchanged.
    let plain = url("https://h.example/f?family=Doe");
    assert_eq!(redact_url(&plain), plain);
}

#[test]
fn text_loses_bearer_credentials_and_named_values() {
    let cases = [
        (
            "Authorization: Bearer abc.def-ghi",
            "Authorization: [redacted]",
        ),
        ("echo: Bearer abc.def-ghi", "echo: Bearer [redacted]"),
        ("authorization: bearer abc", "authorization: [redacted]"),
        ("Basic dXNlcjpwYXNz", "Basic [redacted]"),
        (
            r#"{"access_token":"t1","token_type":"Bearer"}"#,
            r#"{"access_token":"[redacted]","token_type":"Bearer"}"#,
        ),
        (
            r#"{"nested":{"refresh_token" : "r1"}}"#,
            r#"{"nested":{"refresh_token" : "[redacted]"}}"#,
        ),
        (
            "grant_type=refresh_token&refresh_token=r1&client_id=c",
            "grant_type=refresh_token&refresh_token=[redacted]&client_id=c",
        ),
        ("client_secret: s3cr3t\n", "client_secret: [redacted]\n"),
        (r#"{"code":"a\"b","x":1}"#, r#"{"code":"[redacted]","x":1}"#),
        ("no secrets here: family=Doe", "no secrets here: family=Doe"),
        (
            "Authorization: Negotiate YIIabc def\nnext: 1",
            "Authorization: [redacted]\nnext: 1",
        ),
        ("Cookie: a=1; session=XYZ\r\n", "Cookie: [redacted]\r\n"),
        (
            r#"{"access_token":["x","y"],"n":1}"#,
            r#"{"access_token":[redacted],"n":1}"#,
        ),
        (
            r#"{"password":{"v":"x}"},"n":1}"#,
            r#"{"password":[redacted],"n":1}"#,
        ),
        (
            r#""{\"access_token\":\"t9\",\"a\":1}""#,
            r#""{\"access_token\":\"[redacted]\",\"a\":1}""#,
        ),
        (
            "accessToken=t1&AccessToken=t2",
            "accessToken=[redacted]&AccessToken=[redacted]",
        ),
        ("Authorization=Bearer+abc123", "Authorization=[redacted]"),
        ("the code is broken", "the code is broken"),
    ];
    for (input, expected) in cases {
        assert_eq!(redact_text(input), expected, "{input}");
    }
}

#[test]
fn text_redaction_survives_any_input() {
    // Truncated, multi-byte and degenerate inputs neither panic nor leak.
    for input in [
        "Bearer",
        "Bearer ",
        "code=",
        "code:\"",
        "code:\"é\\",
        "é code=é token: \"ü\\\"x",
        "\"access_token\"",
        "access_token\"",
    ] {
        let _ = redact_text(input);
    }
    assert!(!redact_text("x code=é&y").contains('é'));
}

#[test]
fn known_values_are_masked_wherever_they_appear() {
    assert_eq!(
        redact_values(
            "<p>invalid grant r-secret-1 for you</p>",
            &["r-secret-1", "ab"]
        ),
        "<p>invalid grant [redacted] for you</p>"
    );
}
