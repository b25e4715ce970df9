//! The intermediate representation: types, their structs (root and backbone elements),
//! fields with cardinality, choice elements, bindings and search parameters, already named
//! for Rust. Lowering from the definitions happens here; emitting happens in `emit`.
//!
//! One file: the IR types and their lowering are read together; the lowering of a field
//! needs every type's shape, and its helpers (naming, bindings) live in their own modules.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{ElementDefinition, StructureDefinition};
use crate::naming::{field_name, upper_camel};
use crate::{Definitions, Error};

mod valueset;

/// Everything the emitter needs, in a deterministic order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ir {
    /// Complex datatypes and resources, sorted by name.
    pub types: Vec<TypeDef>,
    /// Search parameters, sorted by URL.
    pub search_parameters: Vec<SearchParameter>,
    /// Value sets whose codes are a plain enumeration, by URL (without version).
    pub value_sets: BTreeMap<String, ValueSet>,
    /// Enums for the codes of required bindings, sorted by name.
    pub code_enums: Vec<CodeEnum>,
    /// Compartments (from the `CompartmentDefinition`s), sorted by code.
    pub compartments: Vec<Compartment>,
    /// Operations (`$everything`, `$validate`, …), sorted by URL.
    pub operations: Vec<Operation>,
}

/// An operation from an `OperationDefinition`, with the levels it is invoked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The canonical URL.
    pub url: String,
    /// The name used in URLs, without `$` (`everything`).
    pub code: String,
    /// The description, on one line.
    pub description: String,
    /// Whether invoking it changes the server's state (then only POST is allowed).
    pub affects_state: bool,
    /// The resource types it applies to (`Resource` means all of them).
    pub resource: Vec<String>,
    /// Invoked on the whole server (`/$code`).
    pub system: bool,
    /// Invoked on a resource type (`/Patient/$code`).
    pub type_level: bool,
    /// Invoked on one resource (`/Patient/{id}/$code`).
    pub instance: bool,
    /// The top-level parameters, in definition order.
    pub parameters: Vec<OperationParameter>,
}

/// A top-level parameter of an [`Operation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationParameter {
    /// The parameter name.
    pub name: String,
    /// Whether it is an input (`true`) or an output.
    pub input: bool,
    /// Minimum cardinality.
    pub min: u32,
    /// Whether it repeats (`max` is not `1`).
    pub many: bool,
    /// The FHIR type, if any (a parameter with parts has none).
    pub ty: Option<String>,
    /// The documentation, on one line.
    pub documentation: String,
}

/// A compartment: the resource type that owns it and the resource types it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compartment {
    /// The owning resource type (`Patient`).
    pub code: String,
    /// The member resource types with the search parameters that link them to the owner,
    /// sorted by type; types whose parameter list is empty are not members.
    pub members: Vec<(String, Vec<String>)>,
}

/// One component of a composite search parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchComponent {
    /// The canonical URL of the component's own search parameter.
    pub definition: String,
    /// The FHIRPath expression, relative to the composite's expression.
    pub expression: Option<String>,
}

/// A Rust enum for the codes of a value set that a `code` element is bound to (required).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeEnum {
    /// The Rust name (`AdministrativeGender`).
    pub name: String,
    /// The value set URL.
    pub url: String,
    /// The value set title, if any.
    pub title: Option<String>,
    /// The variants in value set order.
    pub variants: Vec<CodeVariant>,
    /// The types whose elements use this enum, with their kind.
    pub used_by: BTreeSet<(TypeKind, String)>,
}

/// One code of a [`CodeEnum`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeVariant {
    /// The Rust variant name (`EnteredInError`).
    pub name: String,
    /// The code (`entered-in-error`).
    pub code: String,
    /// The display text, if any.
    pub display: Option<String>,
}

/// The variant that keeps a code outside the value set.
pub const UNRECOGNIZED_VARIANT: &str = "Unrecognized";

/// Whether a type is a datatype or a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TypeKind {
    /// A complex datatype (`HumanName`, `Quantity`, …).
    Datatype,
    /// A resource (`Patient`, …).
    Resource,
}

/// One datatype or resource, with the structs and choice enums it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDef {
    /// The FHIR type name (`Patient`).
    pub name: String,
    /// Datatype or resource.
    pub kind: TypeKind,
    /// The canonical URL of its StructureDefinition.
    pub url: String,
    /// The root struct first, then backbone elements in document order.
    pub structs: Vec<StructDef>,
    /// Choice elements of all structs, in document order.
    pub choices: Vec<ChoiceDef>,
}

