//! The body of one resource instance change or output change, as
//! `terraform plan` (v1.0.3) draws it.
//!
//! Layout rule used throughout: a line that starts at column `L` (its
//! two-character action symbol there) has its children at `L + 4`, its
//! closing bracket at `L + 2` and its "unchanged ... hidden" note at `L + 6`.

use std::collections::BTreeSet;

use terrane_plugin::{Block, NestedBlock, NestingMode};
use terrane_value::format::{is_identifier, quote_string};
use terrane_value::{Kind, Path, Value};

use super::color::colorize;
use crate::plan::Action;

/// A small action set for values (a subset of [`Action`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Unchanged,
    Create,
    Update,
    Delete,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Unchanged => " ",
            Op::Create => "[green]+[reset]",
            Op::Update => "[yellow]~[reset]",
            Op::Delete => "[red]-[reset]",
        }
    }
}

/// Terraform's symbol for a resource action, padded to three columns.
pub(crate) fn action_symbol(a: Action) -> &'static str {
    match a {
        Action::NoOp => "   ",
        Action::Create => "  [green]+[reset]",
        Action::Update => "  [yellow]~[reset]",
        Action::Delete => "  [red]-[reset]",
        Action::DeleteThenCreate => "[red]-[reset]/[green]+[reset]",
        Action::CreateThenDelete => "[green]+[reset]/[red]-[reset]",
        Action::Read => " [cyan]<=[reset]",
    }
}

/// Attributes shown even when unchanged.
fn identifying(name: &str) -> bool {
    matches!(name, "id" | "name" | "tags")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Equality for diffing: both wholly known and raw-equal (marks included).
fn same(a: &Value, b: &Value) -> bool {
    a.is_wholly_known() && b.is_wholly_known() && a.raw_equal(b)
}

fn op_between(old: &Value, new: &Value) -> Op {
    if old.is_null() && !new.is_null() {
        Op::Create
    } else if !old.is_null() && new.is_null() {
        Op::Delete
    } else if same(old, new) {
        Op::Unchanged
    } else {
        Op::Update
    }
}

/// Null on both sides, or the same empty string (legacy providers use
/// `""` for unset): such attributes are neither shown nor counted.
fn absent_both(old: &Value, new: &Value) -> bool {
    (old.is_null() && new.is_null())
        || (old.as_str() == Some("") && new.as_str() == Some("") && same(old, new))
}

/// Null before and the empty string after: legacy providers report an
/// unset string either way, and Terraform 1.0.3 neither shows nor counts
/// such an attribute in an in-place diff (seen with hashicorp/aws 3.39.0:
/// `null` in state, `""` after refresh). The other direction, `""` to
/// null, is shown.
fn blank_both(old: &Value, new: &Value) -> bool {
    absent_both(old, new)
        || (old.is_null() && new.is_known() && !new.is_marked() && new.as_str() == Some(""))
}

fn get_attr(obj: &Value, name: &str) -> Value {
    match obj.kind() {
        Kind::Object(m) => m.get(name).cloned(),
        _ => None,
    }
    .unwrap_or_else(Value::null_dynamic)
}

fn elems(v: &Value) -> &[Value] {
    match v.kind() {
        Kind::List(e) | Kind::Set(e) | Kind::Tuple(e) => e,
        _ => &[],
    }
}

/// JSON text that Terraform draws as `jsonencode(...)`: an object or array.
fn as_json(v: &Value) -> Option<Value> {
    if !v.is_known() || v.is_marked() {
        return None;
    }
    let s = v.as_str()?;
    let t = s.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return None;
    }
    terrane_value::json::decode(s).ok()
}

fn multiline(v: &Value) -> bool {
    v.is_known() && !v.is_marked() && v.as_str().is_some_and(|s| s.contains('\n'))
}

/// The lines of a heredoc body (a final newline ends the last line).
fn heredoc_lines(s: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = s.split('\n').collect();
    if lines.len() > 1 && lines.last() == Some(&"") {
        lines.pop();
    }
    lines
}

