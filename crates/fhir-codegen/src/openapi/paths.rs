//! `paths`: the interactions of each resource type (read, vread, search, create, update,
//! patch, delete, history) and of the system (capabilities, batch/transaction, search,
//! history), with their bodies and responses.

use super::*;

/// `paths`, with a check that operation ids are unique.
#[derive(Default)]
pub(super) struct Paths {
    pub(super) map: Map<String, Value>,
    pub(super) operation_ids: BTreeSet<String>,
}

impl Paths {
    /// Adds `method` at `path`; the first definition of a method and path wins.
    pub(super) fn add(&mut self, path: &str, method: &str, operation: Value) -> Result<(), Error> {
        let item = self
            .map
            .entry(path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(item) = item.as_object_mut() else {
            return Err(Error::new(format!("path `{path}` is not an object")));
        };
        if item.contains_key(method) {
            return Ok(());
        }
        let id = operation["operationId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if !self.operation_ids.insert(id.clone()) {
            return Err(Error::new(format!(
                "two OpenAPI operations have the id `{id}`"
            )));
        }
        item.insert(method.to_owned(), operation);
        Ok(())
    }
}

pub(super) fn fhir_body(schema: Value) -> Value {
    json!({FHIR_JSON: {"schema": schema}})
}

pub(super) fn ok_response(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": fhir_body(schema)})
}

pub(super) fn error_response() -> Value {
    json!({"$ref": "#/components/responses/Error"})
}

/// An operation object with the usual `default` error response.
pub(super) fn operation(
    id: String,
    tag: &str,
    summary: String,
    parameters: Vec<Value>,
    mut responses: Map<String, Value>,
) -> Value {
    responses.insert(String::from("default"), error_response());
    let mut op = json!({
        "operationId": id,
        "tags": [tag],
        "summary": summary,
        "responses": responses,
    });
    if !parameters.is_empty() {
        op["parameters"] = Value::Array(parameters);
    }
    op
}

pub(super) fn responses(
    entries: impl IntoIterator<Item = (&'static str, Value)>,
) -> Map<String, Value> {
    entries
        .into_iter()
        .map(|(status, response)| (status.to_owned(), response))
        .collect()
}

pub(super) fn location_headers() -> Value {
    json!({
        "Location": {"description": "The new resource's URL with its version", "schema": {"type": "string"}},
        "ETag": {"description": "The new version id (`W/\"1\"`)", "schema": {"type": "string"}},
    })
}

pub(super) fn resource_paths(paths: &mut Paths, ir: &Ir, name: &str) -> Result<(), Error> {
    let own: Vec<Value> = ir
        .search_parameters
        .iter()
        .filter(|sp| !is_common(sp) && sp.base.iter().any(|b| b == name))
        .map(|sp| param_ref(&search_parameter_key(sp)))
        .collect();
    let common: Vec<Value> = ir
        .search_parameters
        .iter()
        .filter(|sp| is_common(sp))
        .map(|sp| param_ref(&search_parameter_key(sp)))
        .chain(
            COMMON_PARAMETERS
                .iter()
                .filter(|p| p.name != "_type")
                .map(|p| param_ref(&format!("common-{}", p.name))),
        )
        .collect();
    let criteria: Vec<Value> = own.iter().chain(&common).cloned().collect();
    let mut search = criteria.clone();
    search.extend(
        RESULT_PARAMETERS
            .iter()
            .map(|(p, _)| param_ref(&format!("result-{p}"))),
    );
    search.push(param_ref("format"));
    let bundle = || ok_response("A searchset Bundle", schema_ref("Bundle"));
    let history = || ok_response("A history Bundle", schema_ref("Bundle"));
    let resource = |d: &str| ok_response(d, schema_ref(name));
    let created = || {
        json!({
            "description": "Created",
            "headers": location_headers(),
            "content": fhir_body(schema_ref(name)),
        })
    };
    let with = |mut list: Vec<Value>, extra: &[&str]| {
        list.extend(extra.iter().map(|k| param_ref(k)));
        list
    };

    let type_path = format!("/{name}");
    paths.add(
        &type_path,
        "get",
        operation(
            format!("search-type-{name}"),
            name,
            format!("Search {name} resources"),
            search.clone(),
            responses([("200", bundle())]),
        ),
    )?;
    let mut create = operation(
        format!("create-{name}"),
        name,
        format!("Create a {name} (conditionally with If-None-Exist)"),
        vec![
            param_ref("header-If-None-Exist"),
            param_ref("header-Prefer"),
        ],
        responses([
            ("201", created()),
            (
                "200",
                resource("A resource matched If-None-Exist; nothing was created"),
            ),
        ]),
    );
    create["requestBody"] = json!({"required": true, "content": fhir_body(schema_ref(name))});
    paths.add(&type_path, "post", create)?;
    let mut conditional_update = operation(
        format!("conditional-update-{name}"),
        name,
        format!("Update the {name} that matches the search criteria (create if none)"),
        with(criteria.clone(), &["header-Prefer"]),
        responses([("200", resource("Updated")), ("201", created())]),
    );
    conditional_update["requestBody"] =
        json!({"required": true, "content": fhir_body(schema_ref(name))});
    paths.add(&type_path, "put", conditional_update)?;
    let mut conditional_patch = operation(
        format!("conditional-patch-{name}"),
        name,
        format!("Patch the {name} that matches the search criteria"),
        with(criteria.clone(), &["header-Prefer"]),
        responses([("200", resource("Patched"))]),
    );
    conditional_patch["requestBody"] = patch_body();
    paths.add(&type_path, "patch", conditional_patch)?;
    paths.add(
        &type_path,
        "delete",
        operation(
            format!("conditional-delete-{name}"),
            name,
            format!("Delete the {name} resources that match the search criteria"),
            criteria,
            responses([
                (
                    "200",
                    ok_response("Deleted, with an outcome", schema_ref("OperationOutcome")),
                ),
                ("204", json!({"description": "Deleted"})),
            ]),
        ),
    )?;

    let mut search_post = operation(
        format!("search-type-post-{name}"),
        name,
        format!("Search {name} resources with the parameters in a form body"),
        Vec::new(),
        responses([("200", bundle())]),
    );
    search_post["requestBody"] = json!({
        "required": false,
        "content": {"application/x-www-form-urlencoded": {"schema": {
            "type": "object",
            "description": format!("The search parameters of `GET /{name}`, form-encoded"),
            "additionalProperties": {"type": "string"},
        }}},
    });
    paths.add(&format!("/{name}/_search"), "post", search_post)?;

    let instance = format!("/{name}/{{id}}");
    paths.add(
        &instance,
        "get",
        operation(
            format!("read-{name}"),
            name,
            format!("Read a {name}"),
            vec![
                param_ref("id"),
                param_ref("header-If-None-Match"),
                param_ref("header-If-Modified-Since"),
                param_ref("result-_summary"),
                param_ref("result-_elements"),
                param_ref("format"),
            ],
            responses([
                ("200", resource("The current version")),
                ("304", json!({"description": "Not modified"})),
                ("404", error_response()),
                ("410", error_response()),
            ]),
        ),
    )?;
    let mut update = operation(
        format!("update-{name}"),
        name,
        format!("Update (or create) a {name} by id; version-aware with If-Match"),
        vec![
            param_ref("id"),
            param_ref("header-If-Match"),
            param_ref("header-Prefer"),
        ],
        responses([
            ("200", resource("Updated")),
            ("201", created()),
            ("412", error_response()),
        ]),
    );
    update["requestBody"] = json!({"required": true, "content": fhir_body(schema_ref(name))});
    paths.add(&instance, "put", update)?;
    let mut patch = operation(
        format!("patch-{name}"),
        name,
        format!("Patch a {name} (JSON Patch or FHIRPath Patch)"),
        vec![
            param_ref("id"),
            param_ref("header-If-Match"),
            param_ref("header-Prefer"),
        ],
        responses([("200", resource("Patched")), ("412", error_response())]),
    );
    patch["requestBody"] = patch_body();
    paths.add(&instance, "patch", patch)?;
    paths.add(
        &instance,
        "delete",
        operation(
            format!("delete-{name}"),
            name,
            format!("Delete a {name}"),
            vec![param_ref("id")],
            responses([
                (
                    "200",
                    ok_response("Deleted, with an outcome", schema_ref("OperationOutcome")),
                ),
                ("204", json!({"description": "Deleted"})),
            ]),
        ),
    )?;

    let history_params = |mut list: Vec<Value>| {
        list.extend(
            [
                "result-_count",
                "history-since",
                "history-at",
                "common-_list",
                "format",
            ]
            .iter()
            .map(|k| param_ref(k)),
        );
        list
    };
    paths.add(
        &format!("/{name}/{{id}}/_history"),
        "get",
        operation(
            format!("history-instance-{name}"),
            name,
            format!("The history of one {name}"),
            history_params(vec![param_ref("id")]),
            responses([("200", history())]),
        ),
    )?;
    paths.add(
        &format!("/{name}/{{id}}/_history/{{vid}}"),
        "get",
        operation(
            format!("vread-{name}"),
            name,
            format!("Read one version of a {name}"),
            vec![param_ref("id"), param_ref("vid"), param_ref("format")],
            responses([
                ("200", resource("That version")),
                ("404", error_response()),
                ("410", error_response()),
            ]),
        ),
    )?;
    paths.add(
        &format!("/{name}/_history"),
        "get",
        operation(
            format!("history-type-{name}"),
            name,
            format!("The history of all {name} resources"),
            history_params(Vec::new()),
            responses([("200", history())]),
        ),
    )?;
    Ok(())
}

pub(super) fn patch_body() -> Value {
    json!({
        "required": true,
        "content": {
            "application/json-patch+json": {"schema": {
                "type": "array",
                "description": "A JSON Patch (RFC 6902)",
                "items": {
                    "type": "object",
                    "required": ["op", "path"],
                    "properties": {
                        "op": {"type": "string", "enum": ["add", "remove", "replace", "move", "copy", "test"]},
                        "path": {"type": "string"},
                        "from": {"type": "string"},
                        "value": {},
                    },
                },
            }},
            FHIR_JSON: {"schema": schema_ref("Parameters")},
        },
    })
}

pub(super) fn system_paths(paths: &mut Paths, ir: &Ir) -> Result<(), Error> {
    let mut batch = operation(
        String::from("batch-transaction"),
        "System",
        String::from("Process a batch or transaction Bundle"),
        vec![param_ref("header-Prefer")],
        responses([(
            "200",
            ok_response(
                "The batch-response or transaction-response Bundle",
                schema_ref("Bundle"),
            ),
        )]),
    );
    batch["requestBody"] = json!({"required": true, "content": fhir_body(schema_ref("Bundle"))});
    paths.add("/", "post", batch)?;
    let mut search: Vec<Value> = ir
        .search_parameters
        .iter()
        .filter(|sp| is_common(sp))
        .map(|sp| param_ref(&search_parameter_key(sp)))
        .chain(["common-_type", "common-_list", "common-_has"].map(param_ref))
        .collect();
    search.extend(
        RESULT_PARAMETERS
            .iter()
            .map(|(p, _)| param_ref(&format!("result-{p}"))),
    );
    paths.add(
        "/",
        "get",
        operation(
            String::from("search-system"),
            "System",
            String::from("Search all resource types"),
            search,
            responses([(
                "200",
                ok_response("A searchset Bundle", schema_ref("Bundle")),
            )]),
        ),
    )?;
    paths.add(
        "/metadata",
        "get",
        operation(
            String::from("capabilities"),
            "System",
            String::from("The server's CapabilityStatement"),
            vec![
                json!({
                    "name": "mode",
                    "in": "query",
                    "required": false,
                    "description": "`full`, `normative` or `terminology`",
                    "schema": {"type": "string", "enum": ["full", "normative", "terminology"]},
                }),
                param_ref("format"),
            ],
            responses([(
                "200",
                ok_response("The CapabilityStatement", schema_ref("CapabilityStatement")),
            )]),
        ),
    )?;
    paths.add(
        "/_history",
        "get",
        operation(
            String::from("history-system"),
            "System",
            String::from("The history of all resources"),
            [
                "result-_count",
                "history-since",
                "history-at",
                "common-_list",
                "format",
            ]
            .iter()
            .map(|k| param_ref(k))
            .collect(),
            responses([("200", ok_response("A history Bundle", schema_ref("Bundle")))]),
        ),
    )?;
    Ok(())
}
