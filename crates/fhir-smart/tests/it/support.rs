//! Shared helpers: a mock token endpoint that verifies client assertions with the published
//! JWKS (through the independent `jsonwebtoken` implementation), and FHIR mocks.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fhir_smart::HttpClient;
use fhir_smart::keys::{SigningKey, public_jwks_json};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A server whose unmatched requests get a 404 naming the request (the workspace's one
/// catch-all, from fhir-testkit).
pub(crate) async fn server() -> MockServer {
    fhir_testkit::mock::strict_server().await
}

pub(crate) fn http() -> HttpClient {
    HttpClient::new().allow_loopback_http(true)
}

pub(crate) fn fhir_base(server: &MockServer) -> url::Url {
    url::Url::parse(&format!("{}/fhir", server.uri())).unwrap()
}

pub(crate) fn token_url(server: &MockServer) -> url::Url {
    url::Url::parse(&format!("{}/auth/token", server.uri())).unwrap()
}

pub(crate) fn form(request: &Request) -> HashMap<String, String> {
    url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Checks a `private_key_jwt` client assertion the way a SMART server does.
#[derive(Debug)]
pub(crate) struct AssertionCheck {
    jwks: jsonwebtoken::jwk::JwkSet,
    client_id: String,
    token_url: String,
    jtis: Mutex<HashSet<String>>,
}

impl AssertionCheck {
    /// Registers the public JWKS exported by `key`, as a server would at registration.
    pub(crate) fn new(key: &SigningKey, client_id: &str, token_url: &str) -> Self {
        Self {
            jwks: serde_json::from_str(&public_jwks_json([key]).unwrap()).unwrap(),
            client_id: client_id.to_owned(),
            token_url: token_url.to_owned(),
            jtis: Mutex::default(),
        }
    }

    pub(crate) fn verify(&self, form: &HashMap<String, String>) -> Result<(), String> {
        if form.get("client_assertion_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        {
            return Err("client_assertion_type".into());
        }
        if form.contains_key("client_secret") {
            return Err("client_secret sent with an assertion".into());
        }
        let jwt = form.get("client_assertion").ok_or("no client_assertion")?;
        let header = decode_header(jwt).map_err(|e| format!("header: {e}"))?;
        if header.typ.as_deref() != Some("JWT") {
            return Err("typ".into());
        }
        let kid = header.kid.ok_or("no kid")?;
        let jwk = self.jwks.find(&kid).ok_or("unknown kid")?;
        if !matches!(header.alg, Algorithm::ES384 | Algorithm::RS384) {
            return Err("alg".into());
        }
        let mut validation = Validation::new(header.alg);
        validation.set_audience(&[&self.token_url]);
        validation.set_issuer(&[&self.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        validation.leeway = 0;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("jwk: {e}"))?;
        let claims = decode::<Value>(jwt, &key, &validation)
            .map_err(|e| format!("signature or claims: {e}"))?
            .claims;
        if claims["sub"] != self.client_id.as_str() {
            return Err("sub".into());
        }
        if claims["aud"] != self.token_url.as_str() {
            return Err("aud is not exactly the token URL string".into());
        }
        let exp = claims["exp"].as_u64().ok_or("exp")?;
        if exp > now() + 300 {
            return Err("exp more than five minutes ahead".into());
        }
        let jti = claims["jti"].as_str().ok_or("no jti")?;
        if jti.len() < 22 {
            return Err("jti too short".into());
        }
        if !self.jtis.lock().unwrap().insert(jti.to_owned()) {
            return Err("jti reused".into());
        }
        Ok(())
    }
}

/// A `client_credentials` token endpoint: verifies each assertion, counts calls, and returns
/// `at-<n>` with the n-th lifetime of `lifetimes` (the last one repeats).
#[derive(Clone)]
pub(crate) struct BackendTokenEndpoint {
    pub(crate) check: Arc<AssertionCheck>,
    pub(crate) scope: String,
    pub(crate) lifetimes: Vec<u64>,
    pub(crate) delay: Duration,
    pub(crate) calls: Arc<AtomicUsize>,
    pub(crate) failures: Arc<Mutex<Vec<String>>>,
}

impl BackendTokenEndpoint {
    pub(crate) fn new(check: AssertionCheck, scope: &str, lifetimes: &[u64]) -> Self {
        Self {
            check: Arc::new(check),
            scope: scope.to_owned(),
            lifetimes: lifetimes.to_vec(),
            delay: Duration::ZERO,
            calls: Arc::default(),
            failures: Arc::default(),
        }
    }

    pub(crate) fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub(crate) fn failures(&self) -> Vec<String> {
        self.failures.lock().unwrap().clone()
    }
}

impl Respond for BackendTokenEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let form = form(request);
        let mut problems = Vec::new();
        if request
            .headers
            .get("content-type")
            .map(|v| v.to_str().unwrap())
            != Some("application/x-www-form-urlencoded")
        {
            problems.push("content-type".to_owned());
        }
        if request.headers.contains_key("authorization") {
            problems.push("Authorization header on a backend token request".to_owned());
        }
        if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
            problems.push(format!("grant_type {:?}", form.get("grant_type")));
        }
        if form.get("scope") != Some(&self.scope) {
            problems.push(format!("scope {:?}", form.get("scope")));
        }
        if form.contains_key("client_id") {
            problems.push("client_id sent".to_owned());
        }
        if let Err(problem) = self.check.verify(&form) {
            problems.push(problem);
        }
        if !problems.is_empty() {
            self.failures.lock().unwrap().extend(problems.clone());
            return ResponseTemplate::new(401).set_body_json(json!({
                "error": "invalid_client", "error_description": problems.join("; ")
            }));
        }
        let lifetime = self.lifetimes[(n - 1).min(self.lifetimes.len() - 1)];
        ResponseTemplate::new(200)
            .insert_header("cache-control", "no-store")
            .set_body_json(json!({
                "access_token": format!("at-{n}"),
                "token_type": "bearer",
                "expires_in": lifetime,
                "scope": self.scope,
            }))
            .set_delay(self.delay)
    }
}

