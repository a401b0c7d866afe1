//! Reaping the namespace helpers (see `pin`) off a start's path.
//!
//! Once its namespaces are pinned, a helper is told to exit, and nothing after that depends on
//! its exit: the pins hold the namespaces, and a process that is gone or a zombie is in none
//! (a stop's process table skips it). Its exit is not free, though: it tears down its copy of
//! ioc's address space and the private proc instance it wrote the sysctls through (see
//! `sysctl`), 0.1-1 ms that waiting for it at once put on every start. So the helper is only
//! noted here; it exits while ioc goes on (the CNI plugins, the next jail), and is reaped
//! later: without blocking before the next helper is forked, and for good when the backend
//! that made it goes ([`reap_all`]), so no zombie outlives the command.

use std::sync::Mutex;

use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// Helpers told to exit and not reaped yet.
static EXITING: Mutex<Vec<Pid>> = Mutex::new(Vec::new());

fn exiting() -> std::sync::MutexGuard<'static, Vec<Pid>> {
    EXITING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Notes a helper that was told to exit; reaped by [`reap_exited`] or [`reap_all`].
pub(super) fn reap_later(child: Pid) {
    exiting().push(child);
}

/// Reaps the helpers that have exited, without waiting for the others: keeps the list short in
/// a long-lived process that starts many jails.
pub(super) fn reap_exited() {
    exiting().retain(|&pid| {
        matches!(
            waitpid(pid, Some(WaitPidFlag::WNOHANG)),
            Ok(WaitStatus::StillAlive)
        )
    });
}

/// Reaps every helper, waiting for those still exiting (they were told to, long before).
pub fn reap_all() {
    let pids = std::mem::take(&mut *exiting());
    for pid in pids {
        let _ = waitpid(pid, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::unistd::{fork, ForkResult};

    #[test]
    fn a_helper_noted_for_later_is_reaped_by_reap_all() {
        // SAFETY: the child only calls `_exit`, which is async-signal-safe.
        let child = match unsafe { fork() }.unwrap() {
            // SAFETY: ends the forked child at once, running nothing of the parent's state.
            ForkResult::Child => unsafe { libc::_exit(0) },
            ForkResult::Parent { child } => child,
        };
        reap_later(child);
        reap_all();
        assert!(!exiting().contains(&child));
        // Reaped: the pid is no child of ours any more.
        assert!(waitpid(child, Some(WaitPidFlag::WNOHANG)).is_err());
    }
}
