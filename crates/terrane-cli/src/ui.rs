//! Output to the terminal: colour only when standard error is a terminal
//! and `-no-color` was not given, and diagnostics in Terraform's layouts.

use std::io::{IsTerminal, Write};
use terrane_hcl::render;
use terrane_hcl::Diagnostic;

pub struct Ui {
    pub color: bool,
    /// Columns to wrap diagnostic details at (Terraform uses 78 when the
    /// width is unknown).
    pub width: usize,
    /// `-json` (plan, apply, destroy, refresh): diagnostics go to the
    /// JSON view on standard output instead.
    pub json: Option<std::sync::Arc<crate::jsonview::JsonView>>,
    /// Every error shown so far: a failure's notification carries the
    /// errors the user saw, also on paths that print without recording.
    pub shown_errors: std::sync::Arc<std::sync::Mutex<Vec<Diagnostic>>>,
}

impl Ui {
    pub fn new(args: &[String]) -> Ui {
        let no_color = args.iter().any(|a| a == "-no-color" || a == "--no-color");
        let color =
            !no_color && std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        // Like Terraform: the terminal's width on a terminal, else 78.
        let width = std::env::var("COLUMNS")
            .ok()
            .filter(|_| std::io::stderr().is_terminal())
            .and_then(|c| c.parse::<usize>().ok())
            .filter(|w| *w > 20)
            .map(|w| w - 1)
            .unwrap_or(78);
        Ui {
            color,
            width,
            json: None,
            shown_errors: Default::default(),
        }
    }

    /// The errors shown so far.
    pub fn shown_errors(&self) -> Vec<Diagnostic> {
        self.shown_errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Prints diagnostics to standard error.
    pub fn diagnostics<'a>(&self, diags: impl IntoIterator<Item = &'a Diagnostic>) {
        self.diagnostics_to(&mut std::io::stderr().lock(), diags)
    }

    /// Prints diagnostics to `out` (some commands, like `output`, print
    /// warnings on standard output as Terraform does).
    pub fn diagnostics_to<'a>(
        &self,
        out: &mut dyn Write,
        diags: impl IntoIterator<Item = &'a Diagnostic>,
    ) {
        // The errors a user sees also go into a failure's notification.
        let diags = diags.into_iter().inspect(|d| {
            if d.is_error() {
                self.shown_errors
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((*d).clone());
            }
        });
        if let Some(view) = &self.json {
            for d in diags {
                view.diagnostic(d);
            }
            return;
        }
        for d in diags {
            let text = if self.color {
                render::colored(d, self.width)
            } else {
                render::plain(d, self.width)
            };
            let _ = out.write_all(text.as_bytes());
        }
        let _ = out.flush();
    }
}
