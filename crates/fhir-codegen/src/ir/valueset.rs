//! Resolves value sets to plain lists of codes where the definitions allow it.

use std::collections::{BTreeMap, BTreeSet};

use super::{CodeEnum, CodeVariant, FieldType, TypeDef, UNRECOGNIZED_VARIANT, ValueSet};
use crate::Definitions;
use crate::model::Concept;

fn flatten(concepts: &[Concept], out: &mut Vec<(String, Option<String>)>) {
    for c in concepts {
        out.push((c.code.clone(), c.display.clone()));
        flatten(&c.concept, out);
    }
}

/// Value sets whose codes are enumerated: every `include` lists its concepts or takes a whole
/// code system defined in the same definitions, with no filter and no imported value set.
pub(crate) fn enumerate(defs: &Definitions) -> BTreeMap<String, ValueSet> {
    let systems: BTreeMap<&str, &[Concept]> = defs
        .code_systems
        .iter()
        .map(|cs| (cs.url.as_str(), cs.concept.as_slice()))
        .collect();
    let mut out = BTreeMap::new();
    'value_sets: for vs in &defs.value_sets {
        let Some(compose) = &vs.compose else {
            continue;
        };
        let mut codes = Vec::new();
        for include in &compose.include {
            if !include.filter.is_empty() || !include.value_set.is_empty() {
                continue 'value_sets;
            }
            if !include.concept.is_empty() {
                flatten(&include.concept, &mut codes);
            } else if let Some(concepts) = include.system.as_deref().and_then(|s| systems.get(s)) {
                flatten(concepts, &mut codes);
            } else {
                continue 'value_sets;
            }
        }
        if codes.is_empty() {
            continue;
        }
        out.insert(
            vs.url.clone(),
            ValueSet {
                url: vs.url.clone(),
                name: vs.name.clone(),
                title: vs.title.clone(),
                codes,
            },
        );
    }
    out
}

/// Words for the symbols that appear in codes (`<=`, `%`, …), so variants are identifiers.
fn symbol_word(c: char) -> Option<&'static str> {
    Some(match c {
        '<' => "LessThan",
        '>' => "GreaterThan",
        '=' => "Equal",
        '!' => "Not",
        '%' => "Percent",
        '+' => "Plus",
        '*' => "Star",
        '/' => "Per",
        _ => return None,
    })
}

/// A Rust variant name for a code, or `None` when it cannot have a readable one.
fn variant_name(code: &str) -> Option<String> {
    let mut out = String::new();
    let mut upper = true;
    for c in code.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else if let Some(word) = symbol_word(c) {
            out.push_str(word);
            upper = true;
        } else if c == '-' || c == '_' || c == '.' || c == ' ' || c == ':' {
            upper = true;
        } else {
            return None;
        }
    }
    match out.chars().next() {
        None => None,
        Some(first) if first.is_ascii_digit() => Some(format!("N{out}")),
        Some(_) => Some(out),
    }
}

/// A Rust type name for a value set's computable name.
fn enum_name(name: &str) -> Option<String> {
    let mut out = String::new();
    let mut upper = true;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(if upper { c.to_ascii_uppercase() } else { c });
            upper = false;
        } else {
            upper = true;
        }
    }
    out.chars()
        .next()
        .filter(char::is_ascii_uppercase)
        .map(|_| out)
}

fn make_enum(vs: &ValueSet, taken: &BTreeSet<String>) -> Option<CodeEnum> {
    let mut name = enum_name(vs.name.as_deref()?)?;
    if taken.contains(&name) {
        name.push_str("Code");
    }
    let mut seen = BTreeSet::new();
    let mut variants = Vec::new();
    for (code, display) in &vs.codes {
        if !seen.insert(code.clone()) {
            continue;
        }
        variants.push(CodeVariant {
            name: variant_name(code)?,
            code: code.clone(),
            display: display.clone(),
        });
    }
    let names: BTreeSet<&str> = variants.iter().map(|v| v.name.as_str()).collect();
    if names.len() != variants.len() || names.contains(UNRECOGNIZED_VARIANT) {
        return None;
    }
    Some(CodeEnum {
        name,
        url: vs.url.clone(),
        title: vs.title.clone(),
        variants,
        used_by: BTreeSet::new(),
    })
}

/// Builds an enum for each value set that a `code` element is bound to with strength
/// `required`, and retypes those elements; `taken` holds the names of the generated types.
pub(crate) fn code_enums(
    types: &mut [TypeDef],
    value_sets: &BTreeMap<String, ValueSet>,
    taken: &BTreeSet<String>,
) -> Vec<CodeEnum> {
    let mut enums: BTreeMap<String, CodeEnum> = BTreeMap::new();
    let mut names: BTreeSet<String> = taken.clone();
    let mut by_url: BTreeMap<String, Option<String>> = BTreeMap::new();
    for ty in types.iter_mut() {
        let user = (ty.kind, ty.name.clone());
        for s in &mut ty.structs {
            for field in &mut s.fields {
                let (FieldType::Primitive(code), Some(binding)) = (&field.ty, &field.binding)
                else {
                    continue;
                };
                if code != "code" || binding.strength != "required" {
                    continue;
                }
                let Some(url) = binding.value_set.clone() else {
                    continue;
                };
                let enum_name = by_url
                    .entry(url.clone())
                    .or_insert_with(|| {
                        let code_enum = make_enum(value_sets.get(&url)?, &names)?;
                        if !names.insert(code_enum.name.clone()) {
                            return None;
                        }
                        let name = code_enum.name.clone();
                        enums.insert(name.clone(), code_enum);
                        Some(name)
                    })
                    .clone();
                if let Some(enum_name) = enum_name {
                    if let Some(code_enum) = enums.get_mut(&enum_name) {
                        code_enum.used_by.insert(user.clone());
                    }
                    field.ty = FieldType::Code(enum_name);
                }
            }
        }
    }
    enums.into_values().collect()
}
