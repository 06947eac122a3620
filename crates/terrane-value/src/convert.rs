//! Type conversion and unification with go-cty's `convert` semantics.
//!
//! *Safe* conversions always succeed for any value of the source type
//! (number→string, list→set, ...). *Unsafe* ones may fail at run time
//! (string→number, string→bool, map→object, dynamic→anything). Terraform
//! converts values (variables, function arguments, `tolist` ...) with
//! unsafe conversions allowed, which is what [`convert`] does.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

use crate::number::Number;
use crate::path::{Path, PathStep};
use crate::value::{Kind, Value};
use crate::Type;

/// A failed conversion: where (path inside the value) and why.
#[derive(Clone, Debug, PartialEq)]
pub struct ConversionError {
    /// Path inside the converted value where the problem is.
    pub path: Path,
    /// Terraform's wording, e.g. `a number is required`.
    pub message: String,
}

impl ConversionError {
    fn new(path: &Path, message: impl Into<String>) -> ConversionError {
        ConversionError {
            path: path.clone(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConversionError {
    /// `message`, prefixed by the path as Terraform formats it
    /// (`.a[0]: a number is required`) when the path is not empty.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ConversionError {}

/// Converts `v` to type `want` (a type or a constraint containing
/// `Dynamic`), allowing unsafe conversions, as Terraform's `convert.Convert`.
/// Null and unknown values convert to null/unknown of the target type;
/// marks are preserved.
pub fn convert(v: &Value, want: &Type) -> Result<Value, ConversionError> {
    convert_with(v, want, true)
}

/// Like [`convert`] but only allows safe conversions.
pub fn convert_safe(v: &Value, want: &Type) -> Result<Value, ConversionError> {
    convert_with(v, want, false)
}

fn convert_with(v: &Value, want: &Type, unsafe_: bool) -> Result<Value, ConversionError> {
    if v.ty() == want {
        return Ok(v.clone());
    }
    if !conversion_exists(v.ty(), want, unsafe_) {
        return Err(ConversionError::new(
            &Path::root(),
            mismatch_message(v.ty(), want),
        ));
    }
    let mut path = Path::root();
    conv(v, want, unsafe_, &mut path)
}

/// Whether a conversion from `from` to `to` can exist (statically).
pub fn conversion_exists(from: &Type, to: &Type, unsafe_: bool) -> bool {
    if from == to {
        return true;
    }
    match (from, to) {
        (_, Type::Dynamic) => true,
        (Type::Dynamic, _) => unsafe_,
        (Type::Number | Type::Bool, Type::String) => true,
        (Type::String, Type::Number | Type::Bool) => unsafe_,
        (Type::List(ie) | Type::Set(ie), Type::List(oe) | Type::Set(oe)) => {
            conversion_exists(ie, oe, unsafe_)
        }
        (Type::Map(ie), Type::Map(oe)) => conversion_exists(ie, oe, unsafe_),
        (Type::Tuple(es), Type::List(oe) | Type::Set(oe)) => {
            seq_to_collection_ety(es, oe, unsafe_, false).is_some()
        }
        (Type::Object { attrs, .. }, Type::Map(oe)) => {
            let es: Vec<Type> = attrs.values().cloned().collect();
            seq_to_collection_ety(&es, oe, unsafe_, true).is_some()
        }
        (
            Type::Object { attrs: ia, .. },
            Type::Object {
                attrs: oa,
                optional,
            },
        ) => oa.iter().all(|(name, ot)| match ia.get(name) {
            Some(it) => conversion_exists(it, ot, unsafe_),
            None => optional.contains(name),
        }),
        (Type::Map(ie), Type::Object { attrs: oa, .. }) => {
            unsafe_ && oa.values().all(|ot| conversion_exists(ie, ot, unsafe_))
        }
        (Type::Tuple(ies), Type::Tuple(oes)) => {
            ies.len() == oes.len()
                && ies
                    .iter()
                    .zip(oes)
                    .all(|(i, o)| conversion_exists(i, o, unsafe_))
        }
        _ => false,
    }
}

/// The element type a tuple (or object attributes) converts to for a
/// collection of element type `oe`; `None` if impossible.
fn seq_to_collection_ety(es: &[Type], oe: &Type, unsafe_: bool, for_map: bool) -> Option<Type> {
    if es.is_empty() {
        return Some(oe.clone());
    }
    if oe.is_dynamic() {
        let mut u = unify_with(es, unsafe_)?;
        if u.is_dynamic() && !es.iter().all(Type::is_dynamic) {
            if !for_map {
                // A list or set cannot mix dynamic and known element types.
                return None;
            }
            // Maps tolerate dynamic-typed (null/unknown) elements: they take
            // the type of the other elements.
            let known: Vec<Type> = es.iter().filter(|t| !t.is_dynamic()).cloned().collect();
            u = unify_with(&known, unsafe_)?;
            if u.is_dynamic() {
                return None;
            }
        }
        if es.iter().all(|e| conversion_exists(e, &u, unsafe_)) {
            Some(u)
        } else {
            None
        }
    } else if es.iter().all(|e| conversion_exists(e, oe, unsafe_)) {
        Some(oe.clone())
    } else {
        None
    }
}

/// The type that converting a value of type `from` to `to` produces (equal
/// to `to` unless `to` contains `Dynamic`; optional markers removed).
pub fn result_type(from: &Type, to: &Type) -> Type {
    result_type_with(from, to, true)
}

fn result_type_with(from: &Type, to: &Type, unsafe_: bool) -> Type {
    if to.is_dynamic() {
        return from.clone();
    }
    if from.is_dynamic() || !to.has_dynamic() {
        return to.without_optional_attrs_deep();
    }
    match (from, to) {
        (Type::List(ie) | Type::Set(ie), Type::List(oe)) => {
            Type::list(result_type_with(ie, oe, unsafe_))
        }
        (Type::List(ie) | Type::Set(ie), Type::Set(oe)) => {
            Type::set(result_type_with(ie, oe, unsafe_))
        }
        (Type::Map(ie), Type::Map(oe)) => Type::map(result_type_with(ie, oe, unsafe_)),
        (Type::Tuple(es), Type::List(oe) | Type::Set(oe)) => {
            let ety = elems_result_type(es, oe, unsafe_, false);
            if matches!(to, Type::List(_)) {
                Type::list(ety)
            } else {
                Type::set(ety)
            }
        }
        (Type::Object { attrs, .. }, Type::Map(oe)) => {
            let es: Vec<Type> = attrs.values().cloned().collect();
            Type::map(elems_result_type(&es, oe, unsafe_, true))
        }
        (Type::Object { attrs: ia, .. }, Type::Object { attrs: oa, .. }) => {
            Type::object(oa.iter().map(|(k, ot)| {
                (
                    k.clone(),
                    result_type_with(ia.get(k).unwrap_or(&Type::Dynamic), ot, unsafe_),
                )
            }))
        }
        (Type::Map(ie), Type::Object { attrs: oa, .. }) => Type::object(
            oa.iter()
                .map(|(k, ot)| (k.clone(), result_type_with(ie, ot, unsafe_))),
        ),
        (Type::Tuple(ies), Type::Tuple(oes)) => Type::Tuple(
            ies.iter()
                .zip(oes)
                .map(|(i, o)| result_type_with(i, o, unsafe_))
                .collect(),
        ),
        _ => to.without_optional_attrs_deep(),
    }
}

fn elems_result_type(es: &[Type], oe: &Type, unsafe_: bool, for_map: bool) -> Type {
    let target = match seq_to_collection_ety(es, oe, unsafe_, for_map) {
        Some(t) => t,
        None => return oe.clone(),
    };
    let rts: Vec<Type> = es
        .iter()
        .map(|e| result_type_with(e, &target, unsafe_))
        .collect();
    if rts.is_empty() {
        return target.without_optional_attrs_deep();
    }
    if rts.iter().all(|t| t == &rts[0]) {
        return rts[0].clone();
    }
    unify_with(&rts, unsafe_).unwrap_or(target)
}

fn conv(v: &Value, want: &Type, unsafe_: bool, path: &mut Path) -> Result<Value, ConversionError> {
    if v.ty() == want || want.is_dynamic() {
        return Ok(v.clone());
    }
    let (u, marks) = v.unmark();
    let out = conv_unmarked(&u, want, unsafe_, path)?;
    Ok(out.with_marks(marks))
}

fn conv_unmarked(
    v: &Value,
    want: &Type,
    unsafe_: bool,
    path: &mut Path,
) -> Result<Value, ConversionError> {
    let from = v.ty();
    if !v.is_known() || v.is_null() {
        if !conversion_exists(from, want, unsafe_) {
            return Err(ConversionError::new(path, mismatch_message(from, want)));
        }
        let rt = result_type_with(from, want, unsafe_);
        return Ok(if v.is_null() {
            Value::null(rt)
        } else {
            Value::unknown(rt)
        });
    }
    match (v.kind(), want) {
        (Kind::Number(n), Type::String) => Ok(Value::string(n.to_text())),
        (Kind::Bool(b), Type::String) => Ok(Value::string(if b { "true" } else { "false" })),
        (Kind::String(s), Type::Number) if unsafe_ => match Number::parse(s) {
            Ok(n) => Ok(Value::number(n)),
            Err(_) => Err(ConversionError::new(path, "a number is required")),
        },
        (Kind::String(s), Type::Bool) if unsafe_ => match s {
            "true" | "1" => Ok(Value::bool(true)),
            "false" | "0" => Ok(Value::bool(false)),
            _ => Err(ConversionError::new(
                path,
                match s.to_lowercase().as_str() {
                    "true" => "a bool is required; to convert from string, use lowercase \"true\"",
                    "false" => {
                        "a bool is required; to convert from string, use lowercase \"false\""
                    }
                    _ => "a bool is required",
                },
            )),
        },
        (Kind::List(es) | Kind::Set(es), Type::List(oe) | Type::Set(oe)) => {
            let ie = from.element_type().cloned().unwrap_or(Type::Dynamic);
            if !conversion_exists(&ie, oe, unsafe_) {
                return Err(ConversionError::new(path, mismatch_message(from, want)));
            }
            let ety = result_type_with(&ie, oe, unsafe_);
            let out = conv_elems(es, oe, unsafe_, path)?;
            build_collection(want, ety, out, path)
        }
        (Kind::Tuple(es), Type::List(oe) | Type::Set(oe)) => {
            let tys: Vec<Type> = es.iter().map(|e| e.ty().clone()).collect();
            let Some(target) = seq_to_collection_ety(&tys, oe, unsafe_, false) else {
                return Err(ConversionError::new(path, mismatch_message(from, want)));
            };
            let ety = elems_result_type(&tys, oe, unsafe_, false);
            let out = conv_elems(es, &target, unsafe_, path)?;
            build_collection(want, ety, out, path)
        }
        (Kind::Map(m), Type::Map(oe)) => {
            let ie = from.element_type().cloned().unwrap_or(Type::Dynamic);
            if !conversion_exists(&ie, oe, unsafe_) {
                return Err(ConversionError::new(path, mismatch_message(from, want)));
            }
            let ety = result_type_with(&ie, oe, unsafe_);
            let out = conv_map_elems(m, oe, unsafe_, path, false)?;
            build_map(ety, out, path)
        }
        (Kind::Object(m), Type::Map(oe)) => {
            let tys: Vec<Type> = m.values().map(|e| e.ty().clone()).collect();
            let Some(target) = seq_to_collection_ety(&tys, oe, unsafe_, true) else {
                return Err(ConversionError::new(path, mismatch_message(from, want)));
            };
            let ety = elems_result_type(&tys, oe, unsafe_, true);
            let out = conv_map_elems(m, &target, unsafe_, path, true)?;
            build_map(ety, out, path)
        }
        (Kind::Object(m), Type::Object { attrs, optional }) => {
            let mut out = BTreeMap::new();
            for (name, at) in attrs {
                match m.get(name) {
                    Some(av) => {
                        path.push(PathStep::GetAttr(name.clone()));
                        let r = conv(av, at, unsafe_, path);
                        path.pop();
                        out.insert(name.clone(), r?);
                    }
                    None if optional.contains(name) => {
                        out.insert(name.clone(), Value::null(at.without_optional_attrs_deep()));
                    }
                    None => {
                        return Err(ConversionError::new(
                            path,
                            format!("attribute {name:?} is required"),
                        ))
                    }
                }
            }
            Ok(Value::object_typed(want, out))
        }
        (Kind::Map(m), Type::Object { attrs, optional }) if unsafe_ => {
            let ie = from.element_type().cloned().unwrap_or(Type::Dynamic);
            let mut out = BTreeMap::new();
            for (k, ev) in m {
                let Some(at) = attrs.get(k) else {
                    path.push(PathStep::GetAttr(k.clone()));
                    let e = ConversionError::new(path, format!("unsupported attribute {k:?}"));
                    path.pop();
                    return Err(e);
                };
                path.push(PathStep::GetAttr(k.clone()));
                let r = conv(ev, at, unsafe_, path);
                path.pop();
                out.insert(k.clone(), r?);
            }
            for (name, at) in attrs {
                if out.contains_key(name) {
                    continue;
                }
                if optional.contains(name) {
                    out.insert(
                        name.clone(),
                        Value::null(result_type_with(&ie, at, unsafe_)),
                    );
                } else {
                    return Err(ConversionError::new(
                        path,
                        format!("map has no element for required attribute {name:?}"),
                    ));
                }
            }
            Ok(Value::object(out))
        }
        (Kind::Tuple(es), Type::Tuple(oes)) if es.len() == oes.len() => {
            let mut out = Vec::with_capacity(es.len());
            for (i, (e, ot)) in es.iter().zip(oes).enumerate() {
                path.push(PathStep::Index(Value::from_i64(i as i64)));
                let r = conv(e, ot, unsafe_, path);
                path.pop();
                out.push(r?);
            }
            Ok(Value::tuple(out))
        }
        _ => Err(ConversionError::new(path, mismatch_message(from, want))),
    }
}

fn conv_elems(
    es: &[Value],
    ety: &Type,
    unsafe_: bool,
    path: &mut Path,
) -> Result<Vec<Value>, ConversionError> {
    let mut out = Vec::with_capacity(es.len());
    for (i, e) in es.iter().enumerate() {
        path.push(PathStep::Index(Value::from_i64(i as i64)));
        let r = conv(e, ety, unsafe_, path);
        path.pop();
        out.push(r?);
    }
    Ok(out)
}

fn conv_map_elems(
    m: &crate::ValueMap,
    ety: &Type,
    unsafe_: bool,
    path: &mut Path,
    from_object: bool,
) -> Result<BTreeMap<String, Value>, ConversionError> {
    let mut out = BTreeMap::new();
    for (k, e) in m {
        path.push(if from_object {
            PathStep::GetAttr(k.clone())
        } else {
            PathStep::Index(Value::string(k.clone()))
        });
        let r = conv(e, ety, unsafe_, path);
        path.pop();
        out.insert(k.clone(), r?);
    }
    Ok(out)
}

/// Makes all element types equal (unifying when the target contained
/// `Dynamic` and elements came out with different types).
fn harmonize(
    ety: Type,
    elems: Vec<Value>,
    path: &Path,
) -> Result<(Type, Vec<Value>), ConversionError> {
    let Some(first) = elems.first() else {
        return Ok((ety, elems));
    };
    let t0 = first.ty().clone();
    if elems.iter().all(|e| e.ty() == &t0) {
        return Ok((t0, elems));
    }
    let tys: Vec<Type> = elems.iter().map(|e| e.ty().clone()).collect();
    let Some(u) = unify(&tys) else {
        return Err(ConversionError::new(
            path,
            "all elements must have the same type",
        ));
    };
    let mut out = Vec::with_capacity(elems.len());
    for e in elems {
        out.push(convert(&e, &u).map_err(|mut err| {
            let mut p = path.clone();
            p.0.extend(err.path.0);
            err.path = p;
            err
        })?);
    }
    Ok((u, out))
}

fn build_collection(
    want: &Type,
    ety: Type,
    elems: Vec<Value>,
    path: &Path,
) -> Result<Value, ConversionError> {
    let (ety, elems) = harmonize(ety, elems, path)?;
    Ok(match want {
        Type::Set(_) => Value::set(ety, elems),
        _ => Value::list(ety, elems),
    })
}

fn build_map(
    ety: Type,
    elems: BTreeMap<String, Value>,
    path: &Path,
) -> Result<Value, ConversionError> {
    let keys: Vec<String> = elems.keys().cloned().collect();
    let (ety, vals) = harmonize(ety, elems.into_values().collect(), path)?;
    Ok(Value::map(ety, keys.into_iter().zip(vals).collect()))
}

/// Terraform's description of why type `got` cannot convert to `want`
/// (go-cty's `MismatchMessage`), e.g. `number required`,
/// `element 0: string required`, `attribute "a" is required`,
/// `incorrect list element type: string required`.
pub fn mismatch_message(got: &Type, want: &Type) -> String {
    match (got, want) {
        (Type::Object { .. }, Type::Object { .. }) => mismatch_objects(got, want),
        (Type::Tuple(_), Type::List(e)) if e.is_dynamic() => {
            "all list elements must have the same type".into()
        }
        (Type::Tuple(_), Type::Set(e)) if e.is_dynamic() => {
            "all set elements must have the same type".into()
        }
        (Type::Object { .. }, Type::Map(e)) if e.is_dynamic() => {
            "all map elements must have the same type".into()
        }
        (Type::Tuple(_) | Type::Object { .. }, w) if w.is_collection() => {
            mismatch_structural_to_collection(got, want)
        }
        (g, w) if g.is_collection() && w.is_collection() => mismatch_collections(got, want),
        _ => format!("{} required", want.friendly_name_for_constraint()),
    }
}

fn mismatch_objects(got: &Type, want: &Type) -> String {
    let (
        Type::Object { attrs: ga, .. },
        Type::Object {
            attrs: wa,
            optional,
        },
    ) = (got, want)
    else {
        return format!("{} required", want.friendly_name_for_constraint());
    };
    let mut missing: Vec<&String> = Vec::new();
    let mut unconvertible: Vec<String> = Vec::new();
    for (name, wt) in wa {
        match ga.get(name) {
            None => {
                if !optional.contains(name) {
                    missing.push(name);
                }
            }
            Some(gt) => {
                if gt != wt && !conversion_exists(gt, wt, true) {
                    unconvertible.push(format!("attribute {name:?}: {}", mismatch_message(gt, wt)));
                }
            }
        }
    }
    match missing.len() {
        0 => {}
        1 => return format!("attribute {:?} is required", missing[0]),
        2 => {
            return format!(
                "attributes {:?} and {:?} are required",
                missing[0], missing[1]
            )
        }
        n => {
            let head: Vec<String> = missing[..n - 1].iter().map(|m| format!("{m:?}")).collect();
            return format!(
                "attributes {}, and {:?} are required",
                head.join(", "),
                missing[n - 1]
            );
        }
    }
    unconvertible.sort();
    unconvertible
        .into_iter()
        .next()
        .unwrap_or_else(|| "object is required".into())
}

fn mismatch_structural_to_collection(got: &Type, want: &Type) -> String {
    match (got, want) {
        (Type::Tuple(_), Type::List(_) | Type::Set(_)) | (Type::Object { .. }, Type::Map(_)) => {}
        _ => return format!("{} required", want.friendly_name_for_constraint()),
    }
    let Some(wety) = want.element_type() else {
        return format!("{} required", want.friendly_name_for_constraint());
    };
    match got {
        Type::Tuple(es) => {
            for (i, e) in es.iter().enumerate() {
                if e != wety && !conversion_exists(e, wety, true) {
                    return format!("element {i}: {}", mismatch_message(e, wety));
                }
            }
        }
        Type::Object { attrs, .. } => {
            for (k, e) in attrs {
                if e != wety && !conversion_exists(e, wety, true) {
                    return format!("element {k:?}: {}", mismatch_message(e, wety));
                }
            }
        }
        _ => {}
    }
    format!(
        "all elements must be {}",
        wety.friendly_name_for_constraint()
    )
}

fn mismatch_collections(got: &Type, want: &Type) -> String {
    let kind_ok = match want {
        Type::List(_) | Type::Set(_) => matches!(got, Type::List(_) | Type::Set(_)),
        Type::Map(_) => matches!(got, Type::Map(_)),
        _ => false,
    };
    if !kind_ok {
        return format!("{} required", want.friendly_name_for_constraint());
    }
    let noun = match want {
        Type::List(_) => "list element type",
        Type::Set(_) => "set element type",
        _ => "map element type",
    };
    let (Some(g), Some(w)) = (got.element_type(), want.element_type()) else {
        return format!("{} required", want.friendly_name_for_constraint());
    };
    format!("incorrect {noun}: {}", mismatch_message(g, w))
}

// ----- unification -----

/// Finds a single type all of `types` can convert to, allowing unsafe
/// conversions (as HCL's conditional and Terraform's collection functions
/// do). `None` if there is none. Mixed tuples of different lengths unify to
/// lists, objects with different attributes to maps.
pub fn unify(types: &[Type]) -> Option<Type> {
    unify_with(types, true)
}

/// Like [`unify`] with only safe conversions.
pub fn unify_safe(types: &[Type]) -> Option<Type> {
    unify_with(types, false)
}

fn unify_with(types: &[Type], unsafe_: bool) -> Option<Type> {
    let first = types.first()?;
    if types.iter().all(|t| t == first) {
        return Some(first.clone());
    }
    let has_dynamic = types.iter().any(Type::is_dynamic);
    let (mut maps, mut lists, mut sets, mut objs, mut tups, mut dyns) = (0, 0, 0, 0, 0, 0);
    for t in types {
        match t {
            Type::Map(_) => maps += 1,
            Type::List(_) => lists += 1,
            Type::Set(_) => sets += 1,
            Type::Object { .. } => objs += 1,
            Type::Tuple(_) => tups += 1,
            Type::Dynamic => dyns += 1,
            _ => {}
        }
    }
    let n = types.len();
    if maps > 0 && maps + dyns == n {
        return unify_collections(types, unsafe_, has_dynamic, Type::map);
    }
    if lists > 0 && lists + dyns == n {
        return unify_collections(types, unsafe_, has_dynamic, Type::list);
    }
    if sets > 0 && sets + dyns == n {
        return unify_collections(types, unsafe_, has_dynamic, Type::set);
    }
    if objs > 0 && objs + dyns == n {
        return if has_dynamic {
            Some(Type::Dynamic)
        } else {
            unify_objects(types, unsafe_)
        };
    }
    if tups > 0 && tups + dyns == n {
        return if has_dynamic {
            Some(Type::Dynamic)
        } else {
            unify_tuples(types, unsafe_)
        };
    }
    if objs > 0 && tups > 0 {
        return None;
    }
    for cand in preference_order(types) {
        let cand = cand.without_optional_attrs_deep();
        if types
            .iter()
            .all(|t| t == &cand || conversion_exists(t, &cand, unsafe_))
        {
            return Some(cand);
        }
    }
    None
}

fn unify_collections(
    types: &[Type],
    unsafe_: bool,
    has_dynamic: bool,
    make: fn(Type) -> Type,
) -> Option<Type> {
    if has_dynamic {
        return Some(Type::Dynamic);
    }
    let etys: Vec<Type> = types
        .iter()
        .filter_map(|t| t.element_type().cloned())
        .collect();
    Some(make(unify_with(&etys, unsafe_)?))
}

fn unify_objects(types: &[Type], unsafe_: bool) -> Option<Type> {
    let attrs_of = |t: &Type| t.attribute_types().cloned().unwrap_or_default();
    let first = attrs_of(&types[0]);
    let same_names = types.iter().all(|t| {
        let a = attrs_of(t);
        a.len() == first.len() && a.keys().eq(first.keys())
    });
    if !same_names {
        return unify_objects_to_map(types, unsafe_);
    }
    let mut out = BTreeMap::new();
    for name in first.keys() {
        let across: Vec<Type> = types
            .iter()
            .map(|t| t.attribute_type(name).cloned().unwrap_or(Type::Dynamic))
            .collect();
        out.insert(name.clone(), unify_with(&across, unsafe_)?);
    }
    let ret = Type::object(out);
    if types.iter().all(|t| conversion_exists(t, &ret, unsafe_)) {
        Some(ret)
    } else {
        unify_objects_to_map(types, unsafe_)
    }
}

fn unify_objects_to_map(types: &[Type], unsafe_: bool) -> Option<Type> {
    let atys: Vec<Type> = types
        .iter()
        .flat_map(|t| {
            t.attribute_types()
                .map(|a| a.values().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        })
        .collect();
    if atys.is_empty() {
        return Some(Type::map(Type::Dynamic));
    }
    let ety = unify_with(&atys, unsafe_)?;
    let ret = Type::map(ety);
    if types.iter().all(|t| conversion_exists(t, &ret, unsafe_)) {
        Some(ret)
    } else {
        None
    }
}

fn unify_tuples(types: &[Type], unsafe_: bool) -> Option<Type> {
    let elems = |t: &Type| {
        t.tuple_element_types()
            .map(<[Type]>::to_vec)
            .unwrap_or_default()
    };
    let first = elems(&types[0]);
    if types.iter().all(|t| elems(t).len() == first.len()) {
        let mut out = Vec::with_capacity(first.len());
        for i in 0..first.len() {
            let across: Vec<Type> = types.iter().map(|t| elems(t)[i].clone()).collect();
            out.push(unify_with(&across, unsafe_)?);
        }
        return Some(Type::Tuple(out));
    }
    let all: Vec<Type> = types.iter().flat_map(elems).collect();
    if all.is_empty() {
        return Some(Type::list(Type::Dynamic));
    }
    let ety = unify_with(&all, unsafe_)?;
    let ret = Type::list(ety);
    if types.iter().all(|t| conversion_exists(t, &ret, unsafe_)) {
        Some(ret)
    } else {
        None
    }
}

/// -1 if `a` is more general than `b`, 1 if less, 0 if unrelated/equal.
fn compare_generality(a: &Type, b: &Type) -> i32 {
    match (a, b) {
        (Type::Dynamic, Type::Dynamic) => 0,
        (Type::Dynamic, _) => 1,
        (_, Type::Dynamic) => -1,
        (Type::String, t) if t.is_primitive() && t != &Type::String => -1,
        (t, Type::String) if t.is_primitive() && t != &Type::String => 1,
        (Type::List(x), Type::List(y))
        | (Type::Set(x), Type::Set(y))
        | (Type::Map(x), Type::Map(y)) => compare_generality(x, y),
        (Type::List(_), Type::Tuple(_)) | (Type::Map(_), Type::Object { .. }) => -1,
        (Type::Tuple(_), Type::List(_)) | (Type::Object { .. }, Type::Map(_)) => 1,
        (Type::Set(_), Type::Tuple(_)) => -1,
        (Type::Tuple(_), Type::Set(_)) => 1,
        (Type::List(_), Type::Set(_)) => -1,
        (Type::Set(_), Type::List(_)) => 1,
        _ => 0,
    }
}

/// Types ordered most general first (a topological order of the
/// "more general than" relation, ties in input order).
fn preference_order(types: &[Type]) -> Vec<Type> {
    let n = types.len();
    let mut indeg = vec![0usize; n];
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for j in (i + 1)..n {
            match compare_generality(&types[i], &types[j]).cmp(&0) {
                Ordering::Less => {
                    edges[i].push(j);
                    indeg[j] += 1;
                }
                Ordering::Greater => {
                    edges[j].push(i);
                    indeg[i] += 1;
                }
                Ordering::Equal => {}
            }
        }
    }
    let mut out = Vec::with_capacity(n);
    let mut done = vec![false; n];
    while out.len() < n {
        let Some(i) = (0..n).find(|&i| !done[i] && indeg[i] == 0) else {
            // cycle (should not happen): append the rest in order
            for (i, t) in types.iter().enumerate() {
                if !done[i] {
                    out.push(t.clone());
                }
            }
            break;
        };
        done[i] = true;
        out.push(types[i].clone());
        for &j in &edges[i] {
            indeg[j] = indeg[j].saturating_sub(1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format_console;

    fn n(s: &str) -> Value {
        Value::number(Number::parse(s).unwrap())
    }
    fn s(x: &str) -> Value {
        Value::string(x)
    }
    fn obj(attrs: Vec<(&str, Value)>) -> Value {
        Value::object_from(attrs)
    }

    #[test]
    fn primitives() {
        assert_eq!(
            convert(&n("1.5"), &Type::String).unwrap().as_str(),
            Some("1.5")
        );
        assert_eq!(
            convert(&Value::bool(true), &Type::String).unwrap().as_str(),
            Some("true")
        );
        assert_eq!(
            convert(&s("1e3"), &Type::Number)
                .unwrap()
                .as_number()
                .unwrap()
                .to_text(),
            "1000"
        );
        let e = convert(&s("0x10"), &Type::Number).unwrap_err();
        assert_eq!(e.to_string(), "a number is required");
        let e = convert(&s("yes"), &Type::Bool).unwrap_err();
        assert_eq!(e.to_string(), "a bool is required");
        assert_eq!(
            convert(&s("false"), &Type::Bool).unwrap().as_bool(),
            Some(false)
        );
        let e = convert(&Value::bool(true), &Type::Number).unwrap_err();
        assert_eq!(e.to_string(), "number required");
        let e = convert(&Value::tuple(vec![n("1")]), &Type::Number).unwrap_err();
        assert_eq!(e.to_string(), "number required");
        assert!(convert_safe(&s("1"), &Type::Number).is_err());
    }

    #[test]
    fn null_unknown_passthrough() {
        let v = convert(&Value::null_dynamic(), &Type::String).unwrap();
        assert!(v.is_null());
        assert_eq!(v.ty(), &Type::String);
        let v = convert(&Value::unknown(Type::String), &Type::Number).unwrap();
        assert!(!v.is_known());
        assert_eq!(v.ty(), &Type::Number);
        let v = convert(&Value::unknown_dynamic(), &Type::list(Type::String)).unwrap();
        assert_eq!(v.ty(), &Type::list(Type::String));
        let v = convert(&s("5").mark_sensitive(), &Type::Number).unwrap();
        assert!(v.is_sensitive());
    }

    #[test]
    fn oracle_tolist_toset_tomap() {
        let any_list = Type::list(Type::Dynamic);
        let t = Value::tuple(vec![s("a"), n("1")]);
        assert_eq!(
            format_console(&convert(&t, &any_list).unwrap()),
            "tolist([\n  \"a\",\n  \"1\",\n])"
        );
        let t = Value::tuple(vec![n("1"), Value::bool(true)]);
        assert_eq!(
            convert(&t, &any_list).unwrap_err().to_string(),
            "all list elements must have the same type"
        );
        let t = Value::tuple(vec![obj(vec![("a", n("1"))]), obj(vec![("b", n("2"))])]);
        assert_eq!(
            format_console(&convert(&t, &any_list).unwrap()),
            "tolist([\n  tomap({\n    \"a\" = 1\n  }),\n  tomap({\n    \"b\" = 2\n  }),\n])"
        );
        let t = Value::tuple(vec![Value::tuple(vec![n("1")]), Value::tuple(vec![s("a")])]);
        assert_eq!(
            format_console(&convert(&t, &any_list).unwrap()),
            "tolist([\n  [\n    \"1\",\n  ],\n  [\n    \"a\",\n  ],\n])"
        );
        let t = Value::tuple(vec![s("a"), Value::null_dynamic()]);
        assert_eq!(
            format_console(&convert(&t, &any_list).unwrap()),
            "tolist([\n  \"a\",\n  tostring(null),\n])"
        );
        let t = Value::tuple(vec![Value::null_dynamic(), n("10")]);
        assert_eq!(
            format_console(&convert(&t, &any_list).unwrap()),
            "tolist([\n  tonumber(null),\n  10,\n])"
        );
        let t = Value::tuple(vec![Value::null_dynamic(), Value::empty_tuple()]);
        assert!(convert(&t, &any_list).is_err());
        let t = Value::tuple(vec![Value::null_dynamic(), obj(vec![("env", s("app"))])]);
        assert!(convert(&t, &any_list).is_err());
        let t = Value::tuple(vec![Value::null_dynamic()]);
        assert_eq!(
            format_console(&convert(&t, &any_list).unwrap()),
            "tolist([\n  null,\n])"
        );
        let set = convert(
            &Value::tuple(vec![n("1"), s("1")]),
            &Type::set(Type::Dynamic),
        )
        .unwrap();
        assert_eq!(format_console(&set), "toset([\n  \"1\",\n])");
        let set = convert(
            &Value::tuple(vec![n("1.5"), n("-1"), n("0")]),
            &Type::set(Type::Dynamic),
        )
        .unwrap();
        assert_eq!(format_console(&set), "toset([\n  -1,\n  0,\n  1.5,\n])");
        let m = convert(
            &obj(vec![("a", n("1")), ("b", s("x"))]),
            &Type::map(Type::Dynamic),
        )
        .unwrap();
        assert_eq!(
            format_console(&m),
            "tomap({\n  \"a\" = \"1\"\n  \"b\" = \"x\"\n})"
        );
        let m = convert(
            &obj(vec![
                ("id", obj(vec![("env", s("x"))])),
                ("count", Value::null_dynamic()),
            ]),
            &Type::map(Type::Dynamic),
        )
        .unwrap();
        assert_eq!(
            format_console(&m),
            "tomap({\n  \"count\" = null /* object */\n  \"id\" = {\n    \"env\" = \"x\"\n  }\n})"
        );
        let m = convert(&Value::empty_object(), &Type::map(Type::Dynamic)).unwrap();
        assert_eq!(format_console(&m), "tomap({})");
        let l = convert(&Value::empty_tuple(), &any_list).unwrap();
        assert_eq!(format_console(&l), "tolist([])");
        // list -> list(any) keeps element type
        let l = Value::list(Type::String, vec![s("x")]);
        assert_eq!(
            convert(&l, &any_list).unwrap().ty(),
            &Type::list(Type::String)
        );
        // map of number -> list(any): static mismatch
        let m = Value::map(
            Type::Number,
            [("a".to_string(), n("1"))].into_iter().collect(),
        );
        assert!(convert(&m, &any_list).is_err());
        // nested tolist of tuples containing mixed: [[..strings..], [4294967296]]
        let t = Value::tuple(vec![
            Value::tuple(vec![s("a,b,c"), s("/path")]),
            Value::tuple(vec![n("4294967296")]),
        ]);
        assert_eq!(
            format_console(&convert(&t, &any_list).unwrap()),
            "tolist([\n  tolist([\n    \"a,b,c\",\n    \"/path\",\n  ]),\n  tolist([\n    \"4294967296\",\n  ]),\n])"
        );
    }

    #[test]
    fn messages() {
        let got = Type::tuple(vec![Type::tuple(vec![Type::Number])]);
        assert_eq!(
            mismatch_message(&got, &Type::list(Type::String)),
            "element 0: string required"
        );
        assert_eq!(
            mismatch_message(&Type::String, &Type::list(Type::String)),
            "list of string required"
        );
        let want = Type::object([("foo", Type::String), ("bar", Type::Number)]);
        assert_eq!(
            mismatch_message(&Type::object([("bar", Type::Number)]), &want),
            "attribute \"foo\" is required"
        );
        assert_eq!(
            mismatch_message(&Type::empty_object(), &want),
            "attributes \"bar\" and \"foo\" are required"
        );
        let want3 = Type::object([
            ("a", Type::String),
            ("b", Type::String),
            ("c", Type::String),
        ]);
        assert_eq!(
            mismatch_message(&Type::empty_object(), &want3),
            "attributes \"a\", \"b\", and \"c\" are required"
        );
        assert_eq!(
            mismatch_message(
                &Type::object([("a", Type::tuple(vec![]))]),
                &Type::object([("a", Type::String)])
            ),
            "attribute \"a\": string required"
        );
        assert_eq!(
            mismatch_message(&Type::list(Type::Bool), &Type::list(Type::Number)),
            "incorrect list element type: number required"
        );
        let e = convert(
            &obj(vec![("a", s("x"))]),
            &Type::object([("a", Type::Number)]),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), ".a: a number is required");
        let e = convert(
            &Value::tuple(vec![n("1"), s("z")]),
            &Type::list(Type::Number),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "[1]: a number is required");
        assert_eq!(e.message, "a number is required");
    }

    #[test]
    fn objects() {
        let want = Type::object_with_optional([("a", Type::String), ("b", Type::Number)], ["b"]);
        let v = convert(&obj(vec![("a", n("1")), ("z", Value::bool(true))]), &want).unwrap();
        assert_eq!(
            format_console(&v),
            "{\n  \"a\" = \"1\"\n  \"b\" = tonumber(null)\n}"
        );
        assert_eq!(
            v.ty(),
            &Type::object([("a", Type::String), ("b", Type::Number)])
        );
        let m = Value::map(
            Type::String,
            [("a".to_string(), s("x"))].into_iter().collect(),
        );
        let v = convert(&m, &Type::object([("a", Type::String)])).unwrap();
        assert_eq!(v.ty(), &Type::object([("a", Type::String)]));
        assert!(convert_safe(&m, &Type::object([("a", Type::String)])).is_err());
    }

    #[test]
    fn unification() {
        assert_eq!(unify(&[Type::Number, Type::String]), Some(Type::String));
        assert_eq!(unify(&[Type::Bool, Type::String]), Some(Type::String));
        assert_eq!(unify(&[Type::Number, Type::Bool]), None);
        assert_eq!(unify(&[Type::Dynamic, Type::Number]), Some(Type::Number));
        assert_eq!(
            unify_safe(&[Type::Dynamic, Type::Number]),
            Some(Type::Dynamic)
        );
        // true ? [1] : []
        assert_eq!(
            unify(&[Type::tuple(vec![Type::Number]), Type::tuple(vec![])]),
            Some(Type::list(Type::Number))
        );
        // true ? {a = 1} : {b = 2}
        assert_eq!(
            unify(&[
                Type::object([("a", Type::Number)]),
                Type::object([("b", Type::Number)])
            ]),
            Some(Type::map(Type::Number))
        );
        // true ? {a = 1} : {a = "x"}
        assert_eq!(
            unify(&[
                Type::object([("a", Type::Number)]),
                Type::object([("a", Type::String)])
            ]),
            Some(Type::object([("a", Type::String)]))
        );
        assert_eq!(unify(&[Type::tuple(vec![]), Type::empty_object()]), None);
        // true ? ["db", true] : [[...]]
        assert_eq!(
            unify(&[
                Type::tuple(vec![Type::String, Type::Bool]),
                Type::tuple(vec![Type::tuple(vec![Type::Number])])
            ]),
            None
        );
        assert_eq!(
            unify(&[
                Type::tuple(vec![Type::String, Type::String, Type::String]),
                Type::tuple(vec![Type::Number])
            ]),
            Some(Type::list(Type::String))
        );
        assert_eq!(
            unify(&[Type::list(Type::Number), Type::tuple(vec![])]),
            Some(Type::list(Type::Number))
        );
        assert_eq!(
            unify(&[Type::set(Type::Number), Type::set(Type::Dynamic)]),
            Some(Type::set(Type::Number))
        );
        assert_eq!(
            unify(&[Type::set(Type::Number), Type::Dynamic]),
            Some(Type::Dynamic)
        );
        assert_eq!(unify(&[Type::Number, Type::list(Type::Number)]), None);
        assert_eq!(unify(&[]), None);
    }
}
