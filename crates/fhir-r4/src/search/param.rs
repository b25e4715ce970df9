//! Search parameter handles ([`Param`]), typed by the resource they belong to and by their kind,
//! and the [`Clause`]s they produce (`name[:modifier]=value[,value]`).

use std::fmt;
use std::marker::PhantomData;

use fhir_core::TypedResource;
use fhir_core::query::escape;

use super::value::{
    DateValue, Number, Or, Prefix, Prefixed, Quantity, ReferenceValue, SearchValue, Token,
};

/// One `name=value` pair of a search of `R`, values already escaped and OR-joined. Add it to a
/// [`Search<R>`](super::Search) with `and`; a clause of another resource type does not fit.
#[derive(Clone, PartialEq, Eq)]
pub struct Clause<R> {
    name: String,
    value: String,
    _resource: PhantomData<fn() -> R>,
}

impl<R> Clause<R> {
    fn new(name: String, value: String) -> Self {
        Self {
            name,
            value,
            _resource: PhantomData,
        }
    }

    /// The parameter name with its modifier or chain (`subject:Patient.name:exact`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value in FHIR search syntax (escaped, OR-joined).
    pub fn value(&self) -> &str {
        &self.value
    }

    pub(crate) fn into_pair(self) -> (String, String) {
        (self.name, self.value)
    }
}

impl<R> fmt::Debug for Clause<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.name, self.value)
    }
}

/// The kind of a token parameter (`code`, `identifier`, `status`).
#[derive(Debug, Clone, Copy)]
pub enum TokenKind {}
/// The kind of a string parameter (`name`, `address`).
#[derive(Debug, Clone, Copy)]
pub enum StringKind {}
/// The kind of a date parameter (`birthdate`, `date`).
#[derive(Debug, Clone, Copy)]
pub enum DateKind {}
/// The kind of a number parameter (`probability`).
#[derive(Debug, Clone, Copy)]
pub enum NumberKind {}
/// The kind of a quantity parameter (`value-quantity`).
#[derive(Debug, Clone, Copy)]
pub enum QuantityKind {}
/// The kind of a uri parameter (`url`).
#[derive(Debug, Clone, Copy)]
pub enum UriKind {}
/// The kind of a special parameter (`near`), whose syntax is its own.
#[derive(Debug, Clone, Copy)]
pub enum SpecialKind {}
/// The kind of a reference parameter; `P` is the parameter's marker, which names its allowed
/// target types through [`ReferenceTarget`].
#[derive(Debug, Clone, Copy)]
pub struct ReferenceKind<P>(PhantomData<P>);
/// The kind of a composite parameter; `C` is the tuple of its components' kinds, in the
/// definition's order.
#[derive(Debug, Clone, Copy)]
pub struct CompositeKind<C>(PhantomData<C>);

/// The marker of a reference used as a composite component, whose targets are not checked.
#[derive(Debug, Clone, Copy)]
pub enum AnyTarget {}

/// `T` may be the target of the reference parameter whose marker is `P`: implemented (by the
/// generated code) for each target type the parameter's definition lists, and for every
/// resource when it lists them all.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a target type of this reference search parameter",
    label = "not among the parameter's targets",
    note = "the targets come from the SearchParameter's `target` list (see the parameter's docs)"
)]
pub trait ReferenceTarget<P>: TypedResource {}

/// A kind usable as a composite component, with the value it takes there.
pub trait ComponentKind {
    /// The value of the component.
    type Value: SearchValue;
}

impl ComponentKind for TokenKind {
    type Value = Token;
}
impl ComponentKind for StringKind {
    type Value = String;
}
impl ComponentKind for UriKind {
    type Value = String;
}
impl ComponentKind for DateKind {
    type Value = Prefixed<DateValue>;
}
impl ComponentKind for NumberKind {
    type Value = Prefixed<Number>;
}
impl ComponentKind for QuantityKind {
    type Value = Prefixed<Quantity>;
}
impl ComponentKind for SpecialKind {
    type Value = String;
}
impl<P> ComponentKind for ReferenceKind<P> {
    type Value = ReferenceValue;
}

