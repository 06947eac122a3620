//! Collection functions.

use std::collections::BTreeMap;

use terrane_value::{convert, unify, Number, Type, Value};
use unicode_segmentation::UnicodeSegmentation;

use super::{
    arg_err, call_err, num_arg, seq, str_arg, t_bool, t_dynamic, t_list_string, t_number, to_int,
    FnResult, FunctionContext, FunctionError, Param, Spec,
};

fn d(name: &'static str) -> Param {
    Param::new(name, Type::Dynamic)
}

pub(crate) fn spec(name: &str) -> Option<Spec> {
    Some(match name {
        "alltrue" => Spec::new(
            vec![Param::new("list", Type::list(Type::Bool))],
            t_bool,
            alltrue,
        ),
        "anytrue" => Spec::new(
            vec![Param::new("list", Type::list(Type::Bool))],
            t_bool,
            anytrue,
        ),
        "chunklist" => Spec::computed(
            vec![
                Param::new("list", Type::list(Type::Dynamic)),
                Param::new("size", Type::Number),
            ],
            |a| Ok(Type::list(a[0].ty().clone())),
            chunklist,
        ),
        "coalesce" => Spec::computed(vec![], coalesce_type, coalesce)
            .variadic(d("vals").null().unknown().dynamic())
            .partial_unknown(),
        "coalescelist" => Spec::computed(vec![], coalescelist_type, coalescelist)
            .variadic(d("vals").null().unknown().dynamic())
            .partial_unknown(),
        "compact" => Spec::new(
            vec![Param::new("list", Type::list(Type::String))],
            t_list_string,
            compact,
        ),
        "concat" => Spec::computed(vec![], concat_type, concat).variadic(d("seqs").marked()),
        "contains" => Spec::new(vec![d("list"), d("value")], t_bool, contains),
        "distinct" => Spec::computed(
            vec![Param::new("list", Type::list(Type::Dynamic))],
            |a| Ok(a[0].ty().clone()),
            distinct,
        ),
        "element" => Spec::computed(
            vec![d("list"), Param::new("index", Type::Number)],
            element_type,
            element,
        ),
        "flatten" => Spec::computed(vec![d("list")], flatten_type, flatten),
        "index" => Spec::new(vec![d("list"), d("value")], t_number, index),
        "keys" => Spec::computed(vec![d("inputMap")], keys_type, keys),
        "length" => Spec {
            params: vec![d("value").dynamic().unknown().marked()],
            variadic: None,
            ret: super::Ret::Compute(length_type),
            imp: length,
            partial_unknown: true,
        },
        "list" => Spec::new(vec![], t_dynamic, list_removed)
            .variadic(d("vals").null().unknown().dynamic()),
        "map" => {
            Spec::new(vec![], t_dynamic, map_removed).variadic(d("vals").null().unknown().dynamic())
        }
        "lookup" => Spec::computed(
            vec![d("inputMap"), Param::new("key", Type::String)],
            lookup_type,
            lookup,
        )
        .variadic(d("default").null().unknown().dynamic())
        .partial_unknown(),
        "matchkeys" => Spec::computed(
            vec![
                Param::new("values", Type::list(Type::Dynamic)),
                Param::new("keys", Type::list(Type::Dynamic)),
                Param::new("searchset", Type::list(Type::Dynamic)),
            ],
            matchkeys_type,
            matchkeys,
        ),
        "merge" => {
            Spec::computed(vec![], merge_type, merge).variadic(d("maps").null().dynamic().marked())
        }
        "one" => Spec::computed(vec![d("list")], one_type, one),
        "range" => Spec::new(vec![], || Type::list(Type::Number), range)
            .variadic(Param::new("params", Type::Number)),
        "reverse" => Spec::computed(vec![d("list")], reverse_type, reverse),
        "setintersection" => {
            Spec::computed(vec![set_param("first_set")], set_op_type, setintersection)
                .variadic(set_param("other_sets"))
        }
        "setsubtract" => Spec::computed(
            vec![set_param("a"), set_param("b")],
            set_op_type,
            setsubtract,
        ),
        "setunion" => Spec::computed(vec![set_param("first_set")], set_op_type, setunion)
            .variadic(set_param("other_sets")),
        "setproduct" => Spec::computed(vec![], setproduct_type, setproduct).variadic(d("sets")),
        "slice" => Spec::computed(
            vec![
                d("list"),
                Param::new("start_index", Type::Number),
                Param::new("end_index", Type::Number),
            ],
            slice_type,
            slice,
        ),
        "sort" => Spec::new(
            vec![Param::new("list", Type::list(Type::String))],
            t_list_string,
            sort,
        ),
        "sum" => Spec::new(vec![d("list")], t_number, sum),
        "transpose" => Spec::new(
            vec![Param::new("values", Type::map(Type::list(Type::String)))],
            || Type::map(Type::list(Type::String)),
            transpose,
        ),
        "values" => Spec::computed(vec![d("mapping")], values_type, values),
        "zipmap" => Spec::computed(
            vec![Param::new("keys", Type::list(Type::String)), d("values")],
            zipmap_type,
            zipmap,
        ),
        _ => return None,
    })
}

