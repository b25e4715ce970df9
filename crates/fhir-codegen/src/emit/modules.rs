//! Module files: one per type kind, the root module and the `Resource` enum.

use super::*;

pub(super) fn emit_mod(ir: &Ir, kind: TypeKind, ctx: &Ctx) -> TokenStream {
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

pub(super) fn emit_resource_enum(ir: &Ir, ctx: &Ctx) -> TokenStream {
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

            #cfg
            impl TryFrom<Resource> for #krate::resources::#name {
                /// The resource, given back, when it is of another type.
                type Error = Resource;

                #[inline]
                fn try_from(resource: Resource) -> Result<Self, Resource> {
                    match resource {
                        Resource::#name(resource) => Ok(*resource),
                        other => Err(other),
                    }
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

pub(super) fn emit_root_mod(krate: TargetCrate) -> TokenStream {
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
