//! Emits Rust source from the IR: one file per type, module files and the `Resource` enum.

use std::collections::BTreeSet;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::ir::{
    ChoiceDef, ChoiceVariant, CodeEnum, Field, FieldType, Ir, StructDef, TypeDef, TypeKind,
};
use crate::naming::module_name;
use crate::{Error, Settings};

mod codes;
mod json;
mod modules;
mod schema;
mod search;
mod types;

use codes::*;
use json::*;
use modules::*;
use schema::*;
use types::*;

/// The crate a generated file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetCrate {
    /// `fhir-r4-datatypes`: the complex datatypes and the code enums (those only resources use
    /// behind the resources' features).
    Datatypes,
    /// `fhir-r4`: the resources, the `Resource` enum and the schema tables.
    Models,
}

/// One generated file: its crate, its path relative to that crate's `generated` folder, and
/// its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// The crate whose `src/generated` folder holds the file.
    pub krate: TargetCrate,
    /// The path relative to the generated folder, with `/` separators (`resources/patient.rs`).
    pub path: String,
    /// The formatted Rust source.
    pub text: String,
}

/// The cargo feature of each resource type: `(feature, type name)`, sorted by type name.
pub fn resource_features(ir: &Ir) -> Vec<(String, String)> {
    ir.types
        .iter()
        .filter(|t| t.kind == TypeKind::Resource)
        .map(|t| (module_name(&t.name), t.name.clone()))
        .collect()
}

/// Generates every file of the models, sorted by crate and path.
///
/// # Errors
///
/// When the emitted tokens are not valid Rust (a bug in the generator).
pub fn generate(ir: &Ir, settings: &Settings) -> Result<Vec<GeneratedFile>, Error> {
    use TargetCrate::{Datatypes, Models};
    let ctx = Ctx::new(ir, settings);
    let header = ctx.header();
    let file = |krate, path: String, tokens| -> Result<GeneratedFile, Error> {
        Ok(GeneratedFile {
            krate,
            path,
            text: format_file(&header, tokens)?,
        })
    };
    let mut files = Vec::new();
    for ty in &ir.types {
        let (krate, folder) = match ty.kind {
            TypeKind::Datatype => (Datatypes, "datatypes"),
            TypeKind::Resource => (Models, "resources"),
        };
        let path = format!("{folder}/{}.rs", module_name(&ty.name));
        files.push(file(krate, path, emit_type(ty, &ctx)?)?);
    }
    if let Some(open) = &ctx.open {
        let path = format!("datatypes/{}.rs", module_name(OPEN_VALUE));
        files.push(file(Datatypes, path, emit_open_value(open, &ctx))?);
    }
    let datatypes_mod = emit_mod(ir, TypeKind::Datatype, &ctx);
    files.push(file(Datatypes, "datatypes/mod.rs".into(), datatypes_mod)?);
    files.push(file(Datatypes, "codes.rs".into(), emit_codes(ir, &ctx))?);
    files.push(file(Datatypes, "mod.rs".into(), emit_root_mod(Datatypes))?);

    let resources_mod = emit_mod(ir, TypeKind::Resource, &ctx);
    files.push(file(Models, "resources/mod.rs".into(), resources_mod)?);
    files.push(file(Models, "schema.rs".into(), emit_schema(ir, &ctx)?)?);
    let resource_enum = emit_resource_enum(ir, &ctx);
    files.push(file(Models, "resource.rs".into(), resource_enum)?);
    files.push(file(Models, "mod.rs".into(), emit_root_mod(Models))?);
    files.extend(search::generate(ir, settings)?);
    files.sort_by(|a, b| (a.krate, &a.path).cmp(&(b.krate, &b.path)));
    Ok(files)
}

/// Generates the file of one type alone (used by snapshot tests).
///
/// # Errors
///
/// When the type is unknown or the emitted tokens are not valid Rust.
pub fn generate_type_file(ir: &Ir, name: &str, settings: &Settings) -> Result<String, Error> {
    let ty = ir
        .get(name)
        .ok_or_else(|| Error::new(format!("no type named `{name}`")))?;
    let ctx = Ctx::new(ir, settings);
    format_file(&ctx.header(), emit_type(ty, &ctx)?)
}

struct Ctx {
    krate: TokenStream,
    header: String,
    features: bool,
    open: Option<OpenType>,
}

/// The open-type elements (`Extension.value[x]`, `ElementDefinition.fixed[x]`, `Task.input.value[x]`,
/// …): choices that allow every type. They share one enum, [`OPEN_VALUE`], instead of one
/// 50-variant enum each, which would be the same code compiled ten times.
struct OpenType {
    /// The choice enums replaced by the shared one.
    choices: BTreeSet<String>,
    /// The variants, as defined on `Extension.value[x]`.
    variants: Vec<ChoiceVariant>,
}

/// The shared enum of open-type elements, in `datatypes`.
const OPEN_VALUE: &str = "OpenValue";

impl OpenType {
    /// Finds the choices with the types of `Extension.value[x]`, when more than one exists.
    fn find(ir: &Ir) -> Option<Self> {
        let signature = |c: &ChoiceDef| -> Vec<(String, FieldType)> {
            c.variants
                .iter()
                .map(|v| (v.name.clone(), v.ty.clone()))
                .collect()
        };
        let extension = ir
            .get("Extension")?
            .choices
            .iter()
            .find(|c| c.path == "Extension.value[x]")?;
        let wanted = signature(extension);
        let choices: BTreeSet<String> = ir
            .types
            .iter()
            .flat_map(|t| &t.choices)
            .filter(|c| signature(c) == wanted)
            .map(|c| c.name.clone())
            .collect();
        if choices.len() < 2 {
            return None;
        }
        Some(Self {
            choices,
            variants: extension.variants.clone(),
        })
    }
}