/// One step of an element-wise sequence diff.
enum Step<'a> {
    Keep(&'a Value),
    Del(&'a Value),
    Add(&'a Value),
    Change(&'a Value, &'a Value),
}

/// Longest-common-subsequence pairs of indices.
fn lcs<T>(a: &[T], b: &[T], eq: impl Fn(&T, &T) -> bool) -> Vec<(usize, usize)> {
    let (n, m) = (a.len(), b.len());
    let mut t = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            t[i][j] = if eq(&a[i], &b[j]) {
                t[i + 1][j + 1] + 1
            } else {
                t[i + 1][j].max(t[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n && j < m {
        if eq(&a[i], &b[j]) {
            out.push((i, j));
            i += 1;
            j += 1;
        } else if t[i + 1][j] >= t[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

fn structural(v: &Value) -> bool {
    matches!(v.kind(), Kind::Object(_) | Kind::Map(_))
}

/// The list diff: common elements kept, and in each gap, objects paired up
/// as in-place changes, the rest removed then added.
fn seq_steps<'a>(old: &'a [Value], new: &'a [Value]) -> Vec<Step<'a>> {
    let common = lcs(old, new, same);
    let mut steps = Vec::new();
    let (mut i, mut j) = (0, 0);
    let gap = |steps: &mut Vec<Step<'a>>, dels: &'a [Value], adds: &'a [Value]| {
        let mut k = 0;
        while k < dels.len() && k < adds.len() && structural(&dels[k]) && structural(&adds[k]) {
            steps.push(Step::Change(&dels[k], &adds[k]));
            k += 1;
        }
        for d in &dels[k..] {
            steps.push(Step::Del(d));
        }
        for a in &adds[k..] {
            steps.push(Step::Add(a));
        }
    };
    for (ci, cj) in common {
        gap(&mut steps, &old[i..ci], &new[j..cj]);
        steps.push(Step::Keep(&old[ci]));
        i = ci + 1;
        j = cj + 1;
    }
    gap(&mut steps, &old[i..], &new[j..]);
    steps
}

/// Renders diffs into a string, colouring each piece as it goes.
pub(crate) struct Printer<'a> {
    pub out: String,
    pub color: bool,
    pub requires_replace: &'a [Path],
    /// Show unchanged attributes and blocks instead of counting them as
    /// hidden (an imported object is shown whole).
    pub show_unchanged: bool,
}

impl<'a> Printer<'a> {
    pub fn new(color: bool, requires_replace: &'a [Path]) -> Printer<'a> {
        Printer {
            out: String::new(),
            color,
            requires_replace,
            show_unchanged: false,
        }
    }

    pub fn c(&mut self, s: &str) {
        let t = colorize(s, self.color);
        self.out.push_str(&t);
    }

    pub fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }

    pub fn sp(&mut self, n: usize) {
        for _ in 0..n {
            self.out.push(' ');
        }
    }

    fn sym(&mut self, op: Op) {
        let s = format!("{} ", op.symbol());
        self.c(&s);
    }

    fn forces(&self, path: &Path) -> bool {
        self.requires_replace.iter().any(|p| p == path)
    }

    fn forces_note(&mut self, yes: bool) {
        if yes {
            self.c(" [red]# forces replacement[reset]");
        }
    }

    fn hidden(&mut self, col: usize, n: usize, what: (&str, &str)) {
        if n > 0 {
            self.sp(col);
            let s = format!(
                "[dark_gray]# ({} hidden)[reset]",
                plural(
                    n,
                    &format!("unchanged {}", what.0),
                    &format!("unchanged {}", what.1)
                )
            );
            self.c(&s);
            self.raw("\n");
        }
    }

    fn arrow(&mut self, to_null: bool) {
        if to_null {
            self.c(" [dark_gray]->[reset] ");
        } else {
            self.c(" [yellow]->[reset] ");
        }
    }

    fn null(&mut self) {
        self.c("[dark_gray]null[reset]");
    }

    // ----- blocks -----

    /// The attributes and nested blocks of a block body; `col` is the
    /// column of the line that opened the block.
    pub fn block_body(
        &mut self,
        schema: &Block,
        old: &Value,
        new: &Value,
        col: usize,
        path: &Path,
    ) {
        // Between two objects, null and "" count as the same absence.
        let in_place = !old.is_null() && !new.is_null();
        let absent = |o: &Value, n: &Value| {
            if in_place {
                blank_both(o, n)
            } else {
                absent_both(o, n)
            }
        };
        let name_len = schema
            .attributes
            .keys()
            .filter(|n| !absent(&get_attr(old, n), &get_attr(new, n)))
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(0);
        let mut hidden = 0;
        for (name, attr) in &schema.attributes {
            let o = get_attr(old, name);
            let n = get_attr(new, name);
            if absent(&o, &n) {
                continue;
            }
            let op = op_between(&o, &n);
            if op == Op::Unchanged && !identifying(name) && !self.show_unchanged {
                hidden += 1;
                continue;
            }
            let apath = path.clone().attr(name.clone());
            self.attr_line(
                name,
                attr.sensitive,
                &o,
                &n,
                op,
                col + 4,
                name_len,
                &apath,
                true,
            );
        }
        self.hidden(col + 6, hidden, ("attribute", "attributes"));

        let mut hidden_blocks = 0;
        for (name, nb) in &schema.block_types {
            let o = get_attr(old, name);
            let n = get_attr(new, name);
            let bpath = path.clone().attr(name.clone());
            hidden_blocks += self.nested_blocks(name, nb, &o, &n, col + 4, &bpath);
        }
        self.hidden(col + 6, hidden_blocks, ("block", "blocks"));
    }

    /// An attribute (or output) line: symbol, name, padding, value.
    #[allow(clippy::too_many_arguments)]
    pub fn attr_line(
        &mut self,
        name: &str,
        schema_sensitive: bool,
        old: &Value,
        new: &Value,
        op: Op,
        col: usize,
        name_len: usize,
        path: &Path,
        warn: bool,
    ) {
        if warn && op == Op::Update && !old.is_null() && !new.is_null() {
            if old.is_sensitive() && !new.is_sensitive() {
                self.sp(col);
                self.c("# [yellow]Warning:[reset] this attribute value will no longer be marked as sensitive\n");
                self.sp(col);
                self.raw("# after applying this change.\n");
            } else if !old.is_sensitive() && new.is_sensitive() {
                self.sp(col);
                self.c("# [yellow]Warning:[reset] this attribute value will be marked as sensitive and will not\n");
                self.sp(col);
                self.raw("# display in UI output after applying this change.\n");
            }
        }
        self.sp(col);
        self.sym(op);
        self.c("[bold]");
        self.raw(name);
        self.c("[reset]");
        let pad = name_len.saturating_sub(name.chars().count());
        self.sp(pad);
        self.raw(" = ");
        let forces = self.forces(path);
        if schema_sensitive || old.is_sensitive() || new.is_sensitive() {
            self.raw("(sensitive value)");
            self.forces_note(forces);
        } else {
            self.value_diff(old, new, col, forces);
        }
        self.raw("\n");
    }

    /// Nested blocks of one type; returns how many unchanged blocks were
    /// hidden.
    fn nested_blocks(
        &mut self,
        name: &str,
        nb: &NestedBlock,
        old: &Value,
        new: &Value,
        col: usize,
        path: &Path,
    ) -> usize {
        let mut hidden = 0;
        match nb.nesting {
            NestingMode::Single | NestingMode::Group => {
                if old.is_null() && new.is_null() {
                    return 0;
                }
                let op = op_between(old, new);
                if op == Op::Unchanged && !self.show_unchanged {
                    return 1;
                }
                self.one_block(name, None, &nb.block, old, new, op, col, path);
                self.raw("\n");
            }
            NestingMode::List => {
                let (o, n) = (elems(old), elems(new));
                let null = Value::null_dynamic();
                for i in 0..o.len().max(n.len()) {
                    let ov = o.get(i).unwrap_or(&null);
                    let nv = n.get(i).unwrap_or(&null);
                    let op = op_between(ov, nv);
                    if op == Op::Unchanged && !self.show_unchanged {
                        hidden += 1;
                        continue;
                    }
                    let p = path.clone().index_int(i as i64);
                    self.one_block(name, None, &nb.block, ov, nv, op, col, &p);
                }
            }
            NestingMode::Set => {
                let (o, n) = (elems(old), elems(new));
                let null = Value::null_dynamic();
                for ov in o {
                    if n.iter().any(|nv| same(ov, nv)) {
                        hidden += 1;
                    } else {
                        let p = path.clone().index(ov.clone());
                        self.one_block(name, None, &nb.block, ov, &null, Op::Delete, col, &p);
                    }
                }
                for nv in n {
                    if !o.iter().any(|ov| same(ov, nv)) {
                        let p = path.clone().index(nv.clone());
                        self.one_block(name, None, &nb.block, &null, nv, Op::Create, col, &p);
                    }
                }
            }
            NestingMode::Map => {
                let empty = Default::default();
                let om = match old.kind() {
                    Kind::Map(m) | Kind::Object(m) => m,
                    _ => &empty,
                };
                let nm = match new.kind() {
                    Kind::Map(m) | Kind::Object(m) => m,
                    _ => &empty,
                };
                let keys: BTreeSet<&String> = om.keys().chain(nm.keys()).collect();
                let null = Value::null_dynamic();
                for k in keys {
                    let ov = om.get(k).unwrap_or(&null);
                    let nv = nm.get(k).unwrap_or(&null);
                    let op = op_between(ov, nv);
                    if op == Op::Unchanged && !self.show_unchanged {
                        hidden += 1;
                        continue;
                    }
                    let p = path.clone().index_key(k.clone());
                    self.one_block(name, Some(k), &nb.block, ov, nv, op, col, &p);
                }
            }
        }
        hidden
    }

    #[allow(clippy::too_many_arguments)]
    fn one_block(
        &mut self,
        name: &str,
        label: Option<&str>,
        schema: &Block,
        old: &Value,
        new: &Value,
        op: Op,
        col: usize,
        path: &Path,
    ) {
        self.raw("\n");
        self.sp(col);
        self.sym(op);
        self.raw(name);
        self.raw(" ");
        if let Some(l) = label {
            self.raw(&quote_string(l));
            self.raw(" ");
        }
        self.raw("{");
        let forces = self.forces(path);
        self.forces_note(forces);
        self.raw("\n");
        self.block_body(schema, old, new, col, path);
        self.sp(col + 2);
        self.raw("}\n");
    }

    // ----- values -----

    /// The text after `name = ` for a change from `old` to `new`, written
    /// on a line starting at column `col`.
    pub fn value_diff(&mut self, old: &Value, new: &Value, col: usize, forces: bool) {
        if same(old, new) {
            self.value_forced(new, Op::Unchanged, col, forces);
            return;
        }
        // Unknown result.
        if !new.is_known() {
            if !old.is_null() {
                self.value(old, Op::Unchanged, col);
                self.arrow(false);
            }
            self.raw("(known after apply)");
            self.forces_note(forces);
            return;
        }
        if old.is_sensitive() || new.is_sensitive() {
            self.raw("(sensitive)");
            self.forces_note(forces);
            return;
        }
        // JSON strings.
        let (oj, nj) = (as_json(old), as_json(new));
        if (oj.is_some() || old.is_null())
            && (nj.is_some() || new.is_null())
            && !(old.is_null() && new.is_null())
        {
            let null = Value::null_dynamic();
            let ov = oj.unwrap_or_else(|| null.clone());
            let nv = nj.unwrap_or(null);
            self.raw("jsonencode(");
            self.forces_note(forces);
            self.raw("\n");
            self.sp(col + 4);
            if old.is_null() || new.is_null() {
                self.raw("  ");
                let op = if old.is_null() {
                    Op::Create
                } else {
                    Op::Delete
                };
                let v = if old.is_null() { &nv } else { &ov };
                self.value(v, op, col + 4);
            } else {
                let op = op_between(&ov, &nv);
                self.sym(op);
                self.value_diff(&ov, &nv, col + 4, false);
            }
            self.raw("\n");
            self.sp(col + 2);
            self.raw(")");
            if new.is_null() {
                self.arrow(true);
                self.null();
            }
            return;
        }
        // Multi-line strings.
        if (multiline(old) || multiline(new)) && old.as_str().is_some() && new.as_str().is_some() {
            let (os, ns) = (old.as_str().unwrap_or(""), new.as_str().unwrap_or(""));
            self.raw("<<-EOT");
            self.forces_note(forces);
            self.raw("\n");
            let (ol, nl) = (heredoc_lines(os), heredoc_lines(ns));
            let common = lcs(&ol, &nl, |a, b| a == b);
            let (mut i, mut j) = (0, 0);
            let line = |p: &mut Self, op: Op, l: &str| {
                p.sp(col + 4);
                p.sym(op);
                p.raw(l);
                p.raw("\n");
            };
            for (ci, cj) in common {
                for l in &ol[i..ci] {
                    line(self, Op::Delete, l);
                }
                for l in &nl[j..cj] {
                    line(self, Op::Create, l);
                }
                line(self, Op::Unchanged, ol[ci]);
                i = ci + 1;
                j = cj + 1;
            }
            for l in &ol[i..] {
                line(self, Op::Delete, l);
            }
            for l in &nl[j..] {
                line(self, Op::Create, l);
            }
            self.sp(col + 2);
            self.raw("EOT");
            return;
        }
        if old.is_null() {
            self.value_forced(new, Op::Create, col, forces);
            return;
        }
        if new.is_null() {
            self.value_forced(old, Op::Delete, col, forces);
            self.arrow(true);
            self.null();
            return;
        }
        match (old.kind(), new.kind()) {
            (Kind::Map(om), Kind::Map(nm)) | (Kind::Object(om), Kind::Object(nm)) => {
                let quoted = matches!(old.kind(), Kind::Map(_));
                let key = |k: &str| {
                    if quoted || !is_identifier(k) {
                        quote_string(k)
                    } else {
                        k.to_string()
                    }
                };
                let keys: BTreeSet<&String> = om.keys().chain(nm.keys()).collect();
                let width = keys
                    .iter()
                    .map(|k| key(k).chars().count())
                    .max()
                    .unwrap_or(0);
                self.raw("{");
                self.forces_note(forces);
                self.raw("\n");
                let null = Value::null_dynamic();
                let mut hidden = 0;
                for k in keys {
                    let ov = om.get(k).unwrap_or(&null);
                    let nv = nm.get(k).unwrap_or(&null);
                    let op = if !om.contains_key(k) {
                        Op::Create
                    } else if !nm.contains_key(k) {
                        Op::Delete
                    } else if same(ov, nv) {
                        Op::Unchanged
                    } else {
                        Op::Update
                    };
                    if op == Op::Unchanged {
                        hidden += 1;
                        continue;
                    }
                    self.sp(col + 4);
                    self.sym(op);
                    let kt = key(k);
                    self.raw(&kt);
                    self.sp(width.saturating_sub(kt.chars().count()));
                    self.raw(" = ");
                    match op {
                        Op::Create => self.value(nv, Op::Create, col + 4),
                        Op::Delete => {
                            self.value(ov, Op::Delete, col + 4);
                            self.arrow(true);
                            self.null();
                        }
                        _ => self.value_diff(ov, nv, col + 4, false),
                    }
                    self.raw("\n");
                }
                self.hidden(col + 6, hidden, ("element", "elements"));
                self.sp(col + 2);
                self.raw("}");
            }
            (Kind::Set(o), Kind::Set(n)) => {
                self.raw("[");
                self.forces_note(forces);
                self.raw("\n");
                let mut hidden = 0;
                for ov in o {
                    if n.iter().any(|nv| same(ov, nv)) {
                        hidden += 1;
                    } else {
                        self.elem_line(ov, Op::Delete, col);
                    }
                }
                for nv in n {
                    if !o.iter().any(|ov| same(ov, nv)) {
                        self.elem_line(nv, Op::Create, col);
                    }
                }
                self.hidden(col + 6, hidden, ("element", "elements"));
                self.sp(col + 2);
                self.raw("]");
            }
            (Kind::List(o) | Kind::Tuple(o), Kind::List(n) | Kind::Tuple(n)) => {
                self.raw("[");
                self.forces_note(forces);
                self.raw("\n");
                let steps = seq_steps(o, n);
                let changed: Vec<bool> =
                    steps.iter().map(|s| !matches!(s, Step::Keep(_))).collect();
                let mut hidden = 0;
                for (k, s) in steps.iter().enumerate() {
                    match s {
                        Step::Keep(v) => {
                            let near = (k > 0 && changed[k - 1])
                                || changed.get(k + 1).copied().unwrap_or(false);
                            if !near {
                                hidden += 1;
                                continue;
                            }
                            self.hidden(col + 6, hidden, ("element", "elements"));
                            hidden = 0;
                            self.elem_line(v, Op::Unchanged, col);
                        }
                        Step::Del(v) => {
                            self.hidden(col + 6, hidden, ("element", "elements"));
                            hidden = 0;
                            self.elem_line(v, Op::Delete, col);
                        }
                        Step::Add(v) => {
                            self.hidden(col + 6, hidden, ("element", "elements"));
                            hidden = 0;
                            self.elem_line(v, Op::Create, col);
                        }
                        Step::Change(a, b) => {
                            self.hidden(col + 6, hidden, ("element", "elements"));
                            hidden = 0;
                            self.sp(col + 4);
                            self.sym(Op::Update);
                            self.value_diff(a, b, col + 4, false);
                            self.raw(",\n");
                        }
                    }
                }
                self.hidden(col + 6, hidden, ("element", "elements"));
                self.sp(col + 2);
                self.raw("]");
            }
            _ => {
                self.value(old, Op::Unchanged, col);
                self.arrow(false);
                self.value(new, Op::Unchanged, col);
                self.forces_note(forces);
            }
        }
    }

    fn elem_line(&mut self, v: &Value, op: Op, col: usize) {
        self.sp(col + 4);
        self.sym(op);
        self.value(v, op, col + 4);
        self.raw(",\n");
    }

    fn value_forced(&mut self, v: &Value, op: Op, col: usize, forces: bool) {
        let opens = v.is_known()
            && !v.is_sensitive()
            && match v.kind() {
                Kind::List(e) | Kind::Set(e) | Kind::Tuple(e) => !e.is_empty(),
                Kind::Map(m) | Kind::Object(m) => !m.is_empty(),
                _ => false,
            };
        if forces && opens {
            // The note goes after the opening bracket.
            let mut inner = Printer::new(self.color, self.requires_replace);
            inner.value(v, op, col);
            let text = inner.out;
            let (first, rest) = text.split_once('\n').unwrap_or((text.as_str(), ""));
            self.raw(first);
            self.forces_note(true);
            self.raw("\n");
            self.raw(rest);
        } else {
            self.value(v, op, col);
            self.forces_note(forces);
        }
    }

    /// A whole value, every element marked with `op`'s symbol.
    pub fn value(&mut self, v: &Value, op: Op, col: usize) {
        if !v.is_known() {
            self.raw("(known after apply)");
            return;
        }
        if v.is_sensitive() {
            self.raw("(sensitive)");
            return;
        }
        match v.kind() {
            Kind::Null => self.null(),
            Kind::Unknown => self.raw("(known after apply)"),
            Kind::Bool(b) => self.raw(if b { "true" } else { "false" }),
            Kind::Number(n) => self.raw(&n.to_text()),
            Kind::String(s) => {
                if let Some(j) = as_json(v) {
                    self.raw("jsonencode(\n");
                    self.sp(col + 4);
                    self.raw("  ");
                    self.value(&j, op, col + 4);
                    self.raw("\n");
                    self.sp(col + 2);
                    self.raw(")");
                } else if s.contains('\n') {
                    self.raw("<<-EOT\n");
                    for l in heredoc_lines(s) {
                        self.sp(col + 6);
                        self.raw(l);
                        self.raw("\n");
                    }
                    self.sp(col + 2);
                    self.raw("EOT");
                } else {
                    self.raw(&quote_string(s));
                }
            }
            Kind::List(es) | Kind::Set(es) | Kind::Tuple(es) => {
                if es.is_empty() {
                    self.raw("[]");
                    return;
                }
                self.raw("[\n");
                for e in es {
                    self.elem_line(e, op, col);
                }
                self.sp(col + 2);
                self.raw("]");
            }
            Kind::Map(m) | Kind::Object(m) => {
                if m.is_empty() {
                    self.raw("{}");
                    return;
                }
                let quoted = matches!(v.kind(), Kind::Map(_));
                let key = |k: &str| {
                    if quoted || !is_identifier(k) {
                        quote_string(k)
                    } else {
                        k.to_string()
                    }
                };
                let width = m.keys().map(|k| key(k).chars().count()).max().unwrap_or(0);
                self.raw("{\n");
                for (k, e) in m {
                    self.sp(col + 4);
                    self.sym(op);
                    let kt = key(k);
                    self.raw(&kt);
                    self.sp(width.saturating_sub(kt.chars().count()));
                    self.raw(" = ");
                    self.value(e, op, col + 4);
                    self.raw("\n");
                }
                self.sp(col + 2);
                self.raw("}");
            }
        }
    }
}
