//! SIGINT and SIGTERM during plan and apply, as Terraform handles them.
//!
//! The first signal prints Terraform's notice and sets the counter the
//! engine watches ([`crate::walk::PlanOptions::interrupt`]): no new
//! operation starts, providers are asked to stop, operations in flight
//! finish and are recorded in the state, and the command fails. A second
//! signal exits at once.
//!
//! The handler only does what is async-signal-safe: an atomic increment,
//! `write(2)` of constant text and `_exit(2)`. The counter is the only
//! global state.

use std::sync::atomic::{AtomicUsize, Ordering};

static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);

/// Terraform 1.0.3's text, product name included: scripts and people
/// that know Terraform's messages see the same ones.
const FIRST: &[u8] = b"\nInterrupt received.\nPlease wait for Terraform to exit or data loss may occur.\nGracefully shutting down...\n\nStopping operation...\n";
const SECOND: &[u8] = b"\nTwo interrupts received. Exiting immediately. Note that data loss may have\noccurred.\n\n\nError: operation canceled\n\n";

extern "C" fn on_signal(_signal: libc::c_int) {
    let n = INTERRUPTS.fetch_add(1, Ordering::SeqCst) + 1;
    // SAFETY: write(2) and _exit(2) are async-signal-safe; the buffers
    // are static.
    unsafe {
        if n == 1 {
            libc::write(1, FIRST.as_ptr().cast(), FIRST.len());
        } else {
            libc::write(2, SECOND.as_ptr().cast(), SECOND.len());
            libc::_exit(1);
        }
    }
}

/// Installs the handler for SIGINT and SIGTERM; returns the counter of
/// signals received, for [`crate::walk::PlanOptions::interrupt`].
pub fn install() -> &'static AtomicUsize {
    // SAFETY: a zeroed sigaction is a valid "no flags, empty mask"
    // value; the handler is an `extern "C" fn(c_int)` as sa_sigaction
    // expects without SA_SIGINFO.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        for signal in [libc::SIGINT, libc::SIGTERM] {
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
    &INTERRUPTS
}

/// Signals received so far.
pub fn count() -> usize {
    INTERRUPTS.load(Ordering::SeqCst)
}
