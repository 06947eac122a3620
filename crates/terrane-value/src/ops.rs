//! Arithmetic and comparison on number values with go-cty's handling of
//! unknowns (result unknown) and marks (merged onto the result). Operands
//! must already be of type number (convert first); nulls are an error.

use std::cmp::Ordering;
use std::fmt;

use crate::number::{ArithError, Number};
use crate::value::{merged_marks, Value};
use crate::Type;

/// Error of a value operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpError {
    /// An operand is null (`argument must not be null`).
    Null,
    /// An operand is not a number.
    NotNumber,
    /// The arithmetic itself failed (e.g. `0/0`).
    Arith(ArithError),
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpError::Null => f.write_str("argument must not be null"),
            OpError::NotNumber => f.write_str("number required"),
            OpError::Arith(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for OpError {}

fn binary(
    a: &Value,
    b: &Value,
    result_ty: Type,
    f: impl FnOnce(&Number, &Number) -> Result<Value, ArithError>,
) -> Result<Value, OpError> {
    let marks = merged_marks([a, b]);
    for v in [a, b] {
        if v.is_known() && v.is_null() {
            return Err(OpError::Null);
        }
        if !matches!(v.ty(), Type::Number | Type::Dynamic) {
            return Err(OpError::NotNumber);
        }
    }
    if !a.is_known() || !b.is_known() {
        return Ok(Value::unknown(result_ty).with_marks(marks));
    }
    let (Some(x), Some(y)) = (a.as_number(), b.as_number()) else {
        return Err(OpError::NotNumber);
    };
    Ok(f(x, y).map_err(OpError::Arith)?.with_marks(marks))
}

/// `a + b`.
pub fn add(a: &Value, b: &Value) -> Result<Value, OpError> {
    binary(a, b, Type::Number, |x, y| x.add(y).map(Value::number))
}

/// `a - b`.
pub fn sub(a: &Value, b: &Value) -> Result<Value, OpError> {
    binary(a, b, Type::Number, |x, y| x.sub(y).map(Value::number))
}

/// `a * b`.
pub fn mul(a: &Value, b: &Value) -> Result<Value, OpError> {
    binary(a, b, Type::Number, |x, y| x.mul(y).map(Value::number))
}

/// `a / b` (`x/0` is ±infinity, `0/0` an error).
pub fn div(a: &Value, b: &Value) -> Result<Value, OpError> {
    binary(a, b, Type::Number, |x, y| x.div(y).map(Value::number))
}

/// `a % b` (see [`Number::rem`]).
pub fn rem(a: &Value, b: &Value) -> Result<Value, OpError> {
    binary(a, b, Type::Number, |x, y| x.rem(y).map(Value::number))
}

/// `-a`.
pub fn neg(a: &Value) -> Result<Value, OpError> {
    if a.is_known() && a.is_null() {
        return Err(OpError::Null);
    }
    if !a.is_known() {
        return Ok(Value::unknown(Type::Number).with_marks(a.marks()));
    }
    let x = a.as_number().ok_or(OpError::NotNumber)?;
    Ok(Value::number(x.neg()).with_marks(a.marks()))
}

/// Numeric comparison producing a bool value: `ord` is the set of
/// orderings for which the result is true (e.g. `[Less]` for `<`,
/// `[Less, Equal]` for `<=`).
pub fn compare(a: &Value, b: &Value, ord: &[Ordering]) -> Result<Value, OpError> {
    binary(a, b, Type::Bool, |x, y| {
        Ok(Value::bool(ord.contains(&x.cmp(y))))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Value {
        Value::number(Number::parse(s).unwrap())
    }

    #[test]
    fn ops() {
        assert_eq!(
            add(&n("0.1"), &n("0.2"))
                .unwrap()
                .as_number()
                .unwrap()
                .to_text(),
            "0.3"
        );
        assert_eq!(
            div(&n("0"), &n("0")),
            Err(OpError::Arith(ArithError::ZeroByZero))
        );
        assert_eq!(add(&Value::null(Type::Number), &n("1")), Err(OpError::Null));
        let u = add(&Value::unknown(Type::Number), &n("1").mark_sensitive()).unwrap();
        assert!(!u.is_known() && u.is_sensitive());
        let r = sub(&n("1").mark_sensitive(), &n("1")).unwrap();
        assert!(r.is_sensitive());
        assert_eq!(neg(&n("5")).unwrap().as_number().unwrap().to_text(), "-5");
        assert_eq!(
            compare(&n("1"), &n("2"), &[Ordering::Less])
                .unwrap()
                .as_bool(),
            Some(true)
        );
        assert_eq!(
            compare(&n("2"), &n("2"), &[Ordering::Less])
                .unwrap()
                .as_bool(),
            Some(false)
        );
        assert_eq!(
            mul(&n("0"), &n("-1"))
                .unwrap()
                .as_number()
                .unwrap()
                .to_text(),
            "-0"
        );
        assert_eq!(
            rem(&n("-7"), &n("3"))
                .unwrap()
                .as_number()
                .unwrap()
                .to_text(),
            "-1"
        );
        assert_eq!(add(&Value::string("1"), &n("1")), Err(OpError::NotNumber));
    }
}