/// A Rust struct: the root of a type or a backbone element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructDef {
    /// The Rust name (`Patient`, `PatientContact`).
    pub name: String,
    /// The FHIR path (`Patient.contact`).
    pub path: String,
    /// The short description from the definition.
    pub short: String,
    /// The fields in definition order.
    pub fields: Vec<Field>,
}

/// A field of a struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The JSON name; for a choice element the name without `[x]` (`value`).
    pub json_name: String,
    /// The Rust name (`birth_date`, `type_`).
    pub rust_name: String,
    /// The FHIR path (`Patient.birthDate`).
    pub path: String,
    /// The short description.
    pub short: String,
    /// Minimum cardinality (1 = required).
    pub min: u32,
    /// Whether the element repeats (`max` is not `1`).
    pub many: bool,
    /// The type of the element.
    pub ty: FieldType,
    /// The terminology binding, if any.
    pub binding: Option<Binding>,
}

/// The type of a field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum FieldType {
    /// A plain string without extensions (`Element.id`, `Extension.url`).
    PlainString,
    /// A FHIR primitive type (`date`, `code`, …) with its `_field` extensions.
    Primitive(String),
    /// A `code` with a required binding to an enumerable value set, by enum name, with its
    /// `_field` extensions.
    Code(String),
    /// A complex datatype (`HumanName`).
    Complex(String),
    /// A backbone element struct, by Rust name (`PatientContact`).
    Backbone(String),
    /// Any resource (`contained`, `Bundle.entry.resource`).
    Resource,
    /// A choice element, by the Rust name of its enum (`ObservationValue`).
    Choice(String),
}

/// A choice element's enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceDef {
    /// The Rust name (`ObservationValue`).
    pub name: String,
    /// The FHIR path (`Observation.value[x]`).
    pub path: String,
    /// The short description.
    pub short: String,
    /// The variants in definition order.
    pub variants: Vec<ChoiceVariant>,
}

/// One variant of a choice element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChoiceVariant {
    /// The Rust variant name (`Quantity`, `String`).
    pub name: String,
    /// The JSON property name (`valueQuantity`).
    pub json_name: String,
    /// A primitive or complex type.
    pub ty: FieldType,
}

/// A terminology binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// `required`, `extensible`, `preferred` or `example`.
    pub strength: String,
    /// The value set URL without its version, if any.
    pub value_set: Option<String>,
}

/// A search parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchParameter {
    /// The canonical URL.
    pub url: String,
    /// The name used in URLs (`birthdate`).
    pub code: String,
    /// The resource types it applies to.
    pub base: Vec<String>,
    /// `token`, `string`, `date`, `reference`, `quantity`, `number`, `uri`, `composite`, `special`.
    pub kind: String,
    /// The FHIRPath expression, if any.
    pub expression: Option<String>,
    /// The description.
    pub description: String,
    /// Target resource types of a reference parameter.
    pub target: Vec<String>,
    /// The components of a composite parameter, in definition order.
    pub components: Vec<SearchComponent>,
}

/// A value set whose codes are enumerated (directly or through a whole, enumerated code system).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueSet {
    /// The canonical URL without version.
    pub url: String,
    /// The computable name, if any.
    pub name: Option<String>,
    /// The title, if any.
    pub title: Option<String>,
    /// The codes with their display text, in definition order.
    pub codes: Vec<(String, Option<String>)>,
}

/// The primitive types of FHIR R4.
pub const PRIMITIVE_TYPES: &[&str] = &[
    "base64Binary",
    "boolean",
    "canonical",
    "code",
    "date",
    "dateTime",
    "decimal",
    "id",
    "instant",
    "integer",
    "markdown",
    "oid",
    "positiveInt",
    "string",
    "time",
    "unsignedInt",
    "uri",
    "url",
    "uuid",
    "xhtml",
];