fn set_param(name: &'static str) -> Param {
    Param::new(name, Type::set(Type::Dynamic))
}

fn is_seq_type(t: &Type) -> bool {
    matches!(t, Type::List(_) | Type::Set(_) | Type::Tuple(_))
}

/// Converts values to one type (must succeed: the type is a unification).
fn conv_all(vals: &[Value], ty: &Type) -> Result<Vec<Value>, FunctionError> {
    vals.iter()
        .map(|v| convert(v, ty).map_err(|e| FunctionError::call(e.message)))
        .collect()
}

fn alltrue(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    Ok(Value::bool(
        seq(&a[0]).iter().all(|v| v.as_bool() == Some(true)),
    ))
}

fn anytrue(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    Ok(Value::bool(
        seq(&a[0]).iter().any(|v| v.as_bool() == Some(true)),
    ))
}

fn chunklist(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    let ety = a[0].ty().clone();
    let inner_ety = ety.element_type().cloned().unwrap_or(Type::Dynamic);
    let size =
        to_int(&num_arg(a, 1)).map_err(|e| FunctionError::call(format!("invalid size: {e}")))?;
    if size < 0 {
        return call_err("the size argument must be positive");
    }
    let elems = seq(&a[0]);
    if elems.is_empty() {
        return Ok(Value::list_empty(
            ret.element_type().cloned().unwrap_or(ety),
        ));
    }
    let size = if size == 0 {
        elems.len()
    } else {
        size as usize
    };
    let chunks: Vec<Value> = elems
        .chunks(size)
        .map(|c| Value::list(inner_ety.clone(), c.to_vec()))
        .collect();
    Ok(Value::list(ety, chunks))
}

fn coalesce_type(a: &[Value]) -> Result<Type, FunctionError> {
    let tys: Vec<Type> = a.iter().map(|v| v.ty().clone()).collect();
    if tys.is_empty() {
        return call_err("all arguments must have the same type");
    }
    unify(&tys).ok_or_else(|| FunctionError::call("all arguments must have the same type"))
}

fn coalesce(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    for v in a {
        let v = convert(v, ret).map_err(|e| FunctionError::call(e.message))?;
        if !v.is_known() {
            return Ok(Value::unknown(ret.clone()));
        }
        if v.is_null() {
            continue;
        }
        if ret == &Type::String && v.as_str() == Some("") {
            continue;
        }
        return Ok(v);
    }
    call_err("no non-null, non-empty-string arguments")
}

fn coalescelist_type(a: &[Value]) -> Result<Type, FunctionError> {
    if a.is_empty() {
        return call_err("at least one argument is required");
    }
    let mut tys = Vec::new();
    for v in a {
        match v.ty() {
            Type::List(_) | Type::Tuple(_) => tys.push(v.ty().clone()),
            _ => return call_err("coalescelist arguments must be lists or tuples"),
        }
    }
    if tys.iter().all(|t| matches!(t, Type::List(_))) {
        if let Some(u) = unify(&tys) {
            return Ok(u);
        }
    }
    Ok(Type::Dynamic)
}

fn coalescelist(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    for v in a {
        if !v.is_known() {
            return Ok(Value::unknown(ret.clone()));
        }
        if v.is_null() {
            continue;
        }
        if v.length().unwrap_or(0) > 0 {
            if ret.is_dynamic() {
                return Ok(v.clone());
            }
            return convert(v, ret).map_err(|e| FunctionError::call(e.message));
        }
    }
    call_err("no non-null arguments")
}

