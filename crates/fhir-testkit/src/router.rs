//! The two wiremock responders: the sandbox origin (OAuth, FHIR and Bulk Data handlers) and
//! the storage origin of signed export files.

use super::*;

/// Routes every request to the OAuth or FHIR handlers.
pub(super) struct Router {
    pub(super) state: Arc<Mutex<State>>,
}

impl Respond for Router {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let path = request.url.path().trim_start_matches('/').to_owned();
        let segments: Vec<&str> = path
            .split('/')
            .filter(|segment| !segment.is_empty())
            .collect();
        let method = request.method.as_str();
        let form = || -> Vec<(String, String)> {
            url::form_urlencoded::parse(&request.body)
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect()
        };
        match (method, segments.as_slice()) {
            (_, ["fhir", rest @ ..]) => {
                let decoded: Vec<String> =
                    rest.iter().map(|segment| percent_decode(segment)).collect();
                let decoded: Vec<&str> = decoded.iter().map(String::as_str).collect();
                fhir::handle(&mut state, request, &decoded)
            }
            ("GET", ["auth", "authorize"]) => {
                let query: Vec<(String, String)> = request
                    .url
                    .query_pairs()
                    .map(|(name, value)| (name.into_owned(), value.into_owned()))
                    .collect();
                oauth::authorize(&mut state, &query)
            }
            ("POST", ["auth", "authorize"]) => oauth::authorize(&mut state, &form()),
            ("POST", ["auth", "token"]) => {
                let authorization = request
                    .headers
                    .get("authorization")
                    .and_then(|value| value.to_str().ok());
                oauth::token(&mut state, &form(), authorization)
                    .set_delay(state.settings.token_latency)
            }
            ("GET", [files, job, file]) if *files == bulk::FILES_SEGMENT => {
                bulk::download(&mut state, request, job, file, bulk::FileOrigin::Fhir)
            }
            ("GET", ["auth", "jwks"]) => {
                ResponseTemplate::new(200).set_body_json(oauth::jwks(&mut state))
            }
            ("GET", ["auth", ".well-known", "openid-configuration"]) => {
                ResponseTemplate::new(200).set_body_json(oauth::openid_configuration(&state))
            }
            _ => fhir::outcome(404, "not-found", &format!("nothing at {method} /{path}")),
        }
    }
}

/// The storage origin: export files behind signed URLs, nothing else.
pub(super) struct StorageRouter {
    pub(super) state: Arc<Mutex<State>>,
}

impl Respond for StorageRouter {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let segments: Vec<&str> = request
            .url
            .path_segments()
            .map(|segments| segments.filter(|segment| !segment.is_empty()).collect())
            .unwrap_or_default();
        match (request.method.as_str(), segments.as_slice()) {
            ("GET", [files, job, file]) if *files == bulk::FILES_SEGMENT => {
                bulk::download(&mut state, request, job, file, bulk::FileOrigin::Storage)
            }
            _ => ResponseTemplate::new(404).set_body_raw("no such object", "text/plain"),
        }
    }
}

pub(super) fn percent_decode(segment: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map_or_else(|| segment.to_owned(), |(_, value)| value.into_owned())
}
