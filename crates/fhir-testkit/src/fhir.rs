//! The FHIR API of the sandbox: token and scope checks, injected failures, metadata, and the
//! routing of each request to its interaction ([`interaction`]) or to batch / transaction
//! ([`bundle`]). Handlers build a [`Reply`], so one answer serves HTTP and Bundle entries.

// Handlers return early with a ready response; its size does not matter on this path.
#![allow(clippy::result_large_err)]

use std::time::Instant;

use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

use crate::scopes::allows;
use crate::state::{Injected, State};

mod bundle;
mod interaction;
mod reply;

use interaction::{Interaction, perform};
use reply::{Reply, ReplyBody};

pub(crate) const FHIR_JSON: &str = "application/fhir+json";

/// An OperationOutcome of one `error` issue, as an HTTP response.
pub(crate) fn outcome(status: u16, code: &str, diagnostics: &str) -> ResponseTemplate {
    Reply::outcome(status, code, diagnostics).into_template()
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
            "interaction": [{"code": "batch"}, {"code": "transaction"}],
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

/// Handles a request under `/fhir`; `segments` are the percent-decoded path segments after it.
pub(crate) fn handle(state: &mut State, request: &Request, segments: &[&str]) -> ResponseTemplate {
    let method = request.method.as_str();
    match segments {
        ["metadata"] if method == "GET" => {
            return Reply::fhir(200, capability_statement(state)).into_template();
        }
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
    answer(state, request, segments).into_template()
}

/// The interactions that need a token: CRUD, search, batch and transaction.
fn answer(state: &mut State, request: &Request, segments: &[&str]) -> Reply {
    let scope = match authenticate_reply(state, request) {
        Ok(scope) => scope,
        Err(reply) => return reply,
    };
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let interaction = Interaction {
        method: request.method.as_str().to_owned(),
        segments: segments
            .iter()
            .map(|segment| (*segment).to_owned())
            .collect(),
        query: request
            .url
            .query_pairs()
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect(),
        body: request.body.clone(),
        if_match: header("if-match"),
        if_none_exist: header("if-none-exist"),
        prefer: header("prefer"),
        assigned_id: None,
    };
    let is_bundle = interaction.method == "POST" && segments.is_empty();
    if !is_bundle {
        let Some(resource_type) = interaction.resource_type() else {
            return Reply::outcome(
                400,
                "not-supported",
                "system-level interactions other than batch and transaction are not supported \
                 by the sandbox",
            );
        };
        let permission = interaction.permission();
        if let Some(scope) = &scope
            && !allows(scope, resource_type, permission)
        {
            return forbidden_reply(&format!(
                "the granted scopes do not allow `{permission}` on {resource_type}"
            ));
        }
    }
    if let Some(failure) = state.next_failure() {
        return match failure {
            Injected::TooManyRequests { retry_after_secs } => {
                Reply::outcome(429, "throttled", "slow down")
                    .header("retry-after", retry_after_secs.to_string())
            }
            Injected::ServerError { status } => {
                Reply::outcome(status, "transient", "injected server error")
            }
            Injected::MalformedResponse => Reply {
                body: ReplyBody::Raw("{\"resourceType\": \"Bundle\", \"entry\": ["),
                ..Reply::empty(200)
            },
        };
    }
    if is_bundle {
        bundle::process(state, request, scope.as_deref())
    } else {
        perform(state, &interaction)
    }
}

/// Checks the bearer token: the scopes it grants, or `None` when the sandbox requires no
/// token.
pub(crate) fn authenticate(
    state: &State,
    request: &Request,
) -> Result<Option<String>, ResponseTemplate> {
    authenticate_reply(state, request).map_err(Reply::into_template)
}

fn authenticate_reply(state: &State, request: &Request) -> Result<Option<String>, Reply> {
    if !state.settings.require_auth {
        return Ok(None);
    }
    let unauthorized = |description: &str| {
        Reply::outcome(401, "login", description).header(
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
    forbidden_reply(diagnostics).into_template()
}

fn forbidden_reply(diagnostics: &str) -> Reply {
    Reply::outcome(403, "forbidden", diagnostics).header(
        "www-authenticate",
        "Bearer realm=\"sandbox\", error=\"insufficient_scope\"",
    )
}
