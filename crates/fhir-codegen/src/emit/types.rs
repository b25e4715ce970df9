//! A type's file: its struct (or choice enum, or open value), and the `Resource`
//! implementation of a resource.

use std::collections::BTreeMap;

use super::*;

pub(super) fn emit_type(ty: &TypeDef, ctx: &Ctx) -> Result<TokenStream, Error> {
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
        if ty.kind == TypeKind::Resource {
            items.push(emit_setters(s, ctx));
        }
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

pub(super) fn emit_struct(ty: &TypeDef, s: &StructDef, is_root: bool, ctx: &Ctx) -> TokenStream {
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

/// `with_<field>` for every field of a resource's structs, taking `impl Into` so that
/// `Box`, `Some` and the primitive wrappers stay out of everyday code:
/// `Observation::default().with_status(ObservationStatus::Final).with_code(coding)`. A list
/// field takes any iterable of items that convert. The setters are generic, so they cost
/// nothing until called.
fn emit_setters(s: &StructDef, ctx: &Ctx) -> TokenStream {
    let name = ident(&s.name);
    let setters = s.fields.iter().filter(|f| !hand_written_setter(&s.name, f)).map(|f| {
        let field = ident(&f.rust_name);
        let setter = ident(&format!("with_{}", f.rust_name.trim_end_matches('_')));
        let open = matches!(&f.ty, FieldType::Choice(choice) if ctx.is_open(choice));
        if f.many && !open {
            let item = value_type(&f.ty, false);
            let text = format!(" Sets `{}` to `items`, replacing what it held.", f.json_name);
            quote! {
                #[doc = #text]
                #[inline]
                #[must_use]
                pub fn #setter<I: Into<#item>>(mut self, items: impl IntoIterator<Item = I>) -> Self {
                    self.#field = items.into_iter().map(Into::into).collect();
                    self
                }
            }
        } else {
            let text = format!(" Sets `{}`.", f.json_name);
            let (value, stored) = match &f.ty {
                _ if open => {
                    let open = ident(OPEN_VALUE);
                    (quote!(#open), quote!(value.into()))
                }
                FieldType::Complex(inner) | FieldType::Backbone(inner) => {
                    let inner = ident(inner);
                    (quote!(#inner), quote!(Box::new(value.into())))
                }
                other => (value_type(other, true), quote!(value.into())),
            };
            quote! {
                #[doc = #text]
                #[inline]
                #[must_use]
                pub fn #setter(mut self, value: impl Into<#value>) -> Self {
                    self.#field = Some(#stored);
                    self
                }
            }
        }
    });
    // With per-type features, the setters are a feature of their own.
    let cfg = if ctx.features {
        quote!(#[cfg(feature = "setters")])
    } else {
        TokenStream::new()
    };
    quote! {
        #cfg
        impl #name {
            #(#setters)*
        }
    }
}

/// Setters fhir-r4 writes by hand, with other semantics: `Parameters::with_parameter` adds one
/// parameter (its `with_value`, `with_resource` and `with_part` build on it).
fn hand_written_setter(struct_name: &str, field: &Field) -> bool {
    struct_name == "Parameters" && field.json_name == "parameter"
}

/// `From` for each variant whose type no other variant of the enum holds, so that
/// `value: Some(quantity.into())` or `Some(true.into())` picks the variant: from the value
/// type itself (unboxed), from its `Primitive`, and from `&str` for a string. Variants that
/// share a type (`valueString`, `valueCode`, `valueUri` all hold `Primitive<String>`) have to
/// be named.
fn emit_variant_froms(name: &Ident, variants: &[ChoiceVariant]) -> TokenStream {
    let key = |ty: &FieldType| -> Option<String> {
        match ty {
            FieldType::Primitive(code) => Some(primitive_value_type(code).to_owned()),
            FieldType::Code(name) | FieldType::Complex(name) | FieldType::Backbone(name) => {
                Some(name.clone())
            }
            FieldType::PlainString | FieldType::Resource | FieldType::Choice(_) => None,
        }
    };
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for v in variants {
        if let Some(k) = key(&v.ty) {
            *counts.entry(k).or_default() += 1;
        }
    }
    let froms = variants.iter().filter_map(|v| {
        let k = key(&v.ty)?;
        if counts.get(&k) != Some(&1) {
            return None;
        }
        let vname = ident(&v.name);
        let inner = ident(&k);
        let doc = format!(" The `{}` variant.", v.json_name);
        Some(match &v.ty {
            FieldType::Primitive(_) | FieldType::Code(_) => {
                let from_str = (k == "String").then(|| {
                    quote! {
                        impl From<&str> for #name {
                            #[doc = #doc]
                            #[inline]
                            fn from(value: &str) -> Self {
                                Self::#vname(Primitive::from(value))
                            }
                        }
                    }
                });
                quote! {
                    impl From<#inner> for #name {
                        #[doc = #doc]
                        #[inline]
                        fn from(value: #inner) -> Self {
                            Self::#vname(Primitive::new(value))
                        }
                    }
                    impl From<Primitive<#inner>> for #name {
                        #[doc = #doc]
                        #[inline]
                        fn from(value: Primitive<#inner>) -> Self {
                            Self::#vname(value)
                        }
                    }
                    #from_str
                }
            }
            _ => quote! {
                impl From<#inner> for #name {
                    #[doc = #doc]
                    #[inline]
                    fn from(value: #inner) -> Self {
                        Self::#vname(Box::new(value))
                    }
                }
            },
        })
    });
    quote!(#(#froms)*)
}

pub(super) fn emit_choice(c: &ChoiceDef) -> TokenStream {
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
    let froms = emit_variant_froms(&name, &c.variants);
    quote! {
        #enum_doc
        #[doc = ""]
        #[doc = #path]
        #[derive(Debug, Clone, PartialEq)]
        pub enum #name {
            #(#variants)*
        }

        #froms

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
pub(super) fn emit_open_value(open: &OpenType, ctx: &Ctx) -> TokenStream {
    let krate = &ctx.krate;
    let name = ident(OPEN_VALUE);
    let mut uses = Uses::default();
    for v in &open.variants {
        uses.add(&v.ty, &BTreeSet::new());
    }
    let datatypes = uses.datatypes.iter().map(|n| ident(n));
    let primitives = uses.primitives.iter().map(|n| ident(n));
    let suffix = |v: &ChoiceVariant| v.name.clone();
    let open_froms = emit_variant_froms(&name, &open.variants);
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

        #open_froms

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

pub(super) fn emit_resource_impls(ty: &TypeDef, ctx: &Ctx) -> TokenStream {
    let name = ident(&ty.name);
    let type_name = &ty.name;
    let krate = &ctx.krate;
    let from_json_doc = format!(
        " Reads a `{type_name}` from FHIR JSON, strictly (an unknown property or a bad value is an error naming its path)."
    );
    quote! {
        impl #name {
            #[doc = #from_json_doc]
            ///
            /// # Errors
            ///
            /// A [`fhir_core::DecodeError`] saying what is wrong and where.
            #[inline]
            pub fn from_json(bytes: &[u8]) -> Result<Self, fhir_core::DecodeError> {
                #krate::json::from_slice(bytes, #type_name)
            }

            /// Reads FHIR JSON with `options` ([`DecodeOptions::lenient`](crate::json::DecodeOptions::lenient)
            /// keeps unknown properties and repairs what it can) and returns, beside the
            /// resource, the report of everything lenient decoding kept, repaired or dropped.
            ///
            /// # Errors
            ///
            /// A [`fhir_core::DecodeError`] for what even `options` do not accept.
            #[inline]
            pub fn from_json_with(
                bytes: &[u8],
                options: #krate::json::DecodeOptions,
            ) -> Result<(Self, #krate::json::DecodeReport), fhir_core::DecodeError> {
                #krate::json::from_slice_with_report(bytes, #type_name, options)
            }

            /// Writes FHIR JSON (compact; the text of every decimal as it was read).
            #[inline]
            pub fn to_json(&self) -> Vec<u8> {
                #krate::json::to_vec(self)
            }
        }

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
