//! Processes a test runs beside `ioc`: servers, or an `ioc` that hangs on purpose.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStderr, Command};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// A process started in the background (a server, or an `ioc` that hangs on purpose), killed
/// with SIGKILL and reaped on drop so no test leaves one behind or blocks on its locks.
pub struct Background {
    child: Child,
}

impl Background {
    pub fn spawn(mut command: Command) -> Background {
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        Background { child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The piped stderr, once.
    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.child.stderr.take()
    }

    /// Whether it has exited (reaping it if so).
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Waits for it to end by itself.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().expect("wait for a child")
    }

    /// `kill -9`, then waits for it to be gone.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Waits up to `timeout` for a line containing `needle` on a child's stderr. Returns the
/// lines read so far when it does not come (the child exited or timed out).
pub fn wait_for_line(
    stderr: ChildStderr,
    needle: &str,
    timeout: Duration,
) -> Result<(), Vec<String>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + timeout;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return Ok(()),
            Ok(line) => seen.push(line),
            Err(_) => return Err(seen),
        }
    }
}
