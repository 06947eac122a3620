//! `format` and `formatlist`: printf-style formatting with go-cty's verbs.

use terrane_value::{convert, Kind, Number, Type, Value};

use super::{
    arg_err, call_err, seq, str_arg, t_list_string, t_string, FnResult, FunctionContext,
    FunctionError, Param, Spec,
};

pub(crate) fn format_spec() -> Spec {
    Spec::new(
        vec![Param::new("format", Type::String)],
        t_string,
        format_fn,
    )
    .variadic(Param::new("args", Type::Dynamic).null().dynamic())
}

pub(crate) fn formatlist_spec() -> Spec {
    Spec::new(
        vec![Param::new("format", Type::String)],
        t_list_string,
        formatlist_fn,
    )
    .variadic(Param::new("args", Type::Dynamic).null().unknown().dynamic())
    .partial_unknown()
}

fn format_fn(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let (s, used) = format_values(str_arg(a, 0), &a[1..]).map_err(FunctionError::call)?;
    check_used(used, a.len() - 1)?;
    Ok(Value::string(s))
}

fn check_used(used: usize, total: usize) -> Result<(), FunctionError> {
    if used < total {
        let msg = if used == 0 {
            "too many arguments; no verbs in format string".to_string()
        } else {
            format!("too many arguments; only {used} used by format string")
        };
        return arg_err(used + 1, msg);
    }
    Ok(())
}

fn formatlist_fn(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    let fmt = str_arg(a, 0);
    let args = &a[1..];
    if args.is_empty() {
        let (s, _) = format_values(fmt, &[]).map_err(FunctionError::call)?;
        return Ok(Value::list(Type::String, vec![Value::string(s)]));
    }
    let mut iter_len: Option<(usize, usize)> = None; // (len, chooser)
    for (i, v) in args.iter().enumerate() {
        let seq_ty = matches!(v.ty(), Type::List(_) | Type::Set(_) | Type::Tuple(_));
        if seq_ty && !v.is_null() {
            if !v.is_known() {
                return Ok(Value::unknown(ret.clone()));
            }
            let l = seq(v).len();
            match iter_len {
                None => iter_len = Some((l, i)),
                Some((n, c)) if n != l => {
                    return arg_err(
                        i + 1,
                        format!(
                            "argument {} has length {l}, which is inconsistent with argument {} of length {n}",
                            i + 1,
                            c + 1
                        ),
                    )
                }
                _ => {}
            }
        } else if !v.is_known() {
            return Ok(Value::unknown(ret.clone()));
        }
    }
    let n = iter_len.map(|x| x.0).unwrap_or(1);
    if n == 0 {
        return Ok(Value::list_empty(Type::String));
    }
    let mut out = Vec::with_capacity(n);
    'results: for idx in 0..n {
        let mut fargs = Vec::with_capacity(args.len());
        for v in args {
            let seq_ty = matches!(v.ty(), Type::List(_) | Type::Set(_) | Type::Tuple(_));
            let x = if seq_ty && !v.is_null() {
                seq(v).get(idx).cloned().unwrap_or_else(Value::null_dynamic)
            } else {
                v.clone()
            };
            if !x.is_wholly_known() {
                out.push(Value::unknown(Type::String));
                continue 'results;
            }
            fargs.push(x);
        }
        match format_values(fmt, &fargs) {
            Ok((s, used)) => {
                if let Err(e) = check_used(used, fargs.len()) {
                    return call_err(format!("error on format iteration {idx}: {}", e.message));
                }
                out.push(Value::string(s))
            }
            Err(e) => return call_err(format!("error on format iteration {idx}: {e}")),
        }
    }
    Ok(Value::list(Type::String, out))
}

