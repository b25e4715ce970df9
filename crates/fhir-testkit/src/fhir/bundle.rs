//! `batch` and `transaction`: a Bundle POSTed to the base.
//!
//! A batch performs each entry on its own, in order. A transaction is all or nothing: it
//! performs deletes, then creates, then updates, then reads (the order FHIR prescribes),
//! rewrites every reference to a create's `urn:uuid:` full URL into the id the sandbox
//! assigned, and on the first failing entry restores the store and answers that entry's status
//! with an OperationOutcome naming it. A resource may appear only once in a transaction.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};
use wiremock::Request;

use super::interaction::{Interaction, form_pairs, if_none_exist, perform, write_response};
use super::reply::{Reply, ReplyBody};
use crate::router::percent_decode;
use crate::scopes::allows;
use crate::state::State;

/// Whether entries stand alone or together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Batch,
    Transaction,
}

impl Kind {
    fn response_type(self) -> &'static str {
        match self {
            Self::Batch => "batch-response",
            Self::Transaction => "transaction-response",
        }
    }
}

/// One entry, read into an interaction; `Err` when the entry itself is malformed or refused.
struct Entry {
    full_url: Option<String>,
    /// `METHOD url`, for error messages.
    label: String,
    interaction: Result<Interaction, Reply>,
    /// The resource, while its references may still be rewritten.
    resource: Option<Value>,
}

/// Answers a Bundle POSTed to the base; `scope` is the token's (`None` when no token is
/// required).
pub(crate) fn process(state: &mut State, request: &Request, scope: Option<&str>) -> Reply {
    let bundle: Value = match serde_json::from_slice(&request.body) {
        Ok(bundle) => bundle,
        Err(err) => {
            return Reply::outcome(400, "structure", &format!("the body is not JSON: {err}"));
        }
    };
    if bundle["resourceType"].as_str() != Some("Bundle") {
        return Reply::outcome(
            400,
            "invalid",
            "a POST to the base must be a Bundle of type batch or transaction",
        );
    }
    let kind = match bundle["type"].as_str() {
        Some("batch") => Kind::Batch,
        Some("transaction") => Kind::Transaction,
        other => {
            return Reply::outcome(
                400,
                "invalid",
                &format!(
                    "a Bundle POSTed to the base must be of type batch or transaction, not {}",
                    other.unwrap_or("(none)")
                ),
            );
        }
    };
    let prefer = request
        .headers
        .get("prefer")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let base = state.fhir_base();
    let entries: Vec<Entry> = match &bundle["entry"] {
        Value::Null => Vec::new(),
        Value::Array(entries) => entries
            .iter()
            .map(|entry| read_entry(entry, &base, prefer.as_deref(), scope))
            .collect(),
        _ => return Reply::outcome(400, "structure", "Bundle.entry must be an array"),
    };
    let replies = match kind {
        Kind::Batch => entries
            .into_iter()
            .map(|entry| match entry.interaction {
                Ok(interaction) => perform(state, &with_body(interaction, entry.resource)),
                Err(reply) => reply,
            })
            .collect(),
        Kind::Transaction => match transaction(state, entries) {
            Ok(replies) => replies,
            Err(reply) => return reply,
        },
    };
    let entries: Vec<Value> = replies
        .into_iter()
        .map(|reply| response_entry(reply, &base))
        .collect();
    Reply::fhir(
        200,
        json!({"resourceType": "Bundle", "type": kind.response_type(), "entry": entries}),
    )
}

/// Reads `entry.request` (and `entry.resource`) into an interaction, checked against the
/// token's scopes.
fn read_entry(entry: &Value, base: &str, prefer: Option<&str>, scope: Option<&str>) -> Entry {
    let method = entry["request"]["method"].as_str().unwrap_or_default();
    let url = entry["request"]["url"].as_str().unwrap_or_default();
    let label = format!("{method} {url}");
    let full_url = entry["fullUrl"].as_str().map(str::to_owned);
    let resource = entry.get("resource").cloned();
    let interaction = interaction_for(entry, method, url, base, prefer).and_then(|interaction| {
        check_scope(&interaction, scope)?;
        Ok(interaction)
    });
    Entry {
        full_url,
        label,
        interaction,
        resource,
    }
}

