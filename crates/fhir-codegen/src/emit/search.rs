//! Emits the typed search parameters (`search/<resource>.rs`, one function per parameter, typed
//! by kind) and the compartment memberships used by the path builders (`paths.rs`). The runtime
//! they call is hand-written in `fhir-r4` (`search`, `paths`); this side only writes tables and
//! one-line functions, so the generated code stays small.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::quote;

use super::{GeneratedFile, code_enum_cfg, doc, format_file, ident};
use crate::ir::{Ir, SearchParameter, TypeKind};
use crate::naming::{field_name, module_name};
use crate::{Error, Settings};

/// The search and path files, paths relative to the generated folder.
pub(crate) fn generate(ir: &Ir, settings: &Settings) -> Result<Vec<GeneratedFile>, Error> {
    let header = settings.header.clone();
    let krate: TokenStream = settings
        .crate_path
        .parse()
        .map_err(|_| Error::new(format!("bad crate path `{}`", settings.crate_path)))?;
    let resources: Vec<&str> = ir
        .types
        .iter()
        .filter(|t| t.kind == TypeKind::Resource)
        .map(|t| t.name.as_str())
        .collect();
    let by_url: BTreeMap<&str, &SearchParameter> = ir
        .search_parameters
        .iter()
        .map(|sp| (sp.url.as_str(), sp))
        .collect();
    let cfg = |ty: &str| -> TokenStream {
        if settings.resource_features {
            let feature = module_name(ty);
            quote!(#[cfg(feature = #feature)])
        } else {
            TokenStream::new()
        }
    };
    let targets = TargetSets::new(ir, &resources);
    let mut files = vec![GeneratedFile {
        krate: crate::TargetCrate::Models,
        path: String::from("search/targets.rs"),
        text: format_file(&header, targets.emit(&krate, &cfg))?,
    }];
    let mut modules = Vec::new();
    for resource in &resources {
        let params = params_of(ir, resource);
        let module = module_name(resource);
        let tokens = emit_resource(resource, &params, &targets, &by_url, &krate);
        files.push(GeneratedFile {
            krate: crate::TargetCrate::Models,
            path: format!("search/{module}.rs"),
            text: format_file(&header, tokens)?,
        });
        let module = ident(&module);
        let cfg = cfg(resource);
        let text = format!(" The search parameters of `{resource}`.");
        modules.push(quote! {
            #cfg
            #[doc = #text]
            pub mod #module;
        });
    }
    files.push(GeneratedFile {
        krate: crate::TargetCrate::Models,
        path: String::from("search/codes.rs"),
        text: format_file(
            &header,
            emit_code_tokens(ir, &krate, settings.resource_features),
        )?,
    });
    files.push(GeneratedFile {
        krate: crate::TargetCrate::Models,
        path: String::from("search/mod.rs"),
        text: format_file(
            &header,
            quote! {
                #![doc = " The search parameters of each resource type, one module per type."]
                mod codes;
                pub mod targets;
                #(#modules)*
            },
        )?,
    });
    files.push(GeneratedFile {
        krate: crate::TargetCrate::Models,
        path: String::from("paths.rs"),
        text: format_file(&header, emit_compartments(ir, &resources, &krate, &cfg))?,
    });
    Ok(files)
}

/// Every code enum as a token search value (`gender().eq(AdministrativeGender::Female)`,
/// `status().eq([ObservationStatus::Final, ObservationStatus::Amended])`): the code without a
/// system, as the enum does not say which system its value set draws on.
fn emit_code_tokens(ir: &Ir, krate: &TokenStream, features: bool) -> TokenStream {
    let impls = ir.code_enums.iter().map(|e| {
        let name = ident(&e.name);
        let cfg = code_enum_cfg(e, features);
        quote! {
            #cfg
            impl From<#krate::codes::#name> for Token {
                #[inline]
                fn from(code: #krate::codes::#name) -> Self {
                    Token::code(code.as_str())
                }
            }

            #cfg
            impl From<#krate::codes::#name> for Or<Token> {
                #[inline]
                fn from(code: #krate::codes::#name) -> Self {
                    Or::from([code])
                }
            }
        }
    });
    quote! {
        #![doc = " Code enums as token search values."]
        use #krate::search::{Or, Token};
        #(#impls)*
    }
}

