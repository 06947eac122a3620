//! The dependency lock file, `.terraform.lock.hcl`.
//!
//! Written exactly as Terraform writes it: a two-line header comment, then
//! one `provider "ADDRESS" { ... }` block per provider sorted by address,
//! separated by blank lines, each with `version`, `constraints` (when the
//! configuration had any) aligned on `=`, and a `hashes` list, one hash per
//! line with a trailing comma, sorted.

use crate::addr::ProviderAddr;
use crate::hash::PackageHash;
use crate::versions::{Constraints, Version};
use std::collections::BTreeMap;
use std::path::Path;
use terrane_hcl::ast::{Expr, ExprKind, TemplatePart};
use terrane_hcl::{Diagnostic, Diagnostics, SourceFile};

/// The header Terraform writes at the top of the file.
pub const HEADER: &str = "# This file is maintained automatically by \"terraform init\".\n# Manual edits may be lost in future updates.\n";

/// One provider's entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockedProvider {
    pub addr: ProviderAddr,
    pub version: Version,
    /// The configuration's constraints when this was selected, in
    /// Terraform's normalized form (see [`Constraints::canonical`]); `None`
    /// when the configuration had no constraint.
    pub constraints: Option<String>,
    /// Accepted package hashes, sorted and deduplicated.
    pub hashes: Vec<PackageHash>,
}

impl LockedProvider {
    pub fn new(
        addr: ProviderAddr,
        version: Version,
        constraints: &Constraints,
        hashes: impl IntoIterator<Item = PackageHash>,
    ) -> LockedProvider {
        let mut p = LockedProvider {
            addr,
            version,
            constraints: if constraints.is_empty() {
                None
            } else {
                Some(constraints.canonical())
            },
            hashes: Vec::new(),
        };
        p.add_hashes(hashes);
        p
    }

    /// Adds hashes, keeping the list sorted and free of duplicates.
    pub fn add_hashes(&mut self, hashes: impl IntoIterator<Item = PackageHash>) {
        self.hashes.extend(hashes);
        self.hashes.sort();
        self.hashes.dedup();
    }

    /// The parsed constraints (empty when none were recorded or they no
    /// longer parse).
    pub fn parsed_constraints(&self) -> Constraints {
        self.constraints
            .as_deref()
            .and_then(|c| Constraints::parse(c).ok())
            .unwrap_or_default()
    }
}

/// The whole lock file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LockFile {
    pub providers: BTreeMap<ProviderAddr, LockedProvider>,
}

impl LockFile {
    pub fn new() -> LockFile {
        LockFile::default()
    }

    pub fn provider(&self, addr: &ProviderAddr) -> Option<&LockedProvider> {
        self.providers.get(addr)
    }

    pub fn set(&mut self, provider: LockedProvider) {
        self.providers.insert(provider.addr.clone(), provider);
    }

