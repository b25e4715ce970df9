//! Which resources an export holds and how: group members, the `_since`/`_until` window,
//! the patient compartment, `_elements` subsets, `_typeFilter` searches.

use super::*;

pub(super) fn group_members(
    state: &State,
    id: &str,
    only: Option<&[String]>,
) -> Result<Vec<String>, ResponseTemplate> {
    let group = state
        .store
        .current("Group", id)
        .and_then(|version| version.resource.as_ref())
        .ok_or_else(|| outcome(404, "not-found", &format!("Group/{id} is not known")))?;
    Ok(group["member"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|member| member["entity"]["reference"].as_str())
        .filter_map(|reference| reference.strip_prefix("Patient/"))
        .filter(|patient| only.is_none_or(|only| only.iter().any(|wanted| wanted == patient)))
        .map(str::to_owned)
        .collect())
}

pub(super) fn in_window(resource: &Value, params: &Params) -> bool {
    let updated = resource["meta"]["lastUpdated"].as_str().unwrap_or_default();
    params.since.as_deref().is_none_or(|since| updated > since)
        && params.until.as_deref().is_none_or(|until| updated <= until)
}

pub(super) fn in_compartment(resource: &Value, patients: &[String]) -> bool {
    if resource["resourceType"] == "Patient" {
        return resource["id"]
            .as_str()
            .is_some_and(|id| patients.iter().any(|patient| patient == id));
    }
    ["subject", "patient"].iter().any(|field| {
        resource[*field]["reference"]
            .as_str()
            .and_then(|reference| reference.strip_prefix("Patient/"))
            .is_some_and(|id| patients.iter().any(|patient| patient == id))
    })
}

/// `_elements`: the listed elements (bare, or prefixed with this type) plus the mandatory
/// ones, tagged `SUBSETTED`. A type no element names is exported whole.
pub(super) fn subset(resource: &Value, kind: &str, elements: &[String]) -> Value {
    let wanted: Vec<&str> = elements
        .iter()
        .filter_map(|element| match element.split_once('.') {
            Some((prefix, name)) if prefix == kind => Some(name),
            Some(_) => None,
            None => Some(element.as_str()),
        })
        .collect();
    let Some(object) = resource.as_object() else {
        return resource.clone();
    };
    if wanted.is_empty() {
        return resource.clone();
    }
    let mut kept: serde_json::Map<String, Value> = object
        .iter()
        .filter(|(name, _)| {
            matches!(name.as_str(), "resourceType" | "id" | "meta")
                || wanted.contains(&name.as_str())
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let meta = kept.entry("meta").or_insert_with(|| json!({}));
    if let Some(meta) = meta.as_object_mut() {
        let tags = meta.entry("tag").or_insert_with(|| json!([]));
        if let Some(tags) = tags.as_array_mut() {
            tags.push(json!({
                "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
                "code": "SUBSETTED"
            }));
        }
    }
    Value::Object(kept)
}

/// The `_typeFilter`s by type: a resource of a filtered type is exported when one of them
/// matches.
#[derive(Debug, Default)]
pub(super) struct TypeFilters {
    pub(super) by_type: BTreeMap<String, Vec<Vec<(String, String)>>>,
    pub(super) ignored: Vec<String>,
}

impl TypeFilters {
    pub(super) fn admits(&self, kind: &str, resource: &Value) -> bool {
        self.by_type.get(kind).is_none_or(|queries| {
            queries
                .iter()
                .any(|query| crate::store::matches_query(resource, query))
        })
    }
}

pub(super) fn type_filters(
    filters: &[String],
    strict: bool,
) -> Result<TypeFilters, ResponseTemplate> {
    let mut parsed = TypeFilters::default();
    for filter in filters {
        let Some((kind, query)) = filter.split_once('?') else {
            return Err(outcome(
                400,
                "invalid",
                &format!("`_typeFilter` {filter} is not `Type?query`"),
            ));
        };
        let mut pairs = Vec::new();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if crate::store::understands(&name) {
                pairs.push((name.into_owned(), value.into_owned()));
            } else if strict {
                return Err(outcome(
                    400,
                    "not-supported",
                    &format!("the sandbox cannot apply `{name}` in the `_typeFilter` {filter}"),
                ));
            } else {
                parsed.ignored.push(name.into_owned());
            }
        }
        parsed
            .by_type
            .entry(kind.to_owned())
            .or_default()
            .push(pairs);
    }
    Ok(parsed)
}