fn interaction_for(
    entry: &Value,
    method: &str,
    url: &str,
    base: &str,
    prefer: Option<&str>,
) -> Result<Interaction, Reply> {
    if !matches!(method, "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE") {
        return Err(Reply::outcome(
            400,
            "structure",
            "entry.request.method must be GET, HEAD, POST, PUT, PATCH or DELETE",
        ));
    }
    if url.is_empty() {
        return Err(Reply::outcome(
            400,
            "structure",
            "entry.request.url is missing",
        ));
    }
    // Relative to the base, or absolute under it.
    let relative = match url.strip_prefix(base) {
        Some(rest) => rest.trim_start_matches('/'),
        None if url.contains("://") => {
            return Err(Reply::outcome(
                400,
                "not-supported",
                &format!("entry.request.url {url} is not on this server"),
            ));
        }
        None => url.trim_start_matches('/'),
    };
    let (path, query) = relative.split_once('?').unwrap_or((relative, ""));
    let text = |name: &str| entry["request"][name].as_str().map(str::to_owned);
    Ok(Interaction {
        method: method.to_owned(),
        segments: path
            .split('/')
            .filter(|segment| !segment.is_empty())
            .map(percent_decode)
            .collect(),
        query: form_pairs(query.as_bytes()),
        body: Vec::new(),
        if_match: text("ifMatch"),
        if_none_exist: text("ifNoneExist"),
        prefer: prefer.map(str::to_owned),
        assigned_id: None,
    })
}

/// 403 unless the token's scopes allow the interaction.
fn check_scope(interaction: &Interaction, scope: Option<&str>) -> Result<(), Reply> {
    let (Some(scope), Some(resource_type)) = (scope, interaction.resource_type()) else {
        return Ok(());
    };
    let permission = interaction.permission();
    if allows(scope, resource_type, permission) {
        Ok(())
    } else {
        Err(super::forbidden_reply(&format!(
            "the granted scopes do not allow `{permission}` on {resource_type}"
        )))
    }
}

fn with_body(mut interaction: Interaction, resource: Option<Value>) -> Interaction {
    if let Some(resource) = resource {
        interaction.body = serde_json::to_vec(&resource).unwrap_or_default();
    }
    interaction
}

/// The processing rank FHIR gives each method in a transaction.
fn rank(method: &str) -> u8 {
    match method {
        "DELETE" => 0,
        "POST" => 1,
        "PUT" | "PATCH" => 2,
        _ => 3,
    }
}

/// Performs a transaction's entries; on the first failure the store is restored and the
/// failure is the answer.
fn transaction(state: &mut State, mut entries: Vec<Entry>) -> Result<Vec<Reply>, Reply> {
    for (index, entry) in entries.iter().enumerate() {
        if let Err(reply) = &entry.interaction {
            return Err(failed(index, &entry.label, reply));
        }
    }
    check_identities(&entries)?;
    let saved = state.store.clone();
    let result = perform_in_order(state, &mut entries);
    if result.is_err() {
        state.store = saved;
    }
    result
}

/// A resource may appear once: two entries naming the same `Type/id`, or two with the same
/// `fullUrl`, make the transaction fail before anything is performed.
fn check_identities(entries: &[Entry]) -> Result<(), Reply> {
    let mut seen = BTreeSet::new();
    for (index, entry) in entries.iter().enumerate() {
        let Ok(interaction) = &entry.interaction else {
            continue;
        };
        let identity = if interaction.method == "POST" {
            entry.full_url.clone()
        } else {
            interaction.written_instance()
        };
        if let Some(identity) = identity
            && !seen.insert(identity.clone())
        {
            return Err(failed(
                index,
                &entry.label,
                &Reply::outcome(
                    400,
                    "duplicate",
                    &format!("{identity} appears more than once in the transaction"),
                ),
            ));
        }
    }
    Ok(())
}

fn perform_in_order(state: &mut State, entries: &mut [Entry]) -> Result<Vec<Reply>, Reply> {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|&index| {
        entries[index]
            .interaction
            .as_ref()
            .map_or(3, |interaction| rank(&interaction.method))
    });
    let mut replies: BTreeMap<usize, Reply> = BTreeMap::new();
    let mut assigned: BTreeMap<String, String> = BTreeMap::new();
    let mut names_assigned = false;
    for index in order {
        let method_rank = entries[index]
            .interaction
            .as_ref()
            .map_or(3, |interaction| rank(&interaction.method));
        if !names_assigned && method_rank >= 1 {
            // Deletes are done: name every create, then rewrite references to them.
            names_assigned = true;
            let answered = assign_names(state, entries, &mut assigned)?;
            replies.extend(answered);
            for entry in entries.iter_mut() {
                rewrite_entry(entry, &assigned);
            }
        }
        if replies.contains_key(&index) {
            continue;
        }
        let entry = &mut entries[index];
        let Ok(interaction) = &mut entry.interaction else {
            continue;
        };
        let interaction = std::mem::take(interaction);
        let reply = perform(state, &with_body(interaction, entry.resource.take()));
        if !reply.is_success() {
            return Err(failed(index, &entry.label, &reply));
        }
        replies.insert(index, reply);
    }
    Ok(replies.into_values().collect())
}

