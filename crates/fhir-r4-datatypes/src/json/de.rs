//! Decoding helpers called by generated code, one per shape of element.
//!
//! Each takes the JSON name of the property so that an error can name its path; the name is
//! only used when something goes wrong.
//!
//! Strictness is nearly free on the hot path: a duplicate property is a slot that is already
//! filled (or, for what has no slot of its own — `resourceType`, the two arrays of a repeating
//! primitive — a bit of the object in the reader), an empty object or array is one that ends
//! at once, and `null` is found when a value of another type is expected. Lenient mode turns
//! each of these errors into a warning ([`super::DecodeReport`]) and drops what it is about.
//!
//! One file: one helper per shape of element, each calling the same strictness checks
//! (duplicate, empty, `null`, lenient drop); the generated decoders call them by name.

use std::borrow::Cow;

use fhir_core::DecodeErrorKind;

use super::{Choice, Error, JsonDecode, Reader, UnknownFields};
use crate::ThinVec;
use crate::datatypes::OpenValue;
use crate::primitives::{Primitive, PrimitiveExtension};

/// The generated `decode_property` of a struct: reads the value of one property.
pub type Property<'a, T> = fn(&mut T, &mut Reader<'a>, Cow<'a, str>) -> Result<(), Error>;

/// The generated checks a struct makes once its object is read (the alignment of its repeating
/// primitives).
pub type Finish<'a, T> = fn(&mut T, &mut Reader<'a>, Object) -> Result<(), Error>;

/// What [`resource`] and [`element`] hand to a struct's [`Finish`] checks about the object
/// just read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Object {
    /// The offset of its `{`, for errors and warnings.
    start: usize,
    /// Which of the properties without a slot of their own it had (see [`prim_vec`]).
    seen: u64,
}

impl Object {
    fn has(self, bit: u32) -> bool {
        self.seen & (1u64 << (bit & 63)) != 0
    }
}

/// Reads an object into a `T::default()`, handing each property to `property`, which is the
/// generated `decode_property` of the struct.
///
/// # Errors
///
/// When the value is not an object, is empty (`{}`), or `property` fails. In lenient mode an
/// object left empty by what was dropped from it is an error too, which the helper reading it
/// turns into a warning.
pub fn object<'a, T: Default + PartialEq>(
    r: &mut Reader<'a>,
    property: Property<'a, T>,
) -> Result<T, Error> {
    let mut out = T::default();
    let start = members(r, &mut out, property, false)?;
    if r.options().lenient && out == T::default() {
        return Err(emptied(start));
    }
    Ok(out)
}

/// Reads a resource: like [`object`], and also checks that `resourceType` appears exactly once.
///
/// # Errors
///
/// As [`object`]; also a duplicate `resourceType` and (strict mode) a missing one.
pub fn resource<'a, T: Default + PartialEq>(
    r: &mut Reader<'a>,
    property: Property<'a, T>,
    finish: Option<Finish<'a, T>>,
) -> Result<T, Error> {
    let mut out = T::default();
    let outer = r.take_seen();
    let read = members(r, &mut out, property, true);
    let seen = r.restore_seen(outer);
    let start = read?;
    if seen & 1 == 0 {
        missing_resource_type(r, start)?;
    }
    if let Some(finish) = finish {
        finish(&mut out, r, Object { start, seen })?;
    }
    Ok(out)
}

/// Reads an object whose struct has repeating primitives: like [`object`], tracking which of
/// their arrays were read, then runs the struct's `finish` checks.
///
/// # Errors
///
/// As [`object`], and what `finish` reports.
pub fn element<'a, T: Default + PartialEq>(
    r: &mut Reader<'a>,
    property: Property<'a, T>,
    finish: Finish<'a, T>,
) -> Result<T, Error> {
    let mut out = T::default();
    let outer = r.take_seen();
    let read = members(r, &mut out, property, true);
    let seen = r.restore_seen(outer);
    let start = read?;
    finish(&mut out, r, Object { start, seen })?;
    if r.options().lenient && out == T::default() {
        return Err(emptied(start));
    }
    Ok(out)
}