impl Ctx {
    fn new(ir: &Ir, settings: &Settings) -> Self {
        let krate = match settings.crate_path.parse::<TokenStream>() {
            Ok(tokens) => tokens,
            Err(_) => quote!(crate),
        };
        Self {
            krate,
            header: settings.header.clone(),
            features: settings.resource_features,
            open: OpenType::find(ir),
        }
    }

    /// Whether the choice enum `choice` is replaced by the shared open-type enum.
    fn is_open(&self, choice: &str) -> bool {
        self.open
            .as_ref()
            .is_some_and(|open| open.choices.contains(choice))
    }

    fn header(&self) -> String {
        self.header.clone()
    }

    fn cfg(&self, ty: &str) -> TokenStream {
        if self.features {
            let feature = module_name(ty);
            quote!(#[cfg(feature = #feature)])
        } else {
            TokenStream::new()
        }
    }
}

pub(crate) fn format_file(header: &str, tokens: TokenStream) -> Result<String, Error> {
    let file: syn::File = syn::parse2(tokens)
        .map_err(|err| Error::new(format!("generated code does not parse: {err}")))?;
    let body = prettyplease::unparse(&file);
    Ok(format!("//! {header}\n\n{}", separate_items(&body)))
}

/// Puts a blank line between top-level items, as a person would (prettyplease packs them).
fn separate_items(body: &str) -> String {
    let mut out = String::with_capacity(body.len() + body.len() / 20);
    let mut previous = "";
    for line in body.lines() {
        let item_ended = previous == "}" || previous.ends_with("];");
        let uses_ended =
            (previous.starts_with("use ") || previous == "};") && !line.starts_with("use ");
        let docs_ended = previous.starts_with("//!") && !line.starts_with("//!");
        if !line.is_empty() && (item_ended || uses_ended || docs_ended) {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
        previous = line;
    }
    out
}

pub(crate) fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// Makes definition text safe for rustdoc: no intra-doc links, no HTML.
fn doc_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '[' => out.push_str("\\["),
            ']' => out.push_str("\\]"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    let trimmed = out.trim();
    let mut sentence = trimmed.to_owned();
    if !sentence.is_empty() && !sentence.ends_with(['.', '?', '!']) {
        sentence.push('.');
    }
    sentence
}

pub(crate) fn doc(text: &str) -> TokenStream {
    let text = format!(" {}", doc_text(text));
    quote!(#[doc = #text])
}

fn primitive_value_type(code: &str) -> &'static str {
    match code {
        "boolean" => "bool",
        "integer" => "i32",
        "positiveInt" => "PositiveInt",
        "unsignedInt" => "UnsignedInt",
        "decimal" => "Decimal",
        "date" => "Date",
        "dateTime" => "DateTime",
        "instant" => "Instant",
        "time" => "Time",
        _ => "String",
    }
}

/// The names a file uses from outside itself, for its `use` lines.
#[derive(Default)]
struct Uses {
    codes: BTreeSet<String>,
    datatypes: BTreeSet<String>,
    primitives: BTreeSet<String>,
    resource: bool,
    list: bool,
}

impl Uses {
    fn add(&mut self, ty: &FieldType, own: &BTreeSet<String>) {
        match ty {
            FieldType::PlainString | FieldType::Backbone(_) | FieldType::Choice(_) => {}
            FieldType::Primitive(code) => {
                self.primitives.insert(String::from("Primitive"));
                let value = primitive_value_type(code);
                if !matches!(value, "bool" | "i32" | "String") {
                    self.primitives.insert(value.to_owned());
                }
            }
            FieldType::Code(name) => {
                self.primitives.insert(String::from("Primitive"));
                self.codes.insert(name.clone());
            }
            FieldType::Complex(name) => {
                if !own.contains(name) {
                    self.datatypes.insert(name.clone());
                }
            }
            FieldType::Resource => self.resource = true,
        }
    }
}

/// The value type of a field or variant, before `Option`/`Vec`.
fn value_type(ty: &FieldType, boxed: bool) -> TokenStream {
    match ty {
        FieldType::PlainString => quote!(String),
        FieldType::Primitive(code) => {
            let value = ident(primitive_value_type(code));
            quote!(Primitive<#value>)
        }
        FieldType::Code(name) => {
            let name = ident(name);
            quote!(Primitive<#name>)
        }
        FieldType::Complex(name) | FieldType::Backbone(name) => {
            let name = ident(name);
            if boxed {
                quote!(Box<#name>)
            } else {
                quote!(#name)
            }
        }
        FieldType::Resource => quote!(Resource),
        FieldType::Choice(name) => {
            let name = ident(name);
            quote!(#name)
        }
    }
}

fn field_type(field: &Field, ctx: &Ctx) -> TokenStream {
    if let FieldType::Choice(name) = &field.ty
        && ctx.is_open(name)
    {
        let open = ident(OPEN_VALUE);
        return quote!(Option<#open>);
    }
    if field.many {
        let inner = value_type(&field.ty, false);
        quote!(ThinVec<#inner>)
    } else {
        let inner = value_type(&field.ty, true);
        quote!(Option<#inner>)
    }
}