/// Gives every create its id before any is performed: a fresh one, or for a conditional create
/// that finds its resource, that resource's (the entry is answered at once, with 200). Returns
/// the answered entries.
fn assign_names(
    state: &mut State,
    entries: &mut [Entry],
    assigned: &mut BTreeMap<String, String>,
) -> Result<BTreeMap<usize, Reply>, Reply> {
    let mut answered = BTreeMap::new();
    let base = state.fhir_base();
    // `Patient/7` for every update or delete in the bundle: no create may be given those ids.
    let named: BTreeSet<String> = entries
        .iter()
        .filter_map(|entry| entry.interaction.as_ref().ok())
        .filter_map(Interaction::written_instance)
        .collect();
    for (index, entry) in entries.iter_mut().enumerate() {
        let Ok(interaction) = &mut entry.interaction else {
            continue;
        };
        if interaction.method != "POST" || interaction.segments.len() != 1 {
            continue;
        }
        let kind = interaction.segments[0].clone();
        let existing = match &interaction.if_none_exist {
            Some(condition) => if_none_exist(state, &kind, condition)
                .map_err(|reply| failed(index, &entry.label, &reply))?,
            None => None,
        };
        let id = match existing {
            Some(existing) => {
                let id = existing["id"].as_str().unwrap_or_default().to_owned();
                answered.insert(index, write_response(interaction, 200, &existing, &base));
                id
            }
            None => {
                let prefix = format!("{kind}/");
                let reserved: BTreeSet<&str> = named
                    .iter()
                    .filter_map(|name| name.strip_prefix(&prefix))
                    .collect();
                let id = state.store.fresh_id(&kind, &reserved);
                interaction.if_none_exist = None;
                interaction.assigned_id = Some(id.clone());
                id
            }
        };
        if let Some(full_url) = &entry.full_url {
            assigned.insert(full_url.clone(), format!("{kind}/{id}"));
        }
    }
    Ok(answered)
}

/// Rewrites references to creates' full URLs in the entry's resource and search values.
fn rewrite_entry(entry: &mut Entry, assigned: &BTreeMap<String, String>) {
    if assigned.is_empty() {
        return;
    }
    if let Some(resource) = &mut entry.resource {
        rewrite_references(resource, assigned);
    }
    if let Ok(interaction) = &mut entry.interaction {
        for (_, value) in &mut interaction.query {
            if let Some(reference) = assigned.get(value.as_str()) {
                value.clone_from(reference);
            }
        }
    }
}

/// Every `reference` string anywhere in `value` that names a create's full URL.
fn rewrite_references(value: &mut Value, assigned: &BTreeMap<String, String>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(reference)) = object.get_mut("reference")
                && let Some(rewritten) = assigned.get(reference.as_str())
            {
                reference.clone_from(rewritten);
            }
            for (_, child) in object.iter_mut() {
                rewrite_references(child, assigned);
            }
        }
        Value::Array(items) => {
            for item in items {
                rewrite_references(item, assigned);
            }
        }
        _ => {}
    }
}

/// A transaction's answer when entry `index` fails: its status, and an OperationOutcome that
/// names the entry and carries the entry's own diagnostics.
fn failed(index: usize, label: &str, reply: &Reply) -> Reply {
    let cause = match &reply.body {
        ReplyBody::Json(body) => body["issue"][0]["diagnostics"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    };
    let code = match &reply.body {
        ReplyBody::Json(body) => body["issue"][0]["code"]
            .as_str()
            .unwrap_or("processing")
            .to_owned(),
        _ => "processing".to_owned(),
    };
    Reply::fhir(
        reply.status,
        json!({"resourceType": "OperationOutcome", "issue": [{
            "severity": "error",
            "code": code,
            "diagnostics": format!(
                "the transaction failed at entry {index} ({label}), which answered {}: {cause}; \
                 nothing was changed",
                reply.status
            ),
            "expression": [format!("Bundle.entry[{index}]")]
        }]}),
    )
}

/// `entry.response` (and `entry.resource`) for one answer.
fn response_entry(reply: Reply, base: &str) -> Value {
    let mut response = Map::new();
    let reason = http::StatusCode::from_u16(reply.status)
        .ok()
        .and_then(|status| status.canonical_reason())
        .unwrap_or_default();
    response.insert(
        "status".into(),
        json!(format!("{} {reason}", reply.status).trim_end()),
    );
    for (header, name) in [("location", "location"), ("etag", "etag")] {
        if let Some(value) = reply.header_value(header) {
            response.insert(name.into(), json!(value));
        }
    }
    if let Some(last_updated) = &reply.last_updated {
        response.insert("lastModified".into(), json!(last_updated));
    }
    let mut entry = Map::new();
    if let ReplyBody::Json(body) = reply.body {
        if body["resourceType"] == "OperationOutcome" {
            response.insert("outcome".into(), body);
        } else {
            if let (Some(kind), Some(id)) = (body["resourceType"].as_str(), body["id"].as_str()) {
                entry.insert("fullUrl".into(), json!(format!("{base}/{kind}/{id}")));
            }
            entry.insert("resource".into(), body);
        }
    }
    entry.insert("response".into(), Value::Object(response));
    Value::Object(entry)
}
