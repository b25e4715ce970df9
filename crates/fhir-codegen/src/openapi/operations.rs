//! `paths` of the operations (`$validate`, `$everything`, …): system, type and instance
//! level, with their parameters and results.

use super::*;

/// The schema of an operation's result: its single resource `return`, else `Parameters`.
pub(super) fn operation_result(op: &Operation, resources: &[&str]) -> Value {
    let outputs: Vec<_> = op.parameters.iter().filter(|p| !p.input).collect();
    match outputs.as_slice() {
        [only] if only.name == "return" && !only.many => match only.ty.as_deref() {
            Some("Resource" | "Any") => schema_ref(RESOURCE_SCHEMA),
            Some(ty) if resources.contains(&ty) => schema_ref(ty),
            _ => schema_ref("Parameters"),
        },
        _ => schema_ref("Parameters"),
    }
}

/// The key prefix of an operation's parameters in `components.parameters`
/// (`op-Resource-validate`), from the last segment of its URL.
pub(super) fn operation_key(op: &Operation) -> String {
    format!(
        "op-{}",
        sanitize(op.url.rsplit('/').next().unwrap_or(&op.code))
    )
}

/// The operation's query parameters for `components.parameters`, or `None` when it cannot be
/// invoked with GET: it changes state, or an input is not a primitive (only POST carries it).
pub(super) fn operation_query(op: &Operation) -> Option<Vec<(String, Value)>> {
    if op.affects_state {
        return None;
    }
    let prefix = operation_key(op);
    op.parameters
        .iter()
        .filter(|p| p.input)
        .map(|p| {
            let ty = p.ty.as_deref()?;
            if !PRIMITIVE_TYPES.contains(&ty) {
                return None;
            }
            let schema = if p.many {
                json!({"type": "array", "items": schema_ref(ty)})
            } else {
                schema_ref(ty)
            };
            let mut parameter = json!({
                "name": p.name,
                "in": "query",
                "required": p.min > 0,
                "description": p.documentation,
                "schema": schema,
            });
            if p.many {
                parameter["style"] = json!("form");
                parameter["explode"] = json!(true);
            }
            Some((format!("{prefix}-{}", sanitize(&p.name)), parameter))
        })
        .collect()
}

pub(super) fn operation_paths(
    paths: &mut Paths,
    op: &Operation,
    resources: &[&str],
) -> Result<(), Error> {
    let on_any_resource = op.resource.iter().any(|r| r == "Resource");
    let types: Vec<&str> = if on_any_resource {
        resources.to_vec()
    } else {
        op.resource
            .iter()
            .map(String::as_str)
            .filter(|r| resources.contains(r))
            .collect()
    };
    let result = operation_result(op, resources);
    let query: Option<Vec<Value>> =
        operation_query(op).map(|q| q.iter().map(|(key, _)| param_ref(key)).collect());
    let mut add = |path: String, level: &str, ty: Option<&str>, id: bool| {
        let tag = ty.unwrap_or("System");
        let suffix = ty.map_or_else(String::new, |t| format!("-{t}"));
        let base = if id {
            vec![param_ref("id")]
        } else {
            Vec::new()
        };
        let summary = format!("${} ({level} level)", op.code);
        let describe = |mut operation: Value| {
            operation["externalDocs"] = json!({"url": op.url});
            // The description of an operation on every type is said once, on the system level
            // or the definition's page, rather than 146 times.
            if !on_any_resource || ty.is_none() {
                operation["description"] = json!(op.description);
            }
            operation
        };
        let mut post = describe(operation(
            format!("op-{}-{level}{suffix}", op.code),
            tag,
            summary.clone(),
            base.clone(),
            responses([("200", ok_response("The result", result.clone()))]),
        ));
        post["requestBody"] = json!({
            "required": false,
            "content": fhir_body(schema_ref("Parameters")),
        });
        paths.add(&path, "post", post)?;
        if let Some(query) = &query {
            let mut parameters = base;
            parameters.extend(query.iter().cloned());
            paths.add(
                &path,
                "get",
                describe(operation(
                    format!("op-{}-{level}{suffix}-get", op.code),
                    tag,
                    summary,
                    parameters,
                    responses([("200", ok_response("The result", result.clone()))]),
                )),
            )?;
        }
        Ok::<(), Error>(())
    };
    if op.system {
        add(format!("/${}", op.code), "system", None, false)?;
    }
    for ty in &types {
        if op.type_level {
            add(format!("/{ty}/${}", op.code), "type", Some(ty), false)?;
        }
        if op.instance {
            add(
                format!("/{ty}/{{id}}/${}", op.code),
                "instance",
                Some(ty),
                true,
            )?;
        }
    }
    Ok(())
}
