//! Terraform's built-in functions, with go-cty's function-call model.
//!
//! Every function has a `Spec`: typed parameters (each saying whether it
//! accepts null, unknown, dynamically-typed and marked values), an optional
//! variadic parameter, a return-type rule and an implementation. [`call`]
//! does what cty's `Function.Call` (and HCL's argument handling) does:
//!
//! 1. arity check ("Not enough function arguments" / "Too many function
//!    arguments");
//! 2. each argument converted to its parameter's type (a failure is an
//!    error on that argument, with the conversion error's text);
//! 3. null arguments rejected unless the parameter allows them
//!    ("argument must not be null");
//! 4. the return type computed; an unknown argument (or, for most
//!    functions, one containing unknowns) where the parameter does not
//!    allow unknowns gives an unknown result of that type;
//! 5. marks removed from arguments of parameters that do not handle marks
//!    and their union re-applied to the result (structural functions such
//!    as `element` or `values` take off only the top-level marks, so
//!    nested sensitive values stay marked individually).
//!
//! Error messages are Terraform's, without the final period (the evaluator
//! renders `Invalid value for "NAME" parameter: MESSAGE.` when
//! [`FunctionError::arg`] is set and `Call to function "F" failed: MESSAGE.`
//! otherwise). Behaviour and messages follow Terraform 1.0.3 where the
//! releases differ (e.g. `sort` sorts as strings, `nonsensitive` of a
//! non-sensitive value is an error); functions added after 1.0 are
//! implemented too and listed by [`introduced_in`].
//!
//! Known differences from Terraform:
//! * `base64gzip` frames its output as Go does, but the deflate stream
//!   comes from a different compressor: identical for short inputs
//!   without repetitions, different bytes (same decompressed text)
//!   otherwise.
//! * Go panics (e.g. `pow(-8, 1/3)`, `indent(-1, ...)`) are errors with the
//!   panic's first line, without Go's stack trace.
//! * `bcrypt` refuses costs above 16 (Terraform accepts up to 31, which
//!   takes hours); `jsondecode` nests at most 1000 levels (Go: 10000).
//! * `rsadecrypt` reads PKCS#1 and PKCS#8 PEM keys (not OpenSSH ones) and
//!   does not repeat Go's ASN.1 error details.
//! * `textencodebase64`/`textdecodebase64` know the encodings of the
//!   WHATWG set (IANA names), not IBM code pages.
//! * `yamldecode` syntax error wording and positions come from a different
//!   YAML parser and only approximate libyaml's.

use std::path::PathBuf;

use terrane_value::{convert, Marks, Type, Value};

mod collection;
mod crypto;
mod datetime;
mod encoding;
mod filesystem;
mod format;
mod ip;
mod json;
mod numeric;
mod string;
mod typeconv;
mod yaml;

#[cfg(test)]
mod oracle_tests;

/// What file functions need from the caller.
#[derive(Clone, Debug, Default)]
pub struct FunctionContext {
    /// Directory relative paths are resolved against (`path.module`).
    pub base_dir: PathBuf,
}

/// A failed function call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionError {
    /// Index of the offending argument (for `Invalid value for "x"
    /// parameter: ...`); `None` for errors of the call as a whole.
    pub arg: Option<usize>,
    /// Terraform's message, without the trailing period.
    pub message: String,
}

impl FunctionError {
    /// An error of the call as a whole.
    pub fn call(message: impl Into<String>) -> FunctionError {
        FunctionError {
            arg: None,
            message: message.into(),
        }
    }

