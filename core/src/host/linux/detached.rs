//! Deleting a few links in detached processes, so that the caller does not wait for the
//! kernel's freeing of them (issue 15).
//!
//! An `RTM_DELLINK` unlists the device at once (gone from `RTM_GETLINK`, its name free, off its
//! bridge), but the kernel answers only after `netdev_run_todo`'s `rcu_barrier()`, 15-25 ms on
//! a busy host, and it runs the request in the thread that sent it: a thread of ours cannot
//! hide that, since a process exits only when all its threads have. So each request is sent by
//! a grandchild that nobody waits for (double fork: the child in between exits at once and is
//! reaped here), while the caller watches the link disappear by its index, as it does when a
//! namespace's teardown removes it.
//!
//! Between `fork` and `_exit` only async-signal-safe calls are made (ioc may have threads):
//! the requests are encoded and `/dev/null` opened before the fork. The grandchild puts
//! `/dev/null` on 0, 1 and 2 and closes everything else first, so it holds no jail lock and no
//! pipe of the caller (a caller reading ioc's output sees its end when ioc exits).
//!
//! A SIGKILL of ioc at any point leaves the host end journaled with its undo, so the next stop
//! finishes (the grandchild's `ENODEV`, when a namespace teardown won the race, is fine too).

use std::fs::OpenOptions;
use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Test hook: the caller kills itself with SIGKILL right after the detached processes are
/// forked, to show that the next command finishes the stop.
const KILL_AFTER_FORK: &str = "IOC_FAULT_KILL_AFTER_DETACH";

/// Test hook: the detached processes stay this many seconds after their work, to show that
/// they hold nothing of the caller's (its output reaches its end when ioc exits).
const LINGER: &str = "IOC_FAULT_DETACHED_LINGER";

/// The file descriptors the grandchild closes one by one when `close_range` is missing
/// (Linux before 5.9).
const FALLBACK_FDS: RawFd = 4096;

/// Starts sending each of `requests` (encoded netlink route requests, see
/// [`super::netlink::delete_link_request`]) from a detached process of its own, and returns
/// once those processes exist. Whether a request succeeds is for the caller to watch.
///
/// With `hold`, the processes also keep that descriptor (the caller's netfilter socket) until
/// the caller exits, and the caller's own close of it is cheap (see [`close_detached`]): a
/// Secure VNET stop, whose port table is deleted after the link, then needs no fork of its
/// own for that. Returns the write end of the pipe whose end they wait for: the caller keeps it
/// open for as long as it may use the socket (until it exits).
pub fn send_detached(
    requests: &[Vec<u8>],
    hold: Option<BorrowedFd<'_>>,
) -> io::Result<Option<OwnedFd>> {
    if requests.is_empty() {
        return Ok(None);
    }
    let Some(hold) = hold else {
        double_fork(requests.len(), &[], &|i| send_request(&requests[i]))?;
        return Ok(None);
    };
    let (read, write) = pipe()?;
    let keep = [hold.as_raw_fd(), read.as_raw_fd()];
    double_fork(requests.len(), &keep, &|i| {
        send_request(&requests[i]);
        await_eof(keep[1]);
    })?;
    Ok(Some(write))
}

/// A pipe, both ends close-on-exec: (read, write).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` is valid for writes of two ints.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 just opened both, and nothing else owns them.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Reads `fd` until its end (every write end closed) or an error other than EINTR.
fn await_eof(fd: RawFd) {
    let mut buf = [0u8; 16];
    loop {
        // SAFETY: `buf` is valid for writes of its length.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n == 0 || (n < 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted) {
            return;
        }
    }
}

/// Hands `fd` over to a detached process that closes it, so that the caller's own close is
/// cheap: closing a netfilter socket after a deletion waits for the kernel to free the deleted
/// objects after an RCU grace period (10-20 ms), and a process exits only when that is done.
/// The caller closes its copy afterwards.
///
/// That process is made with `CLONE_VM` (see [`closer`]): it shares the caller's memory instead
/// of copying its page tables, so it costs the caller about what a thread costs, not a fork
/// and a wait (0.4-0.6 ms here, the largest part of what a Secure VNET stop did more than a
/// plain one).
pub fn close_detached(fd: BorrowedFd<'_>) -> io::Result<()> {
    closer::spawn(fd.as_raw_fd())
}

#[path = "closer.rs"]
mod closer;

/// Forks a child that forks `jobs` grandchildren and exits at once; each grandchild drops every
/// descriptor of the caller except `keep` (at most two), runs `job` with its number and exits
/// (closing `keep`). Returns once the child is reaped, so the grandchildren exist.
fn double_fork(jobs: usize, keep: &[RawFd], job: &dyn Fn(usize)) -> io::Result<()> {
    // Opened with O_CLOEXEC; the copies dup2 makes on 0, 1 and 2 are not.
    let null = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    let kill_after = std::env::var_os(KILL_AFTER_FORK).is_some();
    let linger = libc::timespec {
        tv_sec: std::env::var(LINGER)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        tv_nsec: 0,
    };
    // SAFETY: fork has no memory-safety preconditions; the child below makes only
    // async-signal-safe calls (fork, dup2, close_range, close, _exit, and those of `job`) and
    // touches only memory that existed before the fork.
    let child = unsafe { libc::fork() };
    match child {
        -1 => Err(io::Error::last_os_error()),
        0 => {
            for i in 0..jobs {
                // SAFETY: as above; a failed fork only means that job is not done.
                if unsafe { libc::fork() } == 0 {
                    scrub_descriptors(null.as_raw_fd(), keep);
                    job(i);
                    if linger.tv_sec > 0 {
                        // SAFETY: `linger` is a valid timespec; no remainder is asked for.
                        unsafe { libc::nanosleep(&linger, std::ptr::null_mut()) };
                    }
                    // SAFETY: _exit ends the grandchild without running anything of the
                    // parent's (no atexit handlers, no stdio flush).
                    unsafe { libc::_exit(0) }
                }
            }
            // SAFETY: as above.
            unsafe { libc::_exit(0) }
        }
        pid => {
            reap(pid)?;
            if kill_after {
                // SAFETY: kill has no memory-safety preconditions.
                unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
            }
            Ok(())
        }
    }
}

