//! Decoding helpers called by generated code, one per shape of element.
//!
//! Each takes the JSON name of the property so that an error can name its path; the name is
//! only used when something goes wrong.

use std::borrow::Cow;

use fhir_core::DecodeErrorKind;

use super::{Choice, Error, JsonDecode, Reader, UnknownFields};
use crate::ThinVec;
use crate::datatypes::OpenValue;
use crate::primitives::{Primitive, PrimitiveExtension};

/// Reads an object into a `T::default()`, handing each property to `property`, which is the
/// generated `decode_property` of the struct.
///
/// # Errors
///
/// When the value is not an object, or `property` fails.
pub fn object<'a, T: Default>(
    r: &mut Reader<'a>,
    property: fn(&mut T, &mut Reader<'a>, Cow<'a, str>) -> Result<(), Error>,
) -> Result<T, Error> {
    let mut out = T::default();
    r.begin_object()?;
    while let Some(key) = r.next_key()? {
        property(&mut out, r, key)?;
    }
    Ok(out)
}

// The helpers below avoid closures and adapters (`map_err`, `get_or_insert_with`): they are
// instantiated once per element type, and each closure would be one more function to compile.

/// Decodes a `T`, adding `key` to the path of an error.
fn decode_in<T: JsonDecode>(r: &mut Reader<'_>, key: &'static str) -> Result<T, Error> {
    match T::decode(r) {
        Ok(value) => Ok(value),
        Err(err) => Err(err.in_key(key)),
    }
}

/// Reads a value that is always present in the model (a plain `String` or `Vec` slot).
///
/// # Errors
///
/// When the value does not decode; the path starts at `key`.
pub fn value<T: JsonDecode>(
    r: &mut Reader<'_>,
    key: &'static str,
    slot: &mut T,
) -> Result<(), Error> {
    *slot = decode_in(r, key)?;
    Ok(())
}

/// Reads an optional single value (`0..1`).
///
/// # Errors
///
/// When the value does not decode; the path starts at `key`.
pub fn opt<T: JsonDecode>(
    r: &mut Reader<'_>,
    key: &'static str,
    slot: &mut Option<T>,
) -> Result<(), Error> {
    *slot = Some(decode_in(r, key)?);
    Ok(())
}

fn begin_array(r: &mut Reader<'_>, key: &'static str) -> Result<(), Error> {
    r.begin_array().map_err(|err| err.in_key(key))
}

fn next_item(r: &mut Reader<'_>, key: &'static str) -> Result<bool, Error> {
    r.next_item().map_err(|err| err.in_key(key))
}

/// Reads an array (`0..*`).
///
/// # Errors
///
/// When the value is not an array or an item does not decode; the path names the item.
pub fn vec<T: JsonDecode>(
    r: &mut Reader<'_>,
    key: &'static str,
    slot: &mut ThinVec<T>,
) -> Result<(), Error> {
    begin_array(r, key)?;
    let mut index = 0;
    while next_item(r, key)? {
        match T::decode(r) {
            Ok(value) => slot.push(value),
            Err(err) => return Err(err.in_index(index).in_key(key)),
        }
        index += 1;
    }
    Ok(())
}

fn primitive<T>(slot: &mut Option<Primitive<T>>) -> &mut Primitive<T> {
    match slot {
        Some(primitive) => primitive,
        None => slot.insert(Primitive::default()),
    }
}

/// Reads the value of a single primitive (`birthDate`).
///
/// # Errors
///
/// When the value does not decode; the path starts at `key`.
pub fn prim<T: JsonDecode>(
    r: &mut Reader<'_>,
    key: &'static str,
    slot: &mut Option<Primitive<T>>,
) -> Result<(), Error> {
    primitive(slot).value = Some(decode_in(r, key)?);
    Ok(())
}

fn element_extension(
    r: &mut Reader<'_>,
    key: &'static str,
) -> Result<Box<PrimitiveExtension>, Error> {
    match PrimitiveExtension::decode(r) {
        Ok(extension) => Ok(Box::new(extension)),
        Err(err) => Err(err.in_key(key)),
    }
}

/// Reads the `id` and `extension` of a single primitive (`_birthDate`).
///
/// # Errors
///
/// When the value is not an element object; the path starts at `key`.
pub fn prim_ext<T>(
    r: &mut Reader<'_>,
    key: &'static str,
    slot: &mut Option<Primitive<T>>,
) -> Result<(), Error> {
    primitive(slot).extension = Some(element_extension(r, key)?);
    Ok(())
}

fn at_index<T>(slot: &mut ThinVec<Primitive<T>>, index: usize) -> &mut Primitive<T> {
    while slot.len() <= index {
        slot.push(Primitive::default());
    }
    &mut slot[index]
}

