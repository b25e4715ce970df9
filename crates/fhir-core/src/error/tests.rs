use http::HeaderMap;

use super::*;

#[test]
fn error_is_send_sync_and_one_pointer_wide() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Error>();
    assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
}

#[test]
fn urls_lose_credentials_and_secret_query_values() {
    let url = Url::parse("https://user:pw@h/fhir/Patient?access_token=abc&name=x&code=zz").unwrap();
    let clean = sanitize_url(&url);
    assert_eq!(
        clean.as_str(),
        "https://h/fhir/Patient?access_token=%5Bredacted%5D&name=x&code=%5Bredacted%5D"
    );
    let plain = Url::parse("https://h/fhir/Patient?name=x").unwrap();
    assert_eq!(sanitize_url(&plain), plain);
}

#[test]
fn status_errors_keep_the_operation_outcome() {
    let body = br#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","diagnostics":"Patient/9 is not known"}]}"#;
    let url = Url::parse("https://h/fhir/Patient/9").unwrap();
    let err = Error::from_status(StatusCode::NOT_FOUND, &HeaderMap::new(), body)
        .with_request(&Method::GET, &url);
    assert!(err.is_not_found());
    assert_eq!(err.kind(), ErrorKind::Status);
    let outcome = err.operation_outcome().unwrap();
    assert_eq!(outcome.issues()[0].code, "not-found");
    assert_eq!(err.body_excerpt(), None);
    assert_eq!(
        err.to_string(),
        "GET https://h/fhir/Patient/9: server answered 404 Not Found: Patient/9 is not known"
    );
}

#[test]
fn non_fhir_bodies_are_kept_as_a_bounded_excerpt() {
    let body = "é".repeat(400);
    let err = Error::from_status(StatusCode::BAD_GATEWAY, &HeaderMap::new(), body.as_bytes());
    let excerpt = err.body_excerpt().unwrap();
    assert!(excerpt.len() <= BODY_EXCERPT_LIMIT + '…'.len_utf8());
    assert!(excerpt.ends_with('…'));
    assert!(err.is_server_error());
    assert!(err.operation_outcome().is_none());
}

#[test]
fn www_authenticate_is_kept() {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::WWW_AUTHENTICATE,
        http::HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    let err = Error::from_status(StatusCode::UNAUTHORIZED, &headers, b"");
    assert!(err.is_unauthorized());
    assert_eq!(
        err.www_authenticate(),
        Some("Bearer error=\"invalid_token\"")
    );
}

#[test]
fn decode_errors_expose_the_path_and_chain_the_source() {
    let decode = crate::resource::DecodeError::new(
        crate::resource::DecodeErrorKind::InvalidType,
        "entry[2].resource",
        "expected an object",
    );
    let err = Error::decode(decode.clone());
    assert!(err.is_decode());
    assert_eq!(err.decode_error(), Some(&decode));
    let source = std::error::Error::source(&err).unwrap();
    assert!(source.to_string().contains("entry[2].resource"));
}
