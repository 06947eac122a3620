//! Values: known, null or unknown values of any [`Type`], with marks.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

use crate::number::Number;
use crate::path::{Path, PathStep};
use crate::Type;

/// One kind of mark that can be attached to a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mark {
    /// The value is sensitive and must not be displayed.
    Sensitive,
    /// The value is ephemeral (must not be persisted).
    Ephemeral,
}

impl Mark {
    fn bit(self) -> u8 {
        match self {
            Mark::Sensitive => 1,
            Mark::Ephemeral => 2,
        }
    }
}

/// A (small, copyable) set of [`Mark`]s.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Marks(u8);

impl Marks {
    /// No marks.
    pub const NONE: Marks = Marks(0);
    /// Just the sensitive mark.
    pub const SENSITIVE: Marks = Marks(1);

    /// The set containing only `m`.
    pub fn of(m: Mark) -> Marks {
        Marks(m.bit())
    }

    /// True if there are no marks.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True if `m` is in the set.
    pub fn contains(self, m: Mark) -> bool {
        self.0 & m.bit() != 0
    }

    /// Union of two sets.
    pub fn union(self, other: Marks) -> Marks {
        Marks(self.0 | other.0)
    }

    /// This set with `m` added.
    pub fn with(self, m: Mark) -> Marks {
        Marks(self.0 | m.bit())
    }

    /// The individual marks.
    pub fn iter(self) -> impl Iterator<Item = Mark> {
        [Mark::Sensitive, Mark::Ephemeral]
            .into_iter()
            .filter(move |m| self.contains(*m))
    }
}

impl fmt::Debug for Marks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// Marks attached at a path inside a value (see [`Value::unmark_deep`]).
#[derive(Clone, Debug, PartialEq)]
pub struct PathMarks {
    /// Where the marks were.
    pub path: Path,
    /// The marks.
    pub marks: Marks,
}

#[derive(Clone)]
enum Repr {
    Null,
    Unknown,
    Bool(bool),
    /// Boxed: a number is larger than the other variants, and every value
    /// would pay for it.
    Number(Box<Number>),
    String(String),
    /// List, set or tuple elements (set elements in canonical order).
    Seq(Vec<Value>),
    /// Map elements or object attributes.
    Map(ValueMap),
}

struct Inner {
    ty: Type,
    repr: Repr,
}

/// A value of some [`Type`]: known, null or unknown, possibly marked.
/// Cloning is cheap (reference counted).
#[derive(Clone)]
pub struct Value {
    inner: Arc<Inner>,
    marks: Marks,
}