/// A search parameter of resource type `R`, of kind `K`. The generated modules
/// (`fhir_r4::search::observation::code()`, …) and [`common`](super::common) hand these out;
/// the methods available depend on the kind.
pub struct Param<R, K> {
    code: &'static str,
    _marker: PhantomData<fn() -> (R, K)>,
}

impl<R, K> Clone for Param<R, K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R, K> Copy for Param<R, K> {}

impl<R, K> fmt::Debug for Param<R, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

/// A token parameter of `R`.
pub type TokenParam<R> = Param<R, TokenKind>;
/// A string parameter of `R`.
pub type StringParam<R> = Param<R, StringKind>;
/// A date parameter of `R`.
pub type DateParam<R> = Param<R, DateKind>;
/// A number parameter of `R`.
pub type NumberParam<R> = Param<R, NumberKind>;
/// A quantity parameter of `R`.
pub type QuantityParam<R> = Param<R, QuantityKind>;
/// A uri parameter of `R`.
pub type UriParam<R> = Param<R, UriKind>;
/// A special parameter of `R`.
pub type SpecialParam<R> = Param<R, SpecialKind>;
/// A reference parameter of `R` with marker `P`.
pub type ReferenceParam<R, P> = Param<R, ReferenceKind<P>>;
/// A composite parameter of `R` with component kinds `C`.
pub type CompositeParam<R, C> = Param<R, CompositeKind<C>>;

impl<R, K> Param<R, K> {
    /// The handle of the parameter named `code` (used by the generated code).
    pub const fn new(code: &'static str) -> Self {
        Self {
            code,
            _marker: PhantomData,
        }
    }

    /// The parameter's name (`birthdate`).
    pub const fn code(&self) -> &'static str {
        self.code
    }

    /// `name:missing=true|false`: whether the element is absent.
    pub fn missing(self, missing: bool) -> Clause<R> {
        self.modified("missing", missing.to_string())
    }

    fn plain(self, value: String) -> Clause<R> {
        Clause::new(self.code.to_owned(), value)
    }

    fn modified(self, modifier: &str, value: String) -> Clause<R> {
        Clause::new(format!("{}:{modifier}", self.code), value)
    }
}

impl<R> Param<R, TokenKind> {
    /// `name=value[,value]`: any of the tokens.
    pub fn eq(self, tokens: impl Into<Or<Token>>) -> Clause<R> {
        self.plain(tokens.into().render())
    }

    /// `name:not=value[,value]`: none of the tokens.
    pub fn not(self, tokens: impl Into<Or<Token>>) -> Clause<R> {
        self.modified("not", tokens.into().render())
    }

    /// `name:above=…`: the code or a code it is subsumed by.
    pub fn above(self, tokens: impl Into<Or<Token>>) -> Clause<R> {
        self.modified("above", tokens.into().render())
    }

    /// `name:below=…`: the code or a code it subsumes.
    pub fn below(self, tokens: impl Into<Or<Token>>) -> Clause<R> {
        self.modified("below", tokens.into().render())
    }

    /// `name:text=…`: the text (display or `text`) matches.
    pub fn text(self, text: impl Into<Or<String>>) -> Clause<R> {
        self.modified("text", text.into().render())
    }

    /// `name:in=…`: the code is in the value set with this URL.
    pub fn in_value_set(self, value_set: impl Into<Or<String>>) -> Clause<R> {
        self.modified("in", value_set.into().render())
    }

    /// `name:not-in=…`: the code is not in the value set with this URL.
    pub fn not_in_value_set(self, value_set: impl Into<Or<String>>) -> Clause<R> {
        self.modified("not-in", value_set.into().render())
    }

    /// `name:of-type=system|code|value`: an identifier of this type with this value.
    pub fn of_type(self, identifier_type: Token, value: &str) -> Clause<R> {
        let mut text = String::new();
        identifier_type.write_to(&mut text);
        if !text.contains('|') {
            // A type without a system is written `|code`, so the three parts stay apart.
            text.insert(0, '|');
        }
        text.push('|');
        text.push_str(&escape(value));
        self.modified("of-type", text)
    }
}