/// A search-set Bundle with one Patient.
pub(crate) fn patient_bundle(id: &str) -> Value {
    json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"fullUrl": format!("Patient/{id}"), "resource": {"resourceType": "Patient", "id": id}, "search": {"mode": "match"}}]
    })
}

/// A `.well-known/smart-configuration` document for `server`.
pub(crate) fn smart_configuration(server: &MockServer) -> Value {
    json!({
        "issuer": server.uri(),
        "jwks_uri": format!("{}/auth/jwks", server.uri()),
        "authorization_endpoint": format!("{}/auth/authorize", server.uri()),
        "token_endpoint": format!("{}/auth/token", server.uri()),
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
        "token_endpoint_auth_signing_alg_values_supported": ["ES384", "RS384"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "scopes_supported": ["openid", "fhirUser", "launch", "launch/patient", "offline_access", "system/*.rs"],
        "response_types_supported": ["code"],
        "capabilities": ["launch-ehr", "launch-standalone", "authorize-post", "client-public",
            "client-confidential-symmetric", "client-confidential-asymmetric", "sso-openid-connect",
            "context-ehr-patient", "context-standalone-patient", "permission-offline",
            "permission-patient", "permission-user", "permission-v2"],
        "code_challenge_methods_supported": ["S256"]
    })
}

/// An OpenID issuer at `server` publishing `key` (RS256) as kid `idt`, and an RS256 signer.
pub(crate) async fn id_token_issuer(
    server: &MockServer,
    key: &SigningKey,
) -> impl Fn(&str, serde_json::Value) -> String + use<> {
    id_token_issuer_with_delay(server, key, Duration::ZERO).await
}

/// [`id_token_issuer`] whose JWKS answers after `delay`.
pub(crate) async fn id_token_issuer_with_delay(
    server: &MockServer,
    key: &SigningKey,
    delay: Duration,
) -> impl Fn(&str, serde_json::Value) -> String + use<> {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let mut jwk = serde_json::to_value(key.public_jwk()).unwrap();
    jwk["alg"] = json!("RS256");
    Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path(
            "/.well-known/openid-configuration",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": server.uri(), "jwks_uri": format!("{}/auth/jwks", server.uri())
        })))
        .mount(server)
        .await;
    Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/auth/jwks"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"keys": [jwk]}))
                .set_delay(delay),
        )
        .mount(server)
        .await;
    let issuer = server.uri();
    move |pem: &str, extra: serde_json::Value| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut claims = json!({"iss": issuer, "sub": "u", "aud": "app-1", "exp": now + 300,
            "iat": now, "fhirUser": "Practitioner/dr-1"});
        for (name, value) in extra.as_object().unwrap() {
            claims[name] = value.clone();
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(String::from("idt"));
        encode(
            &header,
            &claims,
            &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        )
        .unwrap()
    }
}