/// Reads the members of an object; returns the offset of its `{`, which the reader also keeps
/// while a `tracked` object is read.
fn members<'a, T>(
    r: &mut Reader<'a>,
    out: &mut T,
    property: Property<'a, T>,
    tracked: bool,
) -> Result<usize, Error> {
    r.begin_object()?;
    let start = r.offset().saturating_sub(1);
    if tracked {
        r.set_object_start(start);
    }
    let Some(mut key) = r.next_key()? else {
        return Err(Error::new(
            DecodeErrorKind::EmptyValue,
            start,
            "empty object",
        ));
    };
    loop {
        property(out, r, key)?;
        match r.next_key()? {
            Some(next) => key = next,
            None => return Ok(start),
        }
    }
}

#[cold]
fn emptied(start: usize) -> Error {
    Error::new(
        DecodeErrorKind::EmptyValue,
        start,
        "object left empty by what lenient decoding dropped from it",
    )
}

#[cold]
fn missing_resource_type(r: &mut Reader<'_>, start: usize) -> Result<(), Error> {
    let kind = DecodeErrorKind::MissingField;
    let message = "missing property `resourceType`";
    if r.options().lenient {
        r.warn(kind, start, Some("resourceType"), message.into());
        return Ok(());
    }
    Err(Error::new(kind, start, message).in_key("resourceType"))
}

// The helpers below avoid closures and adapters (`map_err`, `get_or_insert_with`): they are
// instantiated once per element type, and each closure would be one more function to compile.
// What only runs when something is wrong is in non-generic `#[cold]` functions.

/// A property read a second time: an error in strict mode; in lenient mode a warning, after
/// which the caller drops the earlier value and reads the new one.
#[cold]
fn duplicate(r: &mut Reader<'_>, key: &str) -> Result<(), Error> {
    let kind = DecodeErrorKind::DuplicateProperty;
    let offset = r.value_offset();
    if r.options().lenient {
        let message = format!("duplicate property `{key}`: the earlier value was dropped");
        r.warn(kind, offset, None, message);
        return Ok(());
    }
    Err(Error::new(kind, offset, format!("duplicate property `{key}`")).in_owned_key(key))
}

/// Whether lenient mode drops the value `err` is about: an empty value (`{}`, `null`, an object
/// left empty), which it then consumes and reports.
fn dropped(r: &mut Reader<'_>, err: &Error) -> Result<bool, Error> {
    if !(r.options().lenient && err.kind() == DecodeErrorKind::EmptyValue && err.is_here()) {
        return Ok(false);
    }
    // A `null` was only peeked at; `{}` is already consumed.
    r.read_null()?;
    let message = format!("{}: dropped", err.message());
    r.warn(DecodeErrorKind::EmptyValue, err.offset(), None, message);
    Ok(true)
}

/// The value of `key` failed to decode: dropped in lenient mode if it was empty, else the error.
#[cold]
fn failed(r: &mut Reader<'_>, err: Error, key: &'static str) -> Result<(), Error> {
    if dropped(r, &err)? {
        return Ok(());
    }
    Err(err.in_key(key))
}

/// [`failed`] for a property whose name is known only at run time.
#[cold]
fn failed_owned(r: &mut Reader<'_>, err: Error, key: &str) -> Result<(), Error> {
    if dropped(r, &err)? {
        return Ok(());
    }
    Err(err.in_owned_key(key))
}

/// [`failed`] for the item `index` of the array `key`.
#[cold]
fn failed_item(
    r: &mut Reader<'_>,
    err: Error,
    index: usize,
    key: &'static str,
) -> Result<(), Error> {
    if dropped(r, &err)? {
        return Ok(());
    }
    Err(err.in_index(index).in_key(key))
}