impl Ir {
    /// Lowers parsed definitions into the IR.
    ///
    /// # Errors
    ///
    /// When a definition is inconsistent (an element without a type, two Rust names colliding).
    pub fn lower(defs: &Definitions) -> Result<Self, Error> {
        let mut types = Vec::new();
        for sd in &defs.structure_definitions {
            let kind = match sd.kind.as_str() {
                "complex-type" => TypeKind::Datatype,
                "resource" => TypeKind::Resource,
                _ => continue,
            };
            if sd.is_abstract || sd.derivation.as_deref() != Some("specialization") {
                continue;
            }
            types.push(lower_type(sd, kind)?);
        }
        types.sort_by(|a, b| a.name.cmp(&b.name));
        let mut seen = BTreeSet::new();
        for ty in &types {
            for name in ty
                .structs
                .iter()
                .map(|s| &s.name)
                .chain(ty.choices.iter().map(|c| &c.name))
            {
                if !seen.insert(name.clone()) {
                    return Err(Error::new(format!(
                        "two generated types are named `{name}`"
                    )));
                }
            }
        }
        let mut search_parameters: Vec<SearchParameter> = defs
            .search_parameters
            .iter()
            .map(|sp| SearchParameter {
                url: sp.url.clone(),
                code: sp.code.clone(),
                base: sp.base.clone(),
                kind: sp.kind.clone(),
                expression: sp.expression.clone(),
                description: sp.description.clone().unwrap_or_default(),
                target: sp.target.clone(),
                components: sp
                    .component
                    .iter()
                    .map(|c| SearchComponent {
                        definition: strip_version(&c.definition),
                        expression: c.expression.clone(),
                    })
                    .collect(),
            })
            .collect();
        search_parameters.sort_by(|a, b| a.url.cmp(&b.url));
        let value_sets = valueset::enumerate(defs);
        let code_enums = valueset::code_enums(&mut types, &value_sets, &seen);
        let mut compartments: Vec<Compartment> = defs
            .compartments
            .iter()
            .map(|c| Compartment {
                code: c.code.clone(),
                members: {
                    let mut members: Vec<(String, Vec<String>)> = c
                        .resource
                        .iter()
                        .filter(|r| !r.param.is_empty())
                        .map(|r| (r.code.clone(), r.param.clone()))
                        .collect();
                    members.sort();
                    members
                },
            })
            .collect();
        compartments.sort_by(|a, b| a.code.cmp(&b.code));
        compartments.dedup_by(|a, b| a.code == b.code);
        Ok(Self {
            types,
            search_parameters,
            value_sets,
            code_enums,
            compartments,
            operations: lower_operations(defs),
        })
    }

    /// The type named `name`, if any.
    pub fn get(&self, name: &str) -> Option<&TypeDef> {
        self.types.iter().find(|t| t.name == name)
    }
}

fn lower_operations(defs: &Definitions) -> Vec<Operation> {
    let mut operations: Vec<Operation> = defs
        .operation_definitions
        .iter()
        .map(|op| Operation {
            url: op.url.clone(),
            code: op.code.clone(),
            description: one_line(op.description.as_deref().unwrap_or_default()),
            affects_state: op.affects_state.unwrap_or(false),
            resource: op.resource.clone(),
            system: op.system,
            type_level: op.type_level,
            instance: op.instance,
            parameters: op
                .parameter
                .iter()
                .map(|p| OperationParameter {
                    name: p.name.clone(),
                    input: p.use_ == "in",
                    min: p.min,
                    many: p.max != "1",
                    ty: p.type_name.clone(),
                    documentation: one_line(p.documentation.as_deref().unwrap_or_default()),
                })
                .collect(),
        })
        .collect();
    operations.sort_by(|a, b| a.url.cmp(&b.url));
    operations
}

