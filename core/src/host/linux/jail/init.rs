//! The init of a jail with its own root: PID 1 of the jail's PID namespace.
//!
//! A forked copy of ioc that never execs (ioc's binary is not inside the jail's root) and runs
//! a loop of raw syscalls: it reaps every process orphaned into it, so no zombie stays, and on
//! SIGTERM (from a stop) passes SIGTERM to every process of the jail and leaves once they are
//! gone. When it leaves, the kernel kills whatever is left in the namespace, so nothing of a
//! jail outlives its init. A SIGKILL from the host (a forced stop, or a stop whose grace ran
//! out) ends the jail the same way.

/// Signals the init waits for. From an ancestor namespace the kernel delivers to a namespace's
/// init only the signals it has a handler for (and SIGKILL), hence [`no_op`].
const STOP_SIGNALS: [libc::c_int; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

/// The installed handler; never runs, since the signals stay blocked and are taken with
/// `sigwaitinfo`.
extern "C" fn no_op(_: libc::c_int) {}

/// Runs the init loop; never returns. Only async-signal-safe calls: the process was forked
/// from one that may have had other threads.
pub(super) fn run(argv: Option<[usize; 4]>) -> ! {
    if let Some([start, end, env_start, env_end]) = argv {
        rename(start, end, env_start, env_end);
    }
    // SAFETY: sigset_t and sigaction are plain C structs for which all zeroes is valid; every
    // call below takes pointers to these live locals or string literals and keeps none.
    unsafe {
        libc::prctl(libc::PR_SET_NAME, c"ioc-init".as_ptr());
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = no_op as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        for sig in STOP_SIGNALS {
            libc::sigaddset(&mut set, sig);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        let mut stopping = false;
        loop {
            let sig = libc::sigwaitinfo(&set, std::ptr::null_mut());
            if sig > 0 && sig != libc::SIGCHLD && !stopping {
                stopping = true;
                libc::kill(-1, libc::SIGTERM);
            }
            let none_left = reap();
            if stopping && none_left {
                libc::_exit(0);
            }
        }
    }
}

/// Reaps every child that has exited; true when no child is left at all.
fn reap() -> bool {
    loop {
        let mut status = 0;
        // SAFETY: waits into a live local; no other pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if pid > 0 {
            continue;
        }
        return pid < 0 && nix::errno::Errno::last() == nix::errno::Errno::ECHILD;
    }
}

/// Message tags on the ready pipe of a jail with its own root (the helper's failures use the
/// step codes 1-8 instead). Each message is 6 bytes, written at once (so never interleaved).
/// The helper: started the init, whose host pid follows (4 bytes, little endian).
pub(super) const INIT_STARTED: u8 = 0xFE;
/// The init: the root is built, waiting for the go byte.
pub(super) const INIT_READY: u8 = 0xFD;
/// The init: a step failed; errno and the step's code (2 bytes, little endian) follow.
pub(super) const INIT_FAILED: u8 = 0xFC;

/// In the namespace helper (already in the jail's new namespaces, PID namespace included for
/// its children): forks the jail's init, which builds the root, reports on `ready`, waits for
/// one byte on `go` (the pins are in place) and then runs [`run`]; without that byte (ioc
/// failed or died) it leaves, taking the namespace with it. Err when the fork failed.
pub(super) fn start(
    root: &super::rootfs::RootPlan,
    ready: libc::c_int,
    go: libc::c_int,
) -> Result<(), ()> {
    let send = |message: [u8; 6]| {
        // SAFETY: writes 6 bytes from a live stack buffer to the pipe fd `ready`; a pipe write
        // of at most PIPE_BUF bytes is atomic.
        unsafe { libc::write(ready, message.as_ptr().cast(), message.len()) };
    };
    // SAFETY: fork in a process that makes only raw syscalls from here on (see `run` and
    // `rootfs::build`), leaving with `_exit`.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(());
    }
    if pid > 0 {
        let p = pid.to_le_bytes();
        send([INIT_STARTED, 0, p[0], p[1], p[2], p[3]]);
        return Ok(());
    }
    if let Err(step) = super::rootfs::build(root) {
        let errno = nix::errno::Errno::last_raw() as u8;
        let s = step.to_le_bytes();
        send([INIT_FAILED, errno, s[0], s[1], 0, 0]);
        // SAFETY: leaves the forked init at once; its namespace and mounts go with it.
        unsafe { libc::_exit(1) };
    }
    send([INIT_READY, 0, 0, 0, 0, 0]);
    let mut byte = 0u8;
    // SAFETY: reads at most 1 byte into a live local from the pipe fd `go`.
    if unsafe { libc::read(go, (&mut byte as *mut u8).cast(), 1) } != 1 {
        // SAFETY: as above.
        unsafe { libc::_exit(1) };
    }
    // SAFETY: closes every fd above stderr (the pipes, anything inherited from ioc): the
    // jail must hold nothing of the host's. A raw syscall without pointers.
    unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
    run(root.argv_area())
}

/// What `ps` in the jail shows as the init's command line.
const INIT_CMDLINE: &[u8] = b"ioc-init";

/// Overwrites the argv area `[start, end)` (ioc's command line: its path on the host, the
/// jail's name) with "ioc-init", as setproctitle does, and blanks the environment area
/// (`/proc/1/environ` is readable inside the jail, and ioc's environment is the host's). The
/// last byte of argv is left non-NUL so the kernel reads the command line up to the first NUL.
fn rename(start: usize, end: usize, env_start: usize, env_end: usize) {
    if env_start < env_end {
        // SAFETY: `[env_start, env_end)` is this process's environment area as the kernel
        // recorded it: mapped, writable stack memory. The init never reads its environment
        // again (libc's `environ` points there, but nothing here calls getenv).
        unsafe { std::slice::from_raw_parts_mut(env_start as *mut u8, env_end - env_start) }
            .fill(0);
    }
    let len = end.saturating_sub(start);
    if len < INIT_CMDLINE.len() + 2 {
        return;
    }
    // SAFETY: `[start, end)` is this process's argv area as the kernel recorded it (read from
    // /proc/self/stat before the fork): mapped, writable stack memory of this process. Nothing
    // in the init reads argv (std's copy of the pointers is never used here), so no reference
    // aliases the bytes written.
    unsafe {
        let area = std::slice::from_raw_parts_mut(start as *mut u8, len);
        area.fill(0);
        area[..INIT_CMDLINE.len()].copy_from_slice(INIT_CMDLINE);
        area[len - 1] = b' ';
    }
}
