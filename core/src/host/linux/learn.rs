//! Starting and stopping a port's address learner (`ioc __learn`, see [`crate::learner`]).
//!
//! The learner runs in the host's network namespace (its port is a host-side interface) as a
//! child of ioc that outlives it. The host waits for its `ready QUEUE` line before replying, so
//! the firewall rules that queue to it are committed only once someone listens. What a stop or
//! a crash recovery needs to find it again is kept in the jail's runtime dir:
//! `learn-<port>.pid` holds its pid and start time (the kernel's, from `/proc`), so a pid the
//! system has given to another process since is never signalled; `learn-<port>.log` is its
//! log; `learned-<port>` is what it allows the port now (see [`crate::learner::record`]).

use std::fs;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use ioc_sdk::{HostError, HostErrorKind, HostOp, HostReply, LearnSink, Mac};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::host::exec::io_error;
use crate::learner::{self, Sink};

/// How long a learner may take to bind its queue.
const READY_WAIT: Duration = Duration::from_secs(10);
/// How long a learner has to end after SIGTERM before it gets SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(2);

/// What the host needs to start one learner.
pub struct LearnRequest<'a> {
    pub jail_dir: PathBuf,
    pub port: &'a str,
    pub mac: Mac,
    pub dhcp4: bool,
    pub slaac: bool,
    pub sink: &'a LearnSink,
}

fn pid_file(jail_dir: &Path, port: &str) -> PathBuf {
    jail_dir.join(format!("learn-{port}.pid"))
}

fn log_file(jail_dir: &Path, port: &str) -> PathBuf {
    jail_dir.join(format!("learn-{port}.log"))
}

fn failed(port: &str, message: impl std::fmt::Display) -> HostError {
    HostError::new(
        HostErrorKind::Other,
        format!("address learner for {port}: {message}"),
    )
}

/// Carries out [`HostOp::LearnAddresses`] for the jail whose runtime dir is `jail_dir`:
/// replies with the learner's queue.
pub fn perform(jail_dir: PathBuf, op: &HostOp) -> Result<HostReply, HostError> {
    let HostOp::LearnAddresses {
        port,
        mac,
        dhcp4,
        slaac,
        sink,
    } = op
    else {
        return Err(failed("?", format!("not a learner request: {}", op.name())));
    };
    let request = LearnRequest {
        jail_dir,
        port,
        mac: *mac,
        dhcp4: *dhcp4,
        slaac: *slaac,
        sink,
    };
    start(&request).map(|queue| HostReply::Number(Some(u32::from(queue)).into()))
}

/// Starts a learner and returns the queue it listens on.
pub fn start(request: &LearnRequest<'_>) -> Result<u16, HostError> {
    let port = request.port;
    let LearnSink::NftSets {
        family,
        table,
        set4,
        set6,
    } = request.sink
    else {
        return Err(HostError::new(
            HostErrorKind::Unsupported,
            format!(
                "address learner for {port}: Linux learns into nftables sets only, not {:?}",
                request.sink
            ),
        ));
    };
    let sink = Sink {
        family: *family,
        table: table.to_string(),
        set4: set4.to_string(),
        set6: set6.to_string(),
    };
    fs::create_dir_all(&request.jail_dir)
        .map_err(|e| io_error("create the jail's runtime dir", e))?;
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_file(&request.jail_dir, port))
        .map_err(|e| io_error("open the learner's log", e))?;
    let exe = std::env::current_exe().map_err(|e| io_error("find ioc's own executable", e))?;
    let argv = learner::command_line(port, request.mac, &sink, request.dhcp4, request.slaac);
    // The record for `ioc list` lives with the jail's run state, so it goes when the jail stops.
    let record_path = learner::record::path(&request.jail_dir, port);
    // Its own process group from the start (the learner then makes itself a session): a
    // Ctrl-C meant for this ioc command must not reach it.
    let mut child = Command::new(exe)
        .process_group(0)
        .arg("-v")
        .args(&argv)
        .arg(learner::RECORD_OPTION)
        .arg(&record_path)
        .env_remove("IOC_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| io_error(&format!("start the address learner for {port}"), e))?;
    let recorded = record(&request.jail_dir, port, child.id());
    let ready = recorded.and_then(|()| wait_ready(&mut child, port));
    match ready {
        Ok(queue) => Ok(queue),
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            let _ = fs::remove_file(pid_file(&request.jail_dir, port));
            let log = fs::read_to_string(log_file(&request.jail_dir, port)).unwrap_or_default();
            let last = log.lines().last().unwrap_or_default();
            Err(if last.is_empty() {
                e
            } else {
                HostError::new(e.kind, format!("{} ({last})", e.message))
            })
        }
    }
}