#[derive(Default, Debug)]
struct Verb {
    minus: bool,
    plus: bool,
    sharp: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

const MAX_WIDTH: usize = 1_000_000;

/// Formats `args` according to `fmt`; returns the text and how many
/// arguments were consumed (the highest index used).
pub(crate) fn format_values(fmt: &str, args: &[Value]) -> Result<(String, usize), String> {
    let b = fmt.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let mut next_arg = 0usize;
    let mut max_used = 0usize;
    while i < b.len() {
        let Some(rel) = fmt[i..].find('%') else {
            out.push_str(&fmt[i..]);
            break;
        };
        out.push_str(&fmt[i..i + rel]);
        let start = i + rel;
        i = start + 1;
        if i >= b.len() {
            return Err(format!("invalid format string starting at offset {i}"));
        }
        if b[i] == b'%' {
            out.push('%');
            i += 1;
            continue;
        }
        let mut v = Verb::default();
        while i < b.len() {
            match b[i] {
                b'-' => v.minus = true,
                b'+' => v.plus = true,
                b'#' => v.sharp = true,
                b'0' => v.zero = true,
                b' ' => v.space = true,
                _ => break,
            }
            i += 1;
        }
        if i < b.len() && b[i] == b'[' {
            i += 1;
            let ds = i;
            if i < b.len() && (b'1'..=b'9').contains(&b[i]) {
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            } else {
                return Err(unrecognized(fmt, i));
            }
            if i >= b.len() || b[i] != b']' {
                return Err(unrecognized(fmt, i));
            }
            let n: usize = fmt[ds..i].parse().unwrap_or(usize::MAX);
            next_arg = n.saturating_sub(1);
            i += 1;
        }
        let ws = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i > ws {
            v.width = Some(fmt[ws..i].parse().unwrap_or(usize::MAX));
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let ps = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            v.prec = Some(if i > ps {
                fmt[ps..i].parse().unwrap_or(usize::MAX)
            } else {
                0
            });
        }
        if v.width.unwrap_or(0) > MAX_WIDTH || v.prec.unwrap_or(0) > MAX_WIDTH {
            return Err(format!("width or precision too large at offset {start}"));
        }
        let Some(verb) = fmt[i..].chars().next() else {
            return Err(format!("invalid format string starting at offset {i}"));
        };
        if !verb.is_ascii_alphabetic() {
            return Err(unrecognized(fmt, i));
        }
        i += verb.len_utf8();
        let spec = &fmt[start..i];
        if !"vtbdoxXeEfgGsq".contains(verb) {
            return Err(format!(
                "unsupported format verb '{verb}' in \"{spec}\" at offset {start}"
            ));
        }
        let Some(arg) = args.get(next_arg) else {
            return Err(format!(
                "not enough arguments for \"{spec}\" at {start}: need index {} but have {} total",
                next_arg + 1,
                args.len()
            ));
        };
        next_arg += 1;
        max_used = max_used.max(next_arg);
        format_one(&mut out, &v, verb, arg)
            .map_err(|m| format!("unsupported value for \"{spec}\" at {start}: {m}"))?;
    }
    Ok((out, max_used))
}

fn unrecognized(fmt: &str, i: usize) -> String {
    match fmt[i..].chars().next() {
        Some(c) => format!("unrecognized format character '{c}' at offset {i}"),
        None => format!("invalid format string starting at offset {i}"),
    }
}

fn format_one(out: &mut String, v: &Verb, verb: char, arg: &Value) -> Result<(), String> {
    if arg.is_null() {
        if verb == 'v' {
            pad(out, v, "null", false);
            return Ok(());
        }
        return Err("null value cannot be formatted".into());
    }
    match verb {
        'v' => {
            if v.sharp {
                let j = super::json::encode(arg).map_err(|e| e.to_string())?;
                pad(out, v, &j, false);
                return Ok(());
            }
            match arg.kind() {
                Kind::String(s) => pad(out, v, s, v.zero),
                Kind::Bool(b) => pad(out, v, if b { "true" } else { "false" }, false),
                Kind::Number(n) => format_float(out, v, 'g', None, n),
                _ => {
                    let j = super::json::encode(arg).map_err(|e| e.to_string())?;
                    pad(out, v, &j, false);
                }
            }
            Ok(())
        }
        't' => {
            let b = convert(arg, &Type::Bool).map_err(|e| e.message)?;
            out.push_str(if b.as_bool().unwrap_or(false) {
                "true"
            } else {
                "false"
            });
            Ok(())
        }
        's' | 'q' => {
            let s = convert(arg, &Type::String).map_err(|e| e.message)?;
            let s = s.as_str().unwrap_or("");
            let s: String = match v.prec {
                Some(p) => s.chars().take(p).collect(),
                None => s.to_string(),
            };
            if verb == 'q' {
                pad(out, v, &go_quote(&s), v.zero);
            } else {
                pad(out, v, &s, v.zero);
            }
            Ok(())
        }
        'd' | 'b' | 'o' | 'x' | 'X' => {
            let n = convert(arg, &Type::Number).map_err(|e| e.message)?;
            let n = n.as_number().cloned().unwrap_or_else(Number::zero);
            if n.is_infinite() || !n.is_integer() {
                return Err("an integer is required".into());
            }
            let i = n.to_bigint().unwrap_or_default();
            format_int(out, v, verb, &i);
            Ok(())
        }
        'e' | 'E' | 'f' | 'g' | 'G' => {
            let n = convert(arg, &Type::Number).map_err(|e| e.message)?;
            let n = n.as_number().cloned().unwrap_or_else(Number::zero);
            format_float(out, v, verb, v.prec, &n);
            Ok(())
        }
        _ => Err("unsupported verb".into()),
    }
}

/// Pads `body` (which may start with a sign) to the verb's width.
fn pad(out: &mut String, v: &Verb, body: &str, zero: bool) {
    let len = body.chars().count();
    let w = v.width.unwrap_or(0);
    if len >= w {
        out.push_str(body);
        return;
    }
    let fill = w - len;
    if v.minus {
        out.push_str(body);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if zero {
        let (sign, rest) = match body.chars().next() {
            Some(c @ ('+' | '-' | ' ')) => (Some(c), &body[1..]),
            _ => (None, body),
        };
        if let Some(c) = sign {
            out.push(c);
        }
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(rest);
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(body);
    }
}

/// Go's `strconv.Quote`.
pub(crate) fn go_quote(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\u{7}' => o.push_str("\\a"),
            '\u{8}' => o.push_str("\\b"),
            '\u{c}' => o.push_str("\\f"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            '\u{b}' => o.push_str("\\v"),
            c if is_go_printable(c) => o.push(c),
            c if (c as u32) < 0x80 => o.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    o.push('"');
    o
}

fn is_go_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c as u32, 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x200b..=0x200f | 0x202a..=0x202e | 0x2060..=0x2064 | 0x2066..=0x206f | 0xfeff | 0xfff9..=0xfffb | 0xe000..=0xf8ff | 0xfff0..=0xfff8 | 0xfffe | 0xffff)
}

fn format_int(out: &mut String, v: &Verb, verb: char, i: &num_bigint::BigInt) {
    use num_traits::Signed;
    let neg = i.is_negative();
    let mag = i.abs();
    let mut digits = match verb {
        'b' => mag.to_str_radix(2),
        'o' => mag.to_str_radix(8),
        'x' => mag.to_str_radix(16),
        'X' => mag.to_str_radix(16).to_uppercase(),
        _ => mag.to_string(),
    };
    if let Some(p) = v.prec {
        if p == 0 && mag == num_bigint::BigInt::from(0) {
            digits.clear();
        } else if digits.len() < p {
            digits = "0".repeat(p - digits.len()) + &digits;
        }
    }
    let prefix = if v.sharp {
        match verb {
            'b' => "0b",
            'o' if !digits.starts_with('0') => "0",
            'x' => "0x",
            'X' => "0X",
            _ => "",
        }
    } else {
        ""
    };
    let sign = if neg {
        "-"
    } else if v.plus {
        "+"
    } else if v.space {
        " "
    } else {
        ""
    };
    let zero = v.zero && v.prec.is_none() && !v.minus;
    let body_len = sign.len() + prefix.len() + digits.len();
    let w = v.width.unwrap_or(0);
    if zero && body_len < w {
        out.push_str(sign);
        out.push_str(prefix);
        out.extend(std::iter::repeat_n('0', w - body_len));
        out.push_str(&digits);
    } else {
        pad(out, v, &format!("{sign}{prefix}{digits}"), false);
    }
}

/// Decimal digits of a finite number: value = 0.DIGITS × 10^exp (digits
/// without leading or trailing zeros; empty for zero).
#[derive(Clone, Debug)]
struct Dec {
    digits: Vec<u8>,
    exp: i64,
}

impl Dec {
    fn from_text(t: &str) -> Dec {
        let t = t.trim_start_matches('-');
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        let all: Vec<u8> = int.bytes().chain(frac.bytes()).collect();
        let mut exp = int.len() as i64;
        let lead = all.iter().take_while(|&&c| c == b'0').count();
        exp -= lead as i64;
        let mut digits = all[lead..].to_vec();
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        if digits.is_empty() {
            exp = 0;
        }
        Dec { digits, exp }
    }