impl<R> Param<R, StringKind> {
    /// `name=value`: starts with the text (case- and accent-insensitive).
    pub fn eq(self, text: impl Into<Or<String>>) -> Clause<R> {
        self.plain(text.into().render())
    }

    /// `name:exact=value`: exactly the text.
    pub fn exact(self, text: impl Into<Or<String>>) -> Clause<R> {
        self.modified("exact", text.into().render())
    }

    /// `name:contains=value`: contains the text.
    pub fn contains(self, text: impl Into<Or<String>>) -> Clause<R> {
        self.modified("contains", text.into().render())
    }
}

impl<R> Param<R, UriKind> {
    /// `name=uri`: exactly the URI.
    pub fn eq(self, uri: impl Into<Or<String>>) -> Clause<R> {
        self.plain(uri.into().render())
    }

    /// `name:above=uri`: the URI or one it starts with.
    pub fn above(self, uri: impl Into<Or<String>>) -> Clause<R> {
        self.modified("above", uri.into().render())
    }

    /// `name:below=uri`: URIs that start with this one.
    pub fn below(self, uri: impl Into<Or<String>>) -> Clause<R> {
        self.modified("below", uri.into().render())
    }
}

impl<R> Param<R, SpecialKind> {
    /// `name=value` with the value escaped as one literal.
    pub fn eq(self, text: impl Into<Or<String>>) -> Clause<R> {
        self.plain(text.into().render())
    }

    /// `name=value` with the value sent as given, unescaped: for special syntaxes such as
    /// `near=lat|long|distance|units`, where `|` is a separator. The caller escapes literals.
    pub fn eq_unescaped(self, value: impl Into<String>) -> Clause<R> {
        self.plain(value.into())
    }
}

macro_rules! ordered {
    ($kind:ty, $value:ty, $what:literal) => {
        impl<R> Param<R, $kind> {
            #[doc = concat!("`name=v[,v]`: any of the ", $what, " values, each with its own prefix.")]
            pub fn any_of(self, values: impl Into<Or<Prefixed<$value>>>) -> Clause<R> {
                self.plain(values.into().render())
            }

            #[doc = concat!("`name=V`: equal to the ", $what, " (no prefix is written).")]
            pub fn eq(self, value: impl Into<$value>) -> Clause<R> {
                let mut text = String::new();
                value.into().write_to(&mut text);
                self.plain(text)
            }

            #[doc = concat!("`name=neV`: not equal to the ", $what, ".")]
            pub fn ne(self, value: impl Into<$value>) -> Clause<R> {
                self.prefixed(Prefix::Ne, value.into())
            }

            #[doc = concat!("`name=gtV`: greater than the ", $what, ".")]
            pub fn gt(self, value: impl Into<$value>) -> Clause<R> {
                self.prefixed(Prefix::Gt, value.into())
            }

            #[doc = concat!("`name=ltV`: less than the ", $what, ".")]
            pub fn lt(self, value: impl Into<$value>) -> Clause<R> {
                self.prefixed(Prefix::Lt, value.into())
            }

            #[doc = concat!("`name=geV`: greater than or equal to the ", $what, ".")]
            pub fn ge(self, value: impl Into<$value>) -> Clause<R> {
                self.prefixed(Prefix::Ge, value.into())
            }

            #[doc = concat!("`name=leV`: less than or equal to the ", $what, ".")]
            pub fn le(self, value: impl Into<$value>) -> Clause<R> {
                self.prefixed(Prefix::Le, value.into())
            }

            #[doc = concat!("`name=saV`: starts after the ", $what, ".")]
            pub fn sa(self, value: impl Into<$value>) -> Clause<R> {
                self.prefixed(Prefix::Sa, value.into())
            }

            #[doc = concat!("`name=ebV`: ends before the ", $what, ".")]
            pub fn eb(self, value: impl Into<$value>) -> Clause<R> {
                self.prefixed(Prefix::Eb, value.into())
            }

            #[doc = concat!("`name=apV`: approximately the ", $what, ".")]
            pub fn ap(self, value: impl Into<$value>) -> Clause<R> {
                self.prefixed(Prefix::Ap, value.into())
            }

            fn prefixed(self, prefix: Prefix, value: $value) -> Clause<R> {
                let mut text = String::new();
                prefix.with::<$value>(value).write_to(&mut text);
                self.plain(text)
            }
        }
    };
}

