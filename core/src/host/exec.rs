//! Running programs for the hosts: captured commands and hooks.

use std::io::{self, Write};
use std::os::fd::AsFd;
use std::process::{Command, Stdio};
use std::thread;

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
///
/// The input is written from a thread while this one drains stdout and stderr: a child that
/// fills its output pipe before it has read all its input would otherwise wait for ioc to read,
/// while ioc waits for it to read.
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
    let feeder = match (stdin, child.stdin.take()) {
        (Some(input), Some(mut pipe)) => {
            let input = input.to_owned();
            Some(thread::spawn(move || pipe.write_all(input.as_bytes())))
        }
        _ => None,
    };
    let out = child
        .wait_with_output()
        .map_err(|e| io_error(&format!("wait for {program}"), e))?;
    if let Some(feeder) = feeder {
        match feeder.join() {
            Ok(Ok(())) => {}
            // The child exited without reading all of its input; its status tells why.
            Ok(Err(e)) if e.kind() == io::ErrorKind::BrokenPipe => {}
            Ok(Err(e)) => return Err(io_error(&format!("write to {program}"), e)),
            Err(_) => {
                return Err(HostError::new(
                    HostErrorKind::Other,
                    format!("write to {program}: the writer thread panicked"),
                ))
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_and_output_larger_than_a_pipe_buffer_do_not_hang() {
        // 1 MiB in, 1 MiB out: `cat` fills its stdout pipe long before it has read its input.
        let input = "0123456789abcdef".repeat(64 * 1024);
        let out = run(Command::new("cat"), Some(&input)).unwrap();
        assert_eq!(out.status, 0);
        assert_eq!(out.stdout.len(), input.len());
        assert!(out.stdout.as_str() == input);
    }

    #[test]
    fn a_child_that_ignores_its_input_is_not_an_error() {
        let input = "x".repeat(1024 * 1024);
        let out = run(Command::new("true"), Some(&input)).unwrap();
        assert_eq!(out.status, 0);
    }
}
