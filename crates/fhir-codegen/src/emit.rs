//! Emits Rust source from the IR: one file per type, module files and the `Resource` enum.

use std::collections::BTreeSet;

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::ir::{
    ChoiceDef, ChoiceVariant, CodeEnum, Field, FieldType, Ir, StructDef, TypeDef, TypeKind,
};
use crate::naming::module_name;
use crate::{Error, Settings};

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
    files.extend(crate::emit_search::generate(ir, settings)?);
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

fn emit_type(ty: &TypeDef, ctx: &Ctx) -> Result<TokenStream, Error> {
    let own: BTreeSet<String> = ty.structs.iter().map(|s| s.name.clone()).collect();
    let mut uses = Uses::default();
    let mut open = false;
    for s in &ty.structs {
        for f in &s.fields {
            uses.list |= f.many;
            match &f.ty {
                FieldType::Choice(name) if ctx.is_open(name) => open = true,
                other => uses.add(other, &own),
            }
        }
    }
    let own_choices: Vec<&ChoiceDef> = ty
        .choices
        .iter()
        .filter(|c| !ctx.is_open(&c.name))
        .collect();
    for c in &own_choices {
        for v in &c.variants {
            uses.add(&v.ty, &own);
        }
    }
    if open {
        uses.datatypes.insert(String::from(OPEN_VALUE));
    }
    let krate = &ctx.krate;
    let mut items = vec![quote!(
        use std::borrow::Cow;
    )];
    if !uses.codes.is_empty() {
        let names = uses.codes.iter().map(|n| ident(n));
        items.push(quote!(use #krate::codes::{#(#names),*};));
    }
    if !uses.datatypes.is_empty() {
        let names = uses.datatypes.iter().map(|n| ident(n));
        items.push(quote!(use #krate::datatypes::{#(#names),*};));
    }
    let mut json = vec![
        "JsonDecode",
        "JsonEncode",
        "Reader",
        "UnknownFields",
        "Writer",
        "de",
        "ser",
    ];
    if !own_choices.is_empty() {
        json.push("Choice");
    }
    json.push("Error");
    json.sort_by_key(|name| (name.starts_with(char::is_lowercase), *name));
    let json = json.iter().map(|n| ident(n));
    items.push(quote!(use #krate::json::{#(#json),*};));
    if !uses.primitives.is_empty() {
        let names = uses.primitives.iter().map(|n| ident(n));
        items.push(quote!(use #krate::primitives::{#(#names),*};));
    }
    if uses.resource {
        items.push(quote!(use #krate::Resource;));
    }
    if uses.list {
        items.push(quote!(use #krate::ThinVec;));
    }
    for (index, s) in ty.structs.iter().enumerate() {
        let is_root = index == 0;
        items.push(emit_struct(ty, s, is_root, ctx));
        items.push(emit_decode(ty, s, is_root, ctx)?);
        items.push(emit_encode(ty, s, is_root, ctx));
    }
    for c in own_choices {
        items.push(emit_choice(c));
    }
    if ty.kind == TypeKind::Resource {
        items.push(emit_resource_impls(ty, ctx));
    }
    Ok(quote!(#(#items)*))
}

fn emit_struct(ty: &TypeDef, s: &StructDef, is_root: bool, ctx: &Ctx) -> TokenStream {
    let name = ident(&s.name);
    let mut docs = vec![doc(&s.short)];
    if is_root {
        let see = format!(" See <{}>.", ty.url);
        docs.push(quote!(#[doc = ""]));
        docs.push(quote!(#[doc = #see]));
    } else {
        let path = format!(" The backbone element `{}`.", s.path);
        docs.push(quote!(#[doc = ""]));
        docs.push(quote!(#[doc = #path]));
    }
    let fields = s.fields.iter().map(|f| {
        let fname = ident(&f.rust_name);
        let fty = field_type(f, ctx);
        let mut text = f.short.clone();
        if f.min > 0 {
            text = format!("{} (required)", text.trim_end_matches('.'));
        }
        let fdoc = doc(&text);
        quote! {
            #fdoc
            pub #fname: #fty,
        }
    });
    quote! {
        #(#docs)*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct #name {
            #(#fields)*
            /// Properties not defined by FHIR R4, kept by a lenient decoder.
            pub unknown: UnknownFields,
        }
    }
}

/// The most repeating primitives one struct may have: each takes two bits of the reader's
/// per-object `u64`, whose bit 0 is `resourceType`.
const MAX_ALIGNED: usize = 31;

fn emit_decode(
    ty: &TypeDef,
    s: &StructDef,
    is_root: bool,
    ctx: &Ctx,
) -> Result<TokenStream, Error> {
    let choices = &ty.choices;
    let name = ident(&s.name);
    let mut arms = Vec::new();
    // Open-type elements are recognized by prefix, after the fixed names.
    let mut open_fields = Vec::new();
    // Repeating primitives: the bits that mark their two arrays as read, and the check of
    // their alignment once the object is read.
    let mut aligned = Vec::new();
    if is_root && ty.kind == TypeKind::Resource {
        let type_name = &ty.name;
        arms.push(quote!("resourceType" => de::resource_type(r, #type_name),));
    }
    for f in &s.fields {
        let fname = ident(&f.rust_name);
        let key = &f.json_name;
        let ext_key = format!("_{key}");
        match (&f.ty, f.many) {
            (FieldType::Primitive(_) | FieldType::Code(_), false) => {
                arms.push(quote!(#key => de::prim(r, #key, &mut self.#fname),));
                arms.push(quote!(#ext_key => de::prim_ext(r, #ext_key, &mut self.#fname),));
            }
            (FieldType::Primitive(_) | FieldType::Code(_), true) => {
                let bit = u32::try_from(1 + 2 * aligned.len()).unwrap_or(u32::MAX);
                let bit = proc_macro2::Literal::u32_unsuffixed(bit);
                arms.push(quote!(#key => de::prim_vec(r, #key, #bit, &mut self.#fname),));
                arms.push(
                    quote!(#ext_key => de::prim_vec_ext(r, #ext_key, #bit, &mut self.#fname),),
                );
                aligned.push(quote!(de::aligned(r, object, #bit, #key, &mut self.#fname)?;));
            }
            (FieldType::Choice(enum_name), _) if ctx.is_open(enum_name) => {
                open_fields
                    .push(quote!(OpenValue::decode_property(r, &key, #key, &mut self.#fname)?));
            }
            (FieldType::Choice(enum_name), _) => {
                let Some(choice) = choices.iter().find(|c| &c.name == enum_name) else {
                    continue;
                };
                let enum_ident = ident(enum_name);
                for v in &choice.variants {
                    let vkey = &v.json_name;
                    let vident = ident(&v.name);
                    if let FieldType::Primitive(_) = v.ty {
                        let vext = format!("_{vkey}");
                        let get = quote!(|v| match v {
                            #enum_ident::#vident(p) => Some(p),
                            _ => None,
                        });
                        arms.push(quote!(#vkey => de::choice_prim(r, #vkey, &mut self.#fname, #enum_ident::#vident, #get),));
                        arms.push(quote!(#vext => de::choice_prim_ext(r, #vext, &mut self.#fname, #enum_ident::#vident, #get),));
                    } else {
                        arms.push(quote!(#vkey => de::choice(r, #vkey, &mut self.#fname, #enum_ident::#vident),));
                    }
                }
            }
            (_, false) => arms.push(quote!(#key => de::opt(r, #key, &mut self.#fname),)),
            (_, true) => arms.push(quote!(#key => de::vec(r, #key, &mut self.#fname),)),
        }
    }
    let fallback = if open_fields.is_empty() {
        quote!(de::unknown(r, key, &mut self.unknown))
    } else {
        quote! {
            if #(#open_fields)||* {
                Ok(())
            } else {
                de::unknown(r, key, &mut self.unknown)
            }
        }
    };
    if aligned.len() > MAX_ALIGNED {
        return Err(Error::new(format!(
            "{}: more than {MAX_ALIGNED} repeating primitives",
            s.name
        )));
    }
    let finish = (!aligned.is_empty()).then(|| quote!(Self::check_aligned));
    // Resources track `resourceType`, structs with repeating primitives their arrays; the
    // others need no per-object bookkeeping.
    let decode = match (is_root && ty.kind == TypeKind::Resource, &finish) {
        (true, Some(finish)) => quote!(de::resource(r, Self::decode_property, Some(#finish))),
        (true, None) => quote!(de::resource(r, Self::decode_property, None)),
        (false, Some(finish)) => quote!(de::element(r, Self::decode_property, #finish)),
        (false, None) => quote!(de::object(r, Self::decode_property)),
    };
    let check_aligned = finish.map(|_| {
        quote! {
            fn check_aligned(&mut self, r: &mut Reader<'_>, object: de::Object) -> Result<(), Error> {
                #(#aligned)*
                Ok(())
            }
        }
    });
    Ok(quote! {
        impl JsonDecode for #name {
            fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
                #decode
            }
        }

        impl #name {
            fn decode_property(&mut self, r: &mut Reader<'_>, key: Cow<'_, str>) -> Result<(), Error> {
                match &*key {
                    #(#arms)*
                    _ => #fallback,
                }
            }

            #check_aligned
        }
    })
}

fn emit_encode(ty: &TypeDef, s: &StructDef, is_root: bool, ctx: &Ctx) -> TokenStream {
    let name = ident(&s.name);
    let mut stmts = Vec::new();
    if is_root && ty.kind == TypeKind::Resource {
        let type_name = &ty.name;
        stmts.push(quote!(ser::value(w, "resourceType", #type_name);));
    }
    for f in &s.fields {
        let fname = ident(&f.rust_name);
        let key = &f.json_name;
        let ext_key = format!("_{key}");
        stmts.push(match (&f.ty, f.many) {
            (FieldType::Primitive(_) | FieldType::Code(_), false) => {
                quote!(ser::prim(w, #key, #ext_key, &self.#fname);)
            }
            (FieldType::Primitive(_) | FieldType::Code(_), true) => {
                quote!(ser::prim_vec(w, #key, #ext_key, &self.#fname);)
            }
            (FieldType::Choice(enum_name), _) if ctx.is_open(enum_name) => quote! {
                if let Some(value) = &self.#fname {
                    value.encode_property(w, #key);
                }
            },
            (FieldType::Choice(_), _) => quote! {
                if let Some(value) = &self.#fname {
                    value.encode_choice(w);
                }
            },
            (_, false) => quote!(ser::opt(w, #key, &self.#fname);),
            (_, true) => quote!(ser::vec(w, #key, &self.#fname);),
        });
    }
    quote! {
        impl JsonEncode for #name {
            fn encode(&self, w: &mut Writer) {
                w.begin_object();
                #(#stmts)*
                self.unknown.encode(w);
                w.end_object();
            }
        }
    }
}

fn emit_choice(c: &ChoiceDef) -> TokenStream {
    let name = ident(&c.name);
    let enum_doc = doc(&c.short);
    let path = format!(" The choice element `{}`: one of its types.", c.path);
    let variants = c.variants.iter().map(|v| {
        let vname = ident(&v.name);
        let vty = value_type(&v.ty, true);
        let vdoc = format!(" `{}`.", v.json_name);
        quote! {
            #[doc = #vdoc]
            #vname(#vty),
        }
    });
    let names = c.variants.iter().map(|v| {
        let vname = ident(&v.name);
        let key = &v.json_name;
        quote!(Self::#vname(_) => #key,)
    });
    let encodes = c.variants.iter().map(|v| {
        let vname = ident(&v.name);
        let key = &v.json_name;
        if let FieldType::Primitive(_) = v.ty {
            let ext_key = format!("_{key}");
            quote!(Self::#vname(value) => ser::prim_one(w, #key, #ext_key, value),)
        } else {
            quote!(Self::#vname(value) => ser::value(w, #key, value),)
        }
    });
    quote! {
        #enum_doc
        #[doc = ""]
        #[doc = #path]
        #[derive(Debug, Clone, PartialEq)]
        pub enum #name {
            #(#variants)*
        }

        impl Choice for #name {
            fn json_name(&self) -> &'static str {
                match self {
                    #(#names)*
                }
            }

            fn encode_choice(&self, w: &mut Writer) {
                match self {
                    #(#encodes)*
                }
            }
        }
    }
}

/// The shared enum of open-type elements: its variants are named by type, and the element's
/// name (`value`, `defaultValue`, `fixed`, …) is given when reading and writing.
fn emit_open_value(open: &OpenType, ctx: &Ctx) -> TokenStream {
    let krate = &ctx.krate;
    let name = ident(OPEN_VALUE);
    let mut uses = Uses::default();
    for v in &open.variants {
        uses.add(&v.ty, &BTreeSet::new());
    }
    let datatypes = uses.datatypes.iter().map(|n| ident(n));
    let primitives = uses.primitives.iter().map(|n| ident(n));
    let suffix = |v: &ChoiceVariant| v.name.clone();
    let variants = open.variants.iter().map(|v| {
        let vname = ident(&v.name);
        let vty = value_type(&v.ty, true);
        let vdoc = format!(" A `{}` (`value{}`).", v.name, suffix(v));
        quote! {
            #[doc = #vdoc]
            #vname(#vty),
        }
    });
    let type_names = open.variants.iter().map(|v| {
        let vname = ident(&v.name);
        let key = suffix(v);
        quote!(Self::#vname(_) => #key,)
    });
    let decode_arms = open.variants.iter().map(|v| {
        let vname = ident(&v.name);
        let key = suffix(v);
        if let FieldType::Primitive(_) = v.ty {
            let get = quote!(|v| match v {
                Self::#vname(p) => Some(p),
                _ => None,
            });
            quote! {
                (#key, false) => de::open_prim(r, key, #key, slot, Self::#vname, #get),
                (#key, true) => de::open_prim_ext(r, key, #key, slot, Self::#vname, #get),
            }
        } else {
            quote!((#key, false) => de::open(r, key, #key, slot, Self::#vname),)
        }
    });
    let encodes = open.variants.iter().map(|v| {
        let vname = ident(&v.name);
        let key = suffix(v);
        if let FieldType::Primitive(_) = v.ty {
            quote!(Self::#vname(value) => ser::open_prim(w, name, #key, value),)
        } else {
            quote!(Self::#vname(value) => ser::open(w, name, #key, value),)
        }
    });
    quote! {
        use #krate::datatypes::{#(#datatypes),*};
        use #krate::json::{Error, Reader, Writer, de, ser};
        use #krate::primitives::{#(#primitives),*};

        /// The value of an open-type element, which may hold any FHIR type:
        /// `Extension.value[x]`, `ElementDefinition.defaultValue[x]`, `fixed[x]`, `pattern[x]`,
        /// `Parameters.parameter.value[x]`, `Task.input.value[x]`, ….
        ///
        /// In JSON the element's name is followed by the type (`valueQuantity`, `fixedString`).
        #[derive(Debug, Clone, PartialEq)]
        pub enum #name {
            #(#variants)*
        }

        impl #name {
            /// The name of the type held (`"Quantity"`), which follows the element's name in JSON.
            pub fn type_name(&self) -> &'static str {
                match self {
                    #(#type_names)*
                }
            }

            /// Reads the property `key` if it is a variant of the open-type element `name`
            /// (`valueString` or `_valueString` for `value`); returns whether it was. Used by
            /// the generated decoders of the structs holding open-type elements.
            ///
            /// # Errors
            ///
            /// When the value does not decode, or another variant is already present.
            pub fn decode_property(
                r: &mut Reader<'_>,
                key: &str,
                name: &'static str,
                slot: &mut Option<Self>,
            ) -> Result<bool, Error> {
                let (extension, rest) = match key.strip_prefix('_') {
                    Some(rest) => (true, rest),
                    None => (false, key),
                };
                let Some(type_name) = rest.strip_prefix(name) else {
                    return Ok(false);
                };
                match (type_name, extension) {
                    #(#decode_arms)*
                    _ => return Ok(false),
                }?;
                Ok(true)
            }

            /// Writes the value as the open-type element `name` (`valueQuantity` for `value`).
            pub fn encode_property(&self, w: &mut Writer, name: &str) {
                match self {
                    #(#encodes)*
                }
            }
        }
    }
}

fn emit_resource_impls(ty: &TypeDef, ctx: &Ctx) -> TokenStream {
    let name = ident(&ty.name);
    let type_name = &ty.name;
    let krate = &ctx.krate;
    quote! {
        impl fhir_core::Resource for #name {
            fn resource_type(&self) -> Option<&str> {
                Some(#type_name)
            }

            fn id(&self) -> Option<&str> {
                self.id.as_deref()
            }

            fn version_id(&self) -> Option<&str> {
                #krate::json::version_id(self.meta.as_deref())
            }

            fn from_json_slice(bytes: &[u8]) -> Result<Self, fhir_core::DecodeError> {
                #krate::json::from_slice(bytes, #type_name)
            }

            fn to_json_vec(&self) -> Result<Vec<u8>, fhir_core::EncodeError> {
                Ok(#krate::json::to_vec(self))
            }
        }

        impl fhir_core::TypedResource for #name {
            const RESOURCE_TYPE: &'static str = #type_name;
        }
    }
}

fn emit_mod(ir: &Ir, kind: TypeKind, ctx: &Ctx) -> TokenStream {
    let (inner_doc, cfg_each) = match kind {
        TypeKind::Datatype => (
            " The complex datatypes of FHIR R4 (`HumanName`, `Quantity`, …), one module per type.",
            false,
        ),
        TypeKind::Resource => (
            " The resources of FHIR R4, one module per resource, each behind its cargo feature.",
            true,
        ),
    };
    let items = ir.types.iter().filter(|t| t.kind == kind).map(|t| {
        let module = ident(&module_name(&t.name));
        let cfg = if cfg_each {
            ctx.cfg(&t.name)
        } else {
            TokenStream::new()
        };
        quote! {
            #cfg
            mod #module;
            #cfg
            pub use #module::*;
        }
    });
    let open = (kind == TypeKind::Datatype && ctx.open.is_some()).then(|| {
        let module = ident(&module_name(OPEN_VALUE));
        quote! {
            mod #module;
            pub use #module::*;
        }
    });
    quote! {
        #![doc = #inner_doc]
        #(#items)*
        #open
    }
}

fn emit_resource_enum(ir: &Ir, ctx: &Ctx) -> TokenStream {
    let resources: Vec<&TypeDef> = ir
        .types
        .iter()
        .filter(|t| t.kind == TypeKind::Resource)
        .collect();
    let krate = &ctx.krate;
    let variants = resources.iter().map(|t| {
        let name = ident(&t.name);
        let cfg = ctx.cfg(&t.name);
        let root_short = t
            .structs
            .first()
            .map(|s| s.short.as_str())
            .unwrap_or_default();
        let vdoc = doc(root_short);
        quote! {
            #cfg
            #vdoc
            #name(Box<#krate::resources::#name>),
        }
    });
    let type_arms = resources.iter().map(|t| {
        let name = ident(&t.name);
        let cfg = ctx.cfg(&t.name);
        let type_name = &t.name;
        quote!(#cfg Self::#name(_) => #type_name,)
    });
    let id_arms = resources.iter().map(|t| {
        let name = ident(&t.name);
        let cfg = ctx.cfg(&t.name);
        quote!(#cfg Self::#name(r) => r.id.as_deref(),)
    });
    let meta_arms = resources.iter().map(|t| {
        let name = ident(&t.name);
        let cfg = ctx.cfg(&t.name);
        quote!(#cfg Self::#name(r) => r.meta.as_deref(),)
    });
    let decode_arms = resources.iter().map(|t| {
        let name = ident(&t.name);
        let cfg = ctx.cfg(&t.name);
        let type_name = &t.name;
        quote!(#cfg #type_name => Ok(Self::#name(JsonDecode::decode(r)?)),)
    });
    let encode_arms = resources.iter().map(|t| {
        let name = ident(&t.name);
        let cfg = ctx.cfg(&t.name);
        quote!(#cfg Self::#name(r) => r.encode(w),)
    });
    let froms = resources.iter().map(|t| {
        let name = ident(&t.name);
        let cfg = ctx.cfg(&t.name);
        quote! {
            #cfg
            impl From<#krate::resources::#name> for Resource {
                fn from(resource: #krate::resources::#name) -> Self {
                    Self::#name(Box::new(resource))
                }
            }
        }
    });
    let names = resources.iter().map(|t| t.name.as_str());
    quote! {
        #![doc = " The `Resource` enum: any resource, tagged by `resourceType`."]

        use #krate::datatypes::Meta;
        use #krate::json::{Error, JsonDecode, JsonEncode, Reader, Writer};
        use #krate::RawResource;

        /// The names of all resource types of FHIR R4, sorted, whatever features are on.
        pub const RESOURCE_TYPES: &[&str] = &[#(#names),*];

        /// Any FHIR R4 resource, tagged by its `resourceType` (which may appear anywhere in the
        /// object). Each variant is boxed, so the enum is two words wide.
        ///
        /// A resource type whose cargo feature is off is kept losslessly as
        /// [`Resource::Raw`] JSON, as is, in lenient mode, an unknown resource type.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum Resource {
            #(#variants)*
            /// A resource kept as raw JSON: its type's feature is off, or it is unknown and the
            /// decoder was lenient.
            Raw(Box<RawResource>),
        }

        impl Resource {
            /// The `resourceType` (`"Patient"`).
            pub fn resource_type(&self) -> &str {
                match self {
                    #(#type_arms)*
                    Self::Raw(raw) => raw.resource_type(),
                }
            }

            /// The logical id, if set.
            pub fn id(&self) -> Option<&str> {
                match self {
                    #(#id_arms)*
                    Self::Raw(raw) => raw.id(),
                }
            }

            /// The metadata (`meta`) of a typed resource, if set; `None` for raw ones.
            pub fn meta(&self) -> Option<&Meta> {
                match self {
                    #(#meta_arms)*
                    Self::Raw(_) => None,
                }
            }
        }

        impl JsonDecode for Resource {
            fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
                let resource_type = RawResource::peek_type(r)?;
                match &*resource_type {
                    #(#decode_arms)*
                    _ => Ok(Self::Raw(Box::new(RawResource::decode_as(r, &resource_type)?))),
                }
            }
        }

        impl JsonEncode for Resource {
            fn encode(&self, w: &mut Writer) {
                match self {
                    #(#encode_arms)*
                    Self::Raw(raw) => raw.encode(w),
                }
            }
        }

        #(#froms)*
    }
}

fn emit_root_mod(krate: TargetCrate) -> TokenStream {
    match krate {
        TargetCrate::Datatypes => quote! {
            #![doc = " Code generated from the FHIR R4 definitions; see `docs/codegen.md`."]

            pub mod codes;
            pub mod datatypes;
        },
        TargetCrate::Models => quote! {
            #![doc = " Code generated from the FHIR R4 definitions; see `docs/codegen.md`."]

            #[cfg(feature = "rest")]
            pub(crate) mod paths;
            pub mod resources;
            #[cfg(feature = "rest")]
            pub(crate) mod search;
            mod resource;
            pub(crate) mod schema;

            pub use resource::{RESOURCE_TYPES, Resource};
        },
    }
}

fn emit_code_enum(e: &CodeEnum, ctx: &Ctx) -> TokenStream {
    let name = ident(&e.name);
    // An enum that only resources use is compiled with the features of those resources.
    let cfg = if ctx.features
        && e.used_by
            .iter()
            .all(|(kind, _)| *kind == TypeKind::Resource)
    {
        let features: Vec<String> = e.used_by.iter().map(|(_, ty)| module_name(ty)).collect();
        match features.as_slice() {
            [feature] => quote!(#[cfg(feature = #feature)]),
            _ => quote!(#[cfg(any(#(feature = #features),*))]),
        }
    } else {
        TokenStream::new()
    };
    let title = doc(e.title.as_deref().unwrap_or(&e.name));
    let see = format!(" Codes of the value set <{}>.", e.url);
    let variants = e.variants.iter().map(|v| {
        let vname = ident(&v.name);
        let code = v.code.replace('`', "'");
        let text = match &v.display {
            Some(display) => format!(" `{code}`: {}", doc_text(display)),
            None => format!(" `{code}`."),
        };
        let vdoc = quote!(#[doc = #text]);
        quote!(#vdoc #vname,)
    });
    let as_str = e.variants.iter().map(|v| {
        let vname = ident(&v.name);
        let code = &v.code;
        quote!(Self::#vname => #code,)
    });
    let from_code = e.variants.iter().map(|v| {
        let vname = ident(&v.name);
        let code = &v.code;
        quote!(#code => Self::#vname,)
    });
    quote! {
        #cfg
        #title
        #[doc = ""]
        #[doc = #see]
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum #name {
            #(#variants)*
            /// A code outside the value set, kept as it was read (see the `codes` module).
            Unrecognized(String),
        }

        #cfg
        impl #name {
            /// The code, as it appears in FHIR JSON.
            pub fn as_str(&self) -> &str {
                match self {
                    #(#as_str)*
                    Self::Unrecognized(code) => code,
                }
            }

            /// The variant for `code`; a code outside the value set becomes
            /// [`Self::Unrecognized`].
            pub fn from_code(code: &str) -> Self {
                match code {
                    #(#from_code)*
                    _ => Self::Unrecognized(code.to_owned()),
                }
            }
        }

        #cfg
        impl JsonDecode for #name {
            fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
                r.read_str().map(|code| Self::from_code(&code))
            }
        }

        #cfg
        impl JsonEncode for #name {
            fn encode(&self, w: &mut Writer) {
                w.string(self.as_str());
            }
        }
    }
}

fn emit_codes(ir: &Ir, ctx: &Ctx) -> TokenStream {
    let krate = &ctx.krate;
    let enums = ir.code_enums.iter().map(|e| emit_code_enum(e, ctx));
    quote! {
        #![doc = " Enums for the codes of elements bound to a value set with strength `required`."]
        #![doc = ""]
        #![doc = " Policy for codes outside the value set: they are not an error when reading. Each enum"]
        #![doc = " has an `Unrecognized` variant that keeps such a code exactly as it was read and writes"]
        #![doc = " it back unchanged, so no data is lost; validation is the place to reject it."]

        use #krate::json::{Error, JsonDecode, JsonEncode, Reader, Writer};

        #(#enums)*
    }
}

/// The target of an element in the schema table, as tokens; a choice is followed by its
/// variants, pushed onto `out` after the choice itself.
fn schema_elements(
    f: &Field,
    owner: &TypeDef,
    index_of: &std::collections::BTreeMap<&str, usize>,
    out: &mut Vec<TokenStream>,
) -> Result<(), Error> {
    let target = |ty: &FieldType| -> Result<TokenStream, Error> {
        Ok(match ty {
            FieldType::Complex(name) | FieldType::Backbone(name) => {
                let index = index_of
                    .get(name.as_str())
                    .copied()
                    .ok_or_else(|| Error::new(format!("{}: no struct `{name}`", owner.name)))?;
                let index = proc_macro2::Literal::usize_unsuffixed(index);
                quote!(Target::Struct(#index))
            }
            FieldType::Resource => quote!(Target::Resource),
            _ => quote!(Target::Value),
        })
    };
    let json = &f.json_name;
    let min = proc_macro2::Literal::u32_unsuffixed(f.min);
    if let FieldType::Choice(name) = &f.ty {
        let choice = owner
            .choices
            .iter()
            .find(|c| &c.name == name)
            .ok_or_else(|| Error::new(format!("no choice `{name}`")))?;
        let count = proc_macro2::Literal::usize_unsuffixed(choice.variants.len());
        out.push(quote!((#json, #min, Target::Choice(#count))));
        for v in &choice.variants {
            let key = &v.json_name;
            let t = target(&v.ty)?;
            out.push(quote!((#key, 0, #t)));
        }
    } else {
        let t = target(&f.ty)?;
        out.push(quote!((#json, #min, #t)));
    }
    Ok(())
}

/// A table of every struct's elements (JSON name, minimum cardinality, what it holds), read by
/// the hand-written validation.
fn emit_schema(ir: &Ir, ctx: &Ctx) -> Result<TokenStream, Error> {
    let krate = &ctx.krate;
    let mut index_of = std::collections::BTreeMap::new();
    let mut all = Vec::new();
    for ty in &ir.types {
        for s in &ty.structs {
            index_of.insert(s.name.as_str(), all.len());
            all.push((ty, s));
        }
    }
    let mut structs = Vec::new();
    let mut elements = Vec::new();
    for (ty, s) in &all {
        let path = &s.path;
        let first = proc_macro2::Literal::usize_unsuffixed(elements.len());
        structs.push(quote!((#path, #first)));
        for f in &s.fields {
            schema_elements(f, ty, &index_of, &mut elements)?;
        }
    }
    let mut roots: Vec<(&str, usize)> = ir
        .types
        .iter()
        .filter(|t| t.kind == TypeKind::Resource)
        .filter_map(|t| index_of.get(t.name.as_str()).map(|&i| (t.name.as_str(), i)))
        .collect();
    roots.sort();
    let roots = roots.iter().map(|(name, index)| {
        let index = proc_macro2::Literal::usize_unsuffixed(*index);
        quote!((#name, #index))
    });
    Ok(quote! {
        #![doc = " The elements of every struct, for validation: each struct's FHIR path and first"]
        #![doc = " element, and each element's JSON name, minimum cardinality and what it holds; a"]
        #![doc = " choice element is followed by its variants."]

        use #krate::validate::Target;

        /// Every struct (datatypes, resources and their backbone elements): its FHIR path and the
        /// index of its first element in `ELEMENTS`; its elements end where the next struct's begin.
        pub(crate) static STRUCTS: &[(&str, usize)] = &[#(#structs),*];

        /// The elements of all structs, in order: JSON name, minimum cardinality, target.
        pub(crate) static ELEMENTS: &[(&str, u32, Target)] = &[#(#elements),*];

        /// The struct of each resource type, sorted by name.
        pub(crate) static RESOURCES: &[(&str, usize)] = &[#(#roots),*];
    })
}
