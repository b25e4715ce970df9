//! The scope grammar: `launch[/context][?role=…]` and resource scopes in v1
//! (`patient/Observation.read`) and v2 (`patient/Observation.rs?category=…`) syntax, with the
//! position of the first error.

use super::*;

pub(super) fn parse_launch(rest: &str, start: usize) -> Result<Scope, (usize, &'static str)> {
    let (name, query) = match rest.split_once('?') {
        Some((name, query)) => (name, Some(query)),
        None => (rest, None),
    };
    if name.is_empty() {
        return Err((start, "missing resource type after `launch/`"));
    }
    if let Some(bad) = name.find(|c: char| !c.is_ascii_alphanumeric()) {
        return Err((start + bad, "launch context type must be alphanumeric"));
    }
    let role = match query {
        None => None,
        Some(query) => match query.strip_prefix("role=") {
            Some(role) if !role.is_empty() && !role.contains('&') => Some(role.to_owned()),
            _ => {
                return Err((
                    start + name.len() + 1,
                    "a launch scope allows exactly one `role=<uri>` parameter",
                ));
            }
        },
    };
    let context = match name {
        "patient" => LaunchScope::Patient,
        "encounter" => LaunchScope::Encounter,
        // SMART writes launch context types in lowercase; another spelling (`launch/Patient`)
        // is kept verbatim so it prints exactly as received.
        other if other.bytes().any(|b| b.is_ascii_uppercase()) => {
            return Ok(Scope::Other(format!("launch/{rest}")));
        }
        other => LaunchScope::Other(other.to_owned()),
    };
    Ok(Scope::LaunchContext { context, role })
}

pub(super) fn parse_resource(
    context: ScopeContext,
    rest: &str,
    start: usize,
) -> Result<ResourceScope, (usize, &'static str)> {
    let (body, query) = match rest.split_once('?') {
        Some((body, query)) => (body, Some(query)),
        None => (rest, None),
    };
    let Some((resource_type, permissions)) = body.rsplit_once('.') else {
        return Err((start + body.len(), "missing `.` and permissions"));
    };
    if resource_type.is_empty() {
        return Err((start, "missing resource type"));
    }
    if resource_type != "*" {
        let valid_start = resource_type.starts_with(|c: char| c.is_ascii_uppercase());
        if let Some(bad) = resource_type
            .char_indices()
            .find(|(i, c)| !c.is_ascii_alphanumeric() || (*i == 0 && !valid_start))
            .map(|(i, _)| i)
        {
            return Err((
                start + bad,
                "resource type must be `*` or a FHIR type name (`Observation`)",
            ));
        }
    }
    let perm_start = start + resource_type.len() + 1;
    let permissions = match permissions {
        "read" => Permissions::V1(V1Permission::Read),
        "write" => Permissions::V1(V1Permission::Write),
        "*" => Permissions::V1(V1Permission::All),
        "" => return Err((perm_start, "empty permissions")),
        letters => {
            let mut set = 0u8;
            let mut last = None;
            for (i, letter) in letters.char_indices() {
                let Some(index) = "cruds".find(letter) else {
                    return Err((perm_start + i, "permission letters must be from `cruds`"));
                };
                if last.is_some_and(|last| index <= last) {
                    return Err((
                        perm_start + i,
                        "permission letters must be in `cruds` order without repeats",
                    ));
                }
                last = Some(index);
                set |= 1 << index;
            }
            Permissions::V2(Interactions(set))
        }
    };
    let query = match query {
        None => None,
        Some("") => return Err((start + body.len() + 1, "empty query after `?`")),
        Some(_) if permissions.version() == ScopeVersion::V1 => {
            return Err((start + body.len(), "a `?query` needs v2 permissions"));
        }
        Some(query) => Some(query.to_owned()),
    };
    Ok(ResourceScope {
        context,
        resource_type: resource_type.to_owned(),
        permissions,
        query,
    })
}