/// A borrowed view of a value's content, for matching.
#[derive(Clone, Copy, Debug)]
pub enum Kind<'a> {
    /// Null (of [`Value::ty`]).
    Null,
    /// Unknown (of [`Value::ty`]).
    Unknown,
    /// Known bool.
    Bool(bool),
    /// Known number.
    Number(&'a Number),
    /// Known string.
    String(&'a str),
    /// Known list.
    List(&'a [Value]),
    /// Known set (canonical order).
    Set(&'a [Value]),
    /// Known tuple.
    Tuple(&'a [Value]),
    /// Known map.
    Map(&'a ValueMap),
    /// Known object.
    Object(&'a ValueMap),
}

thread_local! {
    /// Object types this thread derived recently, most recent first. The
    /// instances of one resource are objects of one type: sharing it saves
    /// an allocation per value (and the memory it holds) for all but the
    /// first.
    static RECENT_OBJECT_TYPES: RefCell<Vec<Type>> = const { RefCell::new(Vec::new()) };
}

/// How many recently derived object types are kept per thread.
const RECENT_OBJECT_TYPES_MAX: usize = 8;

/// The type of an object with these attributes: a recently derived equal
/// type when there is one (shared), else a new one.
fn object_type_of(attrs: &ValueMap) -> Type {
    let matches = |t: &Type| match t {
        Type::Object {
            attrs: want,
            optional,
        } => {
            optional.is_empty()
                && want.len() == attrs.len()
                && want
                    .iter()
                    .zip(attrs.iter())
                    .all(|((wk, wt), (k, v))| wk == k && wt == v.ty())
        }
        _ => false,
    };
    let derive = || Type::object(attrs.iter().map(|(k, v)| (k.clone(), v.ty().clone())));
    RECENT_OBJECT_TYPES
        .try_with(|cell| {
            let Ok(mut recent) = cell.try_borrow_mut() else {
                return derive();
            };
            if let Some(i) = recent.iter().position(matches) {
                recent[..=i].rotate_right(1);
                return recent[0].clone();
            }
            let ty = derive();
            recent.insert(0, ty.clone());
            recent.truncate(RECENT_OBJECT_TYPES_MAX);
            ty
        })
        .unwrap_or_else(|_| derive())
}

fn nfc(s: String) -> String {
    if s.is_ascii() || is_nfc_quick(s.chars()) == IsNormalized::Yes {
        s
    } else {
        s.nfc().collect()
    }
}

impl Value {
    fn make(ty: Type, repr: Repr) -> Value {
        Value {
            inner: Arc::new(Inner { ty, repr }),
            marks: Marks::NONE,
        }
    }

    /// Null of the given type.
    pub fn null(ty: Type) -> Value {
        Value::make(ty, Repr::Null)
    }

    /// Null of the dynamic pseudo-type (the literal `null`).
    pub fn null_dynamic() -> Value {
        Value::null(Type::Dynamic)
    }

    /// Unknown ("known after apply") value of the given type.
    pub fn unknown(ty: Type) -> Value {
        Value::make(ty, Repr::Unknown)
    }

    /// Unknown value of unknown type.
    pub fn unknown_dynamic() -> Value {
        Value::unknown(Type::Dynamic)
    }

    /// A bool.
    pub fn bool(b: bool) -> Value {
        Value::make(Type::Bool, Repr::Bool(b))
    }

    /// `true`.
    pub fn r#true() -> Value {
        Value::bool(true)
    }

    /// `false`.
    pub fn r#false() -> Value {
        Value::bool(false)
    }

    /// A number.
    pub fn number(n: Number) -> Value {
        Value::make(Type::Number, Repr::Number(Box::new(n)))
    }

    /// A number from an integer (precision 64, as go-cty's `NumberIntVal`).
    pub fn from_i64(v: i64) -> Value {
        Value::number(Number::from_i64(v))
    }

    /// A number from an `f64` (precision 53); `None` for NaN.
    pub fn from_f64(v: f64) -> Option<Value> {
        Number::from_f64(v).map(Value::number)
    }

    /// A string; normalised to Unicode NFC as go-cty does.
    pub fn string(s: impl Into<String>) -> Value {
        Value::make(Type::String, Repr::String(nfc(s.into())))
    }

    /// A list with element type `ety`. Elements must have type `ety`
    /// (null/unknown elements are re-typed); use
    /// [`crate::convert::convert`] to build lists from arbitrary values.
    pub fn list(ety: Type, elems: Vec<Value>) -> Value {
        let elems = retype_elems(&ety, elems);
        Value::make(Type::list(ety), Repr::Seq(elems))
    }

    /// The empty list of `ety`.
    pub fn list_empty(ety: Type) -> Value {
        Value::list(ety, Vec::new())
    }

    /// A set with element type `ety`: duplicates are removed and elements
    /// put in go-cty's canonical order; element marks move to the set.
    pub fn set(ety: Type, elems: Vec<Value>) -> Value {
        let mut marks = Marks::NONE;
        let elems: Vec<Value> = retype_elems(&ety, elems)
            .into_iter()
            .map(|e| {
                let (u, m) = e.unmark_deep();
                for pm in m {
                    marks = marks.union(pm.marks);
                }
                u
            })
            .collect();
        let elems = crate::set::canonicalize(elems);
        Value::make(Type::set(ety), Repr::Seq(elems)).with_marks(marks)
    }

    /// The empty set of `ety`.
    pub fn set_empty(ety: Type) -> Value {
        Value::set(ety, Vec::new())
    }

    /// A map with element type `ety` (elements must have that type).
    pub fn map(ety: Type, elems: BTreeMap<String, Value>) -> Value {
        let elems: ValueMap = elems
            .into_iter()
            .map(|(k, v)| (nfc(k), retype(&ety, v)))
            .collect();
        Value::make(Type::map(ety), Repr::Map(elems))
    }

    /// The empty map of `ety`.
    pub fn map_empty(ety: Type) -> Value {
        Value::map(ety, BTreeMap::new())
    }

    /// A tuple; its type is derived from the elements.
    pub fn tuple(elems: Vec<Value>) -> Value {
        let ty = Type::Tuple(elems.iter().map(|e| e.ty().clone()).collect());
        Value::make(ty, Repr::Seq(elems))
    }

    /// The empty tuple.
    pub fn empty_tuple() -> Value {
        Value::tuple(Vec::new())
    }

    /// An object; its type is derived from the attributes.
    pub fn object(attrs: BTreeMap<String, Value>) -> Value {
        let attrs: ValueMap = attrs.into_iter().map(|(k, v)| (nfc(k), v)).collect();
        let ty = object_type_of(&attrs);
        Value::make(ty, Repr::Map(attrs))
    }

    /// An object expected to be of type `ty` (decoded or converted to it):
    /// when the attributes' types are exactly `ty`'s, the value shares `ty`
    /// instead of deriving a copy (objects are the bulk of a large state);
    /// otherwise as [`Value::object`].
    pub fn object_typed(ty: &Type, attrs: BTreeMap<String, Value>) -> Value {
        if let Type::Object {
            attrs: want,
            optional,
        } = ty
        {
            let same = optional.is_empty()
                && want.len() == attrs.len()
                && want
                    .iter()
                    .zip(&attrs)
                    .all(|((wk, wt), (k, v))| wk == k && v.ty() == wt);
            if same {
                let attrs: ValueMap = attrs.into_iter().map(|(k, v)| (nfc(k), v)).collect();
                return Value::make(ty.clone(), Repr::Map(attrs));
            }
        }
        Value::object(attrs)
    }

    /// An object from `(name, value)` pairs (later duplicates win).
    pub fn object_from<I, K>(attrs: I) -> Value
    where
        I: IntoIterator<Item = (K, Value)>,
        K: Into<String>,
    {
        Value::object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The empty object.
    pub fn empty_object() -> Value {
        Value::object(BTreeMap::new())
    }

    /// The value's type.
    pub fn ty(&self) -> &Type {
        &self.inner.ty
    }

    /// A view of the content for matching.
    pub fn kind(&self) -> Kind<'_> {
        match &self.inner.repr {
            Repr::Null => Kind::Null,
            Repr::Unknown => Kind::Unknown,
            Repr::Bool(b) => Kind::Bool(*b),
            Repr::Number(n) => Kind::Number(n),
            Repr::String(s) => Kind::String(s),
            Repr::Seq(es) => match self.ty() {
                Type::List(_) => Kind::List(es),
                Type::Set(_) => Kind::Set(es),
                _ => Kind::Tuple(es),
            },
            Repr::Map(m) => match self.ty() {
                Type::Map(_) => Kind::Map(m),
                _ => Kind::Object(m),
            },
        }
    }

    /// True if null (at the top level).
    pub fn is_null(&self) -> bool {
        matches!(self.inner.repr, Repr::Null)
    }

    /// True unless the value itself is unknown (nested values may be).
    pub fn is_known(&self) -> bool {
        !matches!(self.inner.repr, Repr::Unknown)
    }

    /// True if neither the value nor anything nested in it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match &self.inner.repr {
            Repr::Unknown => false,
            Repr::Seq(es) => es.iter().all(Value::is_wholly_known),
            Repr::Map(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// True if the type is known all the way down: no `Dynamic` in the type
    /// of the value or of any nested value.
    pub fn has_wholly_known_type(&self) -> bool {
        if self.ty().is_dynamic() {
            return false;
        }
        match &self.inner.repr {
            Repr::Seq(es) => es.iter().all(Value::has_wholly_known_type),
            Repr::Map(m) => m.values().all(Value::has_wholly_known_type),
            _ => !self.ty().has_dynamic() || self.is_null(),
        }
    }

    /// The bool, if this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self.inner.repr {
            Repr::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The number, if this is a known number.
    pub fn as_number(&self) -> Option<&Number> {
        match &self.inner.repr {
            Repr::Number(n) => Some(&**n),
            _ => None,
        }
    }

    /// The string, if this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.inner.repr {
            Repr::String(s) => Some(s),
            _ => None,
        }
    }

    /// Elements of a known list, set or tuple.
    pub fn as_seq(&self) -> Option<&[Value]> {
        match &self.inner.repr {
            Repr::Seq(es) => Some(es),
            _ => None,
        }
    }

    /// Elements of a known map or attributes of a known object.
    pub fn as_map(&self) -> Option<&ValueMap> {
        match &self.inner.repr {
            Repr::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Number of elements/attributes of a known collection or structural
    /// value (`None` for anything else, including strings).
    pub fn length(&self) -> Option<usize> {
        match &self.inner.repr {
            Repr::Seq(es) => Some(es.len()),
            Repr::Map(m) => Some(m.len()),
            _ => None,
        }
    }

    /// An attribute of a known object (or an element of a known map).
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        self.as_map()?.get(name)
    }

    /// Element `i` of a known list/tuple (or set, in canonical order).
    pub fn get_index(&self, i: usize) -> Option<&Value> {
        self.as_seq()?.get(i)
    }

    /// Applies a path (see [`Path::apply`]).
    pub fn get_path(&self, path: &Path) -> Result<Value, crate::path::PathError> {
        path.apply(self)
    }

    // ----- marks -----

    /// The marks directly on this value.
    pub fn marks(&self) -> Marks {
        self.marks
    }

    /// True if this value (top level) carries any mark.
    pub fn is_marked(&self) -> bool {
        !self.marks.is_empty()
    }

    /// True if this value (top level) is marked sensitive.
    pub fn is_sensitive(&self) -> bool {
        self.marks.contains(Mark::Sensitive)
    }

    /// True if this value or anything nested in it carries a mark.
    pub fn has_marks_deep(&self) -> bool {
        self.is_marked()
            || match &self.inner.repr {
                Repr::Seq(es) => es.iter().any(Value::has_marks_deep),
                Repr::Map(m) => m.values().any(Value::has_marks_deep),
                _ => false,
            }
    }

    /// This value marked sensitive.
    pub fn mark_sensitive(&self) -> Value {
        self.mark(Mark::Sensitive)
    }

    /// This value with `m` added to its marks.
    pub fn mark(&self, m: Mark) -> Value {
        self.with_marks(Marks::of(m))
    }

    /// This value with `marks` added to its marks.
    pub fn with_marks(&self, marks: Marks) -> Value {
        Value {
            inner: self.inner.clone(),
            marks: self.marks.union(marks),
        }
    }

    /// The value without its top-level marks, and those marks.
    pub fn unmark(&self) -> (Value, Marks) {
        (
            Value {
                inner: self.inner.clone(),
                marks: Marks::NONE,
            },
            self.marks,
        )
    }

    /// The value with all marks removed at every level, plus the paths at
    /// which marks were found.
    pub fn unmark_deep(&self) -> (Value, Vec<PathMarks>) {
        let mut out = Vec::new();
        let mut path = Path::root();
        let v = self.unmark_deep_into(&mut path, &mut out);
        (v, out)
    }

    /// The value with all marks removed at every level.
    pub fn unmark_deep_value(&self) -> Value {
        if !self.has_marks_deep() {
            return self.clone();
        }
        self.unmark_deep().0
    }

    /// Union of all marks at every level.
    pub fn marks_deep(&self) -> Marks {
        let mut m = self.marks;
        match &self.inner.repr {
            Repr::Seq(es) => es.iter().for_each(|e| m = m.union(e.marks_deep())),
            Repr::Map(mm) => mm.values().for_each(|e| m = m.union(e.marks_deep())),
            _ => {}
        }
        m
    }

    fn unmark_deep_into(&self, path: &mut Path, out: &mut Vec<PathMarks>) -> Value {
        if !self.marks.is_empty() {
            out.push(PathMarks {
                path: path.clone(),
                marks: self.marks,
            });
        }
        match &self.inner.repr {
            Repr::Seq(es) if es.iter().any(Value::has_marks_deep) => {
                let is_set = matches!(self.ty(), Type::Set(_));
                let new: Vec<Value> = es
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        let key = if is_set {
                            e.unmark_deep_value()
                        } else {
                            Value::from_i64(i as i64)
                        };
                        path.push(PathStep::Index(key));
                        let v = e.unmark_deep_into(path, out);
                        path.pop();
                        v
                    })
                    .collect();
                Value::make(self.ty().clone(), Repr::Seq(new))
            }
            Repr::Map(m) if m.values().any(Value::has_marks_deep) => {
                let is_obj = matches!(self.ty(), Type::Object { .. });
                let new: ValueMap = m
                    .iter()
                    .map(|(k, e)| {
                        path.push(if is_obj {
                            PathStep::GetAttr(k.clone())
                        } else {
                            PathStep::Index(Value::string(k.clone()))
                        });
                        let v = e.unmark_deep_into(path, out);
                        path.pop();
                        (k.clone(), v)
                    })
                    .collect();
                Value::make(self.ty().clone(), Repr::Map(new))
            }
            _ => Value {
                inner: self.inner.clone(),
                marks: Marks::NONE,
            },
        }
    }

    /// Re-applies marks collected by [`Value::unmark_deep`]. Paths that do
    /// not exist in this value are ignored; marks under a set element go on
    /// the set.
    pub fn mark_with_paths(&self, pms: &[PathMarks]) -> Value {
        let mut v = self.clone();
        for pm in pms {
            v = v.mark_at(pm.path.steps(), pm.marks);
        }
        v
    }

    fn mark_at(&self, steps: &[PathStep], marks: Marks) -> Value {
        let Some((first, rest)) = steps.split_first() else {
            return self.with_marks(marks);
        };
        match (&self.inner.repr, first) {
            (Repr::Seq(es), PathStep::Index(k)) => {
                if matches!(self.ty(), Type::Set(_)) {
                    return self.with_marks(marks);
                }
                let Some(i) = k.as_number().and_then(|n| n.to_u64()) else {
                    return self.clone();
                };
                let i = i as usize;
                if i >= es.len() {
                    return self.clone();
                }
                let mut new = es.clone();
                new[i] = new[i].mark_at(rest, marks);
                Value {
                    inner: Arc::new(Inner {
                        ty: self.ty().clone(),
                        repr: Repr::Seq(new),
                    }),
                    marks: self.marks,
                }
            }
            (Repr::Map(m), step) => {
                let key = match step {
                    PathStep::GetAttr(n) => n.as_str(),
                    PathStep::Index(k) => match k.as_str() {
                        Some(s) => s,
                        None => return self.clone(),
                    },
                };
                let Some(e) = m.get(key) else {
                    return self.clone();
                };
                let mut new = m.clone();
                let marked = e.mark_at(rest, marks);
                new.insert(key.to_string(), marked);
                Value {
                    inner: Arc::new(Inner {
                        ty: self.ty().clone(),
                        repr: Repr::Map(new),
                    }),
                    marks: self.marks,
                }
            }
            _ => self.clone(),
        }
    }

    // ----- equality -----

    /// Structural identity: same type, same known/null state, same marks and
    /// raw-equal content (numbers compare numerically).
    pub fn raw_equal(&self, other: &Value) -> bool {
        if self.marks != other.marks || self.ty() != other.ty() {
            return false;
        }
        if Arc::ptr_eq(&self.inner, &other.inner) {
            return true;
        }
        match (&self.inner.repr, &other.inner.repr) {
            (Repr::Null, Repr::Null) | (Repr::Unknown, Repr::Unknown) => true,
            (Repr::Bool(a), Repr::Bool(b)) => a == b,
            (Repr::Number(a), Repr::Number(b)) => a == b,
            (Repr::String(a), Repr::String(b)) => a == b,
            (Repr::Seq(a), Repr::Seq(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.raw_equal(y))
            }
            (Repr::Map(a), Repr::Map(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|((ka, va), (kb, vb))| ka == kb && va.raw_equal(vb))
            }
            _ => false,
        }
    }

    /// The `==` operator with go-cty semantics: a bool value that is
    /// unknown when the answer depends on unknown values; nulls of any type
    /// are equal to each other; marks of both operands go on the result.
    pub fn equals(&self, other: &Value) -> Value {
        let marks = self.marks.union(other.marks);
        let r = match self.equals_inner(other) {
            Some(b) => Value::bool(b),
            None => Value::unknown(Type::Bool),
        };
        r.with_marks(marks)
    }

    /// Known result of [`Value::equals`] ignoring marks (`None` = unknown).
    fn equals_inner(&self, other: &Value) -> Option<bool> {
        let (ak, bk) = (self.is_known(), other.is_known());
        if !ak && !bk {
            return None;
        }
        if ak != bk {
            let (known, unknown) = if ak { (self, other) } else { (other, self) };
            if known.is_null() || unknown.ty().has_dynamic() {
                return None;
            }
            if known.ty() != unknown.ty() {
                return Some(false);
            }
            return None;
        }
        match (self.is_null(), other.is_null()) {
            (true, true) => return Some(true),
            (true, false) | (false, true) => return Some(false),
            _ => {}
        }
        if !self.has_wholly_known_type() || !other.has_wholly_known_type() {
            if !self.ty().conforms_to(other.ty())
                && !other.ty().conforms_to(self.ty())
                && !types_could_match(self.ty(), other.ty())
            {
                return Some(false);
            }
            return None;
        }
        if self.ty() != other.ty() {
            return Some(false);
        }
        match (&self.inner.repr, &other.inner.repr) {
            (Repr::Bool(a), Repr::Bool(b)) => Some(a == b),
            (Repr::Number(a), Repr::Number(b)) => Some(a == b),
            (Repr::String(a), Repr::String(b)) => Some(a == b),
            (Repr::Seq(a), Repr::Seq(b)) if matches!(self.ty(), Type::Set(_)) => {
                if a.iter().chain(b.iter()).any(|e| !e.is_known()) {
                    return None;
                }
                let contains = |s: &[Value], x: &Value| {
                    s.iter().any(|y| {
                        y.unmark_deep_value().equals_inner(&x.unmark_deep_value()) == Some(true)
                    })
                };
                Some(
                    a.len() == b.len()
                        && a.iter().all(|x| contains(b, x))
                        && b.iter().all(|x| contains(a, x)),
                )
            }
            (Repr::Seq(a), Repr::Seq(b)) => {
                if a.len() != b.len() {
                    return Some(false);
                }
                let mut result = true;
                for (x, y) in a.iter().zip(b) {
                    match x.equals_inner(y) {
                        None => return None,
                        Some(false) => {
                            result = false;
                            break;
                        }
                        Some(true) => {}
                    }
                }
                Some(result)
            }
            (Repr::Map(a), Repr::Map(b)) => {
                if a.len() != b.len() || a.keys().ne(b.keys()) {
                    return Some(false);
                }
                let mut result = true;
                for (x, y) in a.values().zip(b.values()) {
                    match x.equals_inner(y) {
                        None => return None,
                        Some(false) => {
                            result = false;
                            break;
                        }
                        Some(true) => {}
                    }
                }
                Some(result)
            }
            _ => Some(false),
        }
    }

    /// Numeric comparison of two known numbers (`None` if either is not a
    /// known number).
    pub fn cmp_number(&self, other: &Value) -> Option<Ordering> {
        Some(self.as_number()?.cmp(other.as_number()?))
    }
}

/// Whether two types containing `Dynamic` could become equal once known.
fn types_could_match(a: &Type, b: &Type) -> bool {
    match (a, b) {
        (Type::Dynamic, _) | (_, Type::Dynamic) => true,
        (Type::List(x), Type::List(y))
        | (Type::Set(x), Type::Set(y))
        | (Type::Map(x), Type::Map(y)) => types_could_match(x, y),
        (Type::Object { attrs: x, .. }, Type::Object { attrs: y, .. }) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, t)| y.get(k).is_some_and(|u| types_could_match(t, u)))
        }
        (Type::Tuple(x), Type::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| types_could_match(p, q))
        }
        (x, y) => x == y,
    }
}