/// An array that ended at once (`[]`): an error in strict mode, dropped in lenient mode.
#[cold]
fn empty_array(r: &mut Reader<'_>, start: usize, key: &str) -> Result<(), Error> {
    let kind = DecodeErrorKind::EmptyValue;
    if r.options().lenient {
        r.warn(kind, start, None, String::from("empty array: dropped"));
        return Ok(());
    }
    Err(Error::new(kind, start, "empty array").in_owned_key(key))
}

/// Reads an optional single value (`0..1`).
///
/// # Errors
///
/// When the value does not decode or the property was already read; the path starts at `key`.
pub fn opt<T: JsonDecode>(
    r: &mut Reader<'_>,
    key: &'static str,
    slot: &mut Option<T>,
) -> Result<(), Error> {
    if slot.is_some() {
        duplicate(r, key)?;
        *slot = None;
    }
    match T::decode(r) {
        Ok(value) => {
            *slot = Some(value);
            Ok(())
        }
        Err(err) => failed(r, err, key),
    }
}

fn next_item(r: &mut Reader<'_>, key: &'static str) -> Result<bool, Error> {
    r.next_item().map_err(|err| err.in_key(key))
}

/// Reads an array (`0..*`).
///
/// # Errors
///
/// When the value is not an array, is empty, an item does not decode, or the property was
/// already read; the path names the item.
pub fn vec<T: JsonDecode>(
    r: &mut Reader<'_>,
    key: &'static str,
    slot: &mut ThinVec<T>,
) -> Result<(), Error> {
    if !slot.is_empty() {
        duplicate(r, key)?;
        slot.clear();
    }
    if let Err(err) = r.begin_array() {
        return failed(r, err, key);
    }
    let start = r.offset().saturating_sub(1);
    let mut index = 0;
    while next_item(r, key)? {
        match T::decode(r) {
            Ok(value) => slot.push(value),
            Err(err) => failed_item(r, err, index, key)?,
        }
        index += 1;
    }
    if index == 0 {
        return empty_array(r, start, key);
    }
    Ok(())
}

fn primitive<T>(slot: &mut Option<Primitive<T>>) -> &mut Primitive<T> {
    match slot {
        Some(primitive) => primitive,
        None => slot.insert(Primitive::default()),
    }
}

/// Forgets a primitive left with neither a value nor extensions by lenient decoding.
fn prune<T>(slot: &mut Option<Primitive<T>>) {
    if let Some(primitive) = slot
        && primitive.value.is_none()
        && primitive.extension.is_none()
    {
        *slot = None;
    }
}

/// Reads the value of a single primitive (`birthDate`).
///
/// # Errors
///
/// When the value does not decode or the property was already read; the path starts at `key`.
pub fn prim<T: JsonDecode>(
    r: &mut Reader<'_>,
    key: &'static str,
    slot: &mut Option<Primitive<T>>,
) -> Result<(), Error> {
    if let Some(primitive) = slot
        && primitive.value.is_some()
    {
        duplicate(r, key)?;
        primitive.value = None;
    }
    match T::decode(r) {
        Ok(value) => {
            primitive(slot).value = Some(value);
            Ok(())
        }
        Err(err) => {
            failed(r, err, key)?;
            prune(slot);
            Ok(())
        }
    }
}

/// Reads the `id` and `extension` of a single primitive (`_birthDate`).
///
/// # Errors
///
/// When the value is not an element object or the property was already read; the path starts
/// at `key`.
pub fn prim_ext<T>(
    r: &mut Reader<'_>,
    key: &'static str,
    slot: &mut Option<Primitive<T>>,
) -> Result<(), Error> {
    if let Some(primitive) = slot
        && primitive.extension.is_some()
    {
        duplicate(r, key)?;
        primitive.extension = None;
    }
    match PrimitiveExtension::decode(r) {
        Ok(extension) => {
            primitive(slot).extension = Some(Box::new(extension));
            Ok(())
        }
        Err(err) => {
            failed(r, err, key)?;
            prune(slot);
            Ok(())
        }
    }
}

