use super::*;

fn request_parts() -> (Method, Url) {
    (
        Method::GET,
        Url::parse("https://fhir.example/r4/Patient/1").unwrap(),
    )
}

#[tokio::test]
async fn bearer_token_sends_a_sensitive_bearer_header() {
    let (method, url) = request_parts();
    let auth = BearerToken::new("s3cr3t-token").unwrap();
    let header = auth
        .authorization(AuthRequest::new(&method, &url))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(header.to_str().unwrap(), "Bearer s3cr3t-token");
    assert!(header.is_sensitive());
    assert!(!format!("{auth:?}").contains("s3cr3t"));
    assert!(!format!("{header:?}").contains("s3cr3t"));
}

#[tokio::test]
async fn basic_auth_encodes_user_and_password() {
    let (method, url) = request_parts();
    // The SMART spec's vector: my-app / my-app-secret-123.
    let auth = BasicAuth::new("my-app", "my-app-secret-123").unwrap();
    let header = auth
        .authorization(AuthRequest::new(&method, &url))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        header.to_str().unwrap(),
        "Basic bXktYXBwOm15LWFwcC1zZWNyZXQtMTIz"
    );
    assert!(!format!("{auth:?}").contains("secret-123"));
}

#[test]
fn basic_auth_rejects_a_colon_in_the_user_name() {
    assert!(BasicAuth::new("a:b", "pw").is_err());
}

#[test]
fn bearer_token_rejects_line_breaks() {
    let err = BearerToken::new("abc\r\nX-Evil: 1").unwrap_err();
    assert!(!err.to_string().contains("abc"));
}

#[tokio::test]
async fn static_providers_do_not_ask_for_a_retry() {
    let (method, url) = request_parts();
    let auth = BearerToken::new("t").unwrap();
    let retry = auth
        .on_unauthorized(
            AuthRequest::new(&method, &url),
            Unauthorized {
                rejected: None,
                www_authenticate: None,
            },
        )
        .await
        .unwrap();
    assert!(!retry);
    let none = NoAuth
        .authorization(AuthRequest::new(&method, &url))
        .await
        .unwrap();
    assert!(none.is_none());
}

#[test]
fn fixed_credentials_are_at_hand_without_a_future() {
    let (method, url) = request_parts();
    let request = AuthRequest::new(&method, &url);
    let bearer = BearerToken::new("s3cr3t-token").unwrap();
    let header = bearer.cached_authorization(request).unwrap();
    assert_eq!(header.to_str().unwrap(), "Bearer s3cr3t-token");
    assert!(header.is_sensitive());
    let basic = BasicAuth::new("my-app", "my-app-secret-123").unwrap();
    assert!(basic.cached_authorization(request).unwrap().is_sensitive());
    // No header is not a cached answer: the client asks `authorization`, which says none.
    assert!(NoAuth.cached_authorization(request).is_none());
}