/// Reads the values of a repeating primitive (`given`), where `null` marks an item that only
/// has extensions.
///
/// # Errors
///
/// When the value is not an array or an item does not decode; the path names the item.
pub fn prim_vec<T: JsonDecode>(
    r: &mut Reader<'_>,
    key: &'static str,
    slot: &mut ThinVec<Primitive<T>>,
) -> Result<(), Error> {
    begin_array(r, key)?;
    let mut index = 0;
    while next_item(r, key)? {
        let item = at_index(slot, index);
        let read = match r.read_null() {
            Ok(true) => Ok(()),
            Ok(false) => T::decode(r).map(|value| item.value = Some(value)),
            Err(err) => Err(err),
        };
        if let Err(err) = read {
            return Err(err.in_index(index).in_key(key));
        }
        index += 1;
    }
    Ok(())
}

/// Reads the extensions of a repeating primitive (`_given`), aligned by index with the values;
/// `null` marks an item without extensions.
///
/// # Errors
///
/// When the value is not an array or an item is not an element object.
pub fn prim_vec_ext<T>(
    r: &mut Reader<'_>,
    key: &'static str,
    slot: &mut ThinVec<Primitive<T>>,
) -> Result<(), Error> {
    begin_array(r, key)?;
    let mut index = 0;
    while next_item(r, key)? {
        let item = at_index(slot, index);
        let read = match r.read_null() {
            Ok(true) => Ok(()),
            Ok(false) => PrimitiveExtension::decode(r)
                .map(|extension| item.extension = Some(Box::new(extension))),
            Err(err) => Err(err),
        };
        if let Err(err) = read {
            return Err(err.in_index(index).in_key(key));
        }
        index += 1;
    }
    Ok(())
}

/// Fails when the choice element already holds a variant other than `wanted`; `held` names the
/// variant held the same way (a JSON name for a choice, a type name for an open-type element),
/// and `key` is the property being read, for the error's path.
fn vacant(
    r: &Reader<'_>,
    key: &str,
    wanted: &'static str,
    held: Option<&'static str>,
) -> Result<(), Error> {
    match held {
        Some(held) if held != wanted => Err(r
            .error(
                DecodeErrorKind::InvalidValue,
                format!("`{key}` and a `{held}` variant are two variants of one choice element"),
            )
            .in_owned_key(key)),
        _ => Ok(()),
    }
}

/// The primitive a variant holds, inserted empty when the choice is vacant (a `_valueString`
/// may come before its `valueString`); fails when another variant is held.
fn variant_slot<'s, C, T>(
    r: &Reader<'_>,
    key: &str,
    wanted: &'static str,
    held: Option<&'static str>,
    slot: &'s mut Option<C>,
    wrap: fn(Primitive<T>) -> C,
    get: fn(&mut C) -> Option<&mut Primitive<T>>,
) -> Result<&'s mut Primitive<T>, Error> {
    vacant(r, key, wanted, held)?;
    let held = match slot {
        Some(held) => held,
        None => slot.insert(wrap(Primitive::default())),
    };
    match get(held) {
        Some(primitive) => Ok(primitive),
        None => Err(r
            .error(
                DecodeErrorKind::InvalidValue,
                "two variants of one choice element",
            )
            .in_owned_key(key)),
    }
}

fn held<C: Choice>(slot: &Option<C>) -> Option<&'static str> {
    match slot {
        Some(held) => Some(held.json_name()),
        None => None,
    }
}

/// Reads a complex variant of a choice element (`valueQuantity`).
///
/// # Errors
///
/// When another variant of the same choice is present, or the value does not decode.
pub fn choice<C: Choice, T: JsonDecode>(
    r: &mut Reader<'_>,
    key: &'static str,
    slot: &mut Option<C>,
    wrap: fn(T) -> C,
) -> Result<(), Error> {
    vacant(r, key, key, held(slot))?;
    *slot = Some(wrap(decode_in(r, key)?));
    Ok(())
}

/// Reads the value of a primitive variant of a choice element (`valueString`).
///
/// # Errors
///
/// When another variant of the same choice is present, or the value does not decode.
pub fn choice_prim<C: Choice, T: JsonDecode>(
    r: &mut Reader<'_>,
    key: &'static str,
    slot: &mut Option<C>,
    wrap: fn(Primitive<T>) -> C,
    get: fn(&mut C) -> Option<&mut Primitive<T>>,
) -> Result<(), Error> {
    let value = decode_in(r, key)?;
    variant_slot(r, key, key, held(slot), slot, wrap, get)?.value = Some(value);
    Ok(())
}