fn at_index<T>(slot: &mut ThinVec<Primitive<T>>, index: usize) -> &mut Primitive<T> {
    while slot.len() <= index {
        slot.push(Primitive::default());
    }
    &mut slot[index]
}

/// The values array of `key` and its `_field` array differ in length: an error in strict mode;
/// in lenient mode a warning, and the shorter one is read as if padded with `null`s.
#[cold]
fn misaligned(
    r: &mut Reader<'_>,
    offset: usize,
    suffix: Option<&str>,
    key: &str,
    values: usize,
    extensions: usize,
) -> Result<(), Error> {
    let kind = DecodeErrorKind::InvalidValue;
    let ext_key = format!("_{key}");
    let message = format!(
        "`{ext_key}` has {extensions} items and `{key}` {values}: the two arrays align by index"
    );
    if r.options().lenient {
        let shorter = if values < extensions { key } else { &ext_key };
        let message = format!("{message}; `{shorter}` padded with null");
        r.warn(kind, offset, suffix, message);
        return Ok(());
    }
    Err(Error::new(kind, offset, message).in_owned_key(&ext_key))
}

/// Reads the values of a repeating primitive (`given`), where `null` marks an item that only
/// has extensions. `bit` is the generated number of the field in its struct: the reader marks
/// `bit` when the values are read and `bit + 1` when the extensions are.
///
/// # Errors
///
/// When the value is not an array, is empty, an item does not decode, the property was already
/// read, or the `_field` array read before it has another length; the path names the item.
pub fn prim_vec<T: JsonDecode>(
    r: &mut Reader<'_>,
    key: &'static str,
    bit: u32,
    slot: &mut ThinVec<Primitive<T>>,
) -> Result<(), Error> {
    if r.mark(bit) {
        duplicate(r, key)?;
        drop_values(slot, r.is_marked(bit + 1));
    }
    if let Err(err) = r.begin_array() {
        // Lenient mode dropped the value: as if there were no values array.
        r.unmark(bit);
        return failed(r, err, key);
    }
    let start = r.offset().saturating_sub(1);
    // Read first, the `_field` array set the length.
    let extensions = r.is_marked(bit + 1).then_some(slot.len());
    let mut index = 0;
    while next_item(r, key)? {
        let item = at_index(slot, index);
        let read = match r.read_null() {
            Ok(true) => Ok(()),
            Ok(false) => match T::decode(r) {
                Ok(value) => {
                    item.value = Some(value);
                    Ok(())
                }
                Err(err) => Err(err),
            },
            Err(err) => Err(err),
        };
        if let Err(err) = read {
            return Err(err.in_index(index).in_key(key));
        }
        index += 1;
    }
    if index == 0 {
        r.unmark(bit);
        return empty_array(r, start, key);
    }
    if let Some(extensions) = extensions
        && extensions != index
    {
        let ext_key = format!("_{key}");
        return misaligned(r, r.object_start(), Some(&ext_key), key, index, extensions);
    }
    Ok(())
}

/// Lenient mode keeps the last of two values arrays: forgets the values of the earlier one.
/// The items keep the length of the `_field` array if it was read (`extensions_read`), which the
/// next values array is compared with.
fn drop_values<T>(slot: &mut ThinVec<Primitive<T>>, extensions_read: bool) {
    for item in slot.iter_mut() {
        item.value = None;
    }
    if !extensions_read {
        slot.clear();
    }
}

/// Lenient mode keeps the last of two `_field` arrays: forgets the extensions of the earlier
/// one, keeping the length of the values array if it was read (`values_read`).
fn drop_extensions<T>(slot: &mut ThinVec<Primitive<T>>, values_read: bool) {
    for item in slot.iter_mut() {
        item.extension = None;
    }
    if !values_read {
        slot.clear();
    }
}

