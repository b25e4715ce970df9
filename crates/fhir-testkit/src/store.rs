//! The sandbox's in-memory FHIR store: versioned resources and a small, honest search.
//!
//! Search supports `_id`, `_count`, `_offset` (for paging), `identifier` and `code` (token),
//! `subject` / `patient` / `encounter` (reference), `name` / `family` / `given` (string, prefix,
//! case-insensitive), `gender`, `status`. Other parameters are ignored and reported in an
//! OperationOutcome entry with `search.mode = outcome`, as lenient real servers do.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

/// One stored version.
#[derive(Debug, Clone)]
pub(crate) struct Version {
    pub(crate) version_id: u64,
    /// `None` for a deletion.
    pub(crate) resource: Option<Value>,
}

/// Every version of every resource, by type and id.
#[derive(Debug, Default, Clone)]
pub(crate) struct Store {
    resources: BTreeMap<(String, String), Vec<Version>>,
    next_id: u64,
    clock: u64,
}

/// The parameters this store understands.
const KNOWN_PARAMS: &[&str] = &[
    "_id",
    "_count",
    "_offset",
    "identifier",
    "code",
    "subject",
    "patient",
    "encounter",
    "name",
    "family",
    "given",
    "gender",
    "status",
];

/// The result of a search: the matching page, the total, and the parameters ignored.
#[derive(Debug)]
pub(crate) struct SearchResult {
    pub(crate) matches: Vec<Value>,
    pub(crate) total: usize,
    /// The page size applied: the `_count` asked for, at most 1,000.
    pub(crate) count: usize,
    pub(crate) ignored: Vec<String>,
}

impl Store {
    /// A fresh instant for `meta.lastUpdated`: deterministic, one second per write.
    fn tick(&mut self) -> String {
        self.clock += 1;
        self.now()
    }

    /// The store's clock: the `meta.lastUpdated` of the latest write (a bulk export's
    /// `transactionTime`, so that an export `_since` it returns exactly the later writes).
    pub(crate) fn now(&self) -> String {
        let seconds = self.clock;
        format!(
            "2025-01-01T{:02}:{:02}:{:02}Z",
            (seconds / 3600) % 24,
            (seconds / 60) % 60,
            seconds % 60
        )
    }

    /// An id no `resource_type` has had, nor one of `reserved` (the ids a transaction's own
    /// updates name): a client may have chosen `sbx-7` itself with a PUT.
    pub(crate) fn fresh_id(&mut self, resource_type: &str, reserved: &BTreeSet<&str>) -> String {
        loop {
            self.next_id += 1;
            let id = format!("sbx-{}", self.next_id);
            if !reserved.contains(id.as_str())
                && !self
                    .resources
                    .contains_key(&(resource_type.to_owned(), id.clone()))
            {
                return id;
            }
        }
    }

    /// Stores `resource` as a new version; assigns an id when it has none. Returns the stored
    /// resource with `id` and `meta` set.
    pub(crate) fn put(&mut self, mut resource: Value, id: Option<String>) -> Value {
        let resource_type = resource["resourceType"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let id = id
            .or_else(|| resource["id"].as_str().map(str::to_owned))
            .unwrap_or_else(|| self.fresh_id(&resource_type, &BTreeSet::new()));
        let last_updated = self.tick();
        let versions = self
            .resources
            .entry((resource_type, id.clone()))
            .or_default();
        let version_id = versions.last().map_or(1, |last| last.version_id + 1);
        resource["id"] = json!(id);
        let meta = resource
            .as_object_mut()
            .map(|object| object.entry("meta").or_insert_with(|| json!({})));
        if let Some(meta) = meta {
            meta["versionId"] = json!(version_id.to_string());
            meta["lastUpdated"] = json!(last_updated);
        }
        versions.push(Version {
            version_id,
            resource: Some(resource.clone()),
        });
        resource
    }

    /// The current version, if the resource exists and is not deleted.
    pub(crate) fn current(&self, resource_type: &str, id: &str) -> Option<&Version> {
        self.resources
            .get(&(resource_type.to_owned(), id.to_owned()))
            .and_then(|versions| versions.last())
    }

    /// One version of a resource.
    pub(crate) fn version(
        &self,
        resource_type: &str,
        id: &str,
        version_id: u64,
    ) -> Option<&Version> {
        self.resources
            .get(&(resource_type.to_owned(), id.to_owned()))
            .and_then(|versions| {
                versions
                    .iter()
                    .find(|version| version.version_id == version_id)
            })
    }

    /// Deletes a resource (adds a deletion version). Returns whether it existed.
    pub(crate) fn delete(&mut self, resource_type: &str, id: &str) -> bool {
        let exists = self
            .current(resource_type, id)
            .is_some_and(|version| version.resource.is_some());
        if exists
            && let Some(versions) = self
                .resources
                .get_mut(&(resource_type.to_owned(), id.to_owned()))
        {
            let version_id = versions.last().map_or(1, |last| last.version_id + 1);
            versions.push(Version {
                version_id,
                resource: None,
            });
        }
        exists
    }

    /// Searches current resources of `resource_type`.
    pub(crate) fn search(&self, resource_type: &str, params: &[(String, String)]) -> SearchResult {
        let ignored: Vec<String> = params
            .iter()
            .map(|(name, _)| name.split(':').next().unwrap_or(name).to_owned())
            .filter(|name| !KNOWN_PARAMS.contains(&name.as_str()))
            .collect();
        let count = param(params, "_count")
            .and_then(|value| value.parse::<usize>().ok())
            .unwrap_or(20)
            .min(1000);
        let offset = param(params, "_offset")
            .and_then(|value| value.parse::<usize>().ok())
            .unwrap_or(0);
        let all: Vec<&Value> = self
            .resources
            .iter()
            .filter(|((kind, _), _)| kind == resource_type)
            .filter_map(|(_, versions)| {
                versions
                    .last()
                    .and_then(|version| version.resource.as_ref())
            })
            .filter(|resource| {
                params
                    .iter()
                    .filter(|(name, _)| KNOWN_PARAMS.contains(&name.as_str()))
                    .all(|(name, value)| matches(resource, name, value))
            })
            .collect();
        SearchResult {
            total: all.len(),
            count,
            matches: all.into_iter().skip(offset).take(count).cloned().collect(),
            ignored,
        }
    }

    /// Every current (not deleted) resource, ordered by type and id.
    pub(crate) fn all_current(&self) -> impl Iterator<Item = &Value> {
        self.resources.values().filter_map(|versions| {
            versions
                .last()
                .and_then(|version| version.resource.as_ref())
        })
    }

    /// The number of current resources of each type.
    pub(crate) fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for ((kind, _), versions) in &self.resources {
            if versions
                .last()
                .is_some_and(|version| version.resource.is_some())
            {
                *counts.entry(kind.clone()).or_default() += 1;
            }
        }
        counts
    }
}