    /// Rounds to `n` significant digits, half to even (the digits are exact).
    fn round(&mut self, n: i64) {
        if n < 0 {
            self.digits.clear();
            self.exp = 0;
            return;
        }
        let n = n as usize;
        if n >= self.digits.len() {
            return;
        }
        let up = match self.digits[n].cmp(&b'5') {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => {
                if self.digits[n + 1..].iter().any(|&d| d != b'0') {
                    true
                } else {
                    n > 0 && (self.digits[n - 1] - b'0') % 2 == 1
                }
            }
        };
        self.digits.truncate(n);
        if up {
            let mut k = n;
            loop {
                if k == 0 {
                    self.digits.insert(0, b'1');
                    self.exp += 1;
                    break;
                }
                k -= 1;
                if self.digits[k] == b'9' {
                    self.digits[k] = b'0';
                } else {
                    self.digits[k] += 1;
                    break;
                }
            }
        }
        while self.digits.last() == Some(&b'0') {
            self.digits.pop();
        }
        if self.digits.is_empty() {
            self.exp = 0;
        }
    }

    fn digit(&self, i: i64) -> char {
        if i >= 0 && (i as usize) < self.digits.len() {
            self.digits[i as usize] as char
        } else {
            '0'
        }
    }
}

fn fmt_e(d: &Dec, prec: usize, upper: bool) -> String {
    let mut s = String::new();
    s.push(d.digit(0));
    if prec > 0 {
        s.push('.');
        for i in 1..=prec as i64 {
            s.push(d.digit(i));
        }
    }
    s.push(if upper { 'E' } else { 'e' });
    let e = if d.digits.is_empty() { 0 } else { d.exp - 1 };
    s.push(if e < 0 { '-' } else { '+' });
    let ea = e.unsigned_abs();
    if ea < 10 {
        s.push('0');
    }
    s.push_str(&ea.to_string());
    s
}

fn fmt_f(d: &Dec, prec: usize) -> String {
    let mut s = String::new();
    if d.exp > 0 {
        for i in 0..d.exp {
            s.push(d.digit(i));
        }
    } else {
        s.push('0');
    }
    if prec > 0 {
        s.push('.');
        for i in 0..prec as i64 {
            s.push(d.digit(d.exp + i));
        }
    }
    s
}

/// Go's `big.Float` formatting for `%e %E %f %g %G` (and `%v` as `%g`).
fn format_float(out: &mut String, v: &Verb, verb: char, prec: Option<usize>, n: &Number) {
    let neg = n.is_sign_negative();
    let body = if n.is_infinite() {
        // Go prints an explicit sign for +Inf
        if neg {
            "Inf".to_string()
        } else {
            "+Inf".to_string()
        }
    } else {
        let exact = Dec::from_text(&n.to_exact_text());
        match verb {
            'e' | 'E' => {
                let p = prec.unwrap_or(6);
                let mut d = exact;
                d.round(p as i64 + 1);
                fmt_e(&d, p, verb == 'E')
            }
            'f' => {
                let p = prec.unwrap_or(6);
                let mut d = exact;
                d.round(d.exp + p as i64);
                fmt_f(&d, p)
            }
            _ => {
                let (d, shortest, mut p) = match prec {
                    None => (Dec::from_text(&n.to_text()), true, 0usize),
                    Some(p) => {
                        let p = p.max(1);
                        let mut d = exact;
                        d.round(p as i64);
                        (d, false, p)
                    }
                };
                if shortest {
                    p = d.digits.len().max(1);
                }
                let mut eprec = p as i64;
                if eprec > d.digits.len() as i64 && d.digits.len() as i64 >= d.exp {
                    eprec = d.digits.len() as i64;
                }
                if shortest {
                    eprec = 6;
                }
                let exp = d.exp - 1;
                if !d.digits.is_empty() && (exp < -4 || exp >= eprec) {
                    let pp = p.min(d.digits.len()).max(1);
                    fmt_e(&d, pp - 1, verb == 'G')
                } else {
                    let pp = if p as i64 > d.exp {
                        d.digits.len() as i64
                    } else {
                        p as i64
                    };
                    fmt_f(&d, (pp - d.exp).max(0) as usize)
                }
            }
        }
    };
    let sign = if neg {
        "-"
    } else if n.is_infinite() {
        ""
    } else if v.plus {
        "+"
    } else if v.space {
        " "
    } else {
        ""
    };
    let full = format!("{sign}{body}");
    pad(out, v, &full, v.zero && !n.is_infinite());
}

#[cfg(test)]
mod tests {
    use super::format_values;
    use terrane_value::{Number, Value};

