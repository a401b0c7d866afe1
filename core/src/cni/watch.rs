//! Watching one plugin process to its end on the calling thread: its stdin fed, its stdout and
//! stderr read and its exit noticed in one `poll(2)` loop, with the deadline as the poll's
//! timeout.
//!
//! Why not a thread per pipe: a plugin call is on the critical path of every CNI start, and
//! four threads (stdin, stdout, stderr, wait) cost four stacks and four wake-ups that each need
//! a CPU; on a loaded host every hand-off waits for the scheduler. One loop wakes exactly when
//! the plugin writes, closes its pipes or exits. On Linux the exit is a pidfd in the same poll
//! set (`pidfd_open`, 5.3); where there is none, the loop checks the exit between polls,
//! polling at most a few milliseconds at a time once both pipes are closed (a plugin closes them
//! when it exits, so that is the moment it is about to be reapable).

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout};
use std::time::{Duration, Instant};

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use super::exec::{ExecError, RawOutput, LINGER, MAX_STDERR, MAX_STDOUT};

/// The longest single poll while the exit is only learnt by asking (no pidfd).
const EXIT_CHECK: Duration = Duration::from_millis(5);

fn nonblocking(fd: impl AsFd) -> io::Result<()> {
    let flags = OFlag::from_bits_truncate(fcntl(fd.as_fd(), FcntlArg::F_GETFL)?);
    fcntl(fd.as_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}

/// A file descriptor that becomes readable when the process exits, where the platform has one.
#[cfg(target_os = "linux")]
fn exit_fd(child: &Child) -> Option<OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1; the child is not
    // reaped yet (only this function's caller waits for it), so its pid names it.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, child.id() as libc::pid_t, 0) };
    let fd = i32::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: the syscall succeeded, so `fd` is a fresh descriptor nothing else owns.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

#[cfg(not(target_os = "linux"))]
fn exit_fd(_child: &Child) -> Option<OwnedFd> {
    None
}

/// What was read of one output pipe, while it is open.
struct Output<P> {
    pipe: Option<P>,
    bytes: Vec<u8>,
}

impl<P: Read> Output<P> {
    fn new(pipe: Option<P>) -> Output<P> {
        Output {
            pipe,
            bytes: Vec::new(),
        }
    }

    /// Reads what is there; keeps at most `keep` bytes, and returns `false` once more than
    /// `limit` came (`keep == limit`: stdout, where more is an error; stderr drains the rest).
    fn drain(&mut self, keep: usize, limit: usize) -> bool {
        let Some(pipe) = &mut self.pipe else {
            return true;
        };
        let mut chunk = [0u8; 8192];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) => {
                    self.pipe = None;
                    return true;
                }
                Ok(n) => {
                    if self.bytes.len() + n > limit {
                        return false;
                    }
                    let room = keep.saturating_sub(self.bytes.len());
                    self.bytes.extend_from_slice(&chunk[..n.min(room)]);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(_) => {
                    self.pipe = None;
                    return true;
                }
            }
        }
    }
}

/// The plugin's stdin and what is left to write to it; closed once written (or refused).
struct Input<'a> {
    pipe: Option<ChildStdin>,
    rest: &'a [u8],
}

impl Input<'_> {
    fn feed(&mut self) {
        let Some(pipe) = &mut self.pipe else {
            return;
        };
        while !self.rest.is_empty() {
            match pipe.write(self.rest) {
                Ok(n) => self.rest = &self.rest[n..],
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                // A plugin may exit without reading its input: a broken pipe is no error.
                Err(_) => break,
            }
        }
        self.pipe = None;
    }
}

/// Kills the plugin's process group and leaves the reaping to a thread of its own, so a
/// plugin stuck in the kernel cannot hold up the caller past its deadline.
fn abandon(mut child: Child, group: Pid) {
    let _ = killpg(group, Signal::SIGKILL);
    std::thread::spawn(move || {
        let _ = child.wait();
    });
}