fn compact(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let out: Vec<Value> = seq(&a[0])
        .iter()
        .filter(|v| !v.is_null() && v.as_str() != Some(""))
        .cloned()
        .collect();
    Ok(Value::list(Type::String, out))
}

fn concat_type(a: &[Value]) -> Result<Type, FunctionError> {
    if a.is_empty() {
        return call_err("at least one argument is required");
    }
    if a.iter().all(|v| matches!(v.ty(), Type::List(_))) {
        let tys: Vec<Type> = a.iter().map(|v| v.ty().clone()).collect();
        if let Some(u) = unify(&tys) {
            return Ok(u);
        }
    }
    let mut etys = Vec::new();
    for (i, v) in a.iter().enumerate() {
        match v.ty() {
            Type::Tuple(es) => etys.extend(es.iter().cloned()),
            Type::List(e) => {
                if !v.is_known() {
                    return Ok(Type::Dynamic);
                }
                for _ in 0..seq(v).len() {
                    etys.push((**e).clone());
                }
            }
            t => {
                return arg_err(
                    i,
                    format!(
                        "all arguments must be lists or tuples; got {}",
                        t.friendly_name()
                    ),
                )
            }
        }
    }
    Ok(Type::Tuple(etys))
}

/// `concat` and `merge` keep the marks of nested values; marks on the
/// arguments themselves go on the result.
fn concat(a: &[Value], ret: &Type, ctx: &FunctionContext) -> FnResult {
    let marks = terrane_value::merged_marks(a.iter());
    Ok(concat_inner(a, ret, ctx)?.with_marks(marks))
}

fn concat_inner(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    let mut all = Vec::new();
    for v in a {
        if v.is_null() {
            return call_err("argument must not be null");
        }
        all.extend(seq(v).iter().cloned());
    }
    match ret {
        Type::List(e) => {
            let vals = conv_all(&all, e)?;
            Ok(Value::list((**e).clone(), vals))
        }
        _ => Ok(Value::tuple(all)),
    }
}

fn contains(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    if !is_seq_type(a[0].ty()) {
        return call_err("argument must be list, tuple, or set");
    }
    let mut unknown = false;
    for e in seq(&a[0]) {
        let eq = a[1].equals(e);
        match eq.as_bool() {
            Some(true) => return Ok(Value::bool(true)),
            Some(false) => {}
            None => unknown = true,
        }
    }
    if unknown {
        return Ok(Value::unknown(Type::Bool));
    }
    Ok(Value::bool(false))
}

fn distinct(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    let mut out: Vec<Value> = Vec::new();
    for e in seq(&a[0]) {
        if !out.iter().any(|o| o.equals(e).as_bool() == Some(true)) {
            out.push(e.clone());
        }
    }
    Ok(Value::list(
        ret.element_type().cloned().unwrap_or(Type::Dynamic),
        out,
    ))
}

fn element_type(a: &[Value]) -> Result<Type, FunctionError> {
    if let Some(n) = a[1].as_number() {
        if n.signum() < 0 {
            return call_err("cannot use element function with a negative index");
        }
    }
    match a[0].ty() {
        Type::List(e) => Ok((**e).clone()),
        Type::Tuple(es) => {
            let Some(n) = a[1].as_number() else {
                return Ok(Type::Dynamic);
            };
            let i = to_int(n).map_err(|e| FunctionError::call(format!("invalid index: {e}")))?;
            if es.is_empty() {
                return call_err("cannot use element function with an empty list");
            }
            Ok(es[(i as usize) % es.len()].clone())
        }
        t => call_err(format!("cannot read elements from {}", t.friendly_name())),
    }
}

fn element(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let i =
        to_int(&num_arg(a, 1)).map_err(|e| FunctionError::call(format!("invalid index: {e}")))?;
    if i < 0 {
        return call_err("cannot use element function with a negative index");
    }
    let es = seq(&a[0]);
    if es.is_empty() {
        return call_err("cannot use element function with an empty list");
    }
    Ok(es[(i as usize) % es.len()].clone())
}

fn flatten_into(v: &Value, out: &mut Vec<Value>) {
    // marks on a flattened sequence go on each of its elements
    let marks = v.marks();
    for e in seq(v) {
        if is_seq_type(e.ty()) && !e.is_null() {
            let start = out.len();
            flatten_into(e, out);
            for x in &mut out[start..] {
                *x = x.with_marks(marks);
            }
        } else {
            out.push(e.with_marks(marks));
        }
    }
}

