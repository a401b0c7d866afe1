//! Running programs for the hosts: captured commands and hooks.

use std::io::{self, Write};
use std::os::fd::AsFd;
use std::process::{Command, Stdio};

use ioc_sdk::{CommandOutput, HostError, HostErrorKind};

/// An I/O error as a host error of the matching kind, with context.
pub fn io_error(context: &str, e: io::Error) -> HostError {
    let kind = match e.kind() {
        io::ErrorKind::NotFound => HostErrorKind::NotFound,
        io::ErrorKind::AlreadyExists => HostErrorKind::AlreadyExists,
        io::ErrorKind::PermissionDenied => HostErrorKind::PermissionDenied,
        _ => HostErrorKind::Other,
    };
    HostError::new(kind, format!("{context}: {e}"))
}

/// Runs a command to completion, feeding `stdin`, capturing its output.
pub fn run(mut cmd: Command, stdin: Option<&str>) -> Result<CommandOutput, HostError> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| io_error(&format!("run {program}"), e))?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes())
            .map_err(|e| io_error(&format!("write to {program}"), e))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| io_error(&format!("wait for {program}"), e))?;
    Ok(CommandOutput {
        status: out.status.code().unwrap_or(128),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned().into(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned().into(),
    })
}

/// Runs a hook (`/bin/sh -c COMMAND` already in `cmd`) with its output on ioc's stderr, so
/// ioc's stdout stays parseable. A non-zero exit is an error quoting the command.
pub fn run_hook(mut cmd: Command, command: &str) -> Result<(), HostError> {
    let stderr = io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| io_error("dup stderr", e))?;
    let stdout = stderr.try_clone().map_err(|e| io_error("dup stderr", e))?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr));
    let status = cmd.status().map_err(|e| io_error("run /bin/sh", e))?;
    if !status.success() {
        return Err(HostError::new(
            HostErrorKind::Other,
            format!(
                "`{command}` exited with status {}",
                status.code().unwrap_or(128)
            ),
        ));
    }
    Ok(())
}
