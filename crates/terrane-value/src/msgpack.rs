//! go-cty's msgpack codec (the `DynamicValue` encoding of the Terraform
//! plugin protocol).
//!
//! * unknown: extension type 0 (written as `fixext1` with a zero byte; any
//!   extension is read as unknown)
//! * null: `nil`
//! * numbers: an integer when integral and within 64 bits, else a float64
//!   when exact, else the decimal string
//! * lists, sets, tuples: arrays; maps and objects: maps (keys sorted)
//! * where the schema type is `Dynamic`: a 2-element array of the value's
//!   JSON type (bytes) and the value encoded with its own type.

use std::collections::BTreeMap;
use std::fmt;

use crate::number::Number;
use crate::value::{Kind, Value};
use crate::Type;

/// A msgpack encoding/decoding error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MsgpackError(pub String);

impl fmt::Display for MsgpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MsgpackError {}

fn err<T>(msg: impl Into<String>) -> Result<T, MsgpackError> {
    Err(MsgpackError(msg.into()))
}

/// Encodes `v` for schema type `ty`. Marked values are an error (unmark
/// first, as Terraform does before sending values to providers).
pub fn encode(v: &Value, ty: &Type) -> Result<Vec<u8>, MsgpackError> {
    let mut out = Vec::new();
    write_value(&mut out, v, ty)?;
    Ok(out)
}

fn write_value(out: &mut Vec<u8>, v: &Value, ty: &Type) -> Result<(), MsgpackError> {
    if v.is_marked() {
        return err("cannot serialize a marked value");
    }
    if ty.is_dynamic() && !v.ty().is_dynamic() {
        write_array_len(out, 2);
        write_bin(out, v.ty().to_json_string().as_bytes());
        return write_value(out, v, v.ty());
    }
    match v.kind() {
        Kind::Unknown => {
            out.extend_from_slice(&[0xd4, 0, 0]);
            Ok(())
        }
        Kind::Null => {
            out.push(0xc0);
            Ok(())
        }
        Kind::Bool(b) => {
            out.push(if b { 0xc3 } else { 0xc2 });
            Ok(())
        }
        Kind::Number(n) => {
            if let Some(i) = n.to_i64() {
                write_int(out, i);
            } else if let Some(u) = n.to_u64() {
                out.push(0xcf);
                out.extend_from_slice(&u.to_be_bytes());
            } else {
                let f = n.to_f64();
                let exact = Number::from_f64(f).is_some_and(|g| g == *n) || n.is_infinite();
                if exact {
                    out.push(0xcb);
                    out.extend_from_slice(&f.to_bits().to_be_bytes());
                } else {
                    write_str(out, &n.to_text());
                }
            }
            Ok(())
        }
        Kind::String(s) => {
            write_str(out, s);
            Ok(())
        }
        Kind::List(es) | Kind::Set(es) => {
            let ety = ty
                .element_type()
                .or_else(|| v.ty().element_type())
                .cloned()
                .unwrap_or(Type::Dynamic);
            write_array_len(out, es.len());
            for e in es {
                write_value(out, e, &ety)?;
            }
            Ok(())
        }
        Kind::Tuple(es) => {
            let etys: Vec<Type> = match ty {
                Type::Tuple(ts) if ts.len() == es.len() => ts.clone(),
                _ => es.iter().map(|e| e.ty().clone()).collect(),
            };
            write_array_len(out, es.len());
            for (e, t) in es.iter().zip(&etys) {
                write_value(out, e, t)?;
            }
            Ok(())
        }
        Kind::Map(m) => {
            let ety = ty
                .element_type()
                .or_else(|| v.ty().element_type())
                .cloned()
                .unwrap_or(Type::Dynamic);
            write_map_len(out, m.len());
            for (k, e) in m {
                write_str(out, k);
                write_value(out, e, &ety)?;
            }
            Ok(())
        }
        Kind::Object(m) => {
            write_map_len(out, m.len());
            for (k, e) in m {
                write_str(out, k);
                let at = ty.attribute_type(k).unwrap_or(e.ty()).clone();
                write_value(out, e, &at)?;
            }
            Ok(())
        }
    }
}

