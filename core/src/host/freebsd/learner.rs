//! The FreeBSD host's address learners: one `ioc __learn` process per learning port (see
//! [`crate::render::freebsd::learn`]), started detached, recorded in the jail's run dir and
//! ended with the jail.
//!
//! A firewall backend starts the learner from its install, so the lifecycle journals no undo
//! of its own for it: the host ends a jail's learners when it removes the jail, which every
//! stop, rollback and crash recovery does first. The learner also exits by itself when its
//! port disappears (bpf reports the interface gone), which the backend's removal causes; on
//! either end it deletes the table entries it added.

use std::fs;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::Duration;

use ioc_sdk::{HostError, HostErrorKind};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::run_checked;
use crate::host::exec::io_error;
use crate::learner::ready::wait_ready;
use crate::render::Command;

/// How long a learner may take to attach bpf to its port.
const READY_WAIT: Duration = Duration::from_secs(10);

const PREFIX: &str = "learner-";
const SUFFIX: &str = ".pid";

/// Where the pid of `port`'s learner is kept: `<jail run dir>/learner-<port>.pid`.
pub fn pid_file(jail_dir: &Path, port: &str) -> PathBuf {
    jail_dir.join(format!("{PREFIX}{port}{SUFFIX}"))
}

/// The port a pid file name belongs to.
fn port_of(file_name: &str) -> Option<&str> {
    file_name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)
}

/// Is `command_line` (as `ps -o command=` prints it) the learner of `port`? Guards against
/// killing a process that reused the pid after the learner ended.
pub fn is_learner(command_line: &str, port: &str) -> bool {
    let words: Vec<&str> = command_line.split_whitespace().collect();
    words.contains(&crate::render::freebsd::learn::LEARN)
        && words.windows(2).any(|w| w[0] == "--port" && w[1] == port)
}

/// Where `port`'s learner writes its log: `<jail run dir>/learner-<port>.log`.
pub fn log_file(jail_dir: &Path, port: &str) -> PathBuf {
    jail_dir.join(format!("{PREFIX}{port}.log"))
}

/// Starts the rendered learner `cmd` with this very executable (the rendered `ioc` is only a
/// name), in its own process group so a ^C to ioc does not end it, its stderr to its log,
/// records its pid, and waits for its `ready` line: the backend connects the port to the
/// bridges only after this returns, so no DHCP reply or RA passes before bpf is attached.
/// A learner that fails to start is ended and its record removed; the error carries the
/// last line of its log. Returns the pid.
pub fn spawn(cmd: &Command, jail_dir: &Path, port: &str) -> Result<u32, HostError> {
    // The port names the pid file: it must stay a file name in the jail's run dir.
    if port.is_empty() || port.starts_with('.') || port.contains('/') {
        return Err(HostError::new(
            HostErrorKind::Other,
            format!("learn addresses: {port:?} is not an interface name"),
        ));
    }
    let exe = std::env::current_exe().map_err(|e| io_error("find ioc's own executable", e))?;
    fs::create_dir_all(jail_dir).map_err(|e| io_error("create the jail's run dir", e))?;
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_file(jail_dir, port))
        .map_err(|e| io_error("open the learner's log", e))?;
    let mut process = Process::new(exe);
    process
        .arg("-v")
        .args(cmd.argv.iter().skip(1))
        .env_remove("IOC_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .process_group(0);
    let mut child = process
        .spawn()
        .map_err(|e| io_error(&format!("start `{}`", cmd.shell_line()), e))?;
    let pid = child.id();
    let file = pid_file(jail_dir, port);
    let recorded = fs::write(&file, format!("{pid}\n"))
        .map_err(|e| io_error(&format!("write {}", file.display()), e));
    let ready = recorded.and_then(|()| {
        let stdout = child
            .stdout
            .as_mut()
            .ok_or_else(|| failed(port, "no pipe"))?;
        wait_ready(stdout, READY_WAIT).map_err(|e| failed(port, e))
    });
    if let Err(e) = ready {
        // Unrecorded or not listening, it must not run on: end it now.
        let _ = child.kill();
        let _ = child.wait();
        let _ = fs::remove_file(&file);
        let log = fs::read_to_string(log_file(jail_dir, port)).unwrap_or_default();
        return Err(match log.lines().last().filter(|l| !l.is_empty()) {
            Some(last) => HostError::new(e.kind, format!("{} ({last})", e.message)),
            None => e,
        });
    }
    Ok(pid)
}

