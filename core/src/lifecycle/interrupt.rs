//! Ctrl-C (or SIGTERM, SIGHUP) during a start rolls the start back instead of leaving it half
//! made.
//!
//! Left alone, the signal kills ioc between two changes, and what the start had made stays
//! until the next start or stop of the jail cleans up from the journal (`incomplete` in
//! `ioc list`). While starts run, the first such signal only sets a flag, which a start checks
//! before each change: it fails there and rolls back like after any other failure, and the
//! jails not yet begun are not started. A second signal ends ioc at once; the journal still
//! lets the next command clean up.

use std::io;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

/// The signals that mean "stop what you are doing".
const SIGNALS: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// The first signal received while caught, 0 for none.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    if RECEIVED.swap(signal, Ordering::SeqCst) != 0 {
        // SAFETY: signal() and raise() are async-signal-safe; the default action ends ioc.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }
}

/// The handlers before [`catch`]; dropping this puts them back.
pub struct Caught {
    previous: Vec<(Signal, SigAction)>,
}

/// Catches the signals until the returned guard is dropped.
pub fn catch() -> io::Result<Caught> {
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    let mut previous = Vec::new();
    for signal in SIGNALS {
        // SAFETY: the handler only touches an atomic and calls async-signal-safe functions.
        let old = unsafe { sigaction(signal, &action) }.map_err(io::Error::from)?;
        previous.push((signal, old));
    }
    Ok(Caught { previous })
}

impl Drop for Caught {
    fn drop(&mut self) {
        for (signal, old) in self.previous.drain(..) {
            // SAFETY: restores a handler the process had before.
            let _ = unsafe { sigaction(signal, &old) };
        }
    }
}

/// The name of the signal received since [`catch`], if any (`SIGINT`, ...).
pub fn received() -> Option<&'static str> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        n => Some(Signal::try_from(n).map_or("a signal", Signal::as_str)),
    }
}

/// A start stopped by a signal, named like `SIGINT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("interrupted by {signal}")]
pub struct Interrupted {
    pub signal: &'static str,
}

/// An error naming the signal, once one was received; for the points where a start checks.
pub fn check() -> Result<(), Interrupted> {
    match received() {
        Some(signal) => Err(Interrupted { signal }),
        None => Ok(()),
    }
}