ordered!(DateKind, DateValue, "date");
ordered!(NumberKind, Number, "number");
ordered!(QuantityKind, Quantity, "quantity");

impl<R, P> Param<R, ReferenceKind<P>> {
    /// `name=ref[,ref]`: any of the references (ids, `Type/id` or URLs, unchecked).
    pub fn eq(self, references: impl Into<Or<ReferenceValue>>) -> Clause<R> {
        self.plain(references.into().render())
    }

    /// `name=Type/id`, the type checked against the parameter's targets.
    pub fn to<T: ReferenceTarget<P>>(self, id: &str) -> Clause<R> {
        let mut text = String::new();
        ReferenceValue::typed(T::RESOURCE_TYPE, id).write_to(&mut text);
        self.plain(text)
    }

    /// `name:Type=id`: the typed-target modifier, the type checked against the targets.
    pub fn typed<T: ReferenceTarget<P>>(self, id: &str) -> Clause<R> {
        self.modified(T::RESOURCE_TYPE, escape(id))
    }

    /// `name:identifier=system|value`: the reference's `identifier`.
    pub fn identifier(self, identifier: impl Into<Or<Token>>) -> Clause<R> {
        self.modified("identifier", identifier.into().render())
    }

    /// `name:Type.inner=value`: a chain through the reference to a parameter of the target type
    /// `T`, which must be one the parameter allows.
    pub fn chain<T: ReferenceTarget<P>>(self, inner: Clause<T>) -> Clause<R> {
        let (inner_name, value) = inner.into_pair();
        Clause::new(
            format!("{}:{}.{inner_name}", self.code, T::RESOURCE_TYPE),
            value,
        )
    }
}

impl<S: TypedResource, P> Param<S, ReferenceKind<P>> {
    /// `_has:S:name:inner=value` (reverse chain): resources of type `T` referred to by this
    /// parameter of some `S` that matches `inner`. `T` must be one of the parameter's targets;
    /// `inner` may itself be a reverse chain.
    pub fn has<T: ReferenceTarget<P>>(self, inner: Clause<S>) -> Clause<T> {
        let (inner_name, value) = inner.into_pair();
        Clause::new(
            format!("_has:{}:{}:{inner_name}", S::RESOURCE_TYPE, self.code),
            value,
        )
    }
}

impl<R, A: ComponentKind, B: ComponentKind> Param<R, CompositeKind<(A, B)>> {
    /// `name=a$b`: the components in the definition's order, each escaped.
    pub fn eq(self, a: impl Into<A::Value>, b: impl Into<B::Value>) -> Clause<R> {
        let mut text = String::new();
        a.into().write_to(&mut text);
        text.push('$');
        b.into().write_to(&mut text);
        self.plain(text)
    }

    /// `name=a$b,c$d`: any of the component pairs.
    pub fn any_of<X: Into<A::Value>, Y: Into<B::Value>>(
        self,
        pairs: impl IntoIterator<Item = (X, Y)>,
    ) -> Clause<R> {
        let mut text = String::new();
        for (index, (a, b)) in pairs.into_iter().enumerate() {
            if index > 0 {
                text.push(',');
            }
            a.into().write_to(&mut text);
            text.push('$');
            b.into().write_to(&mut text);
        }
        self.plain(text)
    }
}

impl<R, A: ComponentKind, B: ComponentKind, C: ComponentKind> Param<R, CompositeKind<(A, B, C)>> {
    /// `name=a$b$c`: the components in the definition's order, each escaped.
    pub fn eq(
        self,
        a: impl Into<A::Value>,
        b: impl Into<B::Value>,
        c: impl Into<C::Value>,
    ) -> Clause<R> {
        let mut text = String::new();
        a.into().write_to(&mut text);
        text.push('$');
        b.into().write_to(&mut text);
        text.push('$');
        c.into().write_to(&mut text);
        self.plain(text)
    }
}
