//! `components.schemas`: a JSON Schema 2020-12 schema for every resource, datatype,
//! backbone element, primitive and required code set, shaped like FHIR JSON.

use super::*;

/// The JSON Schema 2020-12 of every resource, datatype, backbone element (keyed by its FHIR
/// path, `Patient.contact`), primitive (`date`), code set of a required binding
/// (`AdministrativeGender`), plus [`ELEMENT_SCHEMA`] and [`RESOURCE_SCHEMA`]. References point
/// at `#/components/schemas/{key}`.
///
/// # Errors
///
/// When two schemas would get the same key.
pub fn component_schemas(ir: &Ir) -> Result<Map<String, Value>, Error> {
    let paths_by_struct: BTreeMap<&str, &str> = ir
        .types
        .iter()
        .flat_map(|t| &t.structs)
        .map(|s| (s.name.as_str(), s.path.as_str()))
        .collect();
    let mut schemas = Map::new();
    let mut insert = |key: String, schema: Value| {
        if schemas.insert(key.clone(), schema).is_some() {
            return Err(Error::new(format!("two OpenAPI schemas are named `{key}`")));
        }
        Ok(())
    };
    for &primitive in PRIMITIVE_TYPES {
        insert(primitive.to_owned(), primitive_schema(primitive))?;
    }
    insert(ELEMENT_SCHEMA.to_owned(), element_schema())?;
    for code_enum in &ir.code_enums {
        insert(code_enum.name.clone(), code_schema(code_enum))?;
    }
    let mut resources = Vec::new();
    for ty in &ir.types {
        for (i, s) in ty.structs.iter().enumerate() {
            let resource_type =
                (i == 0 && ty.kind == TypeKind::Resource).then_some(ty.name.as_str());
            let mut schema = struct_schema(ty, s, resource_type, &paths_by_struct)?;
            if i == 0 {
                schema["externalDocs"] = json!({"url": ty.url});
            }
            insert(s.path.clone(), schema)?;
        }
        if ty.kind == TypeKind::Resource {
            resources.push(ty.name.as_str());
        }
    }
    insert(RESOURCE_SCHEMA.to_owned(), resource_union(&resources))?;
    Ok(schemas)
}

/// The regular expressions of the R4 primitive types (`profiles-types.json`), anchored.
pub(super) fn primitive_pattern(name: &str) -> Option<&'static str> {
    Some(match name {
        "code" => r"^[^\s]+(\s[^\s]+)*$",
        "date" => {
            r"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$"
        }
        "dateTime" => {
            r"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$"
        }
        "id" => r"^[A-Za-z0-9\-\.]{1,64}$",
        "instant" => {
            r"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$"
        }
        "oid" => r"^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$",
        "time" => r"^([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?$",
        "uuid" => r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        "uri" | "url" | "canonical" => r"^\S*$",
        _ => return None,
    })
}

pub(super) fn primitive_schema(name: &str) -> Value {
    let description = format!("The FHIR primitive type `{name}`.");
    match name {
        "boolean" => json!({"type": "boolean", "description": description}),
        "integer" => json!({
            "type": "integer",
            "format": "int32",
            "minimum": i32::MIN,
            "maximum": i32::MAX,
            "description": description,
        }),
        "positiveInt" | "unsignedInt" => json!({
            "type": "integer",
            "format": "int32",
            "minimum": u8::from(name == "positiveInt"),
            "maximum": i32::MAX,
            "description": description,
        }),
        "decimal" => json!({
            "type": "number",
            "description": "The FHIR primitive type `decimal`. Its precision is significant: \
                `1.50` and `1.5` differ, and fhir-r4 keeps the literal text.",
        }),
        _ => match primitive_pattern(name) {
            Some(pattern) => {
                json!({"type": "string", "pattern": pattern, "description": description})
            }
            None => json!({"type": "string", "description": description}),
        },
    }
}

pub(super) fn element_schema() -> Value {
    json!({
        "type": "object",
        "description": "The `id` and extensions of a primitive value, in its `_field` sibling.",
        "properties": {
            "id": {"type": "string", "description": "Unique id for inter-element referencing"},
            "extension": {
                "type": "array",
                "items": schema_ref("Extension"),
                "description": "Additional content defined by implementations",
            },
        },
    })
}

pub(super) fn code_schema(code_enum: &CodeEnum) -> Value {
    let codes: Vec<&str> = code_enum.variants.iter().map(|v| v.code.as_str()).collect();
    let title = code_enum.title.as_deref().unwrap_or(&code_enum.name);
    json!({
        "type": "string",
        "enum": codes,
        "description": format!("{title} (required binding to {}).", code_enum.url),
    })
}

