//! HCL native syntax for terrane: scanner, parser, syntax tree, diagnostics
//! and their rendering, and the `fmt` formatter.
//!
//! This is terrane's own implementation rather than a wrapper around an HCL
//! crate: Terraform's `fmt` is defined on HCL's token stream and its parse
//! errors have fixed wording, and both must match byte for byte (see
//! ARCHITECTURE.md for the reasoning).

pub mod ast;
pub mod diag;
pub mod format;
pub mod lexer;
pub mod parser;
pub mod render;
pub mod span;

pub use diag::{Diagnostic, Diagnostics, Severity, SourceRange};
pub use parser::{parse_expression, parse_file, parse_file_items, parse_template, ParsedFile};
pub use span::{Pos, SourceFile, Span};
