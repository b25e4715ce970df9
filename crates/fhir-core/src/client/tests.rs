use super::*;

fn client(base: &str) -> Client {
    Client::new(base).unwrap()
}

#[test]
fn url_segments_are_percent_encoded() {
    let client = client("https://h/fhir/R4");
    assert_eq!(
        client.url_for(&["Patient", "a/b?c#d"]).as_str(),
        "https://h/fhir/R4/Patient/a%2Fb%3Fc%23d"
    );
    let client = self::client("https://h/fhir/R4/");
    assert_eq!(
        client.url_for(&["Patient", "1"]).as_str(),
        "https://h/fhir/R4/Patient/1"
    );
    assert_eq!(client.url_for(&[]).as_str(), "https://h/fhir/R4");
}

#[test]
fn credentials_stay_under_the_base_url() {
    let client = client("https://h:8443/fhir/R4");
    let under = |url: &str| client.is_under_base(&Url::parse(url).unwrap());
    assert!(under("https://h:8443/fhir/R4"));
    assert!(under("https://h:8443/fhir/R4/Patient?page=2"));
    assert!(
        !under("https://h:8443/fhir/R4x/Patient"),
        "a longer path is not under the base"
    );
    assert!(!under("https://h:8443/other/Patient"));
    assert!(!under("http://h:8443/fhir/R4/Patient"), "scheme differs");
    assert!(!under("https://h/fhir/R4/Patient"), "port differs");
    assert!(!under("https://evil.example/fhir/R4/Patient"));
    // Edges of the prefix fast path: the base's serialization followed by something else.
    assert!(under("https://h:8443/fhir/R4?_format=json"));
    assert!(under("https://h:8443/fhir/R4#top"));
    assert!(under("https://user@h:8443/fhir/R4/Patient"), "same origin");
    assert!(!under("https://h:8443/fhir/R4.evil/Patient"));

    let root = Client::new("https://h/").unwrap();
    let under_root = |url: &str| root.is_under_base(&Url::parse(url).unwrap());
    assert!(under_root("https://h/Patient/1"));
    assert!(under_root("https://h:443/Patient/1"), "the default port");
    assert!(!under_root("https://h.evil/Patient/1"));
    assert!(!under_root("https://h:8443/Patient/1"));
    let port_84 = Client::new("https://h:84").unwrap();
    let url = Url::parse("https://h:8443/Patient/1").unwrap();
    assert!(!port_84.is_under_base(&url), "a longer port");
}

#[test]
fn references_resolve_against_the_base() {
    let client = client("https://h/fhir/R4");
    assert_eq!(
        client.resolve("Patient/1").unwrap().as_str(),
        "https://h/fhir/R4/Patient/1"
    );
    assert_eq!(
        client
            .resolve("https://other/fhir/Patient/1")
            .unwrap()
            .as_str(),
        "https://other/fhir/Patient/1"
    );
    assert_eq!(
        client.resolve("?_getpages=x").unwrap().as_str(),
        "https://h/fhir/R4/?_getpages=x"
    );
}

#[test]
fn builder_rejects_unusable_base_urls() {
    for base in [
        "not a url",
        "ftp://h/fhir",
        "https://h/fhir?x=1",
        "mailto:a@b",
    ] {
        let err = Client::new(base).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidRequest, "{base}");
    }
    let err = Client::builder("https://h/fhir")
        .default_header("X-Bad", "a\nb")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("X-Bad"));
}

#[test]
fn debug_shows_configuration_not_secrets() {
    let client = Client::builder("https://h/fhir")
        .auth(crate::BearerToken::new("secret-token-value").unwrap())
        .build()
        .unwrap();
    let debug = format!("{client:?}");
    assert!(debug.contains("https://h/fhir"));
    assert!(!debug.contains("secret-token-value"));
}