/// Reads the extensions of a repeating primitive (`_given`), aligned by index with the values;
/// `null` marks an item without extensions. `bit` is that of [`prim_vec`].
///
/// # Errors
///
/// When the value is not an array, is empty or only `null`s, has another length than the
/// values read before it, an item is not an element object, or the property was already read.
pub fn prim_vec_ext<T>(
    r: &mut Reader<'_>,
    key: &'static str,
    bit: u32,
    slot: &mut ThinVec<Primitive<T>>,
) -> Result<(), Error> {
    if r.mark(bit + 1) {
        duplicate(r, key)?;
        drop_extensions(slot, r.is_marked(bit));
    }
    if let Err(err) = r.begin_array() {
        // Lenient mode dropped the value: as if there were no `_field` array.
        r.unmark(bit + 1);
        return failed(r, err, key);
    }
    let start = r.offset().saturating_sub(1);
    let before = slot.len();
    // Read first, the values array set the length.
    let values = r.is_marked(bit).then_some(before);
    let mut index = 0;
    let mut any = false;
    while next_item(r, key)? {
        let item = at_index(slot, index);
        match r.read_null() {
            Ok(true) => {}
            Ok(false) => match PrimitiveExtension::decode(r) {
                Ok(extension) => {
                    item.extension = Some(Box::new(extension));
                    any = true;
                }
                Err(err) => failed_item(r, err, index, key)?,
            },
            Err(err) => return Err(err.in_index(index).in_key(key)),
        }
        index += 1;
    }
    if index == 0 {
        r.unmark(bit + 1);
        return empty_array(r, start, key);
    }
    if !any {
        // The items added for this array have neither a value nor an extension.
        slot.truncate(before);
        r.unmark(bit + 1);
        return only_nulls(r, start, key);
    }
    if let Some(values) = values
        && values != index
    {
        return misaligned(r, start, None, key.get(1..).unwrap_or(key), values, index);
    }
    Ok(())
}

/// A `_field` array of nulls only says nothing: an error in strict mode, dropped in lenient.
#[cold]
fn only_nulls(r: &mut Reader<'_>, start: usize, key: &str) -> Result<(), Error> {
    let kind = DecodeErrorKind::EmptyValue;
    let message = String::from("array of nulls only");
    if r.options().lenient {
        r.warn(kind, start, None, format!("{message}: dropped"));
        return Ok(());
    }
    Err(Error::new(kind, start, message).in_owned_key(key))
}

/// Checks, once `object` is read, that every item of the repeating primitive `key` (whose
/// arrays [`prim_vec`] marked with `bit`) has a value or an extension: `null` in one array
/// stands for an item that the other array has at that index.
///
/// # Errors
///
/// In strict mode, when an item has neither; lenient mode drops such items and warns.
pub fn aligned<T>(
    r: &mut Reader<'_>,
    object: Object,
    bit: u32,
    key: &'static str,
    slot: &mut ThinVec<Primitive<T>>,
) -> Result<(), Error> {
    let mut first_empty = None;
    for (index, item) in slot.iter().enumerate() {
        if item.value.is_none() && item.extension.is_none() {
            first_empty = Some(index);
            break;
        }
    }
    let Some(index) = first_empty else {
        return Ok(());
    };
    unaligned(r, object, object.has(bit), key, index)?;
    slot.retain(|item| item.value.is_some() || item.extension.is_some());
    Ok(())
}

/// Item `index` of `key` is `null` in the values array and in (or missing from) the `_field`
/// array; blamed on the values array if there is one, else on the `_field` array.
#[cold]
fn unaligned(
    r: &mut Reader<'_>,
    object: Object,
    values_read: bool,
    key: &str,
    index: usize,
) -> Result<(), Error> {
    let kind = DecodeErrorKind::EmptyValue;
    let (blamed, message) = if values_read {
        let message = format!("item {index} of `{key}` is null and has no extension in `_{key}`");
        (key.to_owned(), message)
    } else {
        let message = format!("item {index} of `_{key}` is null and `{key}` has no values");
        (format!("_{key}"), message)
    };
    if r.options().lenient {
        let message = format!("{message}: items without value or extension dropped");
        r.warn(kind, object.start, Some(&blamed), message);
        return Ok(());
    }
    Err(Error::new(kind, object.start, message).in_owned_key(&blamed))
}

