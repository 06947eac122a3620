//! Canonical ordering and de-duplication of set elements, as go-cty.
//!
//! Known strings sort lexically by bytes, known numbers numerically, bools
//! `false` before `true`; nulls come after known values and unknown values
//! last. Elements of other types are ordered by the bytes of a canonical
//! text form of the value (what Terraform's output shows: `[10]` sorts
//! before `[1]` because `"[10;]" < "[1;]"`). Duplicates (elements
//! whose equality is known to be true) are removed; unknown elements are
//! never merged.

use std::cmp::Ordering;

use crate::value::{Kind, Value};
use crate::Type;

fn class(v: &Value) -> u8 {
    if !v.is_known() {
        2
    } else if v.is_null() {
        1
    } else {
        0
    }
}

/// Orders two elements of a set of type `ety`; `ha`/`hb` are their
/// canonical texts (only used for non-primitive types).
pub(crate) fn compare(ety: &Type, a: &Value, b: &Value, ha: &str, hb: &str) -> Ordering {
    let (ca, cb) = (class(a), class(b));
    if ca != cb {
        return ca.cmp(&cb);
    }
    if ca != 0 {
        return Ordering::Equal;
    }
    match (ety, a.kind(), b.kind()) {
        (Type::String, Kind::String(x), Kind::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Type::Number, Kind::Number(x), Kind::Number(y)) => x.cmp(y),
        (Type::Bool, Kind::Bool(x), Kind::Bool(y)) => x.cmp(&y),
        _ => ha.as_bytes().cmp(hb.as_bytes()),
    }
}

/// Sorts and de-duplicates set elements (all of the same type).
pub(crate) fn canonicalize(elems: Vec<Value>) -> Vec<Value> {
    if elems.is_empty() {
        return elems;
    }
    let ety = elems[0].ty().clone();
    let primitive = ety.is_primitive();
    let mut keyed: Vec<(String, Value)> = elems
        .into_iter()
        .map(|v| {
            (
                if primitive {
                    String::new()
                } else {
                    hash_string(&v)
                },
                v,
            )
        })
        .collect();
    keyed.sort_by(|(ha, a), (hb, b)| compare(&ety, a, b, ha, hb));
    let mut out: Vec<Value> = Vec::with_capacity(keyed.len());
    let mut run_start = 0;
    for (i, (h, v)) in keyed.iter().enumerate() {
        // find start of the run of elements that compare equal to v
        if i > 0 {
            let (ph, pv) = &keyed[i - 1];
            if compare(&ety, pv, v, ph, h) != Ordering::Equal {
                run_start = out.len();
            }
        }
        if v.is_known() {
            let dup = out[run_start..]
                .iter()
                .any(|o| o.equals(v).as_bool() == Some(true));
            if dup {
                continue;
            }
        }
        out.push(v.clone());
    }
    out
}

/// CRC-32 (IEEE) of the canonical text form of a value.
pub fn set_hash(v: &Value) -> u32 {
    crc32(hash_string(v).as_bytes())
}

/// The canonical text form of a value that orders set elements.
fn hash_string(v: &Value) -> String {
    let mut s = String::new();
    hash_text(v, &mut s);
    s
}

fn hash_text(v: &Value, out: &mut String) {
    match v.kind() {
        Kind::Unknown => out.push('?'),
        Kind::Null => out.push('~'),
        Kind::Bool(b) => out.push(if b { 'T' } else { 'F' }),
        Kind::Number(n) => out.push_str(&n.to_text()),
        Kind::String(s) => out.push_str(&crate::format::quote_string(s)),
        Kind::List(es) | Kind::Tuple(es) | Kind::Set(es) => {
            out.push('[');
            for e in es {
                hash_text(e, out);
                out.push(';');
            }
            out.push(']');
        }
        Kind::Map(m) => {
            out.push('{');
            for (k, e) in m {
                out.push_str(&crate::format::quote_string(k));
                out.push(':');
                hash_text(e, out);
                out.push(';');
            }
            out.push('}');
        }
        Kind::Object(m) => {
            out.push('<');
            for e in m.values() {
                hash_text(e, out);
                out.push(';');
            }
            out.push('>');
        }
    }
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc: u32 = !0;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_known() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }
}
