//! String functions.

use std::collections::BTreeMap;

use regex::Regex;
use terrane_value::{Type, Value};
use unicode_segmentation::UnicodeSegmentation;

use super::{
    arg_err, call_err, num_arg, seq, str_arg, t_bool, t_list_string, t_string, to_int, FnResult,
    FunctionContext, FunctionError, Param, Spec,
};

fn s(name: &'static str) -> Param {
    Param::new(name, Type::String)
}

pub(crate) fn spec(name: &str) -> Option<Spec> {
    Some(match name {
        "chomp" => Spec::new(vec![s("str")], t_string, chomp),
        "endswith" => Spec::new(vec![s("str"), s("suffix")], t_bool, endswith),
        "startswith" => Spec::new(vec![s("str"), s("prefix")], t_bool, startswith),
        "strcontains" => Spec::new(vec![s("str"), s("substr")], t_bool, strcontains),
        "format" => super::format::format_spec(),
        "formatlist" => super::format::formatlist_spec(),
        "indent" => Spec::new(
            vec![Param::new("spaces", Type::Number), s("str")],
            t_string,
            indent,
        ),
        "join" => Spec::new(vec![s("separator")], t_string, join)
            .variadic(Param::new("lists", Type::list(Type::String))),
        "lower" => Spec::new(vec![s("str")], t_string, lower),
        "upper" => Spec::new(vec![s("str")], t_string, upper),
        "title" => Spec::new(vec![s("str")], t_string, title),
        "regex" => Spec::computed(vec![s("pattern"), s("string")], regex_type, regex_fn),
        "regexall" => Spec::computed(vec![s("pattern"), s("string")], regexall_type, regexall),
        "replace" => Spec::new(vec![s("str"), s("substr"), s("replace")], t_string, replace),
        "split" => Spec::new(vec![s("separator"), s("str")], t_list_string, split),
        "strrev" => Spec::new(vec![s("str")], t_string, strrev),
        "substr" => Spec::new(
            vec![
                s("str"),
                Param::new("offset", Type::Number),
                Param::new("length", Type::Number),
            ],
            t_string,
            substr,
        ),
        "trim" => Spec::new(vec![s("str"), s("cutset")], t_string, trim),
        "trimprefix" => Spec::new(vec![s("str"), s("prefix")], t_string, trimprefix),
        "trimsuffix" => Spec::new(vec![s("str"), s("suffix")], t_string, trimsuffix),
        "trimspace" => Spec::new(vec![s("str")], t_string, trimspace),
        _ => return None,
    })
}

fn chomp(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let mut s = str_arg(a, 0);
    loop {
        if let Some(r) = s.strip_suffix("\r\n") {
            s = r;
        } else if let Some(r) = s.strip_suffix('\n') {
            s = r;
        } else if let Some(r) = s.strip_suffix('\r') {
            s = r;
        } else {
            break;
        }
    }
    Ok(Value::string(s))
}

fn endswith(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    Ok(Value::bool(str_arg(a, 0).ends_with(str_arg(a, 1))))
}

fn startswith(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    Ok(Value::bool(str_arg(a, 0).starts_with(str_arg(a, 1))))
}

fn strcontains(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    Ok(Value::bool(str_arg(a, 0).contains(str_arg(a, 1))))
}

/// Results larger than this are refused rather than built.
pub(crate) const MAX_RESULT_BYTES: usize = 256 << 20;

fn indent(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let n = to_int(&num_arg(a, 0)).map_err(FunctionError::call)?;
    let s = str_arg(a, 1);
    if n < 0 {
        return call_err("panic in function implementation: strings: negative Repeat count");
    }
    let lines = s.matches('\n').count();
    let n = n as u64;
    if n.saturating_mul(lines as u64)
        .saturating_add(s.len() as u64)
        > MAX_RESULT_BYTES as u64
    {
        return call_err("the result would be too large");
    }
    let pad = " ".repeat(if lines == 0 { 0 } else { n as usize });
    Ok(Value::string(s.replace('\n', &format!("\n{pad}"))))
}

