//! The FHIR API of the sandbox: token checks, injected failures, read / vread, search with
//! paging, create (with `If-None-Exist`), update (with `If-Match`), delete, metadata.

// Handlers return early with a ready response; its size does not matter on this path.
#![allow(clippy::result_large_err)]

use std::time::Instant;

use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

use crate::scopes::{allows, permission_for};
use crate::state::{Injected, State};

pub(crate) const FHIR_JSON: &str = "application/fhir+json";

fn fhir(status: u16, body: &Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_raw(serde_json::to_vec(body).unwrap_or_default(), FHIR_JSON)
}

pub(crate) fn outcome(status: u16, code: &str, diagnostics: &str) -> ResponseTemplate {
    fhir(
        status,
        &json!({"resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}]}),
    )
}

fn with_version(response: ResponseTemplate, resource: &Value) -> ResponseTemplate {
    let version = resource["meta"]["versionId"].as_str().unwrap_or("1");
    response.insert_header("etag", format!("W/\"{version}\""))
}

/// The CapabilityStatement, with the SMART `oauth-uris` extension for old-style discovery.
fn capability_statement(state: &State) -> Value {
    let root = &state.root;
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active", "kind": "instance", "fhirVersion": "4.0.1", "format": ["json"],
        "date": "2025-01-01",
        "rest": [{
            "mode": "server",
            "security": {
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR"}]}],
                "extension": [{
                    "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                    "extension": [
                        {"url": "authorize", "valueUri": format!("{root}/auth/authorize")},
                        {"url": "token", "valueUri": format!("{root}/auth/token")}
                    ]
                }]
            },
            "resource": (["Patient", "Encounter", "Observation", "Practitioner"].iter().map(|kind| json!({
                "type": kind,
                "interaction": [{"code": "read"}, {"code": "vread"}, {"code": "search-type"},
                                {"code": "create"}, {"code": "update"}, {"code": "delete"}]
            })).collect::<Vec<_>>())
        }]
    })
}

/// Handles a request under `/fhir`; `segments` are the path segments after it.
pub(crate) fn handle(state: &mut State, request: &Request, segments: &[&str]) -> ResponseTemplate {
    let method = request.method.as_str();
    match segments {
        ["metadata"] if method == "GET" => return fhir(200, &capability_statement(state)),
        [".well-known", "smart-configuration"] if method == "GET" => {
            return ResponseTemplate::new(200)
                .set_body_json(crate::oauth::smart_configuration(state));
        }
        ["$export"] | ["Patient", "$export"] | ["Group", _, "$export"] => {
            return crate::bulk::kick_off(state, request, segments);
        }
        [status, job] if *status == crate::bulk::STATUS_SEGMENT => {
            return crate::bulk::status(state, request, job);
        }
        _ => {}
    }
    let Some(resource_type) = segments.first().copied() else {
        return outcome(
            400,
            "not-supported",
            "system-level interactions are not supported by the sandbox",
        );
    };
    let is_instance = segments.len() >= 2 && segments.get(1) != Some(&"_search");
    if let Err(response) = authorize(
        state,
        request,
        resource_type,
        permission_for(method, is_instance),
    ) {
        return response;
    }
    if let Some(failure) = state.next_failure() {
        return match failure {
            Injected::TooManyRequests { retry_after_secs } => {
                outcome(429, "throttled", "slow down")
                    .insert_header("retry-after", retry_after_secs.to_string())
            }
            Injected::ServerError { status } => {
                outcome(status, "transient", "injected server error")
            }
            Injected::MalformedResponse => ResponseTemplate::new(200)
                .set_body_raw("{\"resourceType\": \"Bundle\", \"entry\": [", FHIR_JSON),
        };
    }
    let query: Vec<(String, String)> = request
        .url
        .query_pairs()
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    match (method, segments) {
        ("GET", [kind]) => search(state, kind, query),
        ("POST", [kind, "_search"]) => {
            let mut params = query;
            params.extend(
                url::form_urlencoded::parse(&request.body)
                    .map(|(name, value)| (name.into_owned(), value.into_owned())),
            );
            search(state, kind, params)
        }
        ("GET", [kind, id]) => read(state, kind, id, None),
        ("GET", [kind, id, "_history", version]) => read(state, kind, id, Some(version)),
        ("POST", [kind]) => create(state, request, kind),
        ("PUT", [kind, id]) => update(state, request, kind, id),
        ("DELETE", [kind, id]) => {
            state.store.delete(kind, id);
            ResponseTemplate::new(204)
        }
        _ => outcome(
            405,
            "not-supported",
            "this interaction is not supported by the sandbox",
        ),
    }
}