    fn f(fmt: &str, args: Vec<Value>) -> String {
        match format_values(fmt, &args) {
            Ok((s, _)) => s,
            Err(e) => format!("ERR {e}"),
        }
    }
    fn n(s: &str) -> Value {
        Value::number(Number::parse(s).unwrap())
    }

    #[test]
    fn verbs() {
        assert_eq!(f("%5d|%-5d|", vec![n("42"), n("42")]), "   42|42   |");
        assert_eq!(
            f("%x %X %o %b", vec![n("255"), n("255"), n("8"), n("5")]),
            "ff FF 10 101"
        );
        assert_eq!(f("%.2f", vec![n("3.14159")]), "3.14");
        assert_eq!(f("%g", vec![n("0.000012345")]), "1.2345e-05");
        assert_eq!(f("%e", vec![n("3.14159")]), "3.141590e+00");
        assert_eq!(f("%v", vec![n("123456789")]), "1.23456789e+08");
        assert_eq!(f("%.3g", vec![n("1234.5")]), "1.23e+03");
        assert_eq!(f("%08.3f", vec![n("-3.14159")]), "-003.142");
        assert_eq!(f("%.1f", vec![n("0.25")]), "0.2");
        assert_eq!(f("%.1f", vec![n("0.05")]), "0.1");
        assert_eq!(f("%.1f", vec![n("0.35")]), "0.3");
        assert_eq!(f("%f", vec![n("-0")]), "-0.000000");
        assert_eq!(f("%G", vec![n("1e-7")]), "1E-07");
        assert_eq!(f("%05s", vec![Value::string("ab")]), "000ab");
        assert_eq!(f("%#o %#x", vec![n("8"), n("255")]), "010 0xff");
        assert_eq!(f("%q", vec![Value::string("a\nb\"é")]), "\"a\\nb\\\"é\"");
        assert_eq!(f("%10.2s|", vec![Value::string("abc")]), "        ab|");
        assert_eq!(f("%d %[1]d %d", vec![n("1"), n("2")]), "1 1 2");
        assert_eq!(
            f("%s %s", vec![Value::string("a")]),
            "ERR not enough arguments for \"%s\" at 3: need index 2 but have 1 total"
        );
        assert_eq!(
            f("%*d", vec![n("5")]),
            "ERR unrecognized format character '*' at offset 1"
        );
        assert_eq!(
            f("%z", vec![n("5")]),
            "ERR unsupported format verb 'z' in \"%z\" at offset 0"
        );
        assert_eq!(
            f("%d", vec![n("3.5")]),
            "ERR unsupported value for \"%d\" at 0: an integer is required"
        );
    }
}