fn flatten_type(a: &[Value]) -> Result<Type, FunctionError> {
    if !is_seq_type(a[0].ty()) {
        return call_err("can only flatten lists, sets and tuples");
    }
    if !a[0].is_wholly_known() {
        return Ok(Type::Dynamic);
    }
    let mut out = Vec::new();
    flatten_into(&a[0], &mut out);
    Ok(Type::Tuple(out.iter().map(|v| v.ty().clone()).collect()))
}

fn flatten(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let mut out = Vec::new();
    flatten_into(&a[0], &mut out);
    Ok(Value::tuple(out))
}

fn index(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    if !matches!(a[0].ty(), Type::List(_) | Type::Tuple(_)) {
        return call_err("argument must be a list or tuple");
    }
    if seq(&a[0]).is_empty() {
        return call_err("cannot search an empty list");
    }
    for (i, e) in seq(&a[0]).iter().enumerate() {
        match a[1].equals(e).as_bool() {
            Some(true) => return Ok(Value::from_i64(i as i64)),
            Some(false) => {}
            None => return Ok(Value::unknown(Type::Number)),
        }
    }
    call_err("item not found")
}

fn keys_type(a: &[Value]) -> Result<Type, FunctionError> {
    match a[0].ty() {
        Type::Map(_) => Ok(Type::list(Type::String)),
        Type::Object { attrs, .. } => Ok(Type::Tuple(vec![Type::String; attrs.len()])),
        Type::Dynamic => Ok(Type::Dynamic),
        _ => arg_err(0, "must have map or object type"),
    }
}

fn keys(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    let ks: Vec<Value> = a[0]
        .as_map()
        .map(|m| m.keys().map(Value::string).collect())
        .unwrap_or_default();
    match ret {
        Type::List(_) => Ok(Value::list(Type::String, ks)),
        _ => Ok(Value::tuple(ks)),
    }
}

fn length_type(a: &[Value]) -> Result<Type, FunctionError> {
    match a[0].ty() {
        Type::Bool | Type::Number => {
            call_err("argument must be a string, a collection type, or a structural type")
        }
        _ => Ok(Type::Number),
    }
}

fn length(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let (v, marks) = a[0].unmark();
    let r = match v.ty() {
        Type::Tuple(es) => Value::from_i64(es.len() as i64),
        Type::Object { attrs, .. } => Value::from_i64(attrs.len() as i64),
        _ if !v.is_known() => Value::unknown(Type::Number),
        Type::Dynamic => Value::unknown(Type::Number),
        Type::String => Value::from_i64(v.as_str().unwrap_or("").graphemes(true).count() as i64),
        _ => match v.length() {
            Some(n) => {
                // a set containing unknown values may have fewer elements
                if matches!(v.ty(), Type::Set(_)) && !v.is_wholly_known() {
                    Value::unknown(Type::Number)
                } else {
                    Value::from_i64(n as i64)
                }
            }
            None => Value::unknown(Type::Number),
        },
    };
    Ok(r.with_marks(marks))
}

fn list_removed(_: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    call_err("the \"list\" function was deprecated in Terraform v0.12 and is no longer available; use tolist([ ... ]) syntax to write a literal list")
}

fn map_removed(_: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    call_err("the \"map\" function was deprecated in Terraform v0.12 and is no longer available; use tomap({ ... }) syntax to write a literal map")
}

fn lookup_type(a: &[Value]) -> Result<Type, FunctionError> {
    if a.len() > 3 {
        return call_err(format!(
            "lookup() takes two or three arguments, got {}",
            a.len()
        ));
    }
    match a[0].ty() {
        Type::Object { attrs, .. } => {
            let Some(key) = a[1].as_str() else {
                return Ok(Type::Dynamic);
            };
            if let Some(t) = attrs.get(key) {
                Ok(t.clone())
            } else if a.len() == 3 {
                Ok(a[2].ty().clone())
            } else {
                arg_err(0, format!("the given object has no attribute {key:?}"))
            }
        }
        Type::Map(e) => {
            if a.len() == 3 && convert(&a[2], e).is_err() {
                return arg_err(
                    2,
                    "the default value must have the same type as the map elements",
                );
            }
            Ok((**e).clone())
        }
        Type::Dynamic => Ok(Type::Dynamic),
        _ => arg_err(0, "lookup() requires a map as the first argument"),
    }
}

