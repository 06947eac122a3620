//! `provider::NAME::FUNC(...)` through the scope's resolver: lookup
//! diagnostics, argument checking against the signature, unknown and
//! sensitive arguments. (The real plugin path is covered end to end by
//! crates/terrane-testprovider/tests.)

use std::sync::{Arc, Mutex};

use terrane_hcl::{parse_expression, SourceFile};
use terrane_lang::provider_functions::{
    CallError, FunctionParam, FunctionSignature, LookupError, ProviderFunctions,
};
use terrane_lang::{eval_expr, EvalContext, ProviderFunctionsHandle, Scope};
use terrane_value::{format_console, Type, Value};

/// Provider "t" with `join(sep string, parts ...string)` and
/// `maybe(v string, allow null and unknown)`; records the calls.
struct Recorder {
    calls: Mutex<Vec<(String, Vec<Value>)>>,
}

fn param(name: &str, ty: Type, allow: bool) -> FunctionParam {
    FunctionParam {
        name: name.into(),
        ty,
        allow_null: allow,
        allow_unknown: allow,
    }
}

impl ProviderFunctions for Recorder {
    fn signature(
        &self,
        provider: &str,
        function: &str,
    ) -> Result<Arc<FunctionSignature>, LookupError> {
        match (provider, function) {
            ("t", "join") => Ok(Arc::new(FunctionSignature {
                params: vec![param("sep", Type::String, false)],
                variadic: Some(param("parts", Type::String, false)),
                return_type: Type::String,
            })),
            ("t", "maybe") => Ok(Arc::new(FunctionSignature {
                params: vec![param("v", Type::String, true)],
                variadic: None,
                return_type: Type::Bool,
            })),
            ("broken", _) => Err(LookupError::Failed {
                summary: "Failed to load plugin schemas".into(),
                detail: "the plugin crashed".into(),
            }),
            _ => Err(LookupError::NotFound),
        }
    }

    fn call(&self, _provider: &str, function: &str, args: Vec<Value>) -> Result<Value, CallError> {
        if let Ok(mut c) = self.calls.lock() {
            c.push((function.to_string(), args.clone()));
        }
        match function {
            "join" => {
                let strs: Vec<&str> = args.iter().filter_map(Value::as_str).collect();
                if strs.get(1) == Some(&"bad") {
                    return Err(CallError::Arg {
                        index: 1,
                        message: "bad is not allowed".into(),
                    });
                }
                Ok(Value::string(strs[1..].join(strs[0])))
            }
            _ => Ok(Value::bool(args[0].is_known())),
        }
    }
}

fn scope() -> (Scope, Arc<Recorder>) {
    let rec = Arc::new(Recorder {
        calls: Mutex::new(Vec::new()),
    });
    let mut s = Scope::new();
    s.provider_functions = Some(ProviderFunctionsHandle(rec.clone()));
    s.variables
        .insert("unknown".into(), Value::unknown(Type::String));
    s.variables
        .insert("secret".into(), Value::string("s3").mark_sensitive());
    (s, rec)
}

/// The value shown by the console, or each diagnostic as "summary: detail".
fn eval(scope: &Scope, src: &str) -> Result<String, Vec<String>> {
    let file = SourceFile::new("<test>", src);
    let (expr, diags) = parse_expression(&file);
    let Some(expr) = expr else {
        return Err(diags.iter().map(|d| d.summary.clone()).collect());
    };
    let (v, d) = eval_expr(&expr, &EvalContext::new(scope).with_file(&file));
    if d.has_errors() {
        return Err(d
            .iter()
            .map(|d| format!("{}: {}", d.summary, d.detail))
            .collect());
    }
    Ok(format_console(&v))
}

#[test]
fn calls_with_converted_arguments() {
    let (s, rec) = scope();
    assert_eq!(
        eval(&s, r#"provider::t::join("-", "a", 1, true)"#).as_deref(),
        Ok("\"a-1-true\"")
    );
    assert_eq!(
        eval(&s, r#"provider::t::join(",", ["x", "y"]...)"#).as_deref(),
        Ok("\"x,y\"")
    );
    let calls = rec.calls.lock().map(|c| c.clone()).unwrap_or_default();
    assert_eq!(calls.len(), 2);
    assert!(calls[0].1[2].raw_equal(&Value::string("1")));
}

#[test]
fn unknown_provider_or_function() {
    let (s, _) = scope();
    let want = "Unknown provider function: There is no function named \"provider::nope::join\". Ensure that provider name \"nope\" is declared in this module's required_providers block, and that this provider offers a function named \"join\".";
    assert_eq!(
        eval(&s, r#"provider::nope::join("")"#),
        Err(vec![want.to_string()])
    );
    assert!(
        eval(&s, r#"provider::t::nothing()"#).is_err_and(|e| e[0].starts_with(
            "Unknown provider function: There is no function named \"provider::t::nothing\""
        ))
    );
    assert_eq!(
        eval(&s, r#"provider::broken::f()"#),
        Err(vec![
            "Failed to load plugin schemas: the plugin crashed".to_string()
        ])
    );
    // Without a resolver (console, validate) every provider function is unknown.
    assert!(eval(&Scope::new(), r#"provider::t::join("")"#)
        .is_err_and(|e| e[0].starts_with("Unknown provider function")));
}

#[test]
fn arguments_checked_against_the_signature() {
    let (s, rec) = scope();
    assert_eq!(
        eval(&s, r#"provider::t::join()"#),
        Err(vec!["Not enough function arguments: Function \"provider::t::join\" expects at least 1 argument(s). Missing value for \"sep\".".to_string()])
    );
    assert_eq!(
        eval(&s, r#"provider::t::maybe("a", "b")"#),
        Err(vec!["Too many function arguments: Function \"provider::t::maybe\" expects only 1 argument(s).".to_string()])
    );
    assert_eq!(
        eval(&s, r#"provider::t::join(null)"#),
        Err(vec!["Invalid function argument: Invalid value for \"sep\" parameter: argument must not be null.".to_string()])
    );
    assert_eq!(
        eval(&s, r#"provider::t::join(",", ["a"])"#),
        Err(vec![
            "Invalid function argument: Invalid value for \"parts\" parameter: string required."
                .to_string()
        ])
    );
    // The provider's own argument error names the parameter too.
    assert_eq!(
        eval(&s, r#"provider::t::join(",", "bad")"#),
        Err(vec![
            "Invalid function argument: Invalid value for \"parts\" parameter: bad is not allowed."
                .to_string()
        ])
    );
    assert_eq!(rec.calls.lock().map(|c| c.len()).unwrap_or(0), 1);
}

#[test]
fn unknown_and_sensitive_arguments() {
    let (s, rec) = scope();
    // Unknown where not allowed: unknown result of the return type, no call.
    assert_eq!(
        eval(&s, r#"provider::t::join(",", var.unknown)"#).as_deref(),
        Ok("(known after apply)")
    );
    assert_eq!(rec.calls.lock().map(|c| c.len()).unwrap_or(9), 0);
    // Allowed: passed on (null too).
    assert_eq!(
        eval(&s, r#"provider::t::maybe(var.unknown)"#).as_deref(),
        Ok("false")
    );
    assert_eq!(
        eval(&s, r#"provider::t::maybe(null)"#).as_deref(),
        Ok("true")
    );
    // Sensitive arguments make the result sensitive.
    assert_eq!(
        eval(&s, r#"provider::t::join(",", var.secret)"#).as_deref(),
        Ok("(sensitive)")
    );
}