fn write_int(out: &mut Vec<u8>, i: i64) {
    if (0..=127).contains(&i) {
        out.push(i as u8);
    } else if (-32..0).contains(&i) {
        out.push(i as i8 as u8);
    } else if i >= 0 {
        let u = i as u64;
        if u <= u8::MAX as u64 {
            out.extend_from_slice(&[0xcc, u as u8]);
        } else if u <= u16::MAX as u64 {
            out.push(0xcd);
            out.extend_from_slice(&(u as u16).to_be_bytes());
        } else if u <= u32::MAX as u64 {
            out.push(0xce);
            out.extend_from_slice(&(u as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&u.to_be_bytes());
        }
    } else if i >= i8::MIN as i64 {
        out.extend_from_slice(&[0xd0, i as i8 as u8]);
    } else if i >= i16::MIN as i64 {
        out.push(0xd1);
        out.extend_from_slice(&(i as i16).to_be_bytes());
    } else if i >= i32::MIN as i64 {
        out.push(0xd2);
        out.extend_from_slice(&(i as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    let n = s.len();
    if n < 32 {
        out.push(0xa0 | n as u8);
    } else if n <= u8::MAX as usize {
        out.extend_from_slice(&[0xd9, n as u8]);
    } else if n <= u16::MAX as usize {
        out.push(0xda);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    out.extend_from_slice(s.as_bytes());
}

fn write_bin(out: &mut Vec<u8>, b: &[u8]) {
    let n = b.len();
    if n <= u8::MAX as usize {
        out.extend_from_slice(&[0xc4, n as u8]);
    } else if n <= u16::MAX as usize {
        out.push(0xc5);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xc6);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    out.extend_from_slice(b);
}

fn write_array_len(out: &mut Vec<u8>, n: usize) {
    if n < 16 {
        out.push(0x90 | n as u8);
    } else if n <= u16::MAX as usize {
        out.push(0xdc);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdd);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

fn write_map_len(out: &mut Vec<u8>, n: usize) {
    if n < 16 {
        out.push(0x80 | n as u8);
    } else if n <= u16::MAX as usize {
        out.push(0xde);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdf);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

// ----- decoding -----

/// Decodes msgpack bytes as a value of schema type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, MsgpackError> {
    let mut r = Reader { b: bytes, i: 0 };
    let v = r.value(ty, 0)?;
    if r.i != bytes.len() {
        return err("extra data after msgpack value");
    }
    Ok(v)
}

const MAX_DEPTH: usize = 512;

enum Scalar<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(&'a [u8]),
    Bin(&'a [u8]),
    Array(usize),
    Map(usize),
    Ext,
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], MsgpackError> {
        let end = self.i.checked_add(n).filter(|&e| e <= self.b.len());
        let Some(end) = end else {
            return err("unexpected end of msgpack data");
        };
        let s = &self.b[self.i..end];
        self.i = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, MsgpackError> {
        Ok(self.take(1)?[0])
    }

    fn be(&mut self, n: usize) -> Result<u64, MsgpackError> {
        Ok(self.take(n)?.iter().fold(0u64, |a, &b| (a << 8) | b as u64))
    }

    fn scalar(&mut self) -> Result<Scalar<'a>, MsgpackError> {
        let c = self.u8()?;
        Ok(match c {
            0x00..=0x7f => Scalar::Int(c as i64),
            0x80..=0x8f => Scalar::Map((c & 0x0f) as usize),
            0x90..=0x9f => Scalar::Array((c & 0x0f) as usize),
            0xa0..=0xbf => Scalar::Str(self.take((c & 0x1f) as usize)?),
            0xc0 => Scalar::Nil,
            0xc2 => Scalar::Bool(false),
            0xc3 => Scalar::Bool(true),
            0xc4..=0xc6 => {
                let n = self.be(1 << (c - 0xc4))? as usize;
                Scalar::Bin(self.take(n)?)
            }
            0xc7..=0xc9 => {
                let n = self.be(1 << (c - 0xc7))? as usize;
                self.take(1 + n)?;
                Scalar::Ext
            }
            0xca => Scalar::Float(f32::from_bits(self.be(4)? as u32) as f64),
            0xcb => Scalar::Float(f64::from_bits(self.be(8)?)),
            0xcc..=0xcf => Scalar::Uint(self.be(1 << (c - 0xcc))?),
            0xd0 => Scalar::Int(self.be(1)? as u8 as i8 as i64),
            0xd1 => Scalar::Int(self.be(2)? as u16 as i16 as i64),
            0xd2 => Scalar::Int(self.be(4)? as u32 as i32 as i64),
            0xd3 => Scalar::Int(self.be(8)? as i64),
            0xd4..=0xd8 => {
                self.take(1 + (1 << (c - 0xd4)))?;
                Scalar::Ext
            }
            0xd9..=0xdb => {
                let n = self.be(1 << (c - 0xd9))? as usize;
                Scalar::Str(self.take(n)?)
            }
            0xdc | 0xdd => Scalar::Array(self.be(2 << (c - 0xdc))? as usize),
            0xde | 0xdf => Scalar::Map(self.be(2 << (c - 0xde))? as usize),
            0xe0..=0xff => Scalar::Int(c as i8 as i64),
            0xc1 => return err("invalid msgpack code 0xc1"),
        })
    }

    fn string(&mut self) -> Result<String, MsgpackError> {
        match self.scalar()? {
            Scalar::Str(b) | Scalar::Bin(b) => String::from_utf8(b.to_vec())
                .map_err(|_| MsgpackError("invalid UTF-8 in msgpack string".into())),
            _ => err("string is required"),
        }
    }

    fn value(&mut self, ty: &Type, depth: usize) -> Result<Value, MsgpackError> {
        if depth > MAX_DEPTH {
            return err("msgpack nesting too deep");
        }
        let start = self.i;
        let s = self.scalar()?;
        match s {
            Scalar::Ext => return Ok(Value::unknown(ty.clone())),
            Scalar::Nil => return Ok(Value::null(ty.clone())),
            _ => {}
        }
        match ty {
            Type::Dynamic => {
                let Scalar::Array(2) = s else {
                    return err("dynamic value must be a 2-element array");
                };
                let tjson = self.string()?;
                let vt = Type::from_json_str(&tjson).map_err(|e| MsgpackError(e.to_string()))?;
                self.value(&vt, depth + 1)
            }
            Type::String => match s {
                Scalar::Str(b) | Scalar::Bin(b) => Ok(Value::string(
                    String::from_utf8(b.to_vec())
                        .map_err(|_| MsgpackError("invalid UTF-8 in msgpack string".into()))?,
                )),
                _ => err("string is required"),
            },
            Type::Number => match s {
                Scalar::Int(i) => Ok(Value::from_i64(i)),
                Scalar::Uint(u) => Ok(Value::number(Number::from_u64(u))),
                Scalar::Float(f) => {
                    Value::from_f64(f).ok_or_else(|| MsgpackError("NaN is not a number".into()))
                }
                Scalar::Str(b) => {
                    let t = std::str::from_utf8(b)
                        .map_err(|_| MsgpackError("invalid number".into()))?;
                    Number::parse(t)
                        .map(Value::number)
                        .map_err(|_| MsgpackError("a number is required".into()))
                }
                _ => err("number is required"),
            },
            Type::Bool => match s {
                Scalar::Bool(b) => Ok(Value::bool(b)),
                _ => err("bool is required"),
            },
            Type::List(e) | Type::Set(e) => {
                let Scalar::Array(n) = s else {
                    return err("array is required");
                };
                let mut vals = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    vals.push(self.value(e, depth + 1)?);
                }
                Ok(if matches!(ty, Type::List(_)) {
                    Value::list((**e).clone(), vals)
                } else {
                    Value::set((**e).clone(), vals)
                })
            }
            Type::Tuple(ts) => {
                let Scalar::Array(n) = s else {
                    return err("array is required");
                };
                if n != ts.len() {
                    return err(format!("tuple of {} elements is required", ts.len()));
                }
                let mut vals = Vec::with_capacity(n);
                for t in ts {
                    vals.push(self.value(t, depth + 1)?);
                }
                Ok(Value::tuple(vals))
            }
            Type::Map(e) => {
                let Scalar::Map(n) = s else {
                    return err("map is required");
                };
                let mut m = BTreeMap::new();
                for _ in 0..n {
                    let k = self.string()?;
                    m.insert(k, self.value(e, depth + 1)?);
                }
                Ok(Value::map((**e).clone(), m))
            }
            Type::Object { attrs, .. } => {
                let Scalar::Map(n) = s else {
                    let _ = start;
                    return err("object is required");
                };
                let mut m = BTreeMap::new();
                for _ in 0..n {
                    let k = self.string()?;
                    let Some(at) = attrs.get(&k) else {
                        return err(format!("unsupported attribute {k:?}"));
                    };
                    let v = self.value(at, depth + 1)?;
                    m.insert(k, v);
                }
                for (k, at) in attrs {
                    m.entry(k.clone())
                        .or_insert_with(|| Value::null(at.clone()));
                }
                Ok(Value::object_typed(ty, m))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Value {
        Value::number(Number::parse(s).unwrap())
    }

    fn roundtrip(v: &Value, ty: &Type) -> Value {
        let b = encode(v, ty).unwrap();
        decode(&b, ty).unwrap()
    }

    #[test]
    fn scalars() {
        assert_eq!(encode(&n("1"), &Type::Number).unwrap(), vec![1]);
        assert_eq!(encode(&n("-1"), &Type::Number).unwrap(), vec![0xff]);
        assert_eq!(encode(&n("300"), &Type::Number).unwrap(), vec![0xcd, 1, 44]);
        assert_eq!(
            encode(&n("1.5"), &Type::Number).unwrap(),
            [vec![0xcb], 1.5f64.to_bits().to_be_bytes().to_vec()].concat()
        );
        // 0.1 at 512 bits is not an f64: sent as a string
        assert_eq!(
            encode(&n("0.1"), &Type::Number).unwrap(),
            b"\xa30.1".to_vec()
        );
        assert_eq!(
            encode(&Value::unknown(Type::String), &Type::String).unwrap(),
            vec![0xd4, 0, 0]
        );
        assert_eq!(
            encode(&Value::null(Type::String), &Type::String).unwrap(),
            vec![0xc0]
        );
        assert_eq!(
            encode(&Value::string("hi"), &Type::String).unwrap(),
            b"\xa2hi".to_vec()
        );
        for s in [
            "0",
            "-0.5",
            "1e400",
            "18446744073709551615",
            "-9223372036854775808",
            "0.1",
            "123.456",
        ] {
            let v = n(s);
            let back = roundtrip(&v, &Type::Number);
            assert_eq!(
                back.as_number().unwrap().to_text(),
                v.as_number().unwrap().to_text(),
                "{s}"
            );
        }
        assert!(encode(&n("1").mark_sensitive(), &Type::Number).is_err());
    }

    #[test]
    fn dynamic_and_nested() {
        let ty = Type::object([
            ("a", Type::Dynamic),
            ("l", Type::list(Type::String)),
            ("s", Type::set(Type::Number)),
            ("m", Type::map(Type::Bool)),
            ("t", Type::tuple(vec![Type::String, Type::Number])),
            ("u", Type::String),
            ("x", Type::Dynamic),
        ]);
        let v = Value::object_from([
            ("a", Value::list(Type::String, vec![Value::string("x")])),
            (
                "l",
                Value::list(
                    Type::String,
                    vec![Value::string("y"), Value::unknown(Type::String)],
                ),
            ),
            ("s", Value::set(Type::Number, vec![n("3"), n("1")])),
            (
                "m",
                Value::map(
                    Type::Bool,
                    [("k".to_string(), Value::bool(false))]
                        .into_iter()
                        .collect(),
                ),
            ),
            ("t", Value::tuple(vec![Value::string("a"), n("2")])),
            ("u", Value::unknown(Type::String)),
            ("x", Value::null_dynamic()),
        ]);
        let b = encode(&v, &ty).unwrap();
        // the dynamic attribute is wrapped with its JSON type
        let needle = br#"["list","string"]"#;
        assert!(b.windows(needle.len()).any(|w| w == needle));
        let back = decode(&b, &ty).unwrap();
        assert!(back.raw_equal(&v), "{back:?}\n{v:?}");
        assert!(decode(&b[..b.len() - 1], &ty).is_err());
        assert!(decode(&[0x81, 0xa1, b'z', 1], &ty).is_err());
        let missing = decode(&[0x80], &ty).unwrap();
        assert!(missing.get_attr("a").unwrap().is_null());
    }

    #[test]
    fn reads_other_int_forms() {
        assert_eq!(
            decode(&[0xd0, 0x85], &Type::Number).unwrap(),
            Value::from_i64(-123)
        );
        assert_eq!(
            decode(&[0xcc, 200], &Type::Number).unwrap(),
            Value::from_i64(200)
        );
        assert!(!decode(&[0xc7, 0, 0], &Type::String).unwrap().is_known());
        assert!(!decode(&[0xd4, 0, 0], &Type::Dynamic).unwrap().is_known());
    }
}