/// Writes the pid file: pid and start time.
fn record(jail_dir: &Path, port: &str, pid: u32) -> Result<(), HostError> {
    let started =
        start_time(pid).ok_or_else(|| failed(port, format!("process {pid} vanished at once")))?;
    let path = pid_file(jail_dir, port);
    let partial = path.with_extension("pid.new");
    fs::write(&partial, format!("{pid} {started}\n"))
        .and_then(|()| fs::rename(&partial, &path))
        .map_err(|e| io_error("record the address learner", e))
}

/// Reads the learner's `ready QUEUE` line, waiting at most [`READY_WAIT`].
fn wait_ready(child: &mut Child, port: &str) -> Result<u16, HostError> {
    let mut stdout = child
        .stdout
        .take()
        .ok_or_else(|| failed(port, "no pipe to the learner"))?;
    let answer = learner::ready::wait_ready(&mut stdout, READY_WAIT)
        .map_err(|e| failed(port, e.to_string()))?;
    answer
        .parse()
        .map_err(|_| failed(port, format!("unexpected answer \"ready {answer}\"")))
}

/// Stops the learner of `port` if it still runs: SIGTERM, then SIGKILL after [`TERM_GRACE`].
pub fn stop(jail_dir: &Path, port: &str) -> Result<(), HostError> {
    let path = pid_file(jail_dir, port);
    let recorded = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error("read the address learner's pid file", e)),
    };
    if let Some((pid, started)) = parse_record(&recorded) {
        let alive = || start_time(pid) == Some(started);
        if alive() {
            let pid_t = Pid::from_raw(pid as i32);
            let _ = kill(pid_t, Signal::SIGTERM);
            let deadline = Instant::now() + TERM_GRACE;
            while alive() && Instant::now() < deadline {
                sleep(Duration::from_millis(20));
            }
            if alive() {
                let _ = kill(pid_t, Signal::SIGKILL);
            }
        }
    }
    match fs::remove_file(&path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(io_error("remove the address learner's pid file", e))
        }
        _ => Ok(()),
    }
}

fn parse_record(text: &str) -> Option<(u32, u64)> {
    let mut words = text.split_whitespace();
    let pid = words.next()?.parse().ok().filter(|&p: &u32| p > 1)?;
    Some((pid, words.next()?.parse().ok()?))
}

/// The start time of a live process (field 22 of `/proc/PID/stat`); `None` when it is gone or
/// a zombie (it has ended, only its parent has not collected it).
fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&stat)
}

fn parse_start_time(stat: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may hold spaces and parentheses.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    // `rest` starts at field 3 (state); the start time is field 22.
    fields.nth(22 - 4)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_is_field_22_and_zombies_have_none() {
        let stat =
            "1234 (ioc (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_start_time(stat), Some(987654));
        assert_eq!(parse_start_time(&stat.replace(") S ", ") Z ")), None);
        assert_eq!(parse_start_time("garbage"), None);
        let own = start_time(std::process::id()).expect("own start time");
        assert_eq!(start_time(std::process::id()), Some(own));
    }

    #[test]
    fn a_stale_record_signals_nothing() {
        let dir = tempfile::tempdir().unwrap();
        // Our own pid with another start time: a recycled pid, never to be killed.
        let own = start_time(std::process::id()).unwrap();
        let path = pid_file(dir.path(), "vnet0.1");
        fs::write(&path, format!("{} {}\n", std::process::id(), own + 1)).unwrap();
        stop(dir.path(), "vnet0.1").unwrap();
        assert!(!path.exists());
        stop(dir.path(), "vnet0.1").unwrap();
        assert_eq!(parse_record("1 5"), None);
        assert_eq!(parse_record("77 5\n"), Some((77, 5)));
    }

    #[test]
    fn a_learner_that_dies_at_once_is_an_error_with_its_last_words() {
        let dir = tempfile::tempdir().unwrap();
        let sink = LearnSink::NftSets {
            family: ioc_sdk::NftFamily::Netdev,
            table: "ioc-none".into(),
            set4: "lease4".into(),
            set6: "slaac6".into(),
        };
        // The test binary is ioc's "own executable" here: it rejects `__learn` and exits.
        let request = LearnRequest {
            jail_dir: dir.path().to_path_buf(),
            port: "nosuchport0",
            mac: Mac([2, 0, 0, 0, 0, 1]),
            dhcp4: true,
            slaac: false,
            sink: &sink,
        };
        let e = start(&request).unwrap_err();
        assert!(
            e.message.contains("address learner for nosuchport0"),
            "{e:?}"
        );
        assert!(!pid_file(dir.path(), "nosuchport0").exists());
    }
}
