//! The learner's start handshake, both ends: the learner says `ready ...` on stdout once it
//! listens (a bound queue on Linux, attached bpf descriptors on FreeBSD), and the host waits
//! for that line before it lets traffic reach the port, so no reply passes unseen.

use std::fmt::Display;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::process::ChildStdout;
use std::time::{Duration, Instant};

/// Leaves the spawning command's session (the learner outlives it; a terminal's signals must
/// not reach it).
pub fn detach() {
    let _ = nix::unistd::setsid();
}

/// Tells the host the learner is ready: `ready WHAT` on stdout, the host's pipe, which is then
/// pointed at stderr (the host's log file): the host stops reading after this line.
pub fn announce_ready<T: Display>(what: T) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "ready {what}").and_then(|()| out.flush());
    // SAFETY: dup2 on the process's own standard descriptors; no Rust object owns fd 1
    // exclusively (stdout's handle writes to whatever fd 1 is).
    unsafe { libc::dup2(2, 1) };
}

/// Why a learner did not say it was ready.
#[derive(Debug, thiserror::Error)]
pub enum ReadyError {
    #[error("not ready within {0:?}")]
    Timeout(Duration),
    #[error("exited before it was ready")]
    Exited,
    #[error("unexpected answer {0:?}")]
    Unexpected(String),
    #[error("reading its answer: {0}")]
    Io(#[from] io::Error),
}

/// Reads the learner's first line from `stdout`, waiting at most `timeout`; returns what
/// follows `ready `.
pub fn wait_ready(stdout: &mut ChildStdout, timeout: Duration) -> Result<String, ReadyError> {
    let deadline = Instant::now() + timeout;
    let mut line = Vec::new();
    while !line.ends_with(b"\n") {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ReadyError::Timeout(timeout));
        }
        let mut poll = libc::pollfd {
            fd: stdout.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(left.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: `poll` is one valid pollfd whose descriptor `stdout` keeps open.
        if unsafe { libc::poll(&mut poll, 1, ms) } < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e.into());
            }
            continue;
        }
        if poll.revents == 0 {
            continue;
        }
        // One byte at a time: nothing past the line may be consumed (there is nothing, the
        // learner points stdout elsewhere after it).
        let mut byte = [0u8; 1];
        match stdout.read(&mut byte) {
            Ok(0) => return Err(ReadyError::Exited),
            Ok(_) => line.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let text = String::from_utf8_lossy(&line).trim().to_string();
    match text.strip_prefix("ready ") {
        Some(what) => Ok(what.to_string()),
        None => Err(ReadyError::Unexpected(text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    fn answer(script: &str, timeout: Duration) -> Result<String, ReadyError> {
        let mut child = Command::new("/bin/sh")
            .args(["-c", script])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let result = wait_ready(child.stdout.as_mut().unwrap(), timeout);
        let _ = child.kill();
        let _ = child.wait();
        result
    }

    #[test]
    fn the_ready_line_is_read_and_anything_else_is_an_error() {
        let long = Duration::from_secs(10);
        assert_eq!(answer("echo ready bpf; sleep 5", long).unwrap(), "bpf");
        assert!(matches!(answer("exit 1", long), Err(ReadyError::Exited)));
        assert!(matches!(
            answer("echo hello", long),
            Err(ReadyError::Unexpected(t)) if t == "hello"
        ));
        assert!(matches!(
            answer("sleep 5", Duration::from_millis(100)),
            Err(ReadyError::Timeout(_))
        ));
    }
}
