//! Diagnostics returned by providers.

use std::fmt;

use terrane_value::{Number, Path, PathStep, Value};

use crate::proto;

/// Severity of a [`Diagnostic`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The operation failed.
    Error,
    /// Something to tell the user; the operation went on.
    Warning,
}

/// One diagnostic: summary, detail, and optionally the attribute it is about
/// (a path relative to the value the call was about: the resource's config,
/// state or the provider's config).
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// One-line summary.
    pub summary: String,
    /// Explanation (may be empty).
    pub detail: String,
    /// The attribute concerned, if any.
    pub attribute: Option<Path>,
}

impl Diagnostic {
    /// An error diagnostic without an attribute.
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
        }
    }

    /// A warning diagnostic without an attribute.
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
        }
    }

    /// Converts a protocol diagnostic. An unknown severity counts as an
    /// error (Terraform does the same: only WARNING is a warning).
    pub fn from_proto(d: &proto::Diagnostic) -> Diagnostic {
        Diagnostic {
            severity: if d.severity == proto::SEVERITY_WARNING {
                Severity::Warning
            } else {
                Severity::Error
            },
            summary: d.summary.clone(),
            detail: d.detail.clone(),
            attribute: d.attribute.as_ref().map(path_from_proto),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "Error",
            Severity::Warning => "Warning",
        };
        write!(f, "{sev}: {}", self.summary)?;
        if let Some(p) = &self.attribute {
            if !p.is_empty() {
                write!(f, " (at {p})")?;
            }
        }
        if !self.detail.is_empty() {
            write!(f, "\n{}", self.detail)?;
        }
        Ok(())
    }
}

/// Converts a protocol attribute path to a terrane [`Path`]. Steps with no
/// selector are skipped.
pub fn path_from_proto(p: &proto::AttributePath) -> Path {
    let mut out = Path::root();
    for step in &p.steps {
        match &step.selector {
            Some(proto::Selector::AttributeName(n)) => out.push(PathStep::GetAttr(n.clone())),
            Some(proto::Selector::ElementKeyString(k)) => {
                out.push(PathStep::Index(Value::string(k.clone())))
            }
            Some(proto::Selector::ElementKeyInt(i)) => {
                out.push(PathStep::Index(Value::from_i64(*i)))
            }
            None => {}
        }
    }
    out
}

/// Converts a terrane [`Path`] to a protocol attribute path. Index keys that
/// are neither strings nor integers (set elements) cannot be expressed and
/// end the path there, as Terraform does.
pub fn path_to_proto(p: &Path) -> proto::AttributePath {
    let mut steps = Vec::new();
    for step in p.steps() {
        let sel = match step {
            PathStep::GetAttr(n) => proto::Selector::AttributeName(n.clone()),
            PathStep::Index(k) => {
                if let Some(s) = k.as_str() {
                    proto::Selector::ElementKeyString(s.to_string())
                } else if let Some(i) = k.as_number().and_then(Number::to_i64) {
                    proto::Selector::ElementKeyInt(i)
                } else {
                    break;
                }
            }
        };
        steps.push(proto::AttributePathStep {
            selector: Some(sel),
        });
    }
    proto::AttributePath { steps }
}

/// A list of diagnostics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// No diagnostics.
    pub fn new() -> Diagnostics {
        Diagnostics(Vec::new())
    }

    /// Just one error.
    pub fn from_error(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostics {
        Diagnostics(vec![Diagnostic::error(summary, detail)])
    }

    /// Converts protocol diagnostics.
    pub fn from_proto(ds: &[proto::Diagnostic]) -> Diagnostics {
        Diagnostics(ds.iter().map(Diagnostic::from_proto).collect())
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    /// Appends one diagnostic.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// Appends all of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Iterates over the diagnostics.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_round_trip() {
        let p = Path::root().attr("tags").index_key("Name");
        let p2 = Path::root().attr("rule").index_int(3).attr("port");
        assert_eq!(path_from_proto(&path_to_proto(&p)), p);
        assert_eq!(path_from_proto(&path_to_proto(&p2)), p2);
    }

    #[test]
    fn severity_mapping() {
        let d = proto::Diagnostic {
            severity: 0,
            summary: "s".into(),
            detail: String::new(),
            attribute: None,
        };
        assert_eq!(Diagnostic::from_proto(&d).severity, Severity::Error);
        let w = proto::Diagnostic {
            severity: proto::SEVERITY_WARNING,
            ..d
        };
        assert_eq!(Diagnostic::from_proto(&w).severity, Severity::Warning);
    }
}
