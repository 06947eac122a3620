//! Type conversion functions and sensitivity functions.

use terrane_value::{convert, Mark, Type, Value};

use super::{arg_err, t_bool, FnResult, FunctionContext, FunctionError, Param, Spec};

fn v_param() -> Param {
    Param::new("v", Type::Dynamic).null().marked().dynamic()
}

fn value_param() -> Param {
    Param::new("value", Type::Dynamic)
        .null()
        .unknown()
        .marked()
        .dynamic()
}

pub(crate) fn spec(name: &str) -> Option<Spec> {
    Some(match name {
        "tostring" => Spec::computed(vec![v_param()], |a| to_type(a, Type::String), to_impl),
        "tonumber" => Spec::computed(vec![v_param()], |a| to_type(a, Type::Number), to_impl),
        "tobool" => Spec::computed(vec![v_param()], |a| to_type(a, Type::Bool), to_impl),
        "tolist" => Spec::computed(
            vec![v_param()],
            |a| to_type(a, Type::list(Type::Dynamic)),
            to_impl,
        ),
        "toset" => Spec::computed(
            vec![v_param()],
            |a| to_type(a, Type::set(Type::Dynamic)),
            to_impl,
        ),
        "tomap" => Spec::computed(
            vec![v_param()],
            |a| to_type(a, Type::map(Type::Dynamic)),
            to_impl,
        ),
        "sensitive" => Spec::computed(
            vec![value_param()],
            |a| Ok(a[0].ty().clone()),
            |a, _, _| Ok(a[0].mark(Mark::Sensitive)),
        )
        .partial_unknown(),
        "nonsensitive" => {
            Spec::computed(vec![value_param()], |a| Ok(a[0].ty().clone()), nonsensitive)
                .partial_unknown()
        }
        "issensitive" => Spec::new(vec![value_param()], t_bool, |a, _, _| {
            Ok(Value::bool(a[0].is_sensitive()))
        })
        .partial_unknown(),
        "ephemeralasnull" => Spec::computed(
            vec![value_param()],
            |a| Ok(a[0].ty().clone()),
            |a, _, _| Ok(ephemeral_as_null(&a[0])),
        )
        .partial_unknown(),
        "defaults" => Spec::new(
            vec![
                Param::new("input", Type::Dynamic)
                    .null()
                    .unknown()
                    .dynamic(),
                Param::new("defaults", Type::Dynamic)
                    .null()
                    .unknown()
                    .dynamic(),
            ],
            super::t_dynamic,
            |_, _, _| {
                super::call_err(
                    "this function is experimental and available only when the experiment keyword module_variable_optional_attrs is enabled for the current module",
                )
            },
        ),
        _ => return None,
    })
}

fn to_type(a: &[Value], want: Type) -> Result<Type, FunctionError> {
    let got = a[0].ty();
    if got == &want || terrane_value::convert::conversion_exists(got, &want, true) {
        return Ok(want);
    }
    match (got, &want) {
        (Type::Tuple(_), Type::Tuple(_)) => arg_err(
            0,
            format!(
                "incompatible tuple type for conversion: {}",
                terrane_value::convert::mismatch_message(got, &want)
            ),
        ),
        (Type::Object { .. }, Type::Object { .. }) => arg_err(
            0,
            format!(
                "incompatible object type for conversion: {}",
                terrane_value::convert::mismatch_message(got, &want)
            ),
        ),
        _ => arg_err(
            0,
            format!(
                "cannot convert {} to {}",
                got.friendly_name(),
                want.friendly_name_for_constraint()
            ),
        ),
    }
}

fn to_impl(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    if a[0].is_null() && a[0].ty().is_dynamic() {
        // Terraform returns the untyped null as it is.
        return Ok(a[0].clone());
    }
    match convert(&a[0], ret) {
        Ok(v) => Ok(v),
        Err(e) => {
            let val = a[0].unmark_deep_value();
            let what = match val.as_str() {
                Some(s) => super::format::go_quote(s),
                None => "string".to_string(),
            };
            match (val.ty(), ret) {
                (Type::String, Type::Bool) => arg_err(
                    0,
                    format!("cannot convert {what} to bool; only the strings \"true\" or \"false\" are allowed"),
                ),
                (Type::String, Type::Number) => arg_err(
                    0,
                    format!(
                        "cannot convert {what} to number; given string must be a decimal representation of a number"
                    ),
                ),
                _ => arg_err(0, e.message),
            }
        }
    }
}

fn nonsensitive(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let v = &a[0];
    if !v.is_sensitive() && v.is_known() {
        return arg_err(
            0,
            "the given value is not sensitive, so this call is redundant",
        );
    }
    let (u, marks) = v.unmark();
    let mut rest = terrane_value::Marks::NONE;
    for m in marks.iter() {
        if m != Mark::Sensitive {
            rest = rest.with(m);
        }
    }
    Ok(u.with_marks(rest))
}

/// Replaces every ephemeral-marked part of a value with a null of its
/// type (other marks are kept).
fn ephemeral_as_null(v: &Value) -> Value {
    let (u, marks) = v.unmark();
    if marks.contains(Mark::Ephemeral) {
        let mut rest = terrane_value::Marks::NONE;
        for m in marks.iter() {
            if m != Mark::Ephemeral {
                rest = rest.with(m);
            }
        }
        return Value::null(u.ty().clone()).with_marks(rest);
    }
    if !u.has_marks_deep() {
        return v.clone();
    }
    let out = match u.kind() {
        terrane_value::Kind::List(es) => Value::list(
            u.ty().element_type().cloned().unwrap_or(Type::Dynamic),
            es.iter().map(ephemeral_as_null).collect(),
        ),
        terrane_value::Kind::Set(es) => Value::set(
            u.ty().element_type().cloned().unwrap_or(Type::Dynamic),
            es.iter().map(ephemeral_as_null).collect(),
        ),
        terrane_value::Kind::Tuple(es) => Value::tuple(es.iter().map(ephemeral_as_null).collect()),
        terrane_value::Kind::Map(m) => Value::map(
            u.ty().element_type().cloned().unwrap_or(Type::Dynamic),
            m.iter()
                .map(|(k, x)| (k.clone(), ephemeral_as_null(x)))
                .collect(),
        ),
        terrane_value::Kind::Object(m) => Value::object(
            m.iter()
                .map(|(k, x)| (k.clone(), ephemeral_as_null(x)))
                .collect(),
        ),
        _ => u.clone(),
    };
    out.with_marks(marks)
}