/// Checks that the choice element holds no variant other than `wanted`; returns whether it
/// holds `wanted` itself. `held` names the variant held the same way (a JSON name for a
/// choice, a type name for an open-type element), and `key` is the property being read.
fn vacant(
    r: &Reader<'_>,
    key: &str,
    wanted: &'static str,
    held: Option<&'static str>,
) -> Result<bool, Error> {
    match held {
        Some(held) if held != wanted => Err(r
            .error(
                DecodeErrorKind::InvalidValue,
                format!("`{key}` and a `{held}` variant are two variants of one choice element"),
            )
            .in_owned_key(key)),
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

/// The primitive a variant holds, inserted empty when the choice is vacant (a `_valueString`
/// may come before its `valueString`); [`vacant`] has checked that no other variant is held.
fn variant_slot<'s, C, T>(
    r: &Reader<'_>,
    key: &str,
    slot: &'s mut Option<C>,
    wrap: fn(Primitive<T>) -> C,
    get: fn(&mut C) -> Option<&mut Primitive<T>>,
) -> Result<&'s mut Primitive<T>, Error> {
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

/// The primitive of the variant held, if it is the one `get` reads.
fn held_primitive<C, T>(
    slot: &mut Option<C>,
    get: fn(&mut C) -> Option<&mut Primitive<T>>,
) -> Option<&mut Primitive<T>> {
    match slot {
        Some(held) => get(held),
        None => None,
    }
}

/// Forgets a primitive variant left with neither a value nor extensions by lenient decoding.
fn prune_variant<C, T>(slot: &mut Option<C>, get: fn(&mut C) -> Option<&mut Primitive<T>>) {
    if let Some(primitive) = held_primitive(slot, get)
        && primitive.value.is_none()
        && primitive.extension.is_none()
    {
        *slot = None;
    }
}

fn held<C: Choice>(slot: &Option<C>) -> Option<&'static str> {
    match slot {
        Some(held) => Some(held.json_name()),
        None => None,
    }
}

/// Reads the value of a primitive variant (`valueString`) of a choice or open-type element.
fn variant_value<C, T: JsonDecode>(
    r: &mut Reader<'_>,
    key: &str,
    wanted: &'static str,
    held: Option<&'static str>,
    slot: &mut Option<C>,
    wrap: fn(Primitive<T>) -> C,
    get: fn(&mut C) -> Option<&mut Primitive<T>>,
) -> Result<(), Error> {
    if vacant(r, key, wanted, held)?
        && let Some(primitive) = held_primitive(slot, get)
        && primitive.value.is_some()
    {
        duplicate(r, key)?;
        primitive.value = None;
    }
    match T::decode(r) {
        Ok(value) => {
            variant_slot(r, key, slot, wrap, get)?.value = Some(value);
            Ok(())
        }
        Err(err) => {
            failed_owned(r, err, key)?;
            prune_variant(slot, get);
            Ok(())
        }
    }
}

/// Reads the `id` and `extension` of a primitive variant (`_valueString`) of a choice or
/// open-type element; `key` is the property read (`_valueString`).
fn variant_extension<C, T>(
    r: &mut Reader<'_>,
    key: &str,
    wanted: &'static str,
    held: Option<&'static str>,
    slot: &mut Option<C>,
    wrap: fn(Primitive<T>) -> C,
    get: fn(&mut C) -> Option<&mut Primitive<T>>,
) -> Result<(), Error> {
    if vacant(r, key, wanted, held)?
        && let Some(primitive) = held_primitive(slot, get)
        && primitive.extension.is_some()
    {
        duplicate(r, key)?;
        primitive.extension = None;
    }
    match PrimitiveExtension::decode(r) {
        Ok(extension) => {
            variant_slot(r, key, slot, wrap, get)?.extension = Some(Box::new(extension));
            Ok(())
        }
        Err(err) => {
            failed_owned(r, err, key)?;
            prune_variant(slot, get);
            Ok(())
        }
    }
}