fn retype(ety: &Type, v: Value) -> Value {
    if v.ty() == ety || ety.is_dynamic() && !v.is_known() {
        return v;
    }
    match v.inner.repr {
        Repr::Null => Value::null(ety.clone()).with_marks(v.marks),
        Repr::Unknown => Value::unknown(ety.clone()).with_marks(v.marks),
        _ => v,
    }
}

fn retype_elems(ety: &Type, elems: Vec<Value>) -> Vec<Value> {
    elems.into_iter().map(|e| retype(ety, e)).collect()
}

/// Union of the marks of several values (for results of operations).
pub fn merged_marks<'a>(vals: impl IntoIterator<Item = &'a Value>) -> Marks {
    vals.into_iter()
        .fold(Marks::NONE, |m, v| m.union(v.marks()))
}

/// The elements of a known map or the attributes of a known object: name →
/// value, sorted by name.
///
/// An exactly-sized sorted vector rather than a `BTreeMap`, whose smallest
/// node holds eleven entries: resource instances are mostly small objects
/// and maps, and at tens of thousands of instances those mostly empty nodes
/// were the largest share of the process's memory. Read it like a map
/// (`get`, `iter`, `keys`, `values`, `len`); build values from a
/// `BTreeMap` as before, or `collect()` one.
#[derive(Clone, Default)]
pub struct ValueMap(Vec<(String, Value)>);