/// Whether the store's search understands the parameter `name` (no modifiers).
pub(crate) fn understands(name: &str) -> bool {
    KNOWN_PARAMS.contains(&name)
}

/// Whether `resource` matches every pair of a search query (a bulk `_typeFilter`).
pub(crate) fn matches_query(resource: &Value, query: &[(String, String)]) -> bool {
    query
        .iter()
        .all(|(name, value)| matches(resource, name, value))
}

fn param<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// Splits a search value on unescaped commas (OR) and removes FHIR escapes.
fn or_values(value: &str) -> Vec<String> {
    or_values_raw(value)
        .iter()
        .map(|part| unescape(part))
        .collect()
}

/// Splits `system|code` on the first unescaped `|`.
fn token_parts(value: &str) -> (Option<String>, String) {
    let mut escaped = false;
    for (index, ch) in value.char_indices() {
        match ch {
            '\\' if !escaped => escaped = true,
            '|' if !escaped => {
                return (
                    Some(value[..index].to_owned()),
                    value[index + 1..].to_owned(),
                );
            }
            _ => escaped = false,
        }
    }
    (None, value.to_owned())
}

fn matches(resource: &Value, name: &str, value: &str) -> bool {
    match name {
        "_count" | "_offset" => true,
        "_id" => or_values(value)
            .iter()
            .any(|id| resource["id"] == json!(id)),
        "identifier" => token_match(&resource["identifier"], value),
        "code" => token_match(&resource["code"]["coding"], value),
        "gender" | "status" => or_values(value)
            .iter()
            .any(|wanted| resource[name].as_str() == Some(wanted.as_str())),
        "subject" | "patient" | "encounter" => {
            let field = if name == "encounter" {
                "encounter"
            } else {
                "subject"
            };
            let reference = resource[field]["reference"].as_str().unwrap_or_default();
            or_values(value).iter().any(|wanted| {
                reference == wanted
                    || (!wanted.contains('/')
                        && reference.rsplit('/').next() == Some(wanted.as_str()))
                    || (name == "patient" && reference == format!("Patient/{wanted}"))
            })
        }
        "name" | "family" | "given" => {
            let names = resource["name"].as_array().cloned().unwrap_or_default();
            or_values(value).iter().any(|wanted| {
                let wanted = wanted.to_lowercase();
                names.iter().any(|human_name| {
                    let mut parts: Vec<String> = Vec::new();
                    if name != "given" {
                        parts.extend(human_name["family"].as_str().map(str::to_lowercase));
                    }
                    if name != "family" {
                        parts.extend(
                            human_name["given"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(Value::as_str)
                                .map(str::to_lowercase),
                        );
                    }
                    parts.iter().any(|part| part.starts_with(&wanted))
                })
            })
        }
        _ => true,
    }
}

/// Token matching against an array of Identifier or Coding: `code`, `system|code`, `|code`,
/// `system|`.
fn token_match(items: &Value, value: &str) -> bool {
    let items = items.as_array().cloned().unwrap_or_default();
    or_values_raw(value).iter().any(|wanted| {
        let (system, code) = token_parts(wanted);
        let code = unescape(&code);
        let system = system.map(|system| unescape(&system));
        items.iter().any(|item| {
            let item_code = item["value"].as_str().or_else(|| item["code"].as_str());
            let item_system = item["system"].as_str();
            let code_ok = code.is_empty() || item_code == Some(code.as_str());
            let system_ok = match &system {
                None => true,
                Some(system) if system.is_empty() => item_system.is_none(),
                Some(system) => item_system == Some(system.as_str()),
            };
            code_ok && system_ok
        })
    })
}

/// Splits on unescaped commas but keeps escapes (token parts are unescaped after splitting
/// on `|`).
fn or_values_raw(value: &str) -> Vec<String> {
    let mut values = vec![String::new()];
    let mut escaped = false;
    for ch in value.chars() {
        if ch == ',' && !escaped {
            values.push(String::new());
            continue;
        }
        escaped = ch == '\\' && !escaped;
        if let Some(last) = values.last_mut() {
            last.push(ch);
        }
    }
    values
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(ch) = chars.next() {
        if ch == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests;
