//! Numeric functions.

use num_bigint::BigInt;
use terrane_value::{Number, Type, Value};

use super::{
    arg_err, call_err, num_arg, t_number, FnResult, FunctionContext, FunctionError, Param, Spec,
};

fn n(name: &'static str) -> Param {
    Param::new(name, Type::Number)
}

pub(crate) fn spec(name: &str) -> Option<Spec> {
    Some(match name {
        "abs" => Spec::new(vec![n("num")], t_number, |a, _, _| {
            Ok(Value::number(num_arg(a, 0).abs()))
        }),
        "ceil" => Spec::new(vec![n("num")], t_number, |a, _, _| {
            Ok(Value::number(integral(num_arg(a, 0).ceil())))
        }),
        "floor" => Spec::new(vec![n("num")], t_number, |a, _, _| {
            Ok(Value::number(integral(num_arg(a, 0).floor())))
        }),
        "signum" => Spec::new(vec![n("num")], t_number, |a, _, _| {
            let n = super::to_int(&num_arg(a, 0)).map_err(FunctionError::call)?;
            Ok(Value::from_i64(n.signum()))
        }),
        "log" => Spec::new(vec![n("num"), n("base")], t_number, log),
        "pow" => Spec::new(vec![n("num"), n("power")], t_number, pow),
        "max" => Spec::new(vec![], t_number, max).variadic(n("numbers")),
        "min" => Spec::new(vec![], t_number, min).variadic(n("numbers")),
        "parseint" => Spec::computed(
            vec![Param::new("number", Type::Dynamic), n("base")],
            parseint_type,
            parseint,
        ),
        _ => return None,
    })
}

/// An integral result without a negative zero (Terraform builds it from
/// a big integer); infinities pass through.
fn integral(n: Number) -> Number {
    match n.to_bigint() {
        Some(i) => Number::from_bigint(&i).with_prec(n.prec()),
        None => n,
    }
}

fn float_result(f: f64) -> FnResult {
    match Value::from_f64(f) {
        Some(v) => Ok(v),
        None => call_err("panic in function implementation: Float.SetFloat64(NaN)"),
    }
}

fn log(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let x = num_arg(a, 0).to_f64();
    let b = num_arg(a, 1).to_f64();
    float_result(x.ln() / b.ln())
}

fn pow(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let x = num_arg(a, 0).to_f64();
    let y = num_arg(a, 1).to_f64();
    float_result(x.powf(y))
}

fn extreme(a: &[Value], want_max: bool) -> FnResult {
    if a.is_empty() {
        return call_err("must pass at least one number");
    }
    let mut best = num_arg(a, 0);
    for i in 1..a.len() {
        let x = num_arg(a, i);
        if (want_max && x > best) || (!want_max && x < best) {
            best = x;
        }
    }
    Ok(Value::number(best))
}

fn max(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    extreme(a, true)
}

fn min(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    extreme(a, false)
}

fn parseint_type(a: &[Value]) -> Result<Type, FunctionError> {
    if a[0].ty() != &Type::String && !a[0].ty().is_dynamic() {
        return arg_err(
            0,
            format!(
                "first argument must be a string, not {}",
                a[0].ty().friendly_name()
            ),
        );
    }
    Ok(Type::Number)
}

/// Digit value in Go's `big.Int.SetString` alphabet for `base`.
fn digit_value(c: char, base: u32) -> Option<u32> {
    let v = match c {
        '0'..='9' => c as u32 - '0' as u32,
        'a'..='z' => c as u32 - 'a' as u32 + 10,
        'A'..='Z' => {
            if base <= 36 {
                c as u32 - 'A' as u32 + 10
            } else {
                c as u32 - 'A' as u32 + 36
            }
        }
        _ => return None,
    };
    (v < base).then_some(v)
}

fn parseint(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let s = a[0].as_str().unwrap_or("");
    let base_n = num_arg(a, 1);
    let base = super::to_int(&base_n).map_err(|e| FunctionError::arg(1, e))?;
    let base = match Some(base) {
        Some(b) if (2..=62).contains(&b) => b as u32,
        _ => return arg_err(1, "base must be a whole number between 2 and 62 inclusive"),
    };
    let fail = || {
        arg_err(
            0,
            format!(
                "cannot parse {} as a base {base} integer",
                super::format::go_quote(s)
            ),
        )
    };
    let (neg, digits) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() {
        return fail();
    }
    let mut v = BigInt::from(0);
    for c in digits.chars() {
        let Some(d) = digit_value(c, base) else {
            return fail();
        };
        v = v * base + d;
    }
    if neg {
        v = -v;
    }
    Ok(Value::number(Number::from_bigint(&v)))
}

#[cfg(test)]
mod tests {
    use super::super::{call, FunctionContext};
    use terrane_value::{format_console, Value};

    fn run(name: &str, args: Vec<Value>) -> String {
        match call(name, args, &FunctionContext::default()) {
            Ok(v) => format_console(&v),
            Err(e) => format!("ERR {e}"),
        }
    }

    #[test]
    fn numeric() {
        let n = Value::from_i64;
        assert_eq!(run("abs", vec![Value::string("-2")]), "2");
        assert_eq!(
            run("abs", vec![Value::string("a")]),
            "ERR argument 0: a number is required"
        );
        assert_eq!(run("max", vec![]), "ERR must pass at least one number");
        assert_eq!(
            run("pow", vec![n(2), Value::from_f64(0.5).unwrap()]),
            "1.4142135623730951"
        );
        assert_eq!(run("log", vec![n(0), n(10)]), "-Inf");
        assert_eq!(run("parseint", vec![Value::string("zz"), n(36)]), "1295");
        assert_eq!(
            run("parseint", vec![Value::string("12"), n(2)]),
            "ERR argument 0: cannot parse \"12\" as a base 2 integer"
        );
        assert_eq!(
            run("parseint", vec![n(10), n(10)]),
            "ERR argument 0: first argument must be a string, not number"
        );
    }
}