fn failed(port: &str, message: impl std::fmt::Display) -> HostError {
    HostError::new(
        HostErrorKind::Other,
        format!("address learner for {port}: {message}"),
    )
}

/// Ends every learner recorded for the jail (SIGTERM) and forgets it. A learner already gone,
/// or a pid now held by another process, only loses its record.
pub fn stop_all(jail_dir: &Path) -> Result<(), HostError> {
    let entries = match fs::read_dir(jail_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error("read the jail's run dir", e)),
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(port) = name.to_str().and_then(port_of) else {
            continue;
        };
        let path = entry.path();
        let pid: Option<i32> = fs::read_to_string(&path)
            .ok()
            .and_then(|s| s.trim().parse().ok());
        if let Some(pid) = pid.filter(|p| *p > 0) {
            let ps = Command::new(["/bin/ps", "-o", "command=", "-p", &pid.to_string()]);
            // ps exits non-zero for a pid that no longer exists: nothing to end.
            if let Ok(line) = run_checked(&ps) {
                if is_learner(&line, port) {
                    match kill(Pid::from_raw(pid), Signal::SIGTERM) {
                        Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
                        Err(e) => {
                            return Err(HostError::new(
                                HostErrorKind::Other,
                                format!("end the address learner of {port} (pid {pid}): {e}"),
                            ))
                        }
                    }
                }
            }
        }
        fs::remove_file(&path).map_err(|e| io_error(&format!("remove {}", path.display()), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_files_are_named_by_port() {
        let file = pid_file(Path::new("/var/run/ioc/jails/myjail"), "vnet0:5");
        assert_eq!(
            file,
            Path::new("/var/run/ioc/jails/myjail/learner-vnet0:5.pid")
        );
        let name = file.file_name().unwrap().to_str().unwrap();
        assert_eq!(port_of(name), Some("vnet0:5"));
        assert_eq!(port_of("journal"), None);
    }

    #[test]
    fn a_port_that_is_no_file_name_is_refused_before_anything_starts() {
        let dir = tempfile::tempdir().unwrap();
        let cmd = Command::new(["ioc", "__learn"]);
        for port in ["", "../x", "a/b", ".."] {
            assert!(spawn(&cmd, dir.path(), port).is_err(), "{port}");
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_learner_that_exits_before_it_is_ready_is_an_error_and_leaves_no_record() {
        let dir = tempfile::tempdir().unwrap();
        // The test binary is ioc's "own executable" here: it rejects `-v __learn` and exits.
        let cmd = Command::new(["ioc", "__learn", "--port", "nosuchport0"]);
        let e = spawn(&cmd, dir.path(), "nosuchport0").unwrap_err();
        assert!(
            e.message
                .starts_with("address learner for nosuchport0: exited before it was ready"),
            "{e:?}"
        );
        assert!(!pid_file(dir.path(), "nosuchport0").exists());
        assert!(log_file(dir.path(), "nosuchport0").exists());
    }

    #[test]
    fn only_the_ports_own_learner_is_recognised() {
        let line = "/usr/local/bin/ioc __learn --port vnet0:5 --mac 02:ff:60:cb:49:49 --dhcp4 --sink ipfw:a,b";
        assert!(is_learner(line, "vnet0:5"));
        assert!(!is_learner(line, "vnet0:55"));
        assert!(!is_learner("/usr/sbin/sshd -D", "vnet0:5"));
        assert!(!is_learner("", "vnet0:5"));
    }

    #[test]
    fn stopping_forgets_records_of_processes_that_are_gone() {
        let dir = tempfile::tempdir().unwrap();
        // A pid no process can hold, and a file that is not a learner's.
        fs::write(pid_file(dir.path(), "vnet0:5"), "2147483000\n").unwrap();
        fs::write(dir.path().join("journal"), "").unwrap();
        stop_all(dir.path()).unwrap();
        assert!(!pid_file(dir.path(), "vnet0:5").exists());
        assert!(dir.path().join("journal").exists());
        stop_all(&dir.path().join("absent")).unwrap();
    }
}