fn lookup(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    if !a[0].is_wholly_known() || !a[1].is_known() {
        return Ok(Value::unknown(ret.clone()));
    }
    let key = str_arg(a, 1);
    if let Some(v) = a[0].get_attr(key) {
        return Ok(v.clone());
    }
    if a.len() == 3 {
        if ret.is_dynamic() {
            return Ok(a[2].clone());
        }
        return convert(&a[2], ret).map_err(|e| FunctionError::call(e.message));
    }
    call_err(format!("lookup failed to find '{key}'"))
}

fn matchkeys_type(a: &[Value]) -> Result<Type, FunctionError> {
    let kt = a[1].ty();
    let st = a[2].ty();
    if unify(&[kt.clone(), st.clone()]).is_none() {
        return call_err("keys and searchset must be of the same type");
    }
    Ok(a[0].ty().clone())
}

fn matchkeys(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    let vals = seq(&a[0]);
    let keys = seq(&a[1]);
    if vals.len() != keys.len() {
        return call_err("length of keys and values should be equal");
    }
    let ety = ret.element_type().cloned().unwrap_or(Type::Dynamic);
    let search = seq(&a[2]);
    let mut out = Vec::new();
    for (k, v) in keys.iter().zip(vals) {
        let found = search.iter().any(|s| {
            let (x, y) = unify_pair(k, s);
            x.equals(&y).as_bool() == Some(true)
        });
        if found {
            out.push(v.clone());
        }
    }
    Ok(Value::list(ety, out))
}

fn unify_pair(a: &Value, b: &Value) -> (Value, Value) {
    if a.ty() == b.ty() {
        return (a.clone(), b.clone());
    }
    match unify(&[a.ty().clone(), b.ty().clone()]) {
        Some(t) => (
            convert(a, &t).unwrap_or_else(|_| a.clone()),
            convert(b, &t).unwrap_or_else(|_| b.clone()),
        ),
        None => (a.clone(), b.clone()),
    }
}

fn merge_type(a: &[Value]) -> Result<Type, FunctionError> {
    if a.is_empty() {
        return Ok(Type::empty_object());
    }
    let mut attrs: BTreeMap<String, Type> = BTreeMap::new();
    let mut attrs_known = true;
    let first = a[0].ty().clone();
    let mut matching = true;
    for v in a {
        let ty = v.ty();
        match ty {
            Type::Dynamic => return Ok(Type::Dynamic),
            Type::Object { attrs: at, .. } => {
                if !v.is_null() {
                    for (k, t) in at {
                        attrs.insert(k.clone(), t.clone());
                    }
                }
            }
            Type::Map(e) => {
                if v.is_null() {
                } else if let Some(m) = v.as_map() {
                    for k in m.keys() {
                        attrs.insert(k.clone(), (**e).clone());
                    }
                } else {
                    attrs_known = false;
                }
            }
            t => {
                return call_err(format!(
                    "arguments must be maps or objects, got \"{}\"",
                    t.friendly_name()
                ))
            }
        }
        if ty != &first {
            matching = false;
        }
    }
    if matching {
        return Ok(first);
    }
    if !attrs_known {
        return Ok(Type::Dynamic);
    }
    Ok(Type::object(attrs))
}

fn merge(a: &[Value], ret: &Type, ctx: &FunctionContext) -> FnResult {
    let marks = terrane_value::merged_marks(a.iter());
    Ok(merge_inner(a, ret, ctx)?.with_marks(marks))
}

fn merge_inner(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    for v in a {
        if v.is_null() {
            continue;
        }
        if let Some(m) = v.as_map() {
            for (k, e) in m {
                out.insert(k.clone(), e.clone());
            }
        }
    }
    match ret {
        Type::Map(e) => Ok(Value::map((**e).clone(), out)),
        _ => Ok(Value::object(out)),
    }
}

const ONE_ERR: &str = "must be a list, set, or tuple value with either zero or one elements";

