//! The REST interactions on one resource type, whether they arrive as HTTP requests or as
//! entries of a batch or transaction: read / vread, search with paging, create (with
//! `If-None-Exist`), update (with `If-Match`), delete and conditional delete.

use serde_json::{Value, json};

use super::reply::{Reply, outcome_resource};
use crate::scopes::permission_for;
use crate::state::State;

/// One interaction: a method, the path after the base, and what conditions it.
#[derive(Debug, Default)]
pub(crate) struct Interaction {
    pub(crate) method: String,
    /// Percent-decoded path segments after the FHIR base (`["Patient", "1"]`).
    pub(crate) segments: Vec<String>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) if_match: Option<String>,
    pub(crate) if_none_exist: Option<String>,
    /// The `Prefer` header, as sent.
    pub(crate) prefer: Option<String>,
    /// The id a transaction assigned to this create before performing it, so that the other
    /// entries' references to its `urn:uuid:` could be rewritten first.
    pub(crate) assigned_id: Option<String>,
}

impl Interaction {
    /// The resource type the interaction is on, if its path names one.
    pub(crate) fn resource_type(&self) -> Option<&str> {
        self.segments.first().map(String::as_str)
    }

    /// Whether the interaction names one resource (read, update, delete) rather than a type.
    pub(crate) fn is_instance(&self) -> bool {
        self.segments.len() >= 2 && !self.is_search()
    }

    /// `Patient/7` for an update or delete: the resource it writes, named by the client.
    pub(crate) fn written_instance(&self) -> Option<String> {
        (self.method != "GET" && self.is_instance()).then(|| self.segments[..2].join("/"))
    }

    /// Whether the interaction is a search by `POST [type]/_search`.
    fn is_search(&self) -> bool {
        self.segments.get(1).map(String::as_str) == Some("_search")
    }

    /// The SMART v2 permission letter the interaction needs: a `POST _search` reads (`s`), it
    /// creates nothing.
    pub(crate) fn permission(&self) -> char {
        if self.is_search() {
            's'
        } else {
            permission_for(&self.method, self.is_instance())
        }
    }
}

/// Performs `interaction` on the store.
pub(crate) fn perform(state: &mut State, interaction: &Interaction) -> Reply {
    let segments: Vec<&str> = interaction.segments.iter().map(String::as_str).collect();
    match (interaction.method.as_str(), segments.as_slice()) {
        ("GET", [kind]) => search(state, kind, interaction.query.clone()),
        ("POST", [kind, "_search"]) => {
            let mut params = interaction.query.clone();
            params.extend(form_pairs(&interaction.body));
            search(state, kind, params)
        }
        ("GET", [kind, id]) => read(state, kind, id, None),
        ("GET", [kind, id, "_history", version]) => read(state, kind, id, Some(version)),
        ("POST", [kind]) => create(state, interaction, kind),
        ("PUT", [kind, id]) => update(state, interaction, kind, id),
        ("DELETE", [kind, id]) => {
            state.store.delete(kind, id);
            Reply::empty(204)
        }
        ("DELETE", [kind]) if !interaction.query.is_empty() => {
            conditional_delete(state, kind, &interaction.query)
        }
        _ => Reply::outcome(
            405,
            "not-supported",
            "this interaction is not supported by the sandbox",
        ),
    }
}

/// `name=value&…` pairs of a form or a query string.
pub(crate) fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(bytes)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

fn with_version(reply: Reply, resource: &Value) -> Reply {
    let version = resource["meta"]["versionId"].as_str().unwrap_or("1");
    let mut reply = reply.header("etag", format!("W/\"{version}\""));
    reply.last_updated = resource["meta"]["lastUpdated"].as_str().map(str::to_owned);
    reply
}

fn read(state: &State, kind: &str, id: &str, version: Option<&str>) -> Reply {
    let found = match version {
        Some(version) => version
            .parse()
            .ok()
            .and_then(|version| state.store.version(kind, id, version)),
        None => state.store.current(kind, id),
    };
    match found {
        Some(version) => match &version.resource {
            Some(resource) => with_version(Reply::fhir(200, resource.clone()), resource),
            None => Reply::outcome(410, "deleted", &format!("{kind}/{id} was deleted")),
        },
        None => Reply::outcome(404, "not-found", &format!("{kind}/{id} is not known")),
    }
}

fn search(state: &State, kind: &str, params: Vec<(String, String)>) -> Reply {
    let result = state.store.search(kind, &params);
    let base = state.fhir_base();
    let count = result.count;
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
    if count > 0 && offset.saturating_add(count) < result.total {
        links.push(json!({"relation": "next", "url": link_for(offset.saturating_add(count))}));
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
            "resource": outcome_resource(
                "warning",
                "not-supported",
                &format!("ignored search parameters: {}", result.ignored.join(", ")),
            ),
            "search": {"mode": "outcome"}
        }));
    }
    Reply::fhir(
        200,
        json!({"resourceType": "Bundle", "type": "searchset", "total": result.total, "link": links, "entry": entries}),
    )
}