/// Feeds `input` to the child, reads its output and waits for its exit; kills its process
/// group after `timeout`, when it prints too much, or when a helper still holds its pipes
/// [`LINGER`] after it exited (then what it printed counts).
pub(super) fn watch(
    mut child: Child,
    input: &[u8],
    timeout: Duration,
) -> Result<RawOutput, ExecError> {
    let group = Pid::from_raw(child.id() as i32);
    let mut stdin = Input {
        pipe: child.stdin.take(),
        rest: input,
    };
    let mut stdout: Output<ChildStdout> = Output::new(child.stdout.take());
    let mut stderr: Output<ChildStderr> = Output::new(child.stderr.take());
    let ready = [
        stdin.pipe.as_ref().map(nonblocking),
        stdout.pipe.as_ref().map(nonblocking),
        stderr.pipe.as_ref().map(nonblocking),
    ];
    if let Some(Err(e)) = ready.into_iter().flatten().find(Result::is_err) {
        abandon(child, group);
        return Err(ExecError::Watch(e));
    }
    let exited = exit_fd(&child);
    let mut deadline = Instant::now() + timeout;
    let mut code: Option<Option<i32>> = None;
    let mut swept = false;
    stdin.feed();
    loop {
        if code.is_none() {
            let status = match child.try_wait() {
                Ok(None) => None,
                Ok(Some(status)) => Some(status.code()),
                // Reaped by someone else: its code is lost, its output still counts.
                Err(_) => Some(None),
            };
            if status.is_some() {
                code = status;
                deadline = deadline.min(Instant::now() + LINGER);
            }
        }
        if code.is_some() && stdout.pipe.is_none() && stderr.pipe.is_none() {
            break;
        }
        let now = Instant::now();
        if now >= deadline {
            // The group: a helper the plugin started must not outlive it, nor keep its pipes.
            if code.is_some() && !swept {
                let _ = killpg(group, Signal::SIGKILL);
                swept = true;
                deadline = now + LINGER;
                continue;
            }
            abandon(child, group);
            return Err(ExecError::Timeout(timeout));
        }
        let mut wait = deadline - now;
        if code.is_none() && exited.is_none() {
            wait = wait.min(EXIT_CHECK);
        }
        let mut fds = Vec::with_capacity(4);
        let flags = PollFlags::POLLIN;
        if let Some(p) = &stdin.pipe {
            fds.push(PollFd::new(p.as_fd(), PollFlags::POLLOUT));
        }
        if let Some(p) = &stdout.pipe {
            fds.push(PollFd::new(p.as_fd(), flags));
        }
        if let Some(p) = &stderr.pipe {
            fds.push(PollFd::new(p.as_fd(), flags));
        }
        if let (Some(fd), None) = (&exited, code) {
            fds.push(PollFd::new(fd.as_fd(), flags));
        }
        // Round up: a poll that wakes a little early would spin until the deadline.
        let millis = wait.as_micros().div_ceil(1000);
        let millis = PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, millis) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => {
                abandon(child, group);
                return Err(ExecError::Watch(e.into()));
            }
        }
        drop(fds);
        // Readiness is re-checked by the non-blocking calls themselves: each does nothing
        // when its pipe has nothing for it.
        stdin.feed();
        if !stdout.drain(MAX_STDOUT, MAX_STDOUT) {
            abandon(child, group);
            return Err(ExecError::TooLarge);
        }
        stderr.drain(MAX_STDERR, usize::MAX);
    }
    Ok(RawOutput {
        code: code.flatten(),
        stdout: stdout.bytes,
        stderr: String::from_utf8_lossy(&stderr.bytes).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};

    use super::*;

    fn sh(script: &str) -> Child {
        Command::new("sh")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap()
    }

    /// More input than a pipe holds, and a flood on stderr while it is read: neither side
    /// blocks the other, stdout is whole and stderr kept up to its limit.
    #[test]
    fn large_input_and_a_stderr_flood_do_not_deadlock() {
        let input = vec![b'x'; 1 << 18];
        let out = watch(
            sh("head -c 1000000 /dev/zero >&2; wc -c; exit 3"),
            &input,
            Duration::from_secs(20),
        )
        .unwrap();
        assert_eq!(out.code, Some(3));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "262144");
        assert_eq!(out.stderr.len(), MAX_STDERR);
    }

    #[test]
    fn a_child_that_ignores_its_input_is_no_error() {
        let input = vec![b'x'; 1 << 18];
        let out = watch(sh("echo done"), &input, Duration::from_secs(20)).unwrap();
        assert!(out.success());
        assert_eq!(out.stdout, b"done\n");
    }

    /// The exit is watched on its own: a child that closed its pipes but runs on is killed at
    /// the deadline, and one that exits is noticed at once.
    #[test]
    fn the_deadline_holds_without_pipes_and_an_exit_is_seen_at_once() {
        let started = Instant::now();
        let err = watch(
            sh("exec >&- 2>&- <&-; sleep 30"),
            b"",
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(matches!(err, ExecError::Timeout(_)), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let started = Instant::now();
        let out = watch(sh("exec >&- 2>&-; sleep 0.1; exit 4"), b"", LINGER * 20).unwrap();
        assert_eq!(out.code, Some(4));
        assert!(started.elapsed() < LINGER, "{:?}", started.elapsed());
    }

    #[test]
    fn a_signal_is_no_exit_code() {
        let out = watch(sh("kill -9 $$"), b"", Duration::from_secs(20)).unwrap();
        assert_eq!(out.code, None);
    }
}
