//! Diagnostics: errors and warnings with the source range they are about.

use crate::span::{SourceFile, Span};
use std::fmt;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// A range in a named source file.
#[derive(Clone, Debug)]
pub struct SourceRange {
    pub file: Arc<SourceFile>,
    pub span: Span,
}

impl PartialEq for SourceRange {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.file, &other.file) && self.span == other.span
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    /// What the diagnostic is about; rendered as `on FILE line N`.
    pub subject: Option<SourceRange>,
    /// A wider range giving context (e.g. the whole expression).
    pub context: Option<SourceRange>,
    /// The resource instance it is about (`with ADDR,` above the source
    /// location), as Terraform adds to provider diagnostics.
    pub address: Option<String>,
}

impl Diagnostic {
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            subject: None,
            context: None,
            address: None,
        }
    }
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(summary, detail)
        }
    }
    pub fn with_subject(mut self, file: &Arc<SourceFile>, span: Span) -> Diagnostic {
        self.subject = Some(SourceRange {
            file: file.clone(),
            span,
        });
        self
    }
    pub fn with_context(mut self, file: &Arc<SourceFile>, span: Span) -> Diagnostic {
        self.context = Some(SourceRange {
            file: file.clone(),
            span,
        });
        self
    }
    pub fn with_address(mut self, address: impl Into<String>) -> Diagnostic {
        self.address = Some(address.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::render::plain(self, 0))
    }
}

/// An ordered list of diagnostics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Diagnostics(Vec::new())
    }
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d)
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0)
    }
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}