fn parse_body(interaction: &Interaction, kind: &str) -> Result<Value, Reply> {
    let resource: Value = serde_json::from_slice(&interaction.body)
        .map_err(|err| Reply::outcome(400, "structure", &format!("the body is not JSON: {err}")))?;
    if resource["resourceType"].as_str() != Some(kind) {
        return Err(Reply::outcome(
            400,
            "invalid",
            &format!("the body is not a {kind}"),
        ));
    }
    Ok(resource)
}

/// The answer to a create or update: the resource, nothing, or an OperationOutcome, as
/// `Prefer: return=…` asks; with `ETag`, `Last-Modified` and `Location`.
pub(crate) fn write_response(
    interaction: &Interaction,
    status: u16,
    resource: &Value,
    base: &str,
) -> Reply {
    let kind = resource["resourceType"].as_str().unwrap_or_default();
    let id = resource["id"].as_str().unwrap_or_default();
    let version = resource["meta"]["versionId"].as_str().unwrap_or("1");
    let prefer = interaction.prefer.as_deref().unwrap_or_default();
    let reply = if prefer.contains("return=minimal") {
        Reply::empty(status)
    } else if prefer.contains("return=OperationOutcome") {
        Reply::fhir(
            status,
            outcome_resource(
                "information",
                "informational",
                &format!("{kind}/{id} stored"),
            ),
        )
    } else {
        Reply::fhir(status, resource.clone())
    };
    with_version(reply, resource)
        .header("location", format!("{base}/{kind}/{id}/_history/{version}"))
}

/// What an `If-None-Exist` condition finds: nothing (create), one resource (answer with it),
/// or an error.
pub(crate) fn if_none_exist(
    state: &State,
    kind: &str,
    condition: &str,
) -> Result<Option<Value>, Reply> {
    let params = form_pairs(condition.trim_start_matches('?').as_bytes());
    let found = state.store.search(kind, &params);
    match found.total {
        0 => Ok(None),
        1 => Ok(found.matches.into_iter().next()),
        _ => Err(Reply::outcome(
            412,
            "duplicate",
            "If-None-Exist matched more than one resource",
        )),
    }
}

fn create(state: &mut State, interaction: &Interaction, kind: &str) -> Reply {
    let mut resource = match parse_body(interaction, kind) {
        Ok(resource) => resource,
        Err(reply) => return reply,
    };
    if let Some(condition) = &interaction.if_none_exist {
        match if_none_exist(state, kind, condition) {
            Ok(None) => {}
            Ok(Some(existing)) => {
                return write_response(interaction, 200, &existing, &state.fhir_base());
            }
            Err(reply) => return reply,
        }
    }
    // The server names a created resource; an id in the body is ignored.
    if let Some(object) = resource.as_object_mut() {
        object.remove("id");
    }
    let stored = state.store.put(resource, interaction.assigned_id.clone());
    write_response(interaction, 201, &stored, &state.fhir_base())
}

fn update(state: &mut State, interaction: &Interaction, kind: &str, id: &str) -> Reply {
    let resource = match parse_body(interaction, kind) {
        Ok(resource) => resource,
        Err(reply) => return reply,
    };
    if resource["id"].as_str() != Some(id) {
        return Reply::outcome(400, "invalid", "the resource id must match the URL");
    }
    let current = state
        .store
        .current(kind, id)
        .filter(|version| version.resource.is_some());
    if let Some(expected) = &interaction.if_match {
        let current_etag = current.map(|version| format!("W/\"{}\"", version.version_id));
        if current_etag.as_deref() != Some(expected.as_str()) {
            return Reply::outcome(
                412,
                "conflict",
                &format!("If-Match {expected} does not match the current version"),
            );
        }
    }
    let status = if current.is_some() { 200 } else { 201 };
    let stored = state.store.put(resource, Some(id.to_owned()));
    write_response(interaction, status, &stored, &state.fhir_base())
}

/// `DELETE [type]?search`: deletes the one match; more than one is a 412, none a 204 (the
/// resource is already absent).
fn conditional_delete(state: &mut State, kind: &str, query: &[(String, String)]) -> Reply {
    let criteria: Vec<(String, String)> = query
        .iter()
        .filter(|(name, _)| name != "_count" && name != "_offset")
        .cloned()
        .collect();
    let found = state.store.search(kind, &criteria);
    if !found.ignored.is_empty() {
        return Reply::outcome(
            400,
            "not-supported",
            &format!(
                "a conditional delete cannot use unsupported parameters: {}",
                found.ignored.join(", ")
            ),
        );
    }
    match (found.total, found.matches.first()) {
        (0, _) | (_, None) => Reply::empty(204),
        (1, Some(only)) => {
            let id = only["id"].as_str().unwrap_or_default().to_owned();
            state.store.delete(kind, &id);
            Reply::empty(204)
        }
        _ => Reply::outcome(
            412,
            "multiple-matches",
            "the conditional delete matched more than one resource",
        ),
    }
}
