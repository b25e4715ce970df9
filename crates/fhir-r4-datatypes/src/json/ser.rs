//! Encoding helpers called by generated code: each writes one property, or nothing when the
//! element is empty, so output is canonical FHIR JSON.

use super::{JsonEncode, Writer};
use crate::primitives::Primitive;

/// Writes `key` and `value`.
pub fn value<T: JsonEncode + ?Sized>(w: &mut Writer, key: &'static str, value: &T) {
    w.name(key);
    value.encode(w);
}

/// Writes `key` and the value when there is one.
pub fn opt<T: JsonEncode>(w: &mut Writer, key: &'static str, value: &Option<T>) {
    if let Some(value) = value {
        w.name(key);
        value.encode(w);
    }
}

/// Writes `key` and an array, unless the array is empty.
pub fn vec<T: JsonEncode>(w: &mut Writer, key: &'static str, values: &[T]) {
    if values.is_empty() {
        return;
    }
    w.name(key);
    w.begin_array();
    for value in values {
        value.encode(w);
    }
    w.end_array();
}

/// Writes a single primitive: `key` with its value and `ext_key` (`_key`) with its extensions,
/// each only when present.
pub fn prim<T: JsonEncode>(
    w: &mut Writer,
    key: &'static str,
    ext_key: &'static str,
    value: &Option<Primitive<T>>,
) {
    if let Some(value) = value {
        prim_one(w, key, ext_key, value);
    }
}

/// Writes one primitive that is present (also a primitive variant of a choice element).
pub fn prim_one<T: JsonEncode>(
    w: &mut Writer,
    key: &'static str,
    ext_key: &'static str,
    value: &Primitive<T>,
) {
    if let Some(v) = &value.value {
        w.name(key);
        v.encode(w);
    }
    if let Some(extension) = &value.extension {
        w.name(ext_key);
        extension.encode(w);
    }
}

/// Writes a repeating primitive: values under `key` and extensions under `ext_key`, aligned by
/// index with `null`s, each array only when it has something to say.
pub fn prim_vec<T: JsonEncode>(
    w: &mut Writer,
    key: &'static str,
    ext_key: &'static str,
    values: &[Primitive<T>],
) {
    if values.iter().any(|item| item.value.is_some()) {
        w.name(key);
        w.begin_array();
        for item in values {
            match &item.value {
                Some(v) => v.encode(w),
                None => w.null(),
            }
        }
        w.end_array();
    }
    if values.iter().any(|item| item.extension.is_some()) {
        w.name(ext_key);
        w.begin_array();
        for item in values {
            match &item.extension {
                Some(extension) => extension.encode(w),
                None => w.null(),
            }
        }
        w.end_array();
    }
}

/// Writes a complex variant of an open-type element: `name` + `type_name` (`valueQuantity`).
pub fn open<T: JsonEncode>(w: &mut Writer, name: &str, type_name: &str, value: &T) {
    w.key_parts("", name, type_name);
    value.encode(w);
}

/// Writes a primitive variant of an open-type element: `valueString` and `_valueString`, each
/// only when present.
pub fn open_prim<T: JsonEncode>(w: &mut Writer, name: &str, type_name: &str, value: &Primitive<T>) {
    if let Some(v) = &value.value {
        w.key_parts("", name, type_name);
        v.encode(w);
    }
    if let Some(extension) = &value.extension {
        w.key_parts("_", name, type_name);
        extension.encode(w);
    }
}
