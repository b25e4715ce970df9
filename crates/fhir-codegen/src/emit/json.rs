//! A struct's JSON: the generated decoder (keys dispatched, every value kept, paths in
//! errors) and encoder.

use super::*;

/// The most repeating primitives one struct may have: each takes two bits of the reader's
/// per-object `u64`, whose bit 0 is `resourceType`.
const MAX_ALIGNED: usize = 31;

pub(super) fn emit_decode(
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
    // The element names, for the "did you mean" of an unknown property (read only then).
    let mut known: Vec<String> = Vec::new();
    if is_root && ty.kind == TypeKind::Resource {
        known.push(String::from("resourceType"));
    }
    for f in &s.fields {
        match &f.ty {
            FieldType::Choice(enum_name) if !ctx.is_open(enum_name) => {
                if let Some(choice) = choices.iter().find(|c| &c.name == enum_name) {
                    known.extend(choice.variants.iter().map(|v| v.json_name.clone()));
                }
            }
            _ => known.push(f.json_name.clone()),
        }
    }
    let unknown = quote!(de::unknown_among(r, key, &mut self.unknown, &[#(#known),*]));
    let fallback = if open_fields.is_empty() {
        unknown
    } else {
        quote! {
            if #(#open_fields)||* {
                Ok(())
            } else {
                #unknown
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

pub(super) fn emit_encode(ty: &TypeDef, s: &StructDef, is_root: bool, ctx: &Ctx) -> TokenStream {
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