    /// An error about argument `i`.
    pub fn arg(i: usize, message: impl Into<String>) -> FunctionError {
        FunctionError {
            arg: Some(i),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FunctionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.arg {
            Some(i) => write!(f, "argument {i}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for FunctionError {}

pub(crate) type FnResult = Result<Value, FunctionError>;

/// Shorthand for an error of the call as a whole.
pub(crate) fn call_err<T>(message: impl Into<String>) -> Result<T, FunctionError> {
    Err(FunctionError::call(message))
}

/// Shorthand for an error about argument `i`.
pub(crate) fn arg_err<T>(i: usize, message: impl Into<String>) -> Result<T, FunctionError> {
    Err(FunctionError::arg(i, message))
}

/// One parameter of a function.
#[derive(Clone, Debug)]
pub(crate) struct Param {
    pub name: &'static str,
    pub ty: Type,
    pub allow_null: bool,
    pub allow_unknown: bool,
    pub allow_dynamic: bool,
    pub allow_marked: bool,
}

impl Param {
    pub fn new(name: &'static str, ty: Type) -> Param {
        Param {
            name,
            ty,
            allow_null: false,
            allow_unknown: false,
            allow_dynamic: false,
            allow_marked: false,
        }
    }
    pub fn null(mut self) -> Param {
        self.allow_null = true;
        self
    }
    pub fn unknown(mut self) -> Param {
        self.allow_unknown = true;
        self
    }
    pub fn dynamic(mut self) -> Param {
        self.allow_dynamic = true;
        self
    }
    pub fn marked(mut self) -> Param {
        self.allow_marked = true;
        self
    }
}

/// Computes the return type from the converted arguments.
pub(crate) type RetFn = fn(&[Value]) -> Result<Type, FunctionError>;
/// The implementation: converted, known (see [`Spec::partial_unknown`]),
/// unmarked arguments and the return type.
pub(crate) type ImplFn = fn(&[Value], &Type, &FunctionContext) -> FnResult;

#[derive(Clone, Copy)]
pub(crate) enum Ret {
    Fixed(fn() -> Type),
    Compute(RetFn),
}

pub(crate) struct Spec {
    pub params: Vec<Param>,
    pub variadic: Option<Param>,
    pub ret: Ret,
    pub imp: ImplFn,
    /// When false (the default), an argument of a parameter that does not
    /// allow unknowns and that *contains* unknown values anywhere also makes
    /// the result unknown, so implementations only see wholly known values.
    pub partial_unknown: bool,
}

impl Spec {
    pub fn new(params: Vec<Param>, ret: fn() -> Type, imp: ImplFn) -> Spec {
        Spec {
            params,
            variadic: None,
            ret: Ret::Fixed(ret),
            imp,
            partial_unknown: false,
        }
    }
    pub fn computed(params: Vec<Param>, ret: RetFn, imp: ImplFn) -> Spec {
        Spec {
            params,
            variadic: None,
            ret: Ret::Compute(ret),
            imp,
            partial_unknown: false,
        }
    }
    pub fn variadic(mut self, p: Param) -> Spec {
        self.variadic = Some(p);
        self
    }
    pub fn partial_unknown(mut self) -> Spec {
        self.partial_unknown = true;
        self
    }
}

pub(crate) fn t_string() -> Type {
    Type::String
}
pub(crate) fn t_number() -> Type {
    Type::Number
}
pub(crate) fn t_bool() -> Type {
    Type::Bool
}
pub(crate) fn t_dynamic() -> Type {
    Type::Dynamic
}
pub(crate) fn t_list_string() -> Type {
    Type::list(Type::String)
}

/// Functions that accept collections containing unknown values (only a
/// wholly unknown argument makes their result unknown), as their go-cty /
/// Terraform implementations do; the others see wholly known values.
const PARTIAL_UNKNOWN: &[&str] = &[
    "tostring",
    "tonumber",
    "tobool",
    "tolist",
    "toset",
    "tomap",
    "concat",
    "merge",
    "keys",
    "values",
    "element",
    "index",
    "contains",
    "slice",
    "reverse",
    "one",
    "chunklist",
];

/// Argument positions (capped at [`MAX_SHALLOW_INDEX`] for variadic
/// arguments) whose nested values a function passes through unchanged:
/// only their top-level marks are taken off (and put on the result), as
/// go-cty does, so nested sensitive values stay marked individually.
/// Elsewhere all marks are taken off and the result gets them all.
fn shallow_mark_params(name: &str) -> &'static [usize] {
    match name {
        "element" | "flatten" | "keys" | "values" | "reverse" | "slice" | "one" | "chunklist" => {
            &[0]
        }
        "lookup" => &[0, 2],
        "zipmap" => &[1],
        "coalesce" | "coalescelist" => &[0, 1, 2, MAX_SHALLOW_INDEX],
        _ => &[],
    }
}

const MAX_SHALLOW_INDEX: usize = 3;

/// The spec of a built-in function.
fn spec(name: &str) -> Option<Spec> {
    let mut s = base_spec(name)?;
    if PARTIAL_UNKNOWN.contains(&name) {
        s.partial_unknown = true;
    }
    Some(s)
}

fn base_spec(name: &str) -> Option<Spec> {
    string::spec(name)
        .or_else(|| collection::spec(name))
        .or_else(|| numeric::spec(name))
        .or_else(|| encoding::spec(name))
        .or_else(|| typeconv::spec(name))
        .or_else(|| crypto::spec(name))
        .or_else(|| ip::spec(name))
        .or_else(|| datetime::spec(name))
        .or_else(|| filesystem::spec(name))
}

/// Names of all built-in functions implemented here.
pub const NAMES: &[&str] = &[
    // numeric
    "abs",
    "ceil",
    "floor",
    "log",
    "max",
    "min",
    "parseint",
    "pow",
    "signum",
    // string
    "chomp",
    "endswith",
    "format",
    "formatlist",
    "indent",
    "join",
    "lower",
    "regex",
    "regexall",
    "replace",
    "split",
    "startswith",
    "strcontains",
    "strrev",
    "substr",
    "title",
    "trim",
    "trimprefix",
    "trimspace",
    "trimsuffix",
    "upper",
    // collection
    "alltrue",
    "anytrue",
    "chunklist",
    "coalesce",
    "coalescelist",
    "compact",
    "concat",
    "contains",
    "distinct",
    "element",
    "flatten",
    "index",
    "keys",
    "length",
    "list",
    "lookup",
    "map",
    "matchkeys",
    "merge",
    "one",
    "range",
    "reverse",
    "setintersection",
    "setproduct",
    "setsubtract",
    "setunion",
    "slice",
    "sort",
    "sum",
    "transpose",
    "values",
    "zipmap",
    // encoding
    "base64decode",
    "base64encode",
    "base64gzip",
    "csvdecode",
    "jsondecode",
    "jsonencode",
    "textdecodebase64",
    "textencodebase64",
    "urlencode",
    "yamldecode",
    "yamlencode",
    // filesystem
    "abspath",
    "dirname",
    "pathexpand",
    "basename",
    "file",
    "fileexists",
    "fileset",
    "filebase64",
    // date and time
    "formatdate",
    "timeadd",
    "timecmp",
    "timestamp",
    "plantimestamp",
    // hash and crypto
    "base64sha256",
    "base64sha512",
    "bcrypt",
    "filebase64sha256",
    "filebase64sha512",
    "filemd5",
    "filesha1",
    "filesha256",
    "filesha512",
    "md5",
    "rsadecrypt",
    "sha1",
    "sha256",
    "sha512",
    "uuid",
    "uuidv5",
    // ip network
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "cidrsubnets",
    // type conversion
    "nonsensitive",
    "sensitive",
    "issensitive",
    "ephemeralasnull",
    "defaults",
    "tobool",
    "tolist",
    "tomap",
    "tonumber",
    "toset",
    "tostring",
];

/// The Terraform release that introduced a function, for functions newer
/// than Terraform 1.0 (`None` for the others). Lets a caller emulating an
/// older release report them as unknown functions, as that release does.
/// (`defaults` exists only from 0.15 to 1.2, as an experiment.)
pub fn introduced_in(name: &str) -> Option<(u32, u32)> {
    Some(match name {
        "startswith" | "endswith" | "timecmp" => (1, 3),
        "strcontains" | "plantimestamp" => (1, 5),
        "issensitive" => (1, 8),
        "ephemeralasnull" => (1, 10),
        _ => return None,
    })
}

/// Whether a function is impure (its result changes between calls):
/// Terraform evaluates these to unknown values when only pure functions
/// are allowed (validation, planning of new values).
pub fn is_impure(name: &str) -> bool {
    matches!(name, "timestamp" | "uuid" | "bcrypt")
}

/// Whether `name` is a built-in function implemented here.
pub fn exists(name: &str) -> bool {
    spec(name).is_some()
}

/// The fixed parameter names and the variadic parameter name of a
/// function (for arity error messages).
pub fn param_names(name: &str) -> Option<(Vec<&'static str>, Option<&'static str>)> {
    let s = spec(name)?;
    Some((
        s.params.iter().map(|p| p.name).collect(),
        s.variadic.as_ref().map(|p| p.name),
    ))
}

/// Calls the built-in function `name` with already-evaluated arguments
/// (a final `...` argument must already be expanded by the caller).
pub fn call(name: &str, args: Vec<Value>, ctx: &FunctionContext) -> Result<Value, FunctionError> {
    let Some(spec) = spec(name) else {
        return call_err(format!("there is no function named \"{name}\""));
    };
    if args.len() < spec.params.len() {
        return call_err("Not enough function arguments");
    }
    if args.len() > spec.params.len() && spec.variadic.is_none() {
        return call_err("Too many function arguments");
    }
    let fallback = Param::new("", Type::Dynamic);
    let param_of = |i: usize| -> &Param {
        match spec.params.get(i) {
            Some(p) => p,
            // arity checked above: a variadic parameter exists
            None => spec.variadic.as_ref().unwrap_or(&fallback),
        }
    };

    // 1. conversion (HCL's FunctionCallExpr)
    let mut conv = Vec::with_capacity(args.len());
    for (i, a) in args.iter().enumerate() {
        let p = param_of(i);
        match convert(a, &p.ty) {
            Ok(v) => conv.push(v),
            // HCL prints the conversion error without its path
            Err(e) => return arg_err(i, e.message),
        }
    }

    // 2. null and dynamic checks (cty's returnTypeForValues)
    let mut dyn_typed = false;
    for (i, v) in conv.iter().enumerate() {
        let p = param_of(i);
        if v.is_null() && !p.allow_null {
            return arg_err(i, "argument must not be null");
        }
        if v.ty().is_dynamic() && !p.allow_dynamic {
            dyn_typed = true;
        }
    }

    // Marks: removed from arguments whose parameter does not handle them
    // (only the top-level marks for arguments whose elements are passed
    // through to the result, which keep their own marks).
    let mut marks = Marks::NONE;
    let mut plain = Vec::with_capacity(conv.len());
    let shallow = shallow_mark_params(name);
    for (i, v) in conv.into_iter().enumerate() {
        let p = param_of(i);
        if !p.allow_marked && shallow.contains(&i.min(MAX_SHALLOW_INDEX)) {
            let (u, m) = v.unmark();
            marks = marks.union(m);
            plain.push(u);
        } else if !p.allow_marked && v.has_marks_deep() {
            let (u, pms) = v.unmark_deep();
            for pm in pms {
                marks = marks.union(pm.marks);
            }
            plain.push(u);
        } else {
            plain.push(v);
        }
    }

    if dyn_typed {
        return Ok(Value::unknown_dynamic().with_marks(marks));
    }

    // 3. return type
    let ret = match spec.ret {
        Ret::Fixed(f) => f(),
        Ret::Compute(f) => f(&plain)?,
    };

    // 4. unknown arguments
    for (i, v) in plain.iter().enumerate() {
        let p = param_of(i);
        if p.allow_unknown {
            continue;
        }
        let unknown = if spec.partial_unknown {
            !v.is_known()
        } else {
            !v.is_wholly_known()
        };
        if unknown {
            return Ok(Value::unknown(ret).with_marks(marks));
        }
    }

    // 5. implementation
    let out = (spec.imp)(&plain, &ret, ctx)?;
    Ok(out.with_marks(marks))
}

// ----- helpers shared by the implementations -----

/// A known string argument (conversion guaranteed the type).
pub(crate) fn str_arg(args: &[Value], i: usize) -> &str {
    args.get(i).and_then(Value::as_str).unwrap_or("")
}

/// A known number argument.
pub(crate) fn num_arg(args: &[Value], i: usize) -> terrane_value::Number {
    args.get(i)
        .and_then(Value::as_number)
        .cloned()
        .unwrap_or_else(terrane_value::Number::zero)
}

/// go-cty's `gocty` conversion of a number to an `int` (Go's 64-bit int):
/// whole numbers in range only.
pub(crate) fn to_int(n: &terrane_value::Number) -> Result<i64, String> {
    if !n.is_integer() {
        return Err(
            "value must be a whole number, between -9223372036854775808 and 9223372036854775807"
                .into(),
        );
    }
    n.to_i64().ok_or_else(|| {
        "value must be a whole number, between -9223372036854775808 and 9223372036854775807".into()
    })
}

/// The elements of a known list, set or tuple (or empty).
pub(crate) fn seq(v: &Value) -> &[Value] {
    v.as_seq().unwrap_or(&[])
}

#[cfg(test)]
mod limit_tests {
    use super::{call, FunctionContext};
    use terrane_value::Value;

    fn err(name: &str, args: Vec<Value>) -> String {
        match call(name, args, &FunctionContext::default()) {
            Ok(v) => format!("OK {v:?}"),
            Err(e) => e.message,
        }
    }

    #[test]
    fn absurd_sizes_are_refused() {
        let laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
        assert_eq!(
            err("yamldecode", vec![Value::string(laughs)]),
            "document contains excessive aliasing"
        );
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        assert_eq!(
            err("jsondecode", vec![Value::string(deep)]),
            "exceeded max depth"
        );
        assert_eq!(
            err(
                "indent",
                vec![Value::from_i64(1 << 40), Value::string("a\nb")]
            ),
            "the result would be too large"
        );
        assert_eq!(
            err("bcrypt", vec![Value::string("x"), Value::from_i64(31)]),
            "error occured generating password: cost 31 is above the maximum of 16 supported by terrane"
        );
        assert_eq!(
            err("range", vec![Value::from_i64(5000)]),
            "more than 1024 values were generated; either decrease the difference between start and end or use a smaller step"
        );
        assert!(err(
            "format",
            vec![Value::string("%99999999d"), Value::from_i64(1)]
        )
        .contains("too large"));
        assert_eq!(err("list", vec![]), "the \"list\" function was deprecated in Terraform v0.12 and is no longer available; use tolist([ ... ]) syntax to write a literal list");
        assert_eq!(err("abs", vec![]), "Not enough function arguments");
        assert_eq!(
            err("abs", vec![Value::from_i64(1), Value::from_i64(2)]),
            "Too many function arguments"
        );
    }

    #[test]
    fn nested_marks_pass_through_structural_functions() {
        let ctx = FunctionContext::default();
        let l = Value::tuple(vec![
            Value::from_i64(1).mark_sensitive(),
            Value::from_i64(2),
        ]);
        let r = call("element", vec![l.clone(), Value::from_i64(1)], &ctx).unwrap();
        assert!(!r.is_marked());
        let r = call("element", vec![l.clone(), Value::from_i64(0)], &ctx).unwrap();
        assert!(r.is_sensitive());
        let r = call("reverse", vec![l.clone()], &ctx).unwrap();
        assert!(!r.is_marked() && r.has_marks_deep());
        // functions that compute from the content take all marks
        let r = call("jsonencode", vec![l.clone()], &ctx).unwrap();
        assert!(r.is_sensitive());
        let strs = Value::tuple(vec![
            Value::string("a").mark_sensitive(),
            Value::string("b"),
        ]);
        let r = call("join", vec![Value::string(","), strs], &ctx).unwrap();
        assert!(r.is_sensitive());
        // a marked inner sequence marks the flattened elements
        let nested = Value::tuple(vec![
            Value::tuple(vec![Value::from_i64(1)]).mark_sensitive(),
            Value::from_i64(2),
        ]);
        let r = call("flatten", vec![nested], &ctx).unwrap();
        assert!(r.get_index(0).is_some_and(Value::is_sensitive));
        assert!(r.get_index(1).is_some_and(|v| !v.is_marked()));
        // zipmap keys are consumed: their marks go on the result
        let keys = Value::tuple(vec![Value::string("k").mark_sensitive()]);
        let r = call(
            "zipmap",
            vec![keys, Value::tuple(vec![Value::from_i64(1)])],
            &ctx,
        )
        .unwrap();
        assert!(r.is_sensitive());
    }

    #[test]
    fn names_are_all_implemented() {
        for n in super::NAMES {
            assert!(super::exists(n), "{n}");
            assert!(super::param_names(n).is_some(), "{n}");
        }
        assert!(!super::exists("nosuchfunction"));
        assert!(!super::exists("templatefile"));
        assert_eq!(
            super::param_names("join"),
            Some((vec!["separator"], Some("lists")))
        );
    }

    #[test]
    fn unknowns_and_marks() {
        let ctx = FunctionContext::default();
        let u = Value::unknown(terrane_value::Type::String);
        let r = call("upper", vec![u], &ctx).unwrap();
        assert!(!r.is_known());
        assert_eq!(r.ty(), &terrane_value::Type::String);
        let r = call("upper", vec![Value::string("a").mark_sensitive()], &ctx).unwrap();
        assert!(r.is_sensitive());
        assert_eq!(r.unmark().0.as_str(), Some("A"));
        let l = Value::tuple(vec![
            Value::string("a"),
            Value::unknown(terrane_value::Type::String),
        ]);
        let r = call("length", vec![l.clone()], &ctx).unwrap();
        assert_eq!(r.as_number().map(|n| n.to_text()), Some("2".to_string()));
        let r = call("join", vec![Value::string(","), l], &ctx).unwrap();
        assert!(!r.is_known());
        let r = call("length", vec![Value::string("abc").mark_sensitive()], &ctx).unwrap();
        assert!(r.is_sensitive());
        let r = call(
            "nonsensitive",
            vec![Value::string("abc").mark_sensitive()],
            &ctx,
        )
        .unwrap();
        assert!(!r.is_marked());
        let part = Value::object_from([
            ("a", Value::unknown(terrane_value::Type::String)),
            ("b", Value::from_i64(1)),
        ]);
        let r = call("keys", vec![part.clone()], &ctx).unwrap();
        assert!(r.is_wholly_known());
        let r = call("values", vec![part.clone()], &ctx).unwrap();
        assert!(r.is_known() && !r.is_wholly_known());
        let r = call("jsonencode", vec![part], &ctx).unwrap();
        assert!(!r.is_known());
        let r = call("tostring", vec![Value::null_dynamic()], &ctx).unwrap();
        assert!(r.is_null());
    }
}
