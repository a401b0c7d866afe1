//! Running one plugin, per the specification's rules on environment, stdin and stdout.
//!
//! The plugin gets exactly the `CNI_*` variables and `PATH` of its [`PluginCall`] (the
//! environment is cleared, so nothing of ioc's leaks into it), its configuration on stdin,
//! and its own process group. Its stdout is read up to [`MAX_STDOUT`] bytes (a result or an
//! error object is small; more is a broken plugin, killed at once), its stderr kept (up to
//! [`MAX_STDERR`]) for messages. A plugin still running at the timeout is killed with its
//! whole process group, so a helper it started cannot keep the pipes, or the network, busy;
//! a helper still holding the pipes [`LINGER`] after the plugin exited goes the same way, and
//! the plugin's answer counts.

use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use super::PluginCall;

/// The most a plugin may print on stdout.
pub const MAX_STDOUT: usize = 1 << 20;
/// The most of a plugin's stderr kept for messages.
pub const MAX_STDERR: usize = 16 << 10;
/// How long the pipes may stay open after the plugin exited (a helper it started in its
/// process group holding them) before that group is killed.
pub const LINGER: Duration = Duration::from_millis(500);

/// How a plugin ended and what it printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawOutput {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    /// What it printed on stdout.
    pub stdout: Vec<u8>,
    /// What it printed on stderr (the first [`MAX_STDERR`] bytes).
    pub stderr: String,
}

impl RawOutput {
    /// Did the plugin exit with status 0?
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// Why a plugin could not be run to its end.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The program could not be started.
    #[error("cannot run {program}: {source}")]
    Spawn { program: String, source: io::Error },
    /// It did not finish in time; it was killed with its process group.
    #[error("did not finish within {} and was killed with its process group", seconds(.0))]
    Timeout(Duration),
    /// It printed more than [`MAX_STDOUT`] bytes; it was killed.
    #[error("printed more than {MAX_STDOUT} bytes on stdout and was killed")]
    TooLarge,
}

fn seconds(d: &Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// Runs plugin calls: the real [`ProcessRunner`], or the dry run's.
pub trait Runner {
    /// Runs `call` to its end, or kills it after `timeout`.
    fn run(&mut self, call: &PluginCall, timeout: Duration) -> Result<RawOutput, ExecError>;
}

/// Runs each call as a process.
#[derive(Debug, Default)]
pub struct ProcessRunner;

impl Runner for ProcessRunner {
    fn run(&mut self, call: &PluginCall, timeout: Duration) -> Result<RawOutput, ExecError> {
        run_process(call, timeout)
    }
}

enum Event {
    Stdout(Option<Vec<u8>>),
    Stderr(String),
    Exit(Option<i32>),
}

/// Reads `pipe` to its end, up to `limit` bytes (`None`: more came).
fn read_limited(mut pipe: impl Read, limit: usize) -> Option<Vec<u8>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match pipe.read(&mut chunk) {
            Ok(0) => return Some(buffer),
            Ok(n) if buffer.len() + n > limit => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Some(buffer),
        }
    }
}

/// Keeps the first `limit` bytes of `pipe` and drains the rest, so the plugin never blocks
/// on a full stderr pipe.
fn read_keeping(mut pipe: impl Read, limit: usize) -> String {
    let mut kept = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match pipe.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                let room = limit.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..n.min(room)]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

fn spawn(call: &PluginCall) -> Result<Child, ExecError> {
    std::process::Command::new(&call.program)
        .env_clear()
        .envs(call.env.iter().map(|(k, v)| (k, v)))
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|source| ExecError::Spawn {
            program: call.program.display().to_string(),
            source,
        })
}

/// Starts the threads that feed stdin, read stdout and stderr and wait for the exit.
fn watch(mut child: Child, input: String, events: Sender<Event>) {
    if let Some(mut stdin) = child.stdin.take() {
        // A plugin may exit without reading its input: a broken pipe is no error here.
        thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
    }
    if let Some(stdout) = child.stdout.take() {
        let tx = events.clone();
        thread::spawn(move || {
            let _ = tx.send(Event::Stdout(read_limited(stdout, MAX_STDOUT)));
        });
    }
    if let Some(stderr) = child.stderr.take() {
        let tx = events.clone();
        thread::spawn(move || {
            let _ = tx.send(Event::Stderr(read_keeping(stderr, MAX_STDERR)));
        });
    }
    thread::spawn(move || {
        let code = child.wait().ok().and_then(|status| status.code());
        let _ = events.send(Event::Exit(code));
    });
}

fn run_process(call: &PluginCall, timeout: Duration) -> Result<RawOutput, ExecError> {
    let child = spawn(call)?;
    let group = Pid::from_raw(child.id() as i32);
    let (tx, rx): (Sender<Event>, Receiver<Event>) = mpsc::channel();
    watch(child, call.stdin.clone(), tx);
    let mut deadline = Instant::now() + timeout;
    let (mut stdout, mut stderr, mut exit) = (None, None, None);
    let mut swept = false;
    while stdout.is_none() || stderr.is_none() || exit.is_none() {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(Event::Stdout(None)) => {
                let _ = killpg(group, Signal::SIGKILL);
                return Err(ExecError::TooLarge);
            }
            Ok(Event::Stdout(Some(bytes))) => stdout = Some(bytes),
            Ok(Event::Stderr(text)) => stderr = Some(text),
            Ok(Event::Exit(code)) => {
                exit = Some(code);
                deadline = deadline.min(Instant::now() + LINGER);
            }
            // The plugin is done, but a helper it left in its group still holds a pipe: the
            // group goes (as it would at the timeout) and what the plugin printed counts.
            Err(RecvTimeoutError::Timeout) if exit.is_some() && !swept => {
                let _ = killpg(group, Signal::SIGKILL);
                swept = true;
                deadline = Instant::now() + LINGER;
            }
            Err(RecvTimeoutError::Timeout) => {
                // The whole group: a helper the plugin started must not outlive it.
                let _ = killpg(group, Signal::SIGKILL);
                return Err(ExecError::Timeout(timeout));
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    Ok(RawOutput {
        code: exit.flatten(),
        stdout: stdout.unwrap_or_default(),
        stderr: stderr.unwrap_or_default(),
    })
}
