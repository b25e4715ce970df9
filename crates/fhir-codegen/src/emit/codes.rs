//! Code enums from required bindings, and their module.

use super::*;

/// An enum that only resources use is compiled with the features of those resources.
pub(super) fn code_enum_cfg(e: &CodeEnum, features: bool) -> TokenStream {
    if features
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
    }
}

pub(super) fn emit_code_enum(e: &CodeEnum, ctx: &Ctx) -> TokenStream {
    let name = ident(&e.name);
    let cfg = code_enum_cfg(e, ctx.features);
    let title = doc(e.title.as_deref().unwrap_or(&e.name));
    let see = format!(" Codes of the value set <{}>.", e.url);
    let url = &e.url;
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
        impl std::fmt::Display for #name {
            /// The code, as it appears in FHIR JSON.
            #[inline]
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #cfg
        impl JsonDecode for #name {
            fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
                let code = r.read_str()?;
                let value = Self::from_code(&code);
                r.check_code(!matches!(value, Self::Unrecognized(_)), &code, #url)?;
                Ok(value)
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

pub(super) fn emit_codes(ir: &Ir, ctx: &Ctx) -> TokenStream {
    let krate = &ctx.krate;
    let enums = ir.code_enums.iter().map(|e| emit_code_enum(e, ctx));
    quote! {
        #![doc = " Enums for the codes of elements bound to a value set with strength `required`."]
        #![doc = ""]
        #![doc = " Policy for codes outside the value set: they are not an error when reading. Each enum"]
        #![doc = " has an `Unrecognized` variant that keeps such a code exactly as it was read and writes"]
        #![doc = " it back unchanged, so no data is lost. To reject such codes while reading, decode with"]
        #![doc = " `DecodeOptions::rejecting_unrecognized_codes`: the error names the path, the code and"]
        #![doc = " the value set."]

        use #krate::json::{Error, JsonDecode, JsonEncode, Reader, Writer};

        #(#enums)*
    }
}
