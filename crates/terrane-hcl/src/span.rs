//! Byte ranges into a source file, and the line index that turns them into
//! Terraform's `line N, column M` positions on demand (positions are never
//! stored per token: that keeps the token stream small for 10 MB files).

use std::sync::Arc;

/// A half-open byte range `start..end` within one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
    pub fn is_empty(self) -> bool {
        self.start >= self.end
    }
}

/// A 1-based line and column (column counts Unicode characters, as HCL does)
/// plus the 0-based byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
    pub byte: usize,
}

/// One loaded source file: its name as shown in diagnostics, its text, and the
/// offsets at which its lines start.
#[derive(Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    line_starts: Vec<u32>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<SourceFile> {
        let text = text.into();
        let mut line_starts = vec![0u32];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i as u32 + 1);
            }
        }
        Arc::new(SourceFile {
            name: name.into(),
            text,
            line_starts,
        })
    }

    /// The position of a byte offset (clamped to the text).
    pub fn pos(&self, byte: u32) -> Pos {
        let byte = (byte as usize).min(self.text.len());
        let line_idx = match self.line_starts.binary_search(&(byte as u32)) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let line_start = self.line_starts[line_idx] as usize;
        let column = self
            .text
            .get(line_start..byte)
            .map(|s| s.chars().count())
            .unwrap_or(byte - line_start)
            + 1;
        Pos {
            line: line_idx + 1,
            column,
            byte,
        }
    }

    /// The text of line `line` (1-based) without its line terminator.
    pub fn line_text(&self, line: usize) -> &str {
        if line == 0 || line > self.line_starts.len() {
            return "";
        }
        let start = self.line_starts[line - 1] as usize;
        let end = self
            .line_starts
            .get(line)
            .map(|e| *e as usize)
            .unwrap_or(self.text.len());
        let s = &self.text[start..end];
        s.trim_end_matches('\n').trim_end_matches('\r')
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The byte offset at which line `line` (1-based) starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts
            .get(line.saturating_sub(1))
            .map(|s| *s as usize)
            .unwrap_or(self.text.len())
    }

    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }
}