/// Reads a complex variant of a choice element (`valueQuantity`).
///
/// # Errors
///
/// When another variant of the same choice is present, the same one was already read, or the
/// value does not decode.
pub fn choice<C: Choice, T: JsonDecode>(
    r: &mut Reader<'_>,
    key: &'static str,
    slot: &mut Option<C>,
    wrap: fn(T) -> C,
) -> Result<(), Error> {
    if vacant(r, key, key, held(slot))? {
        duplicate(r, key)?;
        *slot = None;
    }
    match T::decode(r) {
        Ok(value) => {
            *slot = Some(wrap(value));
            Ok(())
        }
        Err(err) => failed(r, err, key),
    }
}

/// Reads the value of a primitive variant of a choice element (`valueString`).
///
/// # Errors
///
/// When another variant of the same choice is present, the same one was already read, or the
/// value does not decode.
pub fn choice_prim<C: Choice, T: JsonDecode>(
    r: &mut Reader<'_>,
    key: &'static str,
    slot: &mut Option<C>,
    wrap: fn(Primitive<T>) -> C,
    get: fn(&mut C) -> Option<&mut Primitive<T>>,
) -> Result<(), Error> {
    variant_value(r, key, key, held(slot), slot, wrap, get)
}

/// Reads the `id` and `extension` of a primitive variant of a choice element; `key` is the
/// property read (`_valueString`).
///
/// # Errors
///
/// When another variant of the same choice is present, the same one was already read, or the
/// value is not an element object.
pub fn choice_prim_ext<C: Choice, T>(
    r: &mut Reader<'_>,
    key: &'static str,
    slot: &mut Option<C>,
    wrap: fn(Primitive<T>) -> C,
    get: fn(&mut C) -> Option<&mut Primitive<T>>,
) -> Result<(), Error> {
    let wanted = key.strip_prefix('_').unwrap_or(key);
    variant_extension(r, key, wanted, held(slot), slot, wrap, get)
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
/// When another variant of the same element is present, the same one was already read, or the
/// value does not decode.
pub fn open<T: JsonDecode>(
    r: &mut Reader<'_>,
    key: &str,
    type_name: &'static str,
    slot: &mut Option<OpenValue>,
    wrap: fn(T) -> OpenValue,
) -> Result<(), Error> {
    if vacant(r, key, type_name, open_held(slot))? {
        duplicate(r, key)?;
        *slot = None;
    }
    match T::decode(r) {
        Ok(value) => {
            *slot = Some(wrap(value));
            Ok(())
        }
        Err(err) => failed_owned(r, err, key),
    }
}

/// Reads the value of a primitive variant of an open-type element (`valueString`).
///
/// # Errors
///
/// When another variant of the same element is present, the same one was already read, or the
/// value does not decode.
pub fn open_prim<T: JsonDecode>(
    r: &mut Reader<'_>,
    key: &str,
    type_name: &'static str,
    slot: &mut Option<OpenValue>,
    wrap: fn(Primitive<T>) -> OpenValue,
    get: fn(&mut OpenValue) -> Option<&mut Primitive<T>>,
) -> Result<(), Error> {
    variant_value(r, key, type_name, open_held(slot), slot, wrap, get)
}

/// Reads the `id` and `extension` of a primitive variant of an open-type element
/// (`_valueString`).
///
/// # Errors
///
/// When another variant of the same element is present, the same one was already read, or the
/// value is not an element object.
pub fn open_prim_ext<T>(
    r: &mut Reader<'_>,
    key: &str,
    type_name: &'static str,
    slot: &mut Option<OpenValue>,
    wrap: fn(Primitive<T>) -> OpenValue,
    get: fn(&mut OpenValue) -> Option<&mut Primitive<T>>,
) -> Result<(), Error> {
    variant_extension(r, key, type_name, open_held(slot), slot, wrap, get)
}

/// Checks the `resourceType` property of an object decoded as `expected`; only called by the
/// decoders of resources, which read their object with [`resource`].
///
/// # Errors
///
/// When the property is not a string, names another type, or was already read.
pub fn resource_type(r: &mut Reader<'_>, expected: &'static str) -> Result<(), Error> {
    if r.mark(0) {
        duplicate(r, "resourceType")?;
    }
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
/// in lenient mode (as raw JSON; of a duplicate, the last value).
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
        let offset = r.value_offset();
        let json = r.raw_value().map_err(|err| err.in_owned_key(&key))?;
        if unknown.insert(&key, json) {
            duplicate_unknown(r, offset, &key);
        }
        return Ok(());
    }
    Err(r
        .error(
            DecodeErrorKind::UnknownField,
            format!("unknown property `{key}`"),
        )
        .in_owned_key(&key))
}

