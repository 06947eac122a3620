//! Paths addressing nested values (attribute names and index keys).

use std::fmt;

use crate::value::{Kind, Value};
use crate::Type;

/// One step of a [`Path`].
#[derive(Clone, PartialEq)]
pub enum PathStep {
    /// `.name`: an object attribute.
    GetAttr(String),
    /// `[key]`: a list/tuple index (number), a map key (string) or a set
    /// element (the element value itself).
    Index(Value),
}

/// A path from a root value to a nested value.
#[derive(Clone, PartialEq, Default)]
pub struct Path(pub Vec<PathStep>);

/// Error applying a [`Path`] to a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathError {
    /// The prefix of the path at which the failure happened (inclusive).
    pub at: String,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.at, self.message)
        }
    }
}

impl std::error::Error for PathError {}

impl Path {
    /// The empty path (addresses the root value).
    pub fn root() -> Path {
        Path(Vec::new())
    }

    /// This path extended by `.name`.
    pub fn attr(mut self, name: impl Into<String>) -> Path {
        self.0.push(PathStep::GetAttr(name.into()));
        self
    }

    /// This path extended by `[i]`.
    pub fn index_int(mut self, i: i64) -> Path {
        self.0.push(PathStep::Index(Value::from_i64(i)));
        self
    }

    /// This path extended by `["key"]`.
    pub fn index_key(mut self, key: impl Into<String>) -> Path {
        self.0.push(PathStep::Index(Value::string(key.into())));
        self
    }

    /// This path extended by `[key]` for an arbitrary key value.
    pub fn index(mut self, key: Value) -> Path {
        self.0.push(PathStep::Index(key));
        self
    }

    /// Appends a step in place.
    pub fn push(&mut self, step: PathStep) {
        self.0.push(step);
    }

    /// Removes the last step.
    pub fn pop(&mut self) -> Option<PathStep> {
        self.0.pop()
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for the root path.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The steps.
    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }

    /// True if `self` is a prefix of (or equal to) `other`.
    pub fn is_prefix_of(&self, other: &Path) -> bool {
        self.0.len() <= other.0.len() && self.0.iter().zip(&other.0).all(|(a, b)| a == b)
    }

    /// Applies the path to `root`. Stepping into an unknown value yields an
    /// unknown value of the addressed type (or of `Dynamic`); stepping into
    /// null or to a missing key/attribute/index is an error.
    pub fn apply(&self, root: &Value) -> Result<Value, PathError> {
        let mut cur = root.clone();
        for (i, step) in self.0.iter().enumerate() {
            let err = |message: String| PathError {
                at: Path(self.0[..=i].to_vec()).to_string(),
                message,
            };
            cur = step_into(&cur, step).map_err(err)?;
        }
        Ok(cur)
    }
}

fn step_into(v: &Value, step: &PathStep) -> Result<Value, String> {
    let marks = v.marks();
    let out = match (v.kind(), step) {
        (Kind::Null, _) => return Err("cannot access nested value of a null value".into()),
        (Kind::Unknown, PathStep::GetAttr(name)) => Value::unknown(
            v.ty()
                .attribute_type(name)
                .or_else(|| v.ty().element_type())
                .cloned()
                .unwrap_or(Type::Dynamic),
        ),
        (Kind::Unknown, PathStep::Index(k)) => {
            let t = match v.ty() {
                Type::List(e) | Type::Set(e) | Type::Map(e) => (**e).clone(),
                Type::Tuple(es) => k
                    .as_number()
                    .and_then(|n| n.to_u64())
                    .and_then(|i| es.get(i as usize).cloned())
                    .unwrap_or(Type::Dynamic),
                Type::Object { attrs, .. } => k
                    .as_str()
                    .and_then(|s| attrs.get(s).cloned())
                    .unwrap_or(Type::Dynamic),
                _ => Type::Dynamic,
            };
            Value::unknown(t)
        }
        (Kind::Object(m), PathStep::GetAttr(name)) | (Kind::Map(m), PathStep::GetAttr(name)) => m
            .get(name)
            .cloned()
            .ok_or_else(|| format!("no attribute named {name:?}"))?,
        (Kind::Object(m), PathStep::Index(k)) | (Kind::Map(m), PathStep::Index(k)) => {
            let key = k
                .as_str()
                .ok_or_else(|| "a string key is required".to_string())?;
            m.get(key)
                .cloned()
                .ok_or_else(|| format!("no element for key {key:?}"))?
        }
        (Kind::List(es), PathStep::Index(k)) | (Kind::Tuple(es), PathStep::Index(k)) => {
            let i = k
                .as_number()
                .and_then(|n| n.to_i64())
                .ok_or_else(|| "a whole number index is required".to_string())?;
            if i < 0 || i as usize >= es.len() {
                return Err("index out of range".into());
            }
            es[i as usize].clone()
        }
        (Kind::Set(es), PathStep::Index(k)) => es
            .iter()
            .find(|e| e.unmark_deep_value().raw_equal(&k.unmark_deep_value()))
            .cloned()
            .ok_or_else(|| "set does not contain the given element".to_string())?,
        (_, PathStep::GetAttr(name)) => {
            return Err(format!(
                "cannot access attribute {name:?} of a {}",
                v.ty().friendly_name()
            ))
        }
        (_, PathStep::Index(_)) => {
            return Err(format!("cannot index a {}", v.ty().friendly_name()))
        }
    };
    Ok(out.with_marks(marks))
}

impl fmt::Display for Path {
    /// Terraform's diagnostic path layout: `.name`, `[0]`, `["key"]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.0 {
            match step {
                PathStep::GetAttr(n) => write!(f, ".{n}")?,
                PathStep::Index(k) => {
                    f.write_str("[")?;
                    match k.kind() {
                        Kind::Null => f.write_str("null")?,
                        Kind::Unknown => f.write_str("(not yet known)")?,
                        Kind::Number(n) => f.write_str(&n.to_text())?,
                        Kind::String(s) => f.write_str(&crate::format::quote_string(s))?,
                        _ => f.write_str("...")?,
                    }
                    f.write_str("]")?;
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Path({self})")
    }
}

impl fmt::Debug for PathStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Path(vec![self.clone()]))
    }
}