/// Iterator over `(name, value)` pairs of a [`ValueMap`], in name order.
pub type ValueMapIter<'a> = std::iter::Map<
    std::slice::Iter<'a, (String, Value)>,
    fn(&(String, Value)) -> (&String, &Value),
>;

impl ValueMap {
    fn pair(p: &(String, Value)) -> (&String, &Value) {
        (&p.0, &p.1)
    }

    fn search(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// An empty map.
    pub fn new() -> ValueMap {
        ValueMap(Vec::new())
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.search(key).ok().map(|i| &self.0[i].1)
    }

    /// Whether there is a value under `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.search(key).is_ok()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `(name, value)` pairs in name order.
    pub fn iter(&self) -> ValueMapIter<'_> {
        self.0
            .iter()
            .map(ValueMap::pair as fn(&(String, Value)) -> (&String, &Value))
    }

    /// Names in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator + Clone {
        self.0.iter().map(|(k, _)| k)
    }

    /// Values in name order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator + Clone {
        self.0.iter().map(|(_, v)| v)
    }

    /// Inserts or replaces the value under `key`; the previous value.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        match self.search(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    /// Removes and returns the value under `key`.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.search(key).ok().map(|i| self.0.remove(i).1)
    }

    /// A copy as a `BTreeMap`.
    pub fn to_btree_map(&self) -> BTreeMap<String, Value> {
        self.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

impl FromIterator<(String, Value)> for ValueMap {
    /// Sorts by name; of duplicate names the last wins (as inserting into a
    /// map).
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> ValueMap {
        let mut pairs: Vec<(String, Value)> = iter.into_iter().collect();
        if !pairs.windows(2).all(|w| w[0].0 < w[1].0) {
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            let mut deduped: Vec<(String, Value)> = Vec::with_capacity(pairs.len());
            for p in pairs {
                match deduped.last_mut() {
                    Some(last) if last.0 == p.0 => *last = p,
                    _ => deduped.push(p),
                }
            }
            pairs = deduped;
        }
        ValueMap(pairs)
    }
}

impl From<BTreeMap<String, Value>> for ValueMap {
    fn from(m: BTreeMap<String, Value>) -> ValueMap {
        ValueMap(m.into_iter().collect())
    }
}

impl From<ValueMap> for BTreeMap<String, Value> {
    fn from(m: ValueMap) -> BTreeMap<String, Value> {
        m.0.into_iter().collect()
    }
}

impl<'a> IntoIterator for &'a ValueMap {
    type Item = (&'a String, &'a Value);
    type IntoIter = ValueMapIter<'a>;
    fn into_iter(self) -> ValueMapIter<'a> {
        self.iter()
    }
}

