//! A progress display for long runs: items done of the total, those in
//! flight and the elapsed time. On a terminal it is one line on standard
//! error, redrawn every second and on each change; elsewhere it prints a
//! plain line when an item starts or ends (no redraws in CI logs).

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

struct Shared {
    total: usize,
    done: usize,
    failed: usize,
    in_flight: Vec<String>,
    finished: bool,
    /// Whether a status line is on screen (to clear before other output).
    drawn: bool,
}

/// The display; cloneable handles share one state.
#[derive(Clone)]
pub struct Progress {
    what: &'static str,
    terminal: bool,
    started: Instant,
    shared: Arc<(Mutex<Shared>, Condvar)>,
}

impl Progress {
    /// A display for `total` items called `what` ("stacks"). `enabled`
    /// false makes every call a no-op except [`Progress::print_block`].
    pub fn new(what: &'static str, total: usize, enabled: bool) -> Progress {
        let terminal = enabled && std::io::stderr().is_terminal();
        let p = Progress {
            what,
            terminal,
            started: Instant::now(),
            shared: Arc::new((
                Mutex::new(Shared {
                    total,
                    done: 0,
                    failed: 0,
                    in_flight: Vec::new(),
                    finished: !enabled,
                    drawn: false,
                }),
                Condvar::new(),
            )),
        };
        if terminal {
            let ticker = p.clone();
            std::thread::spawn(move || ticker.tick_loop());
        }
        p
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn tick_loop(&self) {
        let mut s = self.lock();
        loop {
            if s.finished {
                return;
            }
            self.draw(&mut s);
            s = match self.shared.1.wait_timeout(s, Duration::from_secs(1)) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
    }

    fn status(&self, s: &Shared) -> String {
        let elapsed = self.started.elapsed().as_secs();
        let mut line = format!(
            "{} {}/{} done, {} in flight",
            self.what,
            s.done,
            s.total,
            s.in_flight.len()
        );
        if s.failed > 0 {
            line.push_str(&format!(", {} failed", s.failed));
        }
        line.push_str(&format!(", {}:{:02} elapsed", elapsed / 60, elapsed % 60));
        if !s.in_flight.is_empty() {
            line.push_str(": ");
            line.push_str(&s.in_flight.join(", "));
        }
        line
    }

    fn draw(&self, s: &mut Shared) {
        if !self.terminal || s.finished {
            return;
        }
        let mut line = self.status(s);
        let width = terminal_width().saturating_sub(1).max(20);
        if line.chars().count() > width {
            line = line
                .chars()
                .take(width.saturating_sub(3))
                .collect::<String>()
                + "...";
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[K{line}");
        let _ = err.flush();
        s.drawn = true;
    }

    fn clear(&self, s: &mut Shared) {
        if s.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            s.drawn = false;
        }
    }

    /// An item started.
    pub fn start(&self, name: &str) {
        let mut s = self.lock();
        if s.finished {
            return;
        }
        s.in_flight.push(name.to_string());
        if self.terminal {
            self.draw(&mut s);
        } else {
            let line = self.status(&s);
            let _ = writeln!(
                std::io::stderr().lock(),
                "[{}] started {name} ({line})",
                self.what
            );
        }
    }

    /// An item ended (`ok` false counts it as failed).
    pub fn finish(&self, name: &str, outcome: &str, ok: bool) {
        let mut s = self.lock();
        if s.finished {
            return;
        }
        s.in_flight.retain(|n| n != name);
        s.done += 1;
        if !ok {
            s.failed += 1;
        }
        if self.terminal {
            self.draw(&mut s);
        } else {
            let line = self.status(&s);
            let _ = writeln!(
                std::io::stderr().lock(),
                "[{}] {outcome} {name} ({line})",
                self.what
            );
        }
    }

    /// An item that never ran (skipped) counts as done.
    pub fn skip(&self, name: &str) {
        self.finish(name, "skipped", false)
    }

    /// Writes a block of output without tearing the status line: the line
    /// is cleared, the block written, and the line drawn again.
    pub fn print_block(&self, out: &mut dyn Write, text: &str) {
        let mut s = self.lock();
        self.clear(&mut s);
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
        self.draw(&mut s);
    }

    /// Stops the display and clears the line.
    pub fn done(&self) {
        let mut s = self.lock();
        self.clear(&mut s);
        s.finished = true;
        self.shared.1.notify_all();
    }
}

/// The width of the terminal on standard error: `COLUMNS` when set, else
/// what the terminal reports, else 80. Read on every redraw, so the line
/// follows a resized window.
fn terminal_width() -> usize {
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
    {
        return columns;
    }
    #[cfg(unix)]
    {
        let mut size = libc::winsize {
            ws_row: 0,
            ws_col: 0,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCGWINSZ only fills the winsize it is given.
        let ok = unsafe { libc::ioctl(2, libc::TIOCGWINSZ, &mut size) } == 0;
        if ok && size.ws_col > 0 {
            return usize::from(size.ws_col);
        }
    }
    80
}

/// Resources in flight during `apply`/`destroy` on a terminal: the
/// [`Progress`] line over the apply's operations, started once the
/// operations begin. It is shown only when both standard output and
/// standard error are terminals, without `-json`, and unless
/// `TERRANE_PROGRESS=0`; otherwise nothing extra is written, so the
/// output stays exactly Terraform's.
#[derive(Clone, Default)]
pub struct ApplyProgress {
    display: Arc<std::sync::OnceLock<Progress>>,
}

impl ApplyProgress {
    /// Whether the status line should be shown for this run.
    pub fn wanted(json: bool) -> bool {
        !json
            && std::env::var("TERRANE_PROGRESS").map_or(true, |v| v != "0")
            && std::env::var("TERM").map_or(true, |t| t != "dumb")
            && std::io::stdout().is_terminal()
            && std::io::stderr().is_terminal()
    }

    /// Starts the display over `total` operations (a replacement counts
    /// twice: its delete and its create), if `enabled`.
    pub fn begin(&self, total: usize, enabled: bool) {
        if enabled {
            let _ = self.display.set(Progress::new("resources", total, true));
        }
    }

    /// An operation on `addr` started.
    pub fn start(&self, addr: &str) {
        if let Some(p) = self.display.get() {
            p.start(addr);
        }
    }

    /// The operation on `addr` ended.
    pub fn finish(&self, addr: &str, ok: bool) {
        if let Some(p) = self.display.get() {
            p.finish(addr, "", ok);
        }
    }

    /// Writes `text` to standard output, clearing the status line first
    /// (and drawing it again after) when it is shown.
    pub fn print(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        match self.display.get() {
            Some(p) => p.print_block(&mut out, text),
            None => {
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
        }
    }

    /// Clears the status line for good (before the summary).
    pub fn end(&self) {
        if let Some(p) = self.display.get() {
            p.done();
        }
    }
}
