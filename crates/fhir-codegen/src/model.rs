//! The subset of the FHIR definition resources the generator reads, as they appear in JSON.

use serde::Deserialize;

/// A Bundle of definitions, as published (`profiles-types.json`, `search-parameters.json`, …).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Bundle {
    #[serde(default)]
    pub(crate) entry: Vec<BundleEntry>,
}

/// One entry of a definitions Bundle.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct BundleEntry {
    pub(crate) resource: serde_json::Value,
}

/// A `StructureDefinition`, reduced to what the generator needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StructureDefinition {
    pub(crate) url: String,
    pub(crate) name: String,
    pub(crate) kind: String,
    #[serde(default, rename = "abstract")]
    pub(crate) is_abstract: bool,
    #[serde(default)]
    pub(crate) derivation: Option<String>,
    #[serde(rename = "type")]
    pub(crate) type_name: String,
    pub(crate) snapshot: Snapshot,
}

/// The snapshot view: every element of the type, inherited ones included.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Snapshot {
    pub(crate) element: Vec<ElementDefinition>,
}

/// An `ElementDefinition` of a snapshot.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ElementDefinition {
    pub(crate) path: String,
    #[serde(default)]
    pub(crate) short: Option<String>,
    #[serde(default)]
    pub(crate) min: Option<u32>,
    #[serde(default)]
    pub(crate) max: Option<String>,
    #[serde(default, rename = "type")]
    pub(crate) types: Vec<TypeRef>,
    #[serde(default)]
    pub(crate) content_reference: Option<String>,
    #[serde(default)]
    pub(crate) binding: Option<BindingDef>,
}

/// One allowed type of an element.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TypeRef {
    pub(crate) code: String,
}

/// The terminology binding of an element.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BindingDef {
    pub(crate) strength: String,
    #[serde(default)]
    pub(crate) value_set: Option<String>,
}

/// A `SearchParameter`, reduced to what the generator needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SearchParameterDef {
    pub(crate) url: String,
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) base: Vec<String>,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) expression: Option<String>,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) target: Vec<String>,
    #[serde(default)]
    pub(crate) component: Vec<SearchComponentDef>,
}

/// One component of a composite `SearchParameter`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct SearchComponentDef {
    pub(crate) definition: String,
    #[serde(default)]
    pub(crate) expression: Option<String>,
}

/// A `CompartmentDefinition`: which resource types belong to a compartment, and through which
/// search parameters.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CompartmentDefinitionDef {
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) resource: Vec<CompartmentResourceDef>,
}

/// One `CompartmentDefinition.resource`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct CompartmentResourceDef {
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) param: Vec<String>,
}

/// A `ValueSet`, reduced to its URL and the codes it lists by enumeration.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ValueSetDef {
    pub(crate) url: String,
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) title: Option<String>,
    #[serde(default)]
    pub(crate) compose: Option<Compose>,
}

/// The `compose` of a ValueSet.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Compose {
    #[serde(default)]
    pub(crate) include: Vec<ComposeInclude>,
}

/// One `compose.include` of a ValueSet.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ComposeInclude {
    #[serde(default)]
    pub(crate) system: Option<String>,
    #[serde(default)]
    pub(crate) concept: Vec<Concept>,
    #[serde(default)]
    pub(crate) filter: Vec<serde_json::Value>,
    #[serde(default)]
    pub(crate) value_set: Vec<String>,
}

/// A code with its display text.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Concept {
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) display: Option<String>,
    #[serde(default)]
    pub(crate) concept: Vec<Concept>,
}

/// A `CodeSystem`, reduced to its URL and (possibly nested) concepts.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CodeSystemDef {
    pub(crate) url: String,
    #[serde(default)]
    pub(crate) concept: Vec<Concept>,
}

/// An `OperationDefinition`, reduced to what the OpenAPI output needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OperationDefinitionDef {
    pub(crate) url: String,
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) affects_state: Option<bool>,
    #[serde(default)]
    pub(crate) resource: Vec<String>,
    pub(crate) system: bool,
    #[serde(rename = "type")]
    pub(crate) type_level: bool,
    pub(crate) instance: bool,
    #[serde(default)]
    pub(crate) parameter: Vec<OperationParameterDef>,
}

/// One top-level parameter of an `OperationDefinition`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OperationParameterDef {
    pub(crate) name: String,
    #[serde(rename = "use")]
    pub(crate) use_: String,
    pub(crate) min: u32,
    pub(crate) max: String,
    #[serde(default)]
    pub(crate) documentation: Option<String>,
    #[serde(default, rename = "type")]
    pub(crate) type_name: Option<String>,
}
