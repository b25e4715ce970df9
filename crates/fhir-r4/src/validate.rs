//! Validation that is separate from parsing: which required elements (minimum cardinality 1)
//! are missing, by path.
//!
//! Parsing accepts documents that lack required elements (several official examples do), so that
//! no data becomes unreadable; [`missing_required`] and [`crate::Resource::missing_required`]
//! report the gaps instead.

use fhir_core::DecodeError;

use crate::generated::schema::{ELEMENTS, RESOURCES, STRUCTS};
use crate::json::{DecodeOptions, Peek, Reader};

/// What an element of the generated schema table holds.
#[derive(Debug)]
pub(crate) enum Target {
    /// A primitive value or plain string.
    Value,
    /// A struct, by index into the schema table.
    Struct(usize),
    /// Any resource.
    Resource,
    /// A choice element, followed in the table by this many variants.
    Choice(usize),
}

/// A problem found by validation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Issue {
    /// The JSON path of the problem (`Observation.status`, `Patient.contact[0].relationship`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// A JSON value, kept only as far as validation needs.
enum Node {
    Leaf,
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
    String(String),
}

impl Node {
    fn read(r: &mut Reader<'_>) -> Result<Self, crate::json::Error> {
        Ok(match r.peek()? {
            Peek::Object => {
                let mut members = Vec::new();
                r.begin_object()?;
                while let Some(key) = r.next_key()? {
                    let key = key.into_owned();
                    members.push((key, Self::read(r)?));
                }
                Self::Object(members)
            }
            Peek::Array => {
                let mut items = Vec::new();
                r.begin_array()?;
                while r.next_item()? {
                    items.push(Self::read(r)?);
                }
                Self::Array(items)
            }
            Peek::String => Self::String(r.read_string()?),
            _ => {
                r.skip_value()?;
                Self::Leaf
            }
        })
    }

    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Self::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Lists the required elements missing from a FHIR JSON document, by path, recursively through
/// datatypes, backbone elements, contained and bundled resources. Unknown resource types and
/// properties are not checked.
///
/// # Errors
///
/// When `json` is not well-formed JSON.
pub fn missing_required(json: &[u8]) -> Result<Vec<Issue>, DecodeError> {
    let mut r = Reader::new(json, DecodeOptions::lenient());
    let node = Node::read(&mut r)
        .and_then(|node| r.finish().map(|()| node))
        .map_err(|err| err.into_decode_error(None, json))?;
    let mut issues = Vec::new();
    check_resource(&node, "", &mut issues);
    Ok(issues)
}

fn check_resource(node: &Node, prefix: &str, issues: &mut Vec<Issue>) {
    let Some(Node::String(resource_type)) = node.get("resourceType") else {
        return;
    };
    if let Ok(at) = RESOURCES.binary_search_by(|(name, _)| (*name).cmp(resource_type)) {
        let path = if prefix.is_empty() {
            resource_type.clone()
        } else {
            prefix.to_owned()
        };
        check_struct(node, RESOURCES[at].1, &path, issues);
    }
}

fn check_struct(node: &Node, index: usize, path: &str, issues: &mut Vec<Issue>) {
    let (Some(&(struct_path, first)), Node::Object(members)) = (STRUCTS.get(index), node) else {
        return;
    };
    let end = STRUCTS
        .get(index + 1)
        .map_or(ELEMENTS.len(), |&(_, next)| next);
    let elements = ELEMENTS.get(first..end).unwrap_or_default();
    let mut i = 0;
    while let Some(&(json, min, ref target)) = elements.get(i) {
        i += 1;
        let keys: &[(&str, u32, Target)] = match target {
            Target::Choice(count) => {
                let variants = elements.get(i..i + count).unwrap_or_default();
                i += count;
                variants
            }
            _ => elements.get(i - 1..i).unwrap_or_default(),
        };
        let mut present = false;
        for (key, _, key_target) in keys {
            for (k, value) in members {
                if k == key {
                    present = true;
                    check_value(value, key_target, &format!("{path}.{key}"), issues);
                } else if k.strip_prefix('_') == Some(key) {
                    present = true;
                }
            }
        }
        if min > 0 && !present {
            issues.push(Issue {
                path: format!("{path}.{json}"),
                message: format!("missing required element `{struct_path}.{json}`"),
            });
        }
    }
}

fn check_value(node: &Node, target: &Target, path: &str, issues: &mut Vec<Issue>) {
    if let Node::Array(items) = node {
        for (i, item) in items.iter().enumerate() {
            check_value(item, target, &format!("{path}[{i}]"), issues);
        }
        return;
    }
    match target {
        Target::Struct(index) => check_struct(node, *index, path, issues),
        Target::Resource => check_resource(node, path, issues),
        Target::Value | Target::Choice(_) => {}
    }
}