fn one_type(a: &[Value]) -> Result<Type, FunctionError> {
    match a[0].ty() {
        Type::List(e) | Type::Set(e) => Ok((**e).clone()),
        Type::Tuple(es) => match es.len() {
            0 => Ok(Type::Dynamic),
            1 => Ok(es[0].clone()),
            _ => arg_err(0, ONE_ERR),
        },
        Type::Dynamic => Ok(Type::Dynamic),
        _ => arg_err(0, ONE_ERR),
    }
}

fn one(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    let es = seq(&a[0]);
    match es.len() {
        0 => Ok(Value::null(ret.clone())),
        1 => Ok(es[0].clone()),
        _ => arg_err(0, ONE_ERR),
    }
}

fn range(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let zero = Number::from_i64(0);
    let nums: Vec<Number> = a.iter().filter_map(|v| v.as_number().cloned()).collect();
    let (start, end, step) = match nums.len() {
        1 => {
            let step = if nums[0] < zero { -1 } else { 1 };
            (Number::from_i64(0), nums[0].clone(), Number::from_i64(step))
        }
        2 => {
            let step = if nums[1] < nums[0] { -1 } else { 1 };
            (nums[0].clone(), nums[1].clone(), Number::from_i64(step))
        }
        3 => (nums[0].clone(), nums[1].clone(), nums[2].clone()),
        _ => return call_err("must have one, two, or three arguments"),
    };
    let down = step < zero;
    if down && end > start {
        return arg_err(1, "end must be less than start when step is negative");
    }
    if !down && end < start {
        return arg_err(1, "end must be greater than start when step is positive");
    }
    let mut vals = Vec::new();
    let mut num = start;
    loop {
        if (down && num <= end) || (!down && num >= end) {
            break;
        }
        if vals.len() >= 1024 {
            return call_err("more than 1024 values were generated; either decrease the difference between start and end or use a smaller step");
        }
        vals.push(Value::number(num.clone()));
        num = num
            .add(&step)
            .map_err(|e| FunctionError::call(e.to_string()))?;
    }
    Ok(Value::list(Type::Number, vals))
}

fn reverse_type(a: &[Value]) -> Result<Type, FunctionError> {
    match a[0].ty() {
        Type::Tuple(es) => Ok(Type::Tuple(es.iter().rev().cloned().collect())),
        Type::List(e) | Type::Set(e) => Ok(Type::list((**e).clone())),
        Type::Dynamic => Ok(Type::Dynamic),
        t => arg_err(
            0,
            format!(
                "can only reverse list or tuple values, not {}",
                t.friendly_name()
            ),
        ),
    }
}

fn reverse(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    let out: Vec<Value> = seq(&a[0]).iter().rev().cloned().collect();
    match ret {
        Type::List(e) => Ok(Value::list((**e).clone(), out)),
        _ => Ok(Value::tuple(out)),
    }
}

fn set_op_type(a: &[Value]) -> Result<Type, FunctionError> {
    let tys: Vec<Type> = a.iter().map(|v| v.ty().clone()).collect();
    match unify(&tys) {
        Some(t) => Ok(t),
        None => call_err("given sets must all have compatible element types"),
    }
}

fn set_elems(a: &[Value], ret: &Type) -> Result<Vec<Vec<Value>>, FunctionError> {
    a.iter()
        .map(|v| {
            let c = if v.ty() == ret {
                v.clone()
            } else {
                convert(v, ret).map_err(|e| FunctionError::call(e.message))?
            };
            Ok(seq(&c).to_vec())
        })
        .collect()
}

fn member(set: &[Value], v: &Value) -> bool {
    set.iter().any(|e| e.equals(v).as_bool() == Some(true))
}

fn make_set(ret: &Type, elems: Vec<Value>) -> Value {
    Value::set(ret.element_type().cloned().unwrap_or(Type::Dynamic), elems)
}

fn setintersection(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    let sets = set_elems(a, ret)?;
    let out: Vec<Value> = sets[0]
        .iter()
        .filter(|e| sets[1..].iter().all(|s| member(s, e)))
        .cloned()
        .collect();
    Ok(make_set(ret, out))
}

fn setsubtract(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    let sets = set_elems(a, ret)?;
    let out: Vec<Value> = sets[0]
        .iter()
        .filter(|e| !member(&sets[1], e))
        .cloned()
        .collect();
    Ok(make_set(ret, out))
}

fn setunion(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    let sets = set_elems(a, ret)?;
    Ok(make_set(ret, sets.into_iter().flatten().collect()))
}