/// Checks the bearer token and its scopes.
fn authorize(
    state: &mut State,
    request: &Request,
    resource_type: &str,
    permission: char,
) -> Result<(), ResponseTemplate> {
    match authenticate(state, request)? {
        Some(scope) if !allows(&scope, resource_type, permission) => Err(forbidden(&format!(
            "the granted scopes do not allow `{permission}` on {resource_type}"
        ))),
        _ => Ok(()),
    }
}

/// Checks the bearer token: the scopes it grants, or `None` when the sandbox requires no
/// token.
pub(crate) fn authenticate(
    state: &State,
    request: &Request,
) -> Result<Option<String>, ResponseTemplate> {
    if !state.settings.require_auth {
        return Ok(None);
    }
    let unauthorized = |description: &str| {
        outcome(401, "login", description).insert_header(
            "www-authenticate",
            format!("Bearer realm=\"sandbox\", error=\"invalid_token\", error_description=\"{description}\""),
        )
    };
    let token = request
        .headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let Some(token) = token else {
        return Err(unauthorized("a bearer token is required"));
    };
    let Some(grant) = state.access_tokens.get(token) else {
        return Err(unauthorized("unknown access token"));
    };
    if grant.expires <= Instant::now() {
        return Err(unauthorized("the access token expired"));
    }
    Ok(Some(grant.scope.clone()))
}

/// 403 with the `insufficient_scope` challenge.
pub(crate) fn forbidden(diagnostics: &str) -> ResponseTemplate {
    outcome(403, "forbidden", diagnostics).insert_header(
        "www-authenticate",
        "Bearer realm=\"sandbox\", error=\"insufficient_scope\"",
    )
}

fn read(state: &State, kind: &str, id: &str, version: Option<&str>) -> ResponseTemplate {
    let found = match version {
        Some(version) => version
            .parse()
            .ok()
            .and_then(|version| state.store.version(kind, id, version)),
        None => state.store.current(kind, id),
    };
    match found {
        Some(version) => match &version.resource {
            Some(resource) => with_version(fhir(200, resource), resource),
            None => outcome(410, "deleted", &format!("{kind}/{id} was deleted")),
        },
        None => outcome(404, "not-found", &format!("{kind}/{id} is not known")),
    }
}

fn search(state: &State, kind: &str, params: Vec<(String, String)>) -> ResponseTemplate {
    let result = state.store.search(kind, &params);
    let base = state.fhir_base();
    let count: usize = params
        .iter()
        .find(|(name, _)| name == "_count")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(20);
    let offset: usize = params
        .iter()
        .find(|(name, _)| name == "_offset")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let link_for = |offset: usize| {
        let mut kept: Vec<(String, String)> = params
            .iter()
            .filter(|(name, _)| name != "_offset")
            .cloned()
            .collect();
        kept.push(("_offset".into(), offset.to_string()));
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(kept)
            .finish();
        format!("{base}/{kind}?{query}")
    };
    let mut links = vec![json!({"relation": "self", "url": link_for(offset)})];
    if count > 0 && offset + count < result.total {
        links.push(json!({"relation": "next", "url": link_for(offset + count)}));
    }
    let mut entries: Vec<Value> = result
        .matches
        .iter()
        .map(|resource| {
            json!({
                "fullUrl": format!("{base}/{kind}/{}", resource["id"].as_str().unwrap_or_default()),
                "resource": resource,
                "search": {"mode": "match"}
            })
        })
        .collect();
    if !result.ignored.is_empty() {
        entries.push(json!({
            "resource": {"resourceType": "OperationOutcome", "issue": [{
                "severity": "warning", "code": "not-supported",
                "diagnostics": format!("ignored search parameters: {}", result.ignored.join(", "))
            }]},
            "search": {"mode": "outcome"}
        }));
    }
    fhir(
        200,
        &json!({"resourceType": "Bundle", "type": "searchset", "total": result.total, "link": links, "entry": entries}),
    )
}