    pub fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    /// Reads `DIR/.terraform.lock.hcl`; a missing file is an empty lock file.
    pub fn load(dir: &Path) -> (LockFile, Diagnostics) {
        let path = dir.join(crate::LOCK_FILE_NAME);
        match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => LockFile::parse(crate::LOCK_FILE_NAME, &text),
                Err(_) => {
                    let mut diags = Diagnostics::new();
                    diags.push(Diagnostic::error(
                        "Failed to read dependency lock file",
                        format!("The file {} is not valid UTF-8.", path.display()),
                    ));
                    (LockFile::new(), diags)
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                (LockFile::new(), Diagnostics::new())
            }
            Err(e) => {
                let mut diags = Diagnostics::new();
                diags.push(Diagnostic::error(
                    "Failed to read dependency lock file",
                    format!("Cannot read {}: {e}.", path.display()),
                ));
                (LockFile::new(), diags)
            }
        }
    }

    /// Parses lock file text; `filename` names it in diagnostics.
    pub fn parse(filename: &str, text: &str) -> (LockFile, Diagnostics) {
        let file = SourceFile::new(filename, text);
        let parsed = terrane_hcl::parse_file(&file);
        let mut diags = parsed.diagnostics;
        let mut lock = LockFile::new();
        if diags.has_errors() {
            return (lock, diags);
        }
        for attr in parsed.body.attributes() {
            diags.push(
                Diagnostic::error(
                    "Unsupported argument",
                    format!(
                        "An argument named {:?} is not expected here.",
                        attr.name.as_str()
                    ),
                )
                .with_subject(&file, attr.name.span),
            );
        }
        for block in parsed.body.blocks() {
            if block.ident.as_str() == "module" {
                // Terraform reserves this for a future version and ignores
                // it with a warning.
                diags.push(
                    Diagnostic::warning(
                        "Dependency locks for modules are not yet supported",
                        "Terraform v1.0 only supports dependency locks for providers.",
                    )
                    .with_subject(&file, block.def_span()),
                );
                continue;
            }
            if block.ident.as_str() != "provider" {
                diags.push(
                    Diagnostic::error(
                        "Unsupported block type",
                        format!(
                            "Blocks of type {:?} are not expected here.",
                            block.ident.as_str()
                        ),
                    )
                    .with_subject(&file, block.ident.span),
                );
                continue;
            }
            if block.labels.len() != 1 {
                diags.push(
                    Diagnostic::error(
                        "Missing name for provider",
                        "All provider blocks must have exactly one label: the provider source address.",
                    )
                    .with_subject(&file, block.def_span()),
                );
                continue;
            }
            let label = &block.labels[0];
            let addr = match ProviderAddr::parse(&label.value) {
                Ok(a) if a.to_string() == *label.value => a,
                Ok(a) => {
                    diags.push(
                        Diagnostic::error(
                            "Non-normalized provider source address",
                            format!(
                                "The provider source address for a provider lock must be a normalized, fully-qualified address. Write it as {:?}.",
                                a.to_string()
                            ),
                        )
                        .with_subject(&file, label.span),
                    );
                    continue;
                }
                Err(e) => {
                    diags.push(
                        Diagnostic::error(
                            "Invalid provider source address",
                            format!(
                                "Cannot parse {:?} as a provider source address: {e}",
                                &*label.value
                            ),
                        )
                        .with_subject(&file, label.span),
                    );
                    continue;
                }
            };
            if addr.is_builtin() {
                diags.push(
                    Diagnostic::error(
                        "Invalid provider source address",
                        format!(
                            "Cannot lock a version for built-in provider {addr}. Built-in providers are bundled inside Terraform itself, so you can't select a version for them."
                        ),
                    )
                    .with_subject(&file, label.span),
                );
                continue;
            }
            if lock.providers.contains_key(&addr) {
                diags.push(
                    Diagnostic::error(
                        "Duplicate provider lock",
                        format!("This lockfile already declared a lock for provider {addr}."),
                    )
                    .with_subject(&file, label.span),
                );
                continue;
            }
            let body = &block.body;
            for inner in body.blocks() {
                diags.push(
                    Diagnostic::error(
                        "Unsupported block type",
                        format!(
                            "Blocks of type {:?} are not expected here.",
                            inner.ident.as_str()
                        ),
                    )
                    .with_subject(&file, inner.ident.span),
                );
            }
            for attr in body.attributes() {
                if !matches!(attr.name.as_str(), "version" | "constraints" | "hashes") {
                    diags.push(
                        Diagnostic::error(
                            "Unsupported argument",
                            format!(
                                "An argument named {:?} is not expected here.",
                                attr.name.as_str()
                            ),
                        )
                        .with_subject(&file, attr.name.span),
                    );
                }
            }
            let version = match body.attribute("version") {
                None => {
                    diags.push(
                        Diagnostic::error(
                            "Missing required argument",
                            "The argument \"version\" is required, but no definition was found.",
                        )
                        .with_subject(&file, block.close_brace),
                    );
                    continue;
                }
                Some(attr) => match literal_string(&attr.expr)
                    .ok_or_else(|| "A string value is required.".to_string())
                    .and_then(|s| {
                        Version::parse(&s)
                            .map_err(|e| format!("The version {s:?} is invalid: {e}."))
                    }) {
                    Ok(v) => v,
                    Err(detail) => {
                        diags.push(
                            Diagnostic::error("Invalid provider version number", detail)
                                .with_subject(&file, attr.expr.span),
                        );
                        continue;
                    }
                },
            };
            let constraints = match body.attribute("constraints") {
                None => None,
                Some(attr) => match literal_string(&attr.expr) {
                    Some(s) if Constraints::parse(&s).is_ok() => Some(s),
                    _ => {
                        diags.push(
                            Diagnostic::error(
                                "Invalid provider version constraints",
                                "The recorded version constraints must be a string in Terraform's version constraint syntax.",
                            )
                            .with_subject(&file, attr.expr.span),
                        );
                        continue;
                    }
                },
            };
            let mut hashes = Vec::new();
            if let Some(attr) = body.attribute("hashes") {
                let ExprKind::Tuple(items) = &attr.expr.kind else {
                    diags.push(
                        Diagnostic::error(
                            "Invalid provider hash set",
                            "The \"hashes\" argument must be a list of strings.",
                        )
                        .with_subject(&file, attr.expr.span),
                    );
                    continue;
                };
                for item in items {
                    match literal_string(item).as_deref().and_then(PackageHash::parse) {
                        Some(h) => hashes.push(h),
                        None => diags.push(
                            Diagnostic::error(
                                "Invalid provider hash string",
                                "Each hash must be a string of the form SCHEME:VALUE, such as \"h1:...\".",
                            )
                            .with_subject(&file, item.span),
                        ),
                    }
                }
            }
            let mut provider = LockedProvider {
                addr: addr.clone(),
                version,
                constraints,
                hashes: Vec::new(),
            };
            provider.add_hashes(hashes);
            lock.providers.insert(addr, provider);
        }
        (lock, diags)
    }

    /// The file text, exactly as Terraform would write it.
    pub fn to_hcl(&self) -> String {
        let mut out = String::from(HEADER);
        for p in self.providers.values() {
            out.push('\n');
            out.push_str(&format!("provider {} {{\n", quote(&p.addr.to_string())));
            match &p.constraints {
                Some(c) => {
                    out.push_str(&format!(
                        "  version     = {}\n",
                        quote(&p.version.to_string())
                    ));
                    out.push_str(&format!("  constraints = {}\n", quote(c)));
                }
                None => out.push_str(&format!("  version = {}\n", quote(&p.version.to_string()))),
            }
            // An entry without hashes has no `hashes` argument at all.
            if !p.hashes.is_empty() {
                out.push_str("  hashes = [\n");
                for h in &p.hashes {
                    out.push_str(&format!("    {},\n", quote(h.as_str())));
                }
                out.push_str("  ]\n");
            }
            out.push_str("}\n");
        }
        out
    }

    /// Writes `DIR/.terraform.lock.hcl` atomically (temporary file, then
    /// rename).
    pub fn save(&self, dir: &Path) -> Result<(), Diagnostic> {
        let path = dir.join(crate::LOCK_FILE_NAME);
        let tmp = dir.join(format!(".terraform.lock.hcl.tmp{}", std::process::id()));
        let fail = |e: std::io::Error| {
            Diagnostic::error(
                "Failed to update dependency lock file",
                format!(
                    "Error while writing new dependency lock information to {}: {e}.",
                    path.display()
                ),
            )
        };
        std::fs::write(&tmp, self.to_hcl()).map_err(fail)?;
        std::fs::rename(&tmp, &path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            fail(e)
        })
    }
}

/// The value of a string literal expression (no interpolation).
fn literal_string(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Template {
            parts,
            heredoc: false,
        } => {
            let mut s = String::new();
            for part in parts {
                match part {
                    TemplatePart::Literal { value, .. } => s.push_str(value),
                    _ => return None,
                }
            }
            Some(s)
        }
        _ => None,
    }
}

/// An HCL quoted string.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
