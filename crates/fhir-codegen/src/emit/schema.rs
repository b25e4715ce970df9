//! The table of every struct's elements (JSON name, minimum cardinality, what it holds) that
//! the hand-written validation reads.

use super::*;

/// The target of an element in the schema table, as tokens; a choice is followed by its
/// variants, pushed onto `out` after the choice itself.
pub(super) fn schema_elements(
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
pub(super) fn emit_schema(ir: &Ir, ctx: &Ctx) -> Result<TokenStream, Error> {
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
