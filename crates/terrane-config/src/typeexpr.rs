//! Checking `type = ...` constraints of variables: `string`, `number`,
//! `bool`, `any`, `list(T)`, `set(T)`, `map(T)`, `tuple([...])`,
//! `object({...})` with `optional(T[, default])` attributes.

use crate::decode::literal_string;
use std::sync::Arc;
use terrane_hcl::ast::{Expr, ExprKind};
use terrane_hcl::{Diagnostic, Diagnostics, SourceFile};

/// Reports every problem in a type constraint expression.
pub fn check_type_expr(e: &Expr, file: &Arc<SourceFile>) -> Diagnostics {
    let mut d = Diagnostics::new();
    check(e, file, &mut d, false);
    d
}

fn err(d: &mut Diagnostics, file: &Arc<SourceFile>, e: &Expr, summary: &str, detail: String) {
    d.push(Diagnostic::error(summary, detail).with_subject(file, e.span));
}

fn check(e: &Expr, file: &Arc<SourceFile>, d: &mut Diagnostics, in_object_attr: bool) {
    match &e.kind {
        ExprKind::Traversal { root, steps } if steps.is_empty() => match root.as_str() {
            // Bare `list` and `map` are legacy spellings of list(any) and
            // map(any), still accepted (and rewritten by fmt).
            "string" | "number" | "bool" | "any" | "list" | "map" => {}
            "set" => err(
                d,
                file,
                e,
                "Invalid type specification",
                format!("The {} type constructor requires one argument specifying the element type.", root.as_str()),
            ),
            "object" => err(
                d,
                file,
                e,
                "Invalid type specification",
                "The object type constructor requires one argument specifying the attribute types as a map.".to_string(),
            ),
            "tuple" => err(
                d,
                file,
                e,
                "Invalid type specification",
                "The tuple type constructor requires one argument specifying the element types as a list.".to_string(),
            ),
            other => err(
                d,
                file,
                e,
                "Invalid type specification",
                format!("The keyword {other:?} is not a valid type specification."),
            ),
        },
        ExprKind::Call { name, args, .. } => {
            let n = name.as_str();
            match n {
                "list" | "map" | "set" => {
                    if args.len() != 1 {
                        err(d, file, e, "Invalid type specification", format!("The {n} type constructor requires one argument specifying the element type."));
                        return;
                    }
                    check(&args[0], file, d, false)
                }
                "tuple" => match args.as_slice() {
                    [Expr { kind: ExprKind::Tuple(items), .. }] => {
                        for i in items {
                            check(i, file, d, false)
                        }
                    }
                    _ => err(d, file, e, "Invalid type specification", "The tuple type constructor requires one argument specifying the element types as a list.".to_string()),
                },
                "object" => match args.as_slice() {
                    [Expr { kind: ExprKind::Object(items), .. }] => {
                        for i in items {
                            if i.bare_key().is_none() && literal_string(&i.key).is_none() {
                                err(d, file, &i.key, "Invalid type specification", "Object constructor map keys must be attribute names.".to_string());
                            }
                            check(&i.value, file, d, true)
                        }
                    }
                    _ => err(d, file, e, "Invalid type specification", "The object type constructor requires one argument specifying the attribute types as a map.".to_string()),
                },
                "optional" => {
                    if !in_object_attr {
                        err(d, file, e, "Invalid type specification", "Keyword \"optional\" is valid only as a modifier for object type attributes.".to_string());
                        return;
                    }
                    match args.len() {
                        1 | 2 => check(&args[0], file, d, false),
                        _ => err(d, file, e, "Invalid type specification", "Optional attribute modifier expects at most two arguments: the attribute type, and a default value.".to_string()),
                    }
                }
                other => err(d, file, e, "Invalid type specification", format!("Keyword {other:?} is not a valid type constructor.")),
            }
        }
        ExprKind::Template { .. } => match literal_string(e).as_deref() {
            Some(s @ ("string" | "list" | "map")) => err(
                d,
                file,
                e,
                "Invalid quoted type constraints",
                format!("Terraform 0.11 and earlier required type constraints to be given in quotes, but that form is now deprecated and will be removed in a future version of Terraform. Remove the quotes around {s:?}."),
            ),
            _ => err(d, file, e, "Invalid type specification", "A type specification is either a primitive type keyword (bool, number, string) or a complex type constructor call, like list(string).".to_string()),
        },
        _ => err(d, file, e, "Invalid type specification", "A type specification is either a primitive type keyword (bool, number, string) or a complex type constructor call, like list(string).".to_string()),
    }
}