/// The schema of one value of a field type (not its `_field` sibling, not the array).
pub(super) fn value_schema(
    ty: &FieldType,
    paths_by_struct: &BTreeMap<&str, &str>,
) -> Result<Value, Error> {
    Ok(match ty {
        FieldType::PlainString => json!({"type": "string"}),
        FieldType::Primitive(name) => schema_ref(name),
        FieldType::Code(name) | FieldType::Complex(name) => schema_ref(name),
        FieldType::Backbone(name) => {
            let path = paths_by_struct
                .get(name.as_str())
                .ok_or_else(|| Error::new(format!("no struct named `{name}`")))?;
            schema_ref(path)
        }
        FieldType::Resource => schema_ref(RESOURCE_SCHEMA),
        FieldType::Choice(name) => {
            return Err(Error::new(format!("choice `{name}` has no single schema")));
        }
    })
}

/// Adds the property `name` (and `_name` for primitives) for one value type.
pub(super) fn add_property(
    properties: &mut Map<String, Value>,
    name: &str,
    ty: &FieldType,
    many: bool,
    description: &str,
    paths_by_struct: &BTreeMap<&str, &str>,
) -> Result<(), Error> {
    let value = value_schema(ty, paths_by_struct)?;
    let primitive = matches!(ty, FieldType::Primitive(_) | FieldType::Code(_));
    let mut schema = if many && primitive {
        // Values and `_field` extensions are aligned by index; either side may be `null`.
        json!({"type": "array", "items": {"anyOf": [value, {"type": "null"}]}})
    } else if many {
        json!({"type": "array", "items": value})
    } else {
        value
    };
    if !description.is_empty() {
        schema["description"] = json!(description);
    }
    properties.insert(name.to_owned(), schema);
    if primitive {
        let element = schema_ref(ELEMENT_SCHEMA);
        let sibling = if many {
            json!({"type": "array", "items": {"anyOf": [element, {"type": "null"}]}})
        } else {
            element
        };
        properties.insert(format!("_{name}"), sibling);
    }
    Ok(())
}

pub(super) fn struct_schema(
    ty: &crate::ir::TypeDef,
    s: &StructDef,
    resource_type: Option<&str>,
    paths_by_struct: &BTreeMap<&str, &str>,
) -> Result<Value, Error> {
    let mut properties = Map::new();
    let mut required = Vec::new();
    if let Some(name) = resource_type {
        properties.insert(
            String::from("resourceType"),
            json!({"type": "string", "const": name, "description": "The type of the resource"}),
        );
        required.push(String::from("resourceType"));
    }
    for field in &s.fields {
        if let FieldType::Choice(enum_name) = &field.ty {
            let choice = ty
                .choices
                .iter()
                .find(|c| &c.name == enum_name)
                .ok_or_else(|| Error::new(format!("{}: no choice `{enum_name}`", field.path)))?;
            for variant in &choice.variants {
                add_property(
                    &mut properties,
                    &variant.json_name,
                    &variant.ty,
                    field.many,
                    &field.short,
                    paths_by_struct,
                )?;
            }
            continue;
        }
        add_property(
            &mut properties,
            &field.json_name,
            &field.ty,
            field.many,
            &field.short,
            paths_by_struct,
        )?;
        // A required primitive may be given by its `_field` alone (an extension instead of a
        // value), so only complex required elements are `required` in the schema.
        let primitive = matches!(
            field.ty,
            FieldType::Primitive(_) | FieldType::Code(_) | FieldType::PlainString
        );
        if field.min > 0 && !primitive {
            required.push(field.json_name.clone());
        }
    }
    let mut schema = json!({
        "type": "object",
        "description": s.short,
        "properties": properties,
    });
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    Ok(schema)
}

pub(super) fn resource_union(resources: &[&str]) -> Value {
    let mapping: Map<String, Value> = resources
        .iter()
        .map(|name| {
            (
                (*name).to_owned(),
                json!(format!("#/components/schemas/{name}")),
            )
        })
        .collect();
    json!({
        "type": "object",
        "description": "Any resource, tagged by `resourceType`.",
        "oneOf": resources.iter().map(|name| schema_ref(name)).collect::<Vec<_>>(),
        "discriminator": {"propertyName": "resourceType", "mapping": mapping},
    })
}