/// Waits for the child in between, which exits at once.
fn reap(pid: libc::pid_t) -> io::Result<()> {
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid, writable int for the duration of the call.
        if unsafe { libc::waitpid(pid, &mut status, 0) } == pid {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Puts `null` on 0, 1 and 2 and closes every other descriptor but `keep` (at most two).
fn scrub_descriptors(null: RawFd, keep: &[RawFd]) {
    for fd in 0..3 {
        // SAFETY: dup2 on descriptors only; a failure leaves that descriptor as it was.
        unsafe { libc::dup2(null, fd) };
    }
    // The gaps between the kept descriptors, in order, without allocating.
    let mut kept = [RawFd::MAX; 2];
    for (slot, fd) in kept.iter_mut().zip(keep.iter().filter(|fd| **fd >= 3)) {
        *slot = *fd;
    }
    kept.sort_unstable();
    let mut first = 3;
    for last in kept {
        close_range(first, last.saturating_sub(1));
        first = last.saturating_add(1);
        if last == RawFd::MAX {
            break;
        }
    }
    close_range(first, RawFd::MAX);
}

/// Closes the descriptors `first..=last` (none when `first > last`).
fn close_range(first: RawFd, last: RawFd) {
    if first > last {
        return;
    }
    // SAFETY: close_range closes descriptors only, none of which Rust code uses hereafter.
    let closed = unsafe { libc::syscall(libc::SYS_close_range, first as u32, last as u32, 0u32) };
    if closed != 0 {
        for fd in first..=last.min(FALLBACK_FDS) {
            // SAFETY: as above; closing a descriptor that is not open is a harmless EBADF.
            unsafe { libc::close(fd) };
        }
    }
}

/// Sends `request` on a new rtnetlink socket and reads the kernel's answer.
fn send_request(request: &[u8]) {
    // SAFETY: socket creates a descriptor and touches no memory of ours.
    let sock = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
    };
    if sock >= 0 {
        // SAFETY: sockaddr_nl is plain data for which all zeroes is valid (pid 0: the kernel).
        let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: `request` and `kernel` are valid for reads of the lengths given.
        let sent = unsafe {
            libc::sendto(
                sock,
                request.as_ptr().cast(),
                request.len(),
                0,
                (&kernel as *const libc::sockaddr_nl).cast(),
                size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if sent >= 0 {
            let mut ack = [0u8; 512];
            // SAFETY: `ack` is valid for writes of its length; a truncated ACK is fine.
            unsafe { libc::recv(sock, ack.as_mut_ptr().cast(), ack.len(), 0) };
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// A pipe without `O_CLOEXEC`, as a caller's inherited output would be: (read, write).
    fn pipe() -> (RawFd, RawFd) {
        let mut fds = [0; 2];
        // SAFETY: `fds` is valid for writes of two ints.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        (fds[0], fds[1])
    }

    /// Closes our write end and reads the pipe to its end; returns how long that took.
    fn time_to_eof(read: RawFd, write: RawFd) -> Duration {
        let start = Instant::now();
        // SAFETY: closing our own descriptor.
        unsafe { libc::close(write) };
        let mut buf = [0u8; 16];
        // SAFETY: `buf` is valid for writes of its length.
        while unsafe { libc::read(read, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
        // SAFETY: closing our own descriptor.
        unsafe { libc::close(read) };
        start.elapsed()
    }

    fn sleep_a_second(_: usize) {
        let second = libc::timespec {
            tv_sec: 1,
            tv_nsec: 0,
        };
        // SAFETY: a valid timespec, no remainder asked for.
        unsafe { libc::nanosleep(&second, std::ptr::null_mut()) };
    }

    #[test]
    fn a_detached_process_keeps_no_descriptor_of_the_caller() {
        let (read, write) = pipe();
        double_fork(1, &[], &sleep_a_second).unwrap();
        let took = time_to_eof(read, write);
        assert!(took < Duration::from_millis(500), "EOF after {took:?}");
    }

    #[test]
    fn a_detached_process_keeps_the_descriptor_it_is_handed_until_it_ends() {
        let (read, write) = pipe();
        // SAFETY: `write` is open for the duration of the call.
        close_detached(unsafe { BorrowedFd::borrow_raw(write) }).unwrap();
        let took = time_to_eof(read, write);
        assert!(took < Duration::from_millis(500), "EOF after {took:?}");
        let (read, write) = pipe();
        double_fork(1, &[write], &sleep_a_second).unwrap();
        let took = time_to_eof(read, write);
        assert!(took >= Duration::from_millis(500), "EOF after {took:?}");
    }
}