/// Element type of a `setproduct` argument and whether it acts as a list.
fn product_arg(i: usize, v: &Value) -> Result<(Type, bool), FunctionError> {
    match v.ty() {
        Type::Set(e) => Ok(((**e).clone(), false)),
        Type::List(e) => Ok(((**e).clone(), true)),
        Type::Tuple(es) => {
            if es.is_empty() {
                return Ok((Type::Dynamic, true));
            }
            match unify(es) {
                Some(t) => Ok((t, true)),
                None => arg_err(i, "a set or a list is required"),
            }
        }
        Type::Dynamic => Ok((Type::Dynamic, false)),
        _ => arg_err(i, "a set or a list is required"),
    }
}

fn setproduct_type(a: &[Value]) -> Result<Type, FunctionError> {
    if a.len() < 2 {
        return call_err("at least two arguments are required");
    }
    let mut list = false;
    let mut etys = Vec::new();
    for (i, v) in a.iter().enumerate() {
        let (t, l) = product_arg(i, v)?;
        list |= l;
        etys.push(t);
    }
    let t = Type::Tuple(etys);
    Ok(if list { Type::list(t) } else { Type::set(t) })
}

fn setproduct(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    let ety = ret.element_type().cloned().unwrap_or(Type::Dynamic);
    let etys = ety
        .tuple_element_types()
        .map(|t| t.to_vec())
        .unwrap_or_default();
    let mut lists: Vec<Vec<Value>> = Vec::new();
    let mut total: usize = 1;
    for (i, v) in a.iter().enumerate() {
        let t = etys.get(i).cloned().unwrap_or(Type::Dynamic);
        let es = conv_all(seq(v), &t)?;
        total = total.saturating_mul(es.len());
        lists.push(es);
    }
    if total > 1_000_000 {
        return call_err("the product would have too many elements");
    }
    let mut out: Vec<Vec<Value>> = vec![Vec::new()];
    for l in &lists {
        let mut next = Vec::with_capacity(out.len() * l.len());
        for prefix in &out {
            for e in l {
                let mut p = prefix.clone();
                p.push(e.clone());
                next.push(p);
            }
        }
        out = next;
    }
    let tuples: Vec<Value> = if total == 0 {
        Vec::new()
    } else {
        out.into_iter().map(Value::tuple).collect()
    };
    match ret {
        Type::List(_) => Ok(Value::list(ety, tuples)),
        _ => Ok(Value::set(ety, tuples)),
    }
}

fn slice_bounds(a: &[Value], len: usize) -> Result<(usize, usize), FunctionError> {
    let start = to_int(&num_arg(a, 1))
        .map_err(|e| FunctionError::arg(1, format!("invalid start index: {e}")))?;
    let end = to_int(&num_arg(a, 2))
        .map_err(|e| FunctionError::arg(2, format!("invalid end index: {e}")))?;
    if start < 0 {
        return arg_err(1, "start index must not be less than zero");
    }
    if end > len as i64 {
        return arg_err(
            2,
            "end index must not be greater than the length of the list",
        );
    }
    if start > end {
        return arg_err(1, "start index must not be greater than end index");
    }
    Ok((start as usize, end as usize))
}

fn slice_type(a: &[Value]) -> Result<Type, FunctionError> {
    match a[0].ty() {
        Type::List(_) => Ok(a[0].ty().clone()),
        Type::Tuple(es) => {
            if !a[1].is_known() || !a[2].is_known() {
                return Ok(Type::Dynamic);
            }
            let (s, e) = slice_bounds(a, es.len())?;
            Ok(Type::Tuple(es[s..e].to_vec()))
        }
        Type::Set(_) => arg_err(0, "cannot slice a set, because its elements do not have indices; explicitly convert to a list if the ordering of the result is not important"),
        Type::Dynamic => Ok(Type::Dynamic),
        _ => arg_err(0, "must be a list or tuple value"),
    }
}

fn slice(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    let es = seq(&a[0]);
    let (s, e) = slice_bounds(a, es.len())?;
    let out = es[s..e].to_vec();
    match ret {
        Type::List(t) => Ok(Value::list((**t).clone(), out)),
        _ => Ok(Value::tuple(out)),
    }
}