fn parse_body(request: &Request, kind: &str) -> Result<Value, ResponseTemplate> {
    let resource: Value = serde_json::from_slice(&request.body)
        .map_err(|err| outcome(400, "structure", &format!("the body is not JSON: {err}")))?;
    if resource["resourceType"].as_str() != Some(kind) {
        return Err(outcome(
            400,
            "invalid",
            &format!("the body is not a {kind}"),
        ));
    }
    Ok(resource)
}

fn write_response(
    request: &Request,
    status: u16,
    resource: &Value,
    base: &str,
) -> ResponseTemplate {
    let kind = resource["resourceType"].as_str().unwrap_or_default();
    let id = resource["id"].as_str().unwrap_or_default();
    let version = resource["meta"]["versionId"].as_str().unwrap_or("1");
    let prefer = request
        .headers
        .get("prefer")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let response = if prefer.contains("return=minimal") {
        ResponseTemplate::new(status)
    } else if prefer.contains("return=OperationOutcome") {
        fhir(
            status,
            &json!({"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational", "diagnostics": format!("{kind}/{id} stored")}]}),
        )
    } else {
        fhir(status, resource)
    };
    with_version(response, resource)
        .insert_header("location", format!("{base}/{kind}/{id}/_history/{version}"))
}

fn create(state: &mut State, request: &Request, kind: &str) -> ResponseTemplate {
    let mut resource = match parse_body(request, kind) {
        Ok(resource) => resource,
        Err(response) => return response,
    };
    if let Some(condition) = request
        .headers
        .get("if-none-exist")
        .and_then(|value| value.to_str().ok())
    {
        let params: Vec<(String, String)> =
            url::form_urlencoded::parse(condition.trim_start_matches('?').as_bytes())
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect();
        let found = state.store.search(kind, &params);
        match found.total {
            0 => {}
            1 => {
                let existing = found.matches[0].clone();
                return write_response(request, 200, &existing, &state.fhir_base());
            }
            _ => {
                return outcome(
                    412,
                    "duplicate",
                    "If-None-Exist matched more than one resource",
                );
            }
        }
    }
    if let Some(object) = resource.as_object_mut() {
        object.remove("id");
    }
    let stored = state.store.put(resource, None);
    write_response(request, 201, &stored, &state.fhir_base())
}

fn update(state: &mut State, request: &Request, kind: &str, id: &str) -> ResponseTemplate {
    let resource = match parse_body(request, kind) {
        Ok(resource) => resource,
        Err(response) => return response,
    };
    if resource["id"].as_str() != Some(id) {
        return outcome(400, "invalid", "the resource id must match the URL");
    }
    let current = state
        .store
        .current(kind, id)
        .filter(|version| version.resource.is_some());
    if let Some(expected) = request
        .headers
        .get("if-match")
        .and_then(|value| value.to_str().ok())
    {
        let current_etag = current.map(|version| format!("W/\"{}\"", version.version_id));
        if current_etag.as_deref() != Some(expected) {
            return outcome(
                412,
                "conflict",
                &format!("If-Match {expected} does not match the current version"),
            );
        }
    }
    let status = if current.is_some() { 200 } else { 201 };
    let stored = state.store.put(resource, Some(id.to_owned()));
    write_response(request, status, &stored, &state.fhir_base())
}
