//! Running one plugin, per the specification's rules on environment, stdin and stdout.
//!
//! The plugin gets exactly the `CNI_*` variables and `PATH` of its [`PluginCall`] (the
//! environment is cleared, so nothing of ioc's leaks into it), its configuration on stdin,
//! and its own process group. Its stdout is read up to [`MAX_STDOUT`] bytes (a result or an
//! error object is small; more is a broken plugin, killed at once), its stderr kept (up to
//! [`MAX_STDERR`]) for messages. A plugin still running at the timeout is killed with its
//! whole process group, so a helper it started cannot keep the pipes, or the network, busy;
//! a helper still holding the pipes [`LINGER`] after the plugin exited goes the same way, and
//! the plugin's answer counts. All of that happens on the calling thread (see the `watch` module).

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::time::Duration;

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
    /// Its pipes or its exit could not be watched; it was killed.
    #[error("cannot watch its pipes and exit ({0}); it was killed")]
    Watch(io::Error),
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

fn run_process(call: &PluginCall, timeout: Duration) -> Result<RawOutput, ExecError> {
    let began = std::time::Instant::now();
    let child = spawn(call)?;
    tracing::trace!(
        plugin = call.plugin.as_str(),
        micros = began.elapsed().as_micros() as u64,
        "CNI plugin spawned"
    );
    super::watch::watch(child, call.stdin.as_bytes(), timeout)
}