/// The parameters whose base includes `resource`, by code (the first by URL wins a tie).
fn params_of<'a>(ir: &'a Ir, resource: &str) -> Vec<&'a SearchParameter> {
    let mut by_code: BTreeMap<&str, &SearchParameter> = BTreeMap::new();
    for sp in &ir.search_parameters {
        if sp.base.iter().any(|b| b == resource) {
            by_code.entry(sp.code.as_str()).or_insert(sp);
        }
    }
    by_code.into_values().collect()
}

/// The part of a description about `resource`: multi-resource parameters list one line per
/// type (`* [Observation](observation.html): The subject …`).
fn description_for(sp: &SearchParameter, resource: &str) -> String {
    let prefix = format!("* [{resource}](");
    let line = sp
        .description
        .lines()
        .find_map(|line| line.trim().strip_prefix(prefix.as_str()))
        .and_then(|rest| {
            rest.split_once("):")
                .map(|(_, text)| text.trim().to_owned())
        });
    let text = line.unwrap_or_else(|| sp.description.clone());
    let kind = &sp.kind;
    let code = &sp.code;
    format!("`{code}` ({kind}): {}", text.trim())
}

/// `text` ending with a full stop, so another sentence can follow.
fn doc_sentence(text: &str) -> String {
    let text = text.trim();
    if text.ends_with(['.', '?', '!']) {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

/// The kind type of a parameter (`TokenKind`), for its handle or as a composite component.
fn kind_tokens(kind: &str) -> TokenStream {
    match kind {
        "token" => quote!(TokenKind),
        "string" => quote!(StringKind),
        "date" => quote!(DateKind),
        "number" => quote!(NumberKind),
        "quantity" => quote!(QuantityKind),
        "uri" => quote!(UriKind),
        "reference" => quote!(ReferenceKind<AnyTarget>),
        _ => quote!(SpecialKind),
    }
}

fn emit_resource(
    resource: &str,
    params: &[&SearchParameter],
    targets: &TargetSets,
    by_url: &BTreeMap<&str, &SearchParameter>,
    krate: &TokenStream,
) -> TokenStream {
    let ty = ident(resource);
    let names = params.iter().map(|sp| sp.code.as_str());
    let mut items = Vec::new();
    for sp in params {
        let fn_name = ident(&field_name(&sp.code));
        let code = &sp.code;
        let mut text = description_for(sp, resource);
        if sp.kind == "reference" {
            let set = TargetSets::set_of(sp, &targets.resources);
            if set.len() <= 8 {
                text = format!("{} Targets: {}.", doc_sentence(&text), set.join(", "));
            } else {
                text = format!(
                    "{} Targets: {} resource types.",
                    doc_sentence(&text),
                    set.len()
                );
            }
        }
        let docs = doc(&text);
        let handle = match sp.kind.as_str() {
            "reference" => {
                let marker = ident(&targets.name_of(sp));
                quote!(ReferenceParam<#ty, targets::#marker>)
            }
            "composite" => {
                let parts = sp.components.iter().map(|c| {
                    by_url
                        .get(c.definition.as_str())
                        .map_or_else(|| quote!(SpecialKind), |p| kind_tokens(&p.kind))
                });
                quote!(CompositeParam<#ty, (#(#parts,)*)>)
            }
            kind => {
                let alias = ident(match kind {
                    "token" => "TokenParam",
                    "string" => "StringParam",
                    "date" => "DateParam",
                    "number" => "NumberParam",
                    "quantity" => "QuantityParam",
                    "uri" => "UriParam",
                    _ => "SpecialParam",
                });
                quote!(#alias<#ty>)
            }
        };
        items.push(quote! {
            #docs
            pub const fn #fn_name() -> #handle {
                Param::new(#code)
            }
        });
    }
    quote! {
        use #krate::resources::#ty;
        #[allow(unused_imports)]
        use #krate::search::{
            AnyTarget, CompositeParam, DateKind, DateParam, NumberKind, NumberParam, Param,
            QuantityKind, QuantityParam, ReferenceKind, ReferenceParam, Searchable, SpecialKind,
            SpecialParam, StringKind, StringParam, TokenKind, TokenParam, UriKind, UriParam,
            targets,
        };

        impl Searchable for #ty {
            const SEARCH_PARAMETERS: &'static [&'static str] = &[#(#names),*];
        }

        #(#items)*
    }
}

/// The distinct target lists of the reference parameters, each a marker type shared by every
/// parameter with that list: a few hundred `ReferenceTarget` impls instead of thousands.
struct TargetSets {
    /// The resource types of the IR: targets outside it are left out.
    resources: Vec<String>,
    /// Sorted target types → marker name.
    names: BTreeMap<Vec<String>, String>,
}

impl TargetSets {
    fn new(ir: &Ir, resources: &[&str]) -> Self {
        let mut sets: Vec<Vec<String>> = ir
            .search_parameters
            .iter()
            .filter(|sp| sp.kind == "reference")
            .map(|sp| Self::set_of(sp, resources))
            .collect();
        sets.sort();
        sets.dedup();
        let mut names = BTreeMap::new();
        let mut large = 0;
        for set in sets {
            let name = if set.is_empty() {
                String::from("ToNothing")
            } else if set.len() <= 3 {
                format!("To{}", set.join("Or"))
            } else {
                large += 1;
                format!("ToSet{large}")
            };
            names.insert(set, name);
        }
        Self {
            resources: resources.iter().map(|r| (*r).to_owned()).collect(),
            names,
        }
    }

    fn set_of<S: AsRef<str>>(sp: &SearchParameter, resources: &[S]) -> Vec<String> {
        let mut set: Vec<String> = sp
            .target
            .iter()
            .filter(|t| resources.iter().any(|r| r.as_ref() == t.as_str()))
            .cloned()
            .collect();
        set.sort();
        set.dedup();
        set
    }

    fn name_of(&self, sp: &SearchParameter) -> String {
        // Every set was collected in `new`, from the same parameters.
        self.names
            .get(&Self::set_of(sp, &self.resources))
            .map_or_else(|| String::from("ToNothing"), Clone::clone)
    }

    fn emit(&self, krate: &TokenStream, cfg: &dyn Fn(&str) -> TokenStream) -> TokenStream {
        let items = self.names.iter().map(|(set, name)| {
            let marker = ident(name);
            let text = if set.is_empty() {
                String::from(" A reference parameter without declared targets (no chains).")
            } else {
                format!(" A reference parameter to {}.", set.join(", "))
            };
            let impls = set.iter().map(|target| {
                let target_cfg = cfg(target);
                let target = ident(target);
                quote! {
                    #target_cfg
                    impl ReferenceTarget<#marker> for #krate::resources::#target {}
                }
            });
            quote! {
                #[doc = #text]
                #[derive(Debug, Clone, Copy)]
                pub enum #marker {}
                #(#impls)*
            }
        });
        quote! {
            #![doc = " The target lists of reference parameters, one marker type per distinct list."]
            #[allow(unused_imports)]
            use #krate::search::ReferenceTarget;
            #(#items)*
        }
    }
}

fn emit_compartments(
    ir: &Ir,
    resources: &[&str],
    krate: &TokenStream,
    cfg: &dyn Fn(&str) -> TokenStream,
) -> TokenStream {
    let mut items = Vec::new();
    for compartment in &ir.compartments {
        if !resources.contains(&compartment.code.as_str()) {
            continue;
        }
        let owner = ident(&compartment.code);
        let owner_cfg = cfg(&compartment.code);
        let fn_name = ident(&format!("{}_compartment", module_name(&compartment.code)));
        let fn_doc = format!(
            " The `{}` compartment with this id (`{}/[id]/…`).",
            compartment.code, compartment.code
        );
        items.push(quote! {
            #owner_cfg
            impl CompartmentOwner for #krate::resources::#owner {}

            #owner_cfg
            #[doc = #fn_doc]
            ///
            /// # Errors
            ///
            /// `PathError::InvalidId` for a malformed id.
            pub fn #fn_name(id: &str) -> Result<Compartment<#krate::resources::#owner>, PathError> {
                Compartment::new(id)
            }
        });
        for (member, params) in &compartment.members {
            if !resources.contains(&member.as_str()) {
                continue;
            }
            let member_ty = ident(member);
            let member_cfg = if member == &compartment.code {
                TokenStream::new()
            } else {
                cfg(member)
            };
            items.push(quote! {
                #owner_cfg
                #member_cfg
                impl InCompartment<#krate::resources::#owner> for #krate::resources::#member_ty {
                    const PARAMS: &'static [&'static str] = &[#(#params),*];
                }
            });
        }
    }
    let operations = emit_operations(ir, resources, krate, cfg);
    quote! {
        #![doc = " Compartment memberships and operations, from the CompartmentDefinitions and"]
        #![doc = " OperationDefinitions."]
        #[allow(unused_imports)]
        use #krate::paths::{Compartment, CompartmentOwner, InCompartment, PathError};

        #(#items)*

        #operations
    }
}

/// The first sentence of a long description (operation descriptions run to pages).
fn first_sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(end) if text.len() > 200 => &text[..=end],
        _ => text,
    }
}