fn join(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let sep = str_arg(a, 0);
    let lists = &a[1..];
    if lists.is_empty() {
        return call_err("at least one list is required");
    }
    let mut items: Vec<&str> = Vec::new();
    for (li, l) in lists.iter().enumerate() {
        for (ei, e) in seq(l).iter().enumerate() {
            match e.as_str() {
                Some(s) => items.push(s),
                None => {
                    return if lists.len() > 1 {
                        arg_err(
                            li + 1,
                            format!(
                                "element {ei} of list {} is null; cannot concatenate null values",
                                li + 1
                            ),
                        )
                    } else {
                        arg_err(
                            li + 1,
                            format!("element {ei} is null; cannot concatenate null values"),
                        )
                    };
                }
            }
        }
    }
    let total = items.iter().map(|s| s.len() as u64).sum::<u64>()
        + (sep.len() as u64).saturating_mul(items.len() as u64);
    if total > MAX_RESULT_BYTES as u64 {
        return call_err("the result would be too large");
    }
    Ok(Value::string(items.join(sep)))
}

/// Go's `unicode.ToLower`/`ToUpper`: a one-to-one mapping per character
/// (characters whose full mapping is longer stay as they are, except for a
/// few with a known simple mapping).
fn map_case(s: &str, upper: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if upper {
            let mut it = c.to_uppercase();
            match (it.next(), it.next()) {
                (Some(u), None) => out.push(u),
                _ => out.push(simple_upper(c)),
            }
        } else {
            let mut it = c.to_lowercase();
            match (it.next(), it.next()) {
                (Some(l), None) => out.push(l),
                _ => out.push(if c == '\u{130}' { 'i' } else { c }),
            }
        }
    }
    out
}

fn simple_upper(c: char) -> char {
    match c {
        // Greek letters with ypogegrammeni map to their prosgegrammeni forms
        '\u{1f80}'..='\u{1f87}' | '\u{1f90}'..='\u{1f97}' | '\u{1fa0}'..='\u{1fa7}' => {
            char::from_u32(c as u32 + 8).unwrap_or(c)
        }
        '\u{1fb3}' => '\u{1fbc}',
        '\u{1fc3}' => '\u{1fcc}',
        '\u{1ff3}' => '\u{1ffc}',
        _ => c,
    }
}

fn title_case(c: char) -> char {
    match c {
        '\u{1c4}'..='\u{1c6}' => '\u{1c5}',
        '\u{1c7}'..='\u{1c9}' => '\u{1c8}',
        '\u{1ca}'..='\u{1cc}' => '\u{1cb}',
        '\u{1f1}'..='\u{1f3}' => '\u{1f2}',
        _ => {
            let mut it = c.to_uppercase();
            match (it.next(), it.next()) {
                (Some(u), None) => u,
                _ => simple_upper(c),
            }
        }
    }
}

fn lower(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    Ok(Value::string(map_case(str_arg(a, 0), false)))
}

fn upper(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    Ok(Value::string(map_case(str_arg(a, 0), true)))
}

/// Whether `c` separates words for `title` (Go's `strings.Title` rules).
fn is_word_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphabetic() || c.is_numeric() {
        return false;
    }
    c.is_whitespace()
}

fn title(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let mut prev = ' ';
    let out: String = str_arg(a, 0)
        .chars()
        .map(|c| {
            let r = if is_word_separator(prev) {
                title_case(c)
            } else {
                c
            };
            prev = c;
            r
        })
        .collect();
    Ok(Value::string(out))
}

fn strrev(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let out: String = str_arg(a, 0).graphemes(true).rev().collect();
    Ok(Value::string(out))
}

fn substr(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let s = str_arg(a, 0);
    let offset = to_int(&num_arg(a, 1)).map_err(FunctionError::call)?;
    let length = to_int(&num_arg(a, 2)).map_err(FunctionError::call)?;
    let g: Vec<&str> = s.graphemes(true).collect();
    let n = g.len() as i64;
    let mut start = offset;
    if start < 0 {
        start = (start + n).max(0);
    }
    if start >= n {
        return Ok(Value::string(""));
    }
    let end = if length < 0 {
        n
    } else {
        start.saturating_add(length).min(n)
    };
    Ok(Value::string(g[start as usize..end as usize].concat()))
}