/// As [`unknown`], for an object whose properties are `known`: strict decoding's error then
/// suggests the closest (`unknown property `birthdate` (did you mean `birthDate`?)`).
///
/// # Errors
///
/// In strict mode, always: the property is unknown.
pub fn unknown_among(
    r: &mut Reader<'_>,
    key: Cow<'_, str>,
    fields: &mut UnknownFields,
    known: &'static [&'static str],
) -> Result<(), Error> {
    if r.options().lenient {
        return unknown(r, key, fields);
    }
    Err(unknown_property(r, &key, known))
}

/// Keys longer than this get no suggestion (no element name is nearly as long), so that a
/// hostile document's huge keys cost no edit-distance work.
const MAX_SUGGESTED_KEY: usize = 64;

#[cold]
fn unknown_property(r: &Reader<'_>, key: &str, known: &[&str]) -> Error {
    // `_birthdate`, the extension of a misspelt primitive, suggests `_birthDate`.
    let (underscore, bare) = match key.strip_prefix('_') {
        Some(bare) => ("_", bare),
        None => ("", key),
    };
    let message = match closest(bare, known) {
        Some(name) => format!("unknown property `{key}` (did you mean `{underscore}{name}`?)"),
        None => format!("unknown property `{key}`"),
    };
    r.error(DecodeErrorKind::UnknownField, message)
        .in_owned_key(key)
}

/// The known name `key` most likely misspells: the same but for case, or the nearest by
/// edit distance when it is close (at most one edit per three characters, at least one).
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    if key.len() > MAX_SUGGESTED_KEY {
        return None;
    }
    if let Some(same) = known.iter().find(|name| name.eq_ignore_ascii_case(key)) {
        return Some(same);
    }
    let length = key.chars().count();
    let limit = (length / 3).max(1);
    known
        .iter()
        // Names whose length alone differs by more than the limit are never close.
        .filter(|name| name.len().abs_diff(length) <= limit)
        .map(|name| (edit_distance(key, name), *name))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// Levenshtein distance by characters (keys are short; one row of the table is kept).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cold]
fn duplicate_unknown(r: &mut Reader<'_>, offset: usize, key: &str) {
    let message = format!("duplicate property `{key}`: the earlier value was dropped");
    r.warn(DecodeErrorKind::DuplicateProperty, offset, None, message);
}

#[cfg(test)]
mod suggestion_tests {
    use super::*;

    #[test]
    fn a_misspelt_property_points_to_the_closest_known_one() {
        let known = ["id", "birthDate", "gender", "name", "deceasedBoolean"];
        assert_eq!(closest("birthdate", &known), Some("birthDate"));
        assert_eq!(closest("gendr", &known), Some("gender"));
        assert_eq!(closest("deceasedBolean", &known), Some("deceasedBoolean"));
        assert_eq!(closest("colour", &known), None);
        assert_eq!(closest("x", &known), None);
        assert_eq!(closest(&"birthdate".repeat(100), &known), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