/// One marker type per OperationDefinition (`PatientEverything`), with its levels and the
/// resource types it applies to.
fn emit_operations(
    ir: &Ir,
    resources: &[&str],
    krate: &TokenStream,
    cfg: &dyn Fn(&str) -> TokenStream,
) -> TokenStream {
    let mut seen = std::collections::BTreeSet::new();
    let mut items = Vec::new();
    for op in &ir.operations {
        let id = op.url.rsplit('/').next().unwrap_or(&op.url);
        let name = crate::naming::upper_camel(id);
        if !seen.insert(name.clone()) {
            continue;
        }
        let marker = ident(&name);
        let code = &op.code;
        let affects_state = op.affects_state;
        let docs = doc(&format!(
            "`${code}` ({id}): {}",
            first_sentence(&op.description)
        ));
        let mut levels = Vec::new();
        for (on, level) in [
            (op.system, "SystemLevel"),
            (op.type_level, "TypeLevel"),
            (op.instance, "InstanceLevel"),
        ] {
            if on {
                let level = ident(level);
                levels.push(quote!(impl #level for #marker {}));
            }
        }
        let impls: Vec<TokenStream> = if op.resource.iter().any(|r| r == "Resource") {
            vec![quote!(impl<T: fhir_core::TypedResource> Invocable<#marker> for T {})]
        } else {
            op.resource
                .iter()
                .filter(|r| resources.contains(&r.as_str()))
                .map(|r| {
                    let target_cfg = cfg(r);
                    let ty = ident(r);
                    quote! {
                        #target_cfg
                        impl Invocable<#marker> for #krate::resources::#ty {}
                    }
                })
                .collect()
        };
        items.push(quote! {
            #docs
            #[derive(Debug, Clone, Copy)]
            pub enum #marker {}
            impl Operation for #marker {
                const CODE: &'static str = #code;
                const AFFECTS_STATE: bool = #affects_state;
            }
            #(#levels)*
            #(#impls)*
        });
    }
    quote! {
        /// The operations of FHIR R4, one marker type per OperationDefinition, for
        /// `paths::invoke_system`, `invoke_type` and `invoke_instance`.
        pub mod operations {
            #[allow(unused_imports)]
            use #krate::paths::{InstanceLevel, Invocable, Operation, SystemLevel, TypeLevel};

            #(#items)*
        }
    }
}

#[cfg(test)]
mod tests;