fn trim(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let cut: Vec<char> = str_arg(a, 1).chars().collect();
    Ok(Value::string(
        str_arg(a, 0).trim_matches(|c| cut.contains(&c)),
    ))
}

fn trimprefix(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let s = str_arg(a, 0);
    Ok(Value::string(s.strip_prefix(str_arg(a, 1)).unwrap_or(s)))
}

fn trimsuffix(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let s = str_arg(a, 0);
    Ok(Value::string(s.strip_suffix(str_arg(a, 1)).unwrap_or(s)))
}

fn trimspace(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    Ok(Value::string(
        str_arg(a, 0).trim_matches(char::is_whitespace),
    ))
}

fn split(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let sep = str_arg(a, 0);
    let s = str_arg(a, 1);
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::string(c.to_string())).collect()
    } else {
        s.split(sep).map(Value::string).collect()
    };
    Ok(Value::list(Type::String, parts))
}

// ----- regular expressions (RE2 syntax, as Go's regexp) -----

/// Suffix given to repeated capture group names (see `translate_pattern`).
const DUP_SUFFIX: &str = "__terrane_dup";

/// A capture group's name as written in the pattern.
fn group_name(n: &str) -> &str {
    match n.find(DUP_SUFFIX) {
        Some(k) => &n[..k],
        None => n,
    }
}

/// POSIX class names RE2 knows (`[[:alpha:]]`).
const POSIX_CLASSES: &[&str] = &[
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
];

type RegexErr = (String, String);

fn rerr<T>(code: &str, expr: impl Into<String>) -> Result<T, RegexErr> {
    Err((code.to_string(), expr.into()))
}

/// Parses `{n}`, `{n,}` or `{n,m}` at the start of `s`: returns its length
/// and the largest count, or `None` when it is not a repetition (RE2 then
/// reads the brace literally).
fn repeat_spec(s: &[char]) -> Option<(usize, u64)> {
    let mut i = 1;
    let start = i;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    if i == start {
        return None;
    }
    let lo: u64 = s[start..i]
        .iter()
        .collect::<String>()
        .parse()
        .unwrap_or(u64::MAX);
    let mut hi = lo;
    if s.get(i) == Some(&',') {
        i += 1;
        let ms = i;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        if i > ms {
            hi = s[ms..i]
                .iter()
                .collect::<String>()
                .parse()
                .unwrap_or(u64::MAX);
        }
    }
    if s.get(i) != Some(&'}') {
        return None;
    }
    Some((i + 1, lo.max(hi)))
}

