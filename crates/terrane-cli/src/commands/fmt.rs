//! `terrane fmt`: rewrites `.tf` and `.tfvars` files in the canonical
//! style, byte for byte as `terraform fmt` v1.0.3 does.
//!
//! Exit codes as Terraform's: 0 done, 2 a file does not parse, 3 `-check`
//! found files that need formatting, 1 usage or I/O errors.

use crate::cli::{io_reason, Flags};
use crate::ui::Ui;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use terrane_hcl::format::{format_terraform, format_terraform_source};
use terrane_hcl::{Diagnostic, SourceFile};

const USAGE: &str = "Usage: terrane [global options] fmt [options] [DIR]

\tRewrites all Terraform configuration files to a canonical format. Both
\tconfiguration files (.tf) and variables files (.tfvars) are updated.
\tJSON files (.tf.json or .tfvars.json) are not modified.

\tIf DIR is not specified then the current working directory will be used.
\tIf DIR is \"-\" then content will be read from STDIN. The given content must
\tbe in the Terraform language native syntax; JSON is not supported.

Options:

  -list=false    Don't list files whose formatting differs
                 (always disabled if using STDIN)

  -write=false   Don't write to source files
                 (always disabled if using STDIN or -check)

  -diff          Display diffs of formatting changes

  -check         Check if the input is formatted. Exit status will be 0 if all
                 input is properly formatted and non-zero otherwise.

  -no-color      If specified, output won't contain any color.

  -recursive     Also process files in subdirectories. By default, only the
                 given directory (or current directory) is processed.
";

struct Options {
    list: bool,
    write: bool,
    diff: bool,
    check: bool,
    recursive: bool,
}

pub fn run(args: &[String], ui: &Ui) -> i32 {
    let flags = match Flags::parse(
        args,
        &[
            "list",
            "write",
            "diff",
            "check",
            "no-color",
            "recursive",
            "help",
        ],
        &[],
    ) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return 1;
        }
    };
    if flags.has("help") {
        print!("{USAGE}");
        return 0;
    }
    let parse = || -> Result<Options, String> {
        Ok(Options {
            list: flags.bool("list", true)?,
            write: flags.bool("write", true)?,
            diff: flags.bool("diff", false)?,
            check: flags.bool("check", false)?,
            recursive: flags.bool("recursive", false)?,
        })
    };
    let mut opts = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return 1;
        }
    };
    if opts.check {
        opts.write = false;
    }
    if flags.positional.len() > 1 {
        eprintln!("The fmt command expects at most one argument.\n{USAGE}");
        return 1;
    }
    let target = flags
        .positional
        .first()
        .cloned()
        .unwrap_or_else(|| ".".to_string());
    if target == "-" {
        return stdin(&opts, ui);
    }
    let path = PathBuf::from(&target);
    let mut state = Run {
        opts,
        ui,
        changed: false,
        errors: false,
    };
    match std::fs::metadata(&path) {
        Ok(m) if m.is_dir() => state.dir(&path, &target, true),
        Ok(_) => {
            if is_formattable(&target) {
                state.file(&path, &target)
            } else {
                eprintln!("Only .tf and .tfvars files can be processed with terrane fmt");
                return 1;
            }
        }
        Err(e) => {
            ui.diagnostics([&Diagnostic::error(
                "No file or directory at",
                format!(
                    "There is no file or directory at {target}: {}",
                    io_reason(&e)
                ),
            )]);
            return 2;
        }
    }
    if state.errors {
        2
    } else if state.opts.check && state.changed {
        3
    } else {
        0
    }
}

fn is_formattable(name: &str) -> bool {
    name.ends_with(".tf") || name.ends_with(".tfvars")
}

fn stdin(opts: &Options, ui: &Ui) -> i32 {
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut input) {
        eprintln!("Failed to read from stdin: {e}");
        return 2;
    }
    let text = String::from_utf8_lossy(&input).into_owned();
    let file = SourceFile::new("<stdin>", text);
    match format_terraform(&file) {
        Ok(out) => {
            let changed = out != file.text;
            if opts.check {
                return if changed { 3 } else { 0 };
            }
            if opts.diff {
                print!("{}", unified_diff(&file.text, &out, "<stdin>"));
            } else {
                let _ = std::io::stdout().write_all(out.as_bytes());
            }
            0
        }
        Err(diags) => {
            ui.diagnostics(diags.iter());
            // Terraform's fmt ends its diagnostics with a blank line.
            eprintln!();
            2
        }
    }
}

struct Run<'a> {
    opts: Options,
    ui: &'a Ui,
    changed: bool,
    errors: bool,
}

impl Run<'_> {
    fn dir(&mut self, dir: &Path, display: &str, top: bool) {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                self.ui.diagnostics([&Diagnostic::error(
                    "Failed to read directory",
                    format!("Cannot read {display}: {}", io_reason(&e)),
                )]);
                self.errors = true;
                return;
            }
        };
        let mut names: Vec<(String, bool)> = entries
            .filter_map(Result::ok)
            .map(|e| {
                let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
                (e.file_name().to_string_lossy().into_owned(), is_dir)
            })
            .collect();
        names.sort();
        for (name, is_dir) in names {
            let path = dir.join(&name);
            let shown = if top && display == "." {
                name.clone()
            } else {
                format!("{}/{}", display.trim_end_matches('/'), name)
            };
            if is_dir {
                if self.opts.recursive {
                    self.dir(&path, &shown, false);
                }
            } else if is_formattable(&name) {
                self.file(&path, &shown);
            }
        }
    }

    fn file(&mut self, path: &Path, shown: &str) {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("Failed to read file {shown}: {}", io_reason(&e));
                self.errors = true;
                return;
            }
        };
        let file = SourceFile::new(shown, String::from_utf8_lossy(&bytes).into_owned());
        // Files are compared and written without the final newline that
        // stdin mode adds, as Terraform does.
        let out = match format_terraform_source(&file) {
            Ok(o) => o,
            Err(diags) => {
                self.ui.diagnostics(diags.iter());
                eprintln!();
                self.errors = true;
                return;
            }
        };
        if out.as_bytes() == bytes.as_slice() {
            return;
        }
        self.changed = true;
        if self.opts.list {
            println!("{shown}");
        }
        if self.opts.write {
            if let Err(e) = write_atomically(path, out.as_bytes()) {
                eprintln!("Failed to write {shown}: {}", io_reason(&e));
                self.errors = true;
                return;
            }
        }
        if self.opts.diff {
            print!("{}", unified_diff(&file.text, &out, shown));
        }
    }
}

/// Replaces a file's content without ever leaving it half-written: a
/// temporary file beside it is renamed over it, keeping its permissions.
fn write_atomically(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.terrane-fmt-{}", std::process::id()));
    let perms = std::fs::metadata(path)?.permissions();
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    std::fs::set_permissions(&tmp, perms)?;
    std::fs::rename(&tmp, path)
}

/// A unified diff with `old/NAME` and `new/NAME` labels, as Terraform's
/// `-diff` prints (it runs `diff -u`).
fn unified_diff(old: &str, new: &str, name: &str) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    diff.unified_diff()
        .context_radius(3)
        .header(&format!("old/{name}"), &format!("new/{name}"))
        .to_string()
}