fn strip_version(url: &str) -> String {
    url.split('|').next().unwrap_or(url).to_owned()
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `Patient.contact.name` → `PatientContactName`.
fn struct_name_for_path(path: &str) -> String {
    path.split('.').map(upper_camel).collect()
}

fn lower_type(sd: &StructureDefinition, kind: TypeKind) -> Result<TypeDef, Error> {
    let elements = &sd.snapshot.element;
    let root = elements
        .first()
        .ok_or_else(|| Error::new(format!("{} has an empty snapshot", sd.name)))?;
    // Paths that have children become structs: the root and backbone elements.
    let parents: BTreeSet<&str> = elements
        .iter()
        .filter_map(|e| e.path.rsplit_once('.').map(|(parent, _)| parent))
        .collect();
    let mut structs: Vec<StructDef> = vec![StructDef {
        name: sd.type_name.clone(),
        path: root.path.clone(),
        short: one_line(root.short.as_deref().unwrap_or(&sd.name)),
        fields: Vec::new(),
    }];
    let mut index_of: BTreeMap<String, usize> = BTreeMap::new();
    index_of.insert(root.path.clone(), 0);
    for e in elements.iter().skip(1) {
        if parents.contains(e.path.as_str()) && e.content_reference.is_none() {
            index_of.insert(e.path.clone(), structs.len());
            structs.push(StructDef {
                name: struct_name_for_path(&e.path),
                path: e.path.clone(),
                short: one_line(e.short.as_deref().unwrap_or_default()),
                fields: Vec::new(),
            });
        }
    }
    let mut choices = Vec::new();
    for e in elements.iter().skip(1) {
        let Some((parent, name)) = e.path.rsplit_once('.') else {
            continue;
        };
        let Some(&owner) = index_of.get(parent) else {
            return Err(Error::new(format!("{}: no parent for {}", sd.name, e.path)));
        };
        let field = lower_field(e, name, &index_of, &structs, &mut choices)?;
        structs[owner].fields.push(field);
    }
    Ok(TypeDef {
        name: sd.type_name.clone(),
        kind,
        url: sd.url.clone(),
        structs,
        choices,
    })
}

fn lower_field(
    e: &ElementDefinition,
    name: &str,
    index_of: &BTreeMap<String, usize>,
    structs: &[StructDef],
    choices: &mut Vec<ChoiceDef>,
) -> Result<Field, Error> {
    let short = one_line(e.short.as_deref().unwrap_or_default());
    let binding = e.binding.as_ref().map(|b| Binding {
        strength: b.strength.clone(),
        value_set: b.value_set.as_deref().map(strip_version),
    });
    let (json_name, ty) = if let Some(base) = name.strip_suffix("[x]") {
        let enum_name = format!(
            "{}{}",
            struct_name_for_path(e.path.rsplit_once('.').map_or("", |p| p.0)),
            upper_camel(base)
        );
        let mut variants = Vec::new();
        for t in &e.types {
            let variant = upper_camel(&t.code);
            variants.push(ChoiceVariant {
                json_name: format!("{base}{variant}"),
                name: variant,
                ty: type_of_code(&t.code, e)?,
            });
        }
        choices.push(ChoiceDef {
            name: enum_name.clone(),
            path: e.path.clone(),
            short: short.clone(),
            variants,
        });
        (base.to_owned(), FieldType::Choice(enum_name))
    } else if let Some(target) = &e.content_reference {
        let target = target.trim_start_matches('#');
        let target = target.rsplit_once('#').map_or(target, |(_, path)| path);
        let index = index_of
            .get(target)
            .ok_or_else(|| Error::new(format!("{}: unknown content reference {target}", e.path)))?;
        (
            name.to_owned(),
            FieldType::Backbone(structs[*index].name.clone()),
        )
    } else if index_of.contains_key(&e.path) {
        (
            name.to_owned(),
            FieldType::Backbone(struct_name_for_path(&e.path)),
        )
    } else {
        let [t] = e.types.as_slice() else {
            return Err(Error::new(format!(
                "{} has {} types",
                e.path,
                e.types.len()
            )));
        };
        (name.to_owned(), type_of_code(&t.code, e)?)
    };
    Ok(Field {
        rust_name: field_name(&json_name),
        json_name,
        path: e.path.clone(),
        short,
        min: e.min.unwrap_or(0),
        many: e.max.as_deref().is_some_and(|max| max != "1" && max != "0"),
        ty,
        binding,
    })
}

fn type_of_code(code: &str, e: &ElementDefinition) -> Result<FieldType, Error> {
    if code.starts_with("http://hl7.org/fhirpath/System.") {
        return Ok(FieldType::PlainString);
    }
    if PRIMITIVE_TYPES.contains(&code) {
        return Ok(FieldType::Primitive(code.to_owned()));
    }
    match code {
        "Resource" => Ok(FieldType::Resource),
        "BackboneElement" | "Element" => Err(Error::new(format!(
            "{} is a {code} without children",
            e.path
        ))),
        _ if code.chars().next().is_some_and(|c| c.is_ascii_uppercase()) => {
            Ok(FieldType::Complex(code.to_owned()))
        }
        _ => Err(Error::new(format!("{}: unknown type `{code}`", e.path))),
    }
}