/// Reads the `id` and `extension` of a primitive variant of a choice element (`_valueString`);
/// `key` is the name of the value (`valueString`).
///
/// # Errors
///
/// When another variant of the same choice is present, or the value is not an element object.
pub fn choice_prim_ext<C: Choice, T>(
    r: &mut Reader<'_>,
    key: &'static str,
    slot: &mut Option<C>,
    wrap: fn(Primitive<T>) -> C,
    get: fn(&mut C) -> Option<&mut Primitive<T>>,
) -> Result<(), Error> {
    let extension = element_extension(r, key)?;
    variant_slot(r, key, key, held(slot), slot, wrap, get)?.extension = Some(extension);
    Ok(())
}

// Open-type elements (`Extension.value[x]`, …) share one enum, `OpenValue`; their JSON names
// are built at run time (`value` + `Quantity`), so errors name the property by its actual key.

fn open_held(slot: &Option<OpenValue>) -> Option<&'static str> {
    slot.as_ref().map(OpenValue::type_name)
}

/// Reads a complex variant of an open-type element (`valueQuantity`).
///
/// # Errors
///
/// When another variant of the same element is present, or the value does not decode.
pub fn open<T: JsonDecode>(
    r: &mut Reader<'_>,
    key: &str,
    type_name: &'static str,
    slot: &mut Option<OpenValue>,
    wrap: fn(T) -> OpenValue,
) -> Result<(), Error> {
    vacant(r, key, type_name, open_held(slot))?;
    match T::decode(r) {
        Ok(value) => {
            *slot = Some(wrap(value));
            Ok(())
        }
        Err(err) => Err(err.in_owned_key(key)),
    }
}

/// Reads the value of a primitive variant of an open-type element (`valueString`).
///
/// # Errors
///
/// When another variant of the same element is present, or the value does not decode.
pub fn open_prim<T: JsonDecode>(
    r: &mut Reader<'_>,
    key: &str,
    type_name: &'static str,
    slot: &mut Option<OpenValue>,
    wrap: fn(Primitive<T>) -> OpenValue,
    get: fn(&mut OpenValue) -> Option<&mut Primitive<T>>,
) -> Result<(), Error> {
    let value = match T::decode(r) {
        Ok(value) => value,
        Err(err) => return Err(err.in_owned_key(key)),
    };
    variant_slot(r, key, type_name, open_held(slot), slot, wrap, get)?.value = Some(value);
    Ok(())
}

/// Reads the `id` and `extension` of a primitive variant of an open-type element
/// (`_valueString`).
///
/// # Errors
///
/// When another variant of the same element is present, or the value is not an element object.
pub fn open_prim_ext<T>(
    r: &mut Reader<'_>,
    key: &str,
    type_name: &'static str,
    slot: &mut Option<OpenValue>,
    wrap: fn(Primitive<T>) -> OpenValue,
    get: fn(&mut OpenValue) -> Option<&mut Primitive<T>>,
) -> Result<(), Error> {
    let extension = match PrimitiveExtension::decode(r) {
        Ok(extension) => Box::new(extension),
        Err(err) => return Err(err.in_owned_key(key)),
    };
    variant_slot(r, key, type_name, open_held(slot), slot, wrap, get)?.extension = Some(extension);
    Ok(())
}

/// Checks the `resourceType` property of an object decoded as `expected`.
///
/// # Errors
///
/// When the property is not a string, or names another type.
pub fn resource_type(r: &mut Reader<'_>, expected: &'static str) -> Result<(), Error> {
    let found = r.read_str().map_err(|err| err.in_key("resourceType"))?;
    if found != expected {
        return Err(r
            .error(
                DecodeErrorKind::WrongResourceType,
                format!("expected resourceType `{expected}`, found `{found}`"),
            )
            .in_key("resourceType"));
    }
    Ok(())
}

/// Handles a property the model does not define: an error in strict mode, kept in `unknown`
/// in lenient mode.
///
/// # Errors
///
/// In strict mode, an [`DecodeErrorKind::UnknownField`] error naming the property.
pub fn unknown(
    r: &mut Reader<'_>,
    key: Cow<'_, str>,
    unknown: &mut UnknownFields,
) -> Result<(), Error> {
    if r.options().lenient {
        let json = r.raw_value().map_err(|err| err.in_owned_key(&key))?;
        unknown.push(key.into_owned(), json.into());
        return Ok(());
    }
    Err(r
        .error(
            DecodeErrorKind::UnknownField,
            format!("unknown property `{key}`"),
        )
        .in_owned_key(&key))
}