fn sort(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let mut out: Vec<Value> = seq(&a[0]).to_vec();
    for (i, v) in out.iter().enumerate() {
        if v.is_null() {
            return call_err(format!(
                "given list element {i} is null; a null string cannot be sorted"
            ));
        }
    }
    out.sort_by(|x, y| {
        x.as_str()
            .unwrap_or("")
            .as_bytes()
            .cmp(y.as_str().unwrap_or("").as_bytes())
    });
    Ok(Value::list(Type::String, out))
}

fn sum(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    if !is_seq_type(a[0].ty()) {
        return arg_err(0, "cannot sum noniterable");
    }
    let es = seq(&a[0]);
    if es.is_empty() {
        return arg_err(0, "cannot sum an empty list");
    }
    let mut total: Option<Number> = None;
    for e in es {
        if e.is_null() {
            return arg_err(0, "argument must be list, set, or tuple of number values");
        }
        let n = convert(e, &Type::Number).map_err(|err| FunctionError::arg(0, err.message))?;
        let n = n.as_number().cloned().unwrap_or_else(Number::zero);
        total = Some(match total {
            None => n,
            Some(t) => t.add(&n).map_err(|e| FunctionError::call(e.to_string()))?,
        });
    }
    Ok(Value::number(total.unwrap_or_else(Number::zero)))
}

fn transpose(a: &[Value], _: &Type, _: &FunctionContext) -> FnResult {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    if let Some(m) = a[0].as_map() {
        for (k, list) in m {
            for v in seq(list) {
                let Some(s) = v.as_str() else {
                    return arg_err(0, "input strings must not be null");
                };
                out.entry(s.to_string())
                    .or_default()
                    .push(Value::string(k.clone()));
            }
        }
    }
    let m = out
        .into_iter()
        .map(|(k, v)| (k, Value::list(Type::String, v)))
        .collect();
    Ok(Value::map(Type::list(Type::String), m))
}

fn values_type(a: &[Value]) -> Result<Type, FunctionError> {
    match a[0].ty() {
        Type::Map(e) => Ok(Type::list((**e).clone())),
        Type::Object { attrs, .. } => Ok(Type::Tuple(attrs.values().cloned().collect())),
        Type::Dynamic => Ok(Type::Dynamic),
        _ => call_err("values() requires a map as the first argument"),
    }
}

fn values(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    let vs: Vec<Value> = a[0]
        .as_map()
        .map(|m| m.values().cloned().collect())
        .unwrap_or_default();
    match ret {
        Type::List(e) => Ok(Value::list((**e).clone(), vs)),
        _ => Ok(Value::tuple(vs)),
    }
}

fn zipmap_type(a: &[Value]) -> Result<Type, FunctionError> {
    match a[1].ty() {
        Type::List(e) => Ok(Type::map((**e).clone())),
        Type::Tuple(es) => {
            let Some(keys) = a[0].as_seq() else {
                return Ok(Type::Dynamic);
            };
            if !a[0].is_wholly_known() {
                return Ok(Type::Dynamic);
            }
            if keys.len() != es.len() {
                return call_err(format!(
                    "number of keys ({}) does not match number of values ({})",
                    keys.len(),
                    es.len()
                ));
            }
            let mut attrs = BTreeMap::new();
            for (i, (k, t)) in keys.iter().zip(es).enumerate() {
                let Some(k) = k.as_str() else {
                    return call_err(format!("keys list has null value at index {i}"));
                };
                attrs.insert(k.to_string(), t.clone());
            }
            Ok(Type::object(attrs))
        }
        Type::Dynamic => Ok(Type::Dynamic),
        _ => call_err("values argument must be a list or tuple value"),
    }
}

fn zipmap(a: &[Value], ret: &Type, _: &FunctionContext) -> FnResult {
    let keys = seq(&a[0]);
    let vals = seq(&a[1]);
    if keys.len() != vals.len() {
        return call_err(format!(
            "number of keys ({}) does not match number of values ({})",
            keys.len(),
            vals.len()
        ));
    }
    let mut out = BTreeMap::new();
    for (i, (k, v)) in keys.iter().zip(vals).enumerate() {
        let Some(k) = k.as_str() else {
            return call_err(format!("keys list has null value at index {i}"));
        };
        out.insert(k.to_string(), v.clone());
    }
    match ret {
        Type::Map(e) => Ok(Value::map((**e).clone(), out)),
        _ => Ok(Value::object(out)),
    }
}