impl IntoIterator for ValueMap {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl PartialEq for ValueMap {
    fn eq(&self, other: &ValueMap) -> bool {
        self.0 == other.0
    }
}

impl fmt::Debug for ValueMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl PartialEq for Value {
    /// Same as [`Value::raw_equal`].
    fn eq(&self, other: &Value) -> bool {
        self.raw_equal(other)
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind() {
            Kind::Null => write!(f, "null({:?})", self.ty())?,
            Kind::Unknown => write!(f, "unknown({:?})", self.ty())?,
            Kind::Bool(b) => write!(f, "{b}")?,
            Kind::Number(n) => write!(f, "{n}")?,
            Kind::String(s) => write!(f, "{s:?}")?,
            Kind::List(es) => write!(f, "list{es:?}")?,
            Kind::Set(es) => write!(f, "set{es:?}")?,
            Kind::Tuple(es) => write!(f, "tuple{es:?}")?,
            Kind::Map(m) => write!(f, "map{m:?}")?,
            Kind::Object(m) => write!(f, "object{m:?}")?,
        }
        if !self.marks.is_empty() {
            write!(f, "@{:?}", self.marks)?;
        }
        Ok(())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::string(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::string(s)
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Value {
        Value::number(n)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::from_i64(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_map_reads_like_a_sorted_map() {
        let mut m: ValueMap = [
            ("b".to_string(), Value::from_i64(1)),
            ("a".to_string(), Value::from_i64(2)),
            ("b".to_string(), Value::from_i64(3)),
        ]
        .into_iter()
        .collect();
        assert_eq!(m.keys().cloned().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(
            m.get("b"),
            Some(&Value::from_i64(3)),
            "the last duplicate wins"
        );
        assert!(m.insert("c".into(), Value::r#true()).is_none());
        assert_eq!(
            m.insert("a".into(), Value::r#false()),
            Some(Value::from_i64(2))
        );
        assert_eq!(m.remove("b"), Some(Value::from_i64(3)));
        assert_eq!(format!("{m:?}"), r#"{"a": false, "c": true}"#);
        assert_eq!(m.to_btree_map().len(), 2);
    }

    #[test]
    fn object_typed_shares_a_matching_type_only() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        let attrs: BTreeMap<String, Value> = [
            ("a".to_string(), Value::string("x")),
            ("b".to_string(), Value::from_i64(1)),
        ]
        .into_iter()
        .collect();
        let v = Value::object_typed(&ty, attrs.clone());
        assert_eq!(v.ty(), &ty);
        assert!(v.raw_equal(&Value::object(attrs.clone())));
        // A dynamic attribute in the wanted type: the value keeps the
        // concrete type of its attribute, as `Value::object` derives it.
        let dynamic = Type::object([("a", Type::String), ("b", Type::Dynamic)]);
        let v = Value::object_typed(&dynamic, attrs);
        assert_eq!(v.ty().attribute_type("b"), Some(&Type::Number));
    }

    fn n(s: &str) -> Value {
        Value::number(Number::parse(s).unwrap())
    }

    #[test]
    fn nfc_strings() {
        let v = Value::string("cafe\u{301}");
        assert_eq!(v.as_str(), Some("caf\u{e9}"));
    }

    #[test]
    fn equality() {
        assert_eq!(n("1").equals(&n("1.0")).as_bool(), Some(true));
        assert_eq!(n("1").equals(&Value::string("1")).as_bool(), Some(false));
        assert!(!n("1").equals(&Value::unknown(Type::Number)).is_known());
        assert_eq!(
            Value::null(Type::String)
                .equals(&Value::null(Type::Number))
                .as_bool(),
            Some(true)
        );
        assert_eq!(
            n("1").equals(&Value::unknown(Type::String)).as_bool(),
            Some(false)
        );
        let l1 = Value::tuple(vec![n("1"), Value::string("a")]);
        let l2 = Value::tuple(vec![n("1"), Value::string("a")]);
        assert_eq!(l1.equals(&l2).as_bool(), Some(true));
        let l3 = Value::tuple(vec![n("1"), Value::unknown(Type::String)]);
        assert!(!l1.equals(&l3).is_known());
        let l4 = Value::tuple(vec![n("2"), Value::unknown(Type::String)]);
        assert_eq!(l1.equals(&l4).as_bool(), Some(false));
        let s = n("1").mark_sensitive();
        let r = s.equals(&n("1"));
        assert_eq!(r.unmark().0.as_bool(), Some(true));
        assert!(r.is_sensitive());
    }

    #[test]
    fn marks_deep() {
        let v = Value::object_from([
            ("a", Value::string("x").mark_sensitive()),
            (
                "b",
                Value::tuple(vec![
                    Value::from_i64(1),
                    Value::from_i64(2).mark_sensitive(),
                ]),
            ),
        ]);
        assert!(!v.is_sensitive());
        assert!(v.has_marks_deep());
        let (u, pms) = v.unmark_deep();
        assert!(!u.has_marks_deep());
        assert_eq!(pms.len(), 2);
        assert_eq!(pms[0].path.to_string(), ".a");
        assert_eq!(pms[1].path.to_string(), ".b[1]");
        let back = u.mark_with_paths(&pms);
        assert!(back.raw_equal(&v));
    }

    #[test]
    fn sets_dedupe_and_sort() {
        let s = Value::set(
            Type::String,
            vec![
                Value::string("b"),
                Value::string("a"),
                Value::string("b"),
                Value::string("10"),
                Value::string("9"),
                Value::string("B"),
            ],
        );
        let got: Vec<&str> = s
            .as_seq()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(got, ["10", "9", "B", "a", "b"]);
        let s = Value::set(
            Type::Number,
            vec![n("1.5"), n("-1"), n("0"), n("-0"), n("1.5")],
        );
        let got: Vec<String> = s
            .as_seq()
            .unwrap()
            .iter()
            .map(|v| v.as_number().unwrap().to_text())
            .collect();
        assert_eq!(got, ["-1", "0", "1.5"]);
        let s = Value::set(
            Type::Bool,
            vec![Value::bool(true), Value::bool(false), Value::bool(true)],
        );
        assert_eq!(s.length(), Some(2));
        assert_eq!(s.get_index(0).unwrap().as_bool(), Some(false));
        // unknowns are never merged
        let s = Value::set(
            Type::String,
            vec![
                Value::unknown(Type::String),
                Value::unknown(Type::String),
                Value::string("a"),
            ],
        );
        assert_eq!(s.length(), Some(3));
        assert_eq!(s.get_index(0).unwrap().as_str(), Some("a"));
        // marks move to the set
        let s = Value::set(Type::String, vec![Value::string("a").mark_sensitive()]);
        assert!(s.is_sensitive());
        assert!(!s.get_index(0).unwrap().is_marked());
    }

    #[test]
    fn paths() {
        let v = Value::object_from([(
            "a",
            Value::list(Type::String, vec![Value::string("x"), Value::string("y")]),
        )]);
        let p = Path::root().attr("a").index_int(1);
        assert_eq!(v.get_path(&p).unwrap().as_str(), Some("y"));
        assert!(v.get_path(&Path::root().attr("b")).is_err());
        assert!(v.get_path(&Path::root().attr("a").index_int(5)).is_err());
        let u = Value::unknown(Type::object([("a", Type::list(Type::String))]));
        let r = u.get_path(&p).unwrap();
        assert!(!r.is_known());
        assert_eq!(r.ty(), &Type::String);
        assert_eq!(
            Path::root()
                .attr("a")
                .index_key("k")
                .index_int(0)
                .to_string(),
            ".a[\"k\"][0]"
        );
    }
}
