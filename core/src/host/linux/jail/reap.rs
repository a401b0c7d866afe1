//! Reaping the namespace helpers (see `pin`) off a start's path.
//!
//! Once its namespaces are pinned, a helper is told to exit, and nothing after that depends on
//! its exit: the pins hold the namespaces, and a process that is gone or a zombie is in none
//! (a stop's process table skips it). Its exit is not free, though: it tears down its copy of
//! ioc's address space and the private proc instance it wrote the sysctls through (see
//! `sysctl`), 0.1-1 ms that waiting for it at once put on every start. So the helper is only
//! noted here; it exits while ioc goes on (the CNI plugins, the next jail), and is reaped
//! later: without blocking before the next helper is forked, and for good when the backend
//! that made it goes ([`reap_all`]), so no zombie outlives the command. A helper running in
//! ioc's memory (see `vm_child`) keeps its stack and data here until it is reaped.

use std::sync::Mutex;

use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::host::linux::vm_child::Running;

/// Helpers told to exit and not reaped yet, with what those sharing ioc's memory run on.
static EXITING: Mutex<Vec<(Pid, Option<Running>)>> = Mutex::new(Vec::new());

fn exiting() -> std::sync::MutexGuard<'static, Vec<(Pid, Option<Running>)>> {
    EXITING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Notes a helper that was told to exit; reaped by [`reap_exited`] or [`reap_all`].
pub(super) fn reap_later(child: Pid, running: Option<Running>) {
    exiting().push((child, running));
}

/// Reaps the helpers that have exited, without waiting for the others: keeps the list short in
/// a long-lived process that starts many jails.
pub(super) fn reap_exited() {
    exiting().retain(|&(pid, _)| {
        matches!(
            waitpid(pid, Some(WaitPidFlag::WNOHANG)),
            Ok(WaitStatus::StillAlive)
        )
    });
}

/// Reaps every helper, waiting for those still exiting (they were told to, long before).
pub fn reap_all() {
    let helpers = std::mem::take(&mut *exiting());
    for (pid, running) in helpers {
        let _ = waitpid(pid, None);
        // Only now: the helper ran on it until it exited.
        drop(running);
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
        reap_later(child, None);
        reap_all();
        assert!(!exiting().iter().any(|(pid, _)| *pid == child));
        // Reaped: the pid is no child of ours any more.
        assert!(waitpid(child, Some(WaitPidFlag::WNOHANG)).is_err());
    }
}