/// Translates Go (RE2) pattern syntax to the `regex` crate's where they
/// differ, and reports RE2's errors for constructs the `regex` crate
/// would accept: Perl classes (`\d`, `\w`, `\s`, `\b`) are ASCII-only,
/// octal escapes, `\Q...\E`, literal braces that are not repetitions,
/// repetition counts above 1000, nested repetition operators, unknown
/// POSIX classes, `(?<name>` groups.
fn translate_pattern(p: &str) -> Result<String, RegexErr> {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 8);
    let mut in_class = false;
    let mut seen_names: Vec<String> = Vec::new();
    // text of the repetition operator just written (for nested-repetition errors)
    let mut last_rep: Option<String> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !in_class {
            let is_rep =
                matches!(c, '*' | '+' | '?') || (c == '{' && repeat_spec(&chars[i..]).is_some());
            if is_rep {
                let op: String = if c == '{' {
                    let (len, max) = repeat_spec(&chars[i..]).unwrap_or((1, 0));
                    let t: String = chars[i..i + len].iter().collect();
                    if max > 1000 {
                        return rerr("invalid repeat count", t);
                    }
                    t
                } else {
                    c.to_string()
                };
                if let Some(prev) = &last_rep {
                    if c == '?' && !prev.ends_with('?') {
                        // lazy modifier
                        out.push('?');
                        last_rep = Some(format!("{prev}?"));
                        i += 1;
                        continue;
                    }
                    return rerr("invalid nested repetition operator", format!("{prev}{op}"));
                }
                out.push_str(&op);
                i += op.chars().count();
                last_rep = Some(op);
                continue;
            }
            last_rep = None;
        }
        match c {
            '\\' => {
                let Some(&n) = chars.get(i + 1) else {
                    return rerr("trailing backslash at end of expression", "");
                };
                i += 2;
                match n {
                    'Q' => {
                        let mut lit = String::new();
                        while i < chars.len() {
                            if chars[i] == '\\' && chars.get(i + 1) == Some(&'E') {
                                i += 2;
                                break;
                            }
                            lit.push(chars[i]);
                            i += 1;
                        }
                        out.push_str(&regex::escape(&lit));
                    }
                    '1'..='7' if !chars.get(i).is_some_and(|d| ('0'..='7').contains(d)) => {
                        return rerr("invalid escape sequence", format!("\\{n}"));
                    }
                    '0'..='7' => {
                        // up to three octal digits in all
                        let mut v = n as u32 - '0' as u32;
                        let mut k = 0;
                        while k < 2 && chars.get(i).is_some_and(|d| ('0'..='7').contains(d)) {
                            v = v * 8 + (chars[i] as u32 - '0' as u32);
                            i += 1;
                            k += 1;
                        }
                        out.push_str(&format!("\\x{{{v:x}}}"));
                    }
                    '8' | '9' => return rerr("invalid escape sequence", format!("\\{n}")),
                    'x' | 'p' | 'P' => {
                        // copy the escape's argument verbatim: {...}, or hex digits / a letter
                        out.push('\\');
                        out.push(n);
                        if chars.get(i) == Some(&'{') {
                            while i < chars.len() {
                                out.push(chars[i]);
                                i += 1;
                                if chars[i - 1] == '}' {
                                    break;
                                }
                            }
                        } else {
                            let take = if n == 'x' { 2 } else { 1 };
                            for _ in 0..take {
                                if let Some(&d) = chars.get(i) {
                                    out.push(d);
                                    i += 1;
                                }
                            }
                        }
                    }
                    'd' | 'D' | 'w' | 'W' | 's' | 'S' | 'b' | 'B' if !in_class => {
                        out.push_str("(?-u:\\");
                        out.push(n);
                        out.push(')');
                    }
                    'd' if in_class => out.push_str("0-9"),
                    'w' if in_class => out.push_str("0-9A-Za-z_"),
                    's' if in_class => out.push_str("\\t\\n\\x0C\\r "),
                    _ => {
                        out.push('\\');
                        out.push(n);
                    }
                }
                continue;
            }
            '(' if !in_class
                && chars.get(i + 1) == Some(&'?')
                && chars.get(i + 2) == Some(&'<') =>
            {
                return rerr("invalid or unsupported Perl syntax", "(?<");
            }
            '(' if !in_class
                && chars.get(i + 1) == Some(&'?')
                && chars.get(i + 2) == Some(&'P')
                && chars.get(i + 3) == Some(&'<') =>
            {
                // RE2 allows repeated group names (the last match wins);
                // later duplicates get a private suffix here.
                let rest: String = chars[i + 4..].iter().collect();
                if let Some(end) = rest.find('>') {
                    let name = &rest[..end];
                    let count = seen_names.iter().filter(|n| n.as_str() == name).count();
                    seen_names.push(name.to_string());
                    out.push_str("(?P<");
                    out.push_str(name);
                    if count > 0 {
                        out.push_str(&format!("{DUP_SUFFIX}{count}"));
                    }
                    out.push('>');
                    i += 4 + name.chars().count() + 1;
                    continue;
                }
                out.push(c);
            }
            '{' if !in_class => {
                // not a repetition (checked above): a literal brace in RE2
                out.push_str("\\{");
                i += 1;
                continue;
            }
            '[' => {
                if !in_class {
                    in_class = true;
                    out.push('[');
                    i += 1;
                    // a leading ^ and a leading ] are literal parts of the class
                    if chars.get(i) == Some(&'^') {
                        out.push('^');
                        i += 1;
                    }
                    if chars.get(i) == Some(&']') {
                        out.push_str("\\]");
                        i += 1;
                    }
                    continue;
                }
                if chars.get(i + 1) == Some(&':') {
                    // [:name:] inside a class
                    let rest: String = chars[i..].iter().collect();
                    if let Some(end) = rest.find(":]") {
                        let name = &rest[2..end];
                        let name_plain = name.strip_prefix('^').unwrap_or(name);
                        if !POSIX_CLASSES.contains(&name_plain) {
                            return rerr("invalid character class range", &rest[..end + 2]);
                        }
                        out.push_str(&rest[..end + 2]);
                        i += rest[..end + 2].chars().count();
                        continue;
                    }
                }
                out.push_str("\\[");
                i += 1;
                continue;
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '&' | '~' | '-' if in_class && chars.get(i + 1) == Some(&c) => {
                // doubled class-set operators of the regex crate are literal in RE2
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
        i += 1;
    }
    Ok(out)
}

/// Compiles a pattern, describing errors as Go does: `(code, expr)`.
pub(crate) fn compile_regex(pattern: &str) -> Result<Regex, (String, String)> {
    let translated = translate_pattern(pattern)?;
    match Regex::new(&translated) {
        Ok(r) => Ok(r),
        Err(_) => Err(describe_regex_error(pattern)),
    }
}

fn describe_regex_error(pattern: &str) -> (String, String) {
    use regex_syntax::ast::ErrorKind as K;
    let err = match regex_syntax::ast::parse::Parser::new().parse(pattern) {
        Ok(_) => {
            // parsed but not translatable: typically an unknown Unicode class
            if let Some(k) = pattern.find("\\p").or_else(|| pattern.find("\\P")) {
                let rest = &pattern[k..];
                let len = if rest[2..].starts_with('{') {
                    rest.find('}').map(|e| e + 1).unwrap_or(rest.len())
                } else {
                    2 + rest[2..].chars().next().map(char::len_utf8).unwrap_or(0)
                };
                return (
                    "invalid character class range".into(),
                    rest[..len].to_string(),
                );
            }
            return (
                "invalid or unsupported Perl syntax".into(),
                pattern.to_string(),
            );
        }
        Err(e) => e,
    };
    let span = err.span();
    let from = |i: usize| pattern.get(i..).unwrap_or("").to_string();
    let part = |a: usize, b: usize| pattern.get(a..b).unwrap_or("").to_string();
    match err.kind() {
        K::ClassUnclosed => ("missing closing ]".into(), from(span.start.offset)),
        K::GroupUnclosed => ("missing closing )".into(), pattern.to_string()),
        K::GroupUnopened => ("unexpected )".into(), pattern.to_string()),
        K::RepetitionMissing => (
            "missing argument to repetition operator".into(),
            pattern
                .get(span.start.offset..)
                .and_then(|r| r.chars().next())
                .map(String::from)
                .unwrap_or_default(),
        ),
        K::RepetitionCountInvalid | K::RepetitionCountDecimalEmpty | K::RepetitionCountUnclosed => {
            ("invalid repeat count".into(), from(span.start.offset))
        }
        K::EscapeUnrecognized | K::EscapeUnexpectedEof => (
            "invalid escape sequence".into(),
            part(span.start.offset, span.end.offset),
        ),
        K::ClassRangeInvalid => (
            "invalid character class range".into(),
            part(span.start.offset, span.end.offset),
        ),
        K::GroupNameInvalid | K::GroupNameEmpty | K::GroupNameUnexpectedEof => (
            "invalid named capture".into(),
            from(span.start.offset.saturating_sub(4)),
        ),
        K::GroupNameDuplicate { .. } => {
            ("duplicate capture group name".into(), pattern.to_string())
        }
        K::FlagUnrecognized | K::FlagDanglingNegation | K::FlagRepeatedNegation { .. } => {
            // RE2 quotes the flag group from its start to the bad character
            let start = pattern[..span.start.offset]
                .rfind("(?")
                .unwrap_or(span.start.offset);
            (
                "invalid or unsupported Perl syntax".into(),
                part(start, span.end.offset),
            )
        }
        K::UnicodeClassInvalid => (
            "invalid character class range".into(),
            part(span.start.offset, span.end.offset),
        ),
        _ => (
            "invalid or unsupported Perl syntax".into(),
            pattern.to_string(),
        ),
    }
}

/// Result type of `regex` for a pattern (see Terraform's documentation):
/// a string without capture groups, a tuple for unnamed groups, an object
/// for named groups.
fn pattern_result_type(pattern: &str) -> Result<(Regex, Type), FunctionError> {
    let re = compile_regex(pattern).map_err(|(code, expr)| {
        FunctionError::arg(0, format!("invalid regexp pattern: {code} in {expr}"))
    })?;
    let mut names = Vec::new();
    let mut unnamed = 0;
    for n in re.capture_names().skip(1) {
        match n {
            Some(n) => {
                let n = group_name(n).to_string();
                if !names.contains(&n) {
                    names.push(n);
                }
            }
            None => unnamed += 1,
        }
    }
    let ty = match (unnamed, names.len()) {
        (0, 0) => Type::String,
        (u, n) if u > 0 && n > 0 => {
            return arg_err(
                0,
                "invalid regexp pattern: cannot mix both named and unnamed capture groups",
            )
        }
        (u, 0) => Type::Tuple(vec![Type::String; u]),
        _ => Type::object(names.into_iter().map(|n| (n, Type::String))),
    };
    Ok((re, ty))
}

fn regex_type(a: &[Value]) -> Result<Type, FunctionError> {
    match a[0].as_str() {
        Some(p) => Ok(pattern_result_type(p)?.1),
        None => Ok(Type::Dynamic),
    }
}

fn regexall_type(a: &[Value]) -> Result<Type, FunctionError> {
    match a[0].as_str() {
        Some(p) => Ok(Type::list(pattern_result_type(p)?.1)),
        None => Ok(Type::list(Type::Dynamic)),
    }
}

fn capture_value(re: &Regex, caps: &regex::Captures<'_>, ty: &Type) -> Value {
    let get = |i: usize| match caps.get(i) {
        Some(m) => Value::string(m.as_str()),
        None => Value::null(Type::String),
    };
    match ty {
        Type::Tuple(es) => Value::tuple((1..=es.len()).map(get).collect()),
        Type::Object { .. } => {
            let mut m = BTreeMap::new();
            for (i, n) in re.capture_names().enumerate() {
                if let Some(n) = n {
                    m.insert(group_name(n).to_string(), get(i));
                }
            }
            Value::object(m)
        }
        _ => get(0),
    }
}

fn regex_fn(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    let (re, ty) = pattern_result_type(str_arg(a, 0))?;
    if ret.is_dynamic() {
        return Ok(Value::unknown_dynamic());
    }
    match re.captures(str_arg(a, 1)) {
        Some(c) => Ok(capture_value(&re, &c, &ty)),
        None => call_err("pattern did not match any part of the given string"),
    }
}

fn regexall(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let (re, ty) = pattern_result_type(str_arg(a, 0))?;
    let out: Vec<Value> = re
        .captures_iter(str_arg(a, 1))
        .map(|c| capture_value(&re, &c, &ty))
        .collect();
    Ok(Value::list(ty, out))
}

fn replace(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let s = str_arg(a, 0);
    let sub = str_arg(a, 1);
    let rep = str_arg(a, 2);
    if sub.len() > 1 && sub.starts_with('/') && sub.ends_with('/') {
        let pat = &sub[1..sub.len() - 1];
        let re = compile_regex(pat).map_err(|(code, expr)| {
            FunctionError::call(format!("error parsing regexp: {code}: `{expr}`"))
        })?;
        let matches = re.find_iter(s).count() as u64;
        if matches
            .saturating_mul(rep.len() as u64)
            .saturating_add(s.len() as u64)
            > MAX_RESULT_BYTES as u64
        {
            return call_err("the result would be too large");
        }
        return Ok(Value::string(re.replace_all(s, rep).into_owned()));
    }
    if sub.is_empty() {
        let n = s.chars().count() + 1;
        if (n as u64).saturating_mul(rep.len() as u64) > MAX_RESULT_BYTES as u64 {
            return call_err("the result would be too large");
        }
    }
    Ok(Value::string(s.replace(sub, rep)))
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
    fn st(s: &str) -> Value {
        Value::string(s)
    }
    fn n(i: i64) -> Value {
        Value::from_i64(i)
    }

    #[test]
    fn re2_differences() {
        let re = |p: &str, s: &str| run("regex", vec![st(p), st(s)]);
        assert_eq!(re("\\101", "A"), "\"A\"");
        assert_eq!(re("a{,3}", "a{,3}"), "\"a{,3}\"");
        assert_eq!(re("\\d+", "\u{663}12"), "\"12\"");
        assert_eq!(re("\\x{263a}", "\u{263a}"), "\"\u{263a}\"");
        assert_eq!(
            re("a**", "a"),
            "ERR argument 0: invalid regexp pattern: invalid nested repetition operator in **"
        );
        assert_eq!(
            re("a{1001}", "a"),
            "ERR argument 0: invalid regexp pattern: invalid repeat count in {1001}"
        );
        assert_eq!(
            re("[[:foo:]]", "a"),
            "ERR argument 0: invalid regexp pattern: invalid character class range in [:foo:]"
        );
        assert_eq!(
            re("(?<n>a)", "a"),
            "ERR argument 0: invalid regexp pattern: invalid or unsupported Perl syntax in (?<"
        );
        assert_eq!(
            re("\\8", "a"),
            "ERR argument 0: invalid regexp pattern: invalid escape sequence in \\8"
        );
        assert_eq!(re("a*?b", "aab"), "\"aab\"");
        assert_eq!(re("(?P<x>a)(?P<x>b)", "ab"), "{\n  \"x\" = \"b\"\n}");
    }

    #[test]
    fn basics() {
        assert_eq!(run("chomp", vec![st("hello\r\n\n")]), "\"hello\"");
        assert_eq!(run("upper", vec![st("hello ß")]), "\"HELLO ß\"");
        assert_eq!(run("lower", vec![st("ÀÉÎ")]), "\"àéî\"");
        assert_eq!(
            run("title", vec![st("o'neil mc-donald")]),
            "\"O'Neil Mc-Donald\""
        );
        assert_eq!(run("strrev", vec![st("👍🏽x")]), "\"x👍🏽\"");
        assert_eq!(run("substr", vec![st("hello"), n(-3), n(2)]), "\"ll\"");
        assert_eq!(run("substr", vec![st("hello"), n(-10), n(2)]), "\"he\"");
        assert_eq!(run("substr", vec![st("héllo"), n(1), n(1)]), "\"é\"");
        assert_eq!(run("trimspace", vec![st("  padded  ")]), "\"padded\"");
        assert_eq!(
            run("split", vec![st(","), st("a,,b,")]),
            "tolist([\n  \"a\",\n  \"\",\n  \"b\",\n  \"\",\n])"
        );
        assert_eq!(
            run("replace", vec![st("hello"), st("/(?P<x>l+)/"), st("[$x]")]),
            "\"he[ll]o\""
        );
        assert_eq!(
            run("replace", vec![st("abc"), st(""), st("-")]),
            "\"-a-b-c-\""
        );
        assert_eq!(
            run("replace", vec![st("abc"), st("/[/"), st("x")]),
            "ERR error parsing regexp: missing closing ]: `[`"
        );
        assert_eq!(
            run("regex", vec![st("["), st("abc")]),
            "ERR argument 0: invalid regexp pattern: missing closing ] in ["
        );
        assert_eq!(
            run("regex", vec![st("(a)|(b)"), st("b")]),
            "[\n  tostring(null),\n  \"b\",\n]"
        );
        assert_eq!(
            run("indent", vec![n(2), st("a\n\nb\n")]),
            "<<EOT\na\n  \n  b\n  \nEOT"
        );
        assert_eq!(
            run("join", vec![st(","), st("a")]),
            "ERR argument 1: list of string required"
        );
    }
}
