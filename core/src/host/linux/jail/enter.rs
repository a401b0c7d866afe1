//! Entering a jail's PID namespace: `setns` of a PID namespace moves only the children forked
//! afterwards, so whoever enters forks once more; the first process waits for the second and
//! leaves with its status.

use std::io;

/// In a forked child that has just entered a PID namespace (and the jail's others): forks.
/// Returns in the new process, which is in the namespace, working directory `/` of the jail's
/// root; the first process waits for it and exits with its status, never returning. Only
/// async-signal-safe calls: this runs between fork and exec.
pub fn fork_into_pid_namespace() -> io::Result<()> {
    // SAFETY: fork in a forked child before exec; both sides make only raw syscalls until
    // they exec or `_exit`.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: a string literal. The jail's root is the mount namespace's root.
        unsafe { libc::chdir(c"/".as_ptr()) };
        return Ok(());
    }
    // The waiting process keeps no fd the caller watches (Command's exec-error pipe, a
    // caller's output pipes stay only on 0-2 until the command ends) and ignores the
    // terminal's signals, which reach the command itself.
    // SAFETY: raw syscalls without pointers, or with a live local (`status`).
    unsafe {
        libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGQUIT, libc::SIG_IGN);
        libc::_exit(wait_status(pid))
    }
}

/// Waits for `pid`; its exit code, or 128 + the signal that ended it (as a shell reports it).
pub fn wait_status(pid: libc::pid_t) -> libc::c_int {
    let mut status = 0;
    loop {
        // SAFETY: waits into a live local.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            break;
        }
        if rc < 0 && nix::errno::Errno::last() != nix::errno::Errno::EINTR {
            return 127;
        }
    }
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    }
}
