//! Jails with their own root and process table (issue 16), end to end: the real `ioc` in a
//! sandbox "host" network namespace, each jail on a busybox root built by
//! `examples/busybox-root.sh` in the test's own directory.
//!
//! The modules by theme: [`isolation`] (what a jail with a root sees: processes, files, /proc,
//! /tmp, hooks, mounts), [`network`] (today's networking on a jail with a root: the seed, a
//! Secure VNET spoof), [`refusals`] (`path` and `mounts` refused before any change) and
//! [`lifecycle`] (stop and failed starts leave no mount and no process; the init reaps), and
//! [`plans`] (the dry runs, golden for FreeBSD; these need neither root nor busybox).
//!
//! Every other test needs root and a static busybox (`apt-get install busybox-static`); it says so
//! when skipped, and fails under `CI=true`. The tests of this binary run one at a time: some
//! count the jails' init processes of the whole machine.
#![cfg(target_os = "linux")]

mod isolation;
mod lifecycle;
mod network;
mod plans;
mod refusals;

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use ioc_tests::netns::HostNs;
use ioc_tests::roots::{build_busybox_root, static_busybox};
use ioc_tests::skip::{missing_root, skip_unless_ci};

/// The sandbox links with no jail running.
const IDLE: &[&str] = &["lo", "bridge0"];

/// One test at a time (see the module documentation).
static SERIAL: Mutex<()> = Mutex::new(());

/// A sandbox host with the seed's `bridge0` (10.23.42.1/24) and a busybox root in its
/// directory; `None` when the test cannot run here (it said why).
struct Rooted {
    host: HostNs,
    root: PathBuf,
    _serial: MutexGuard<'static, ()>,
}

impl Rooted {
    fn new() -> Option<Rooted> {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        if skip_unless_ci(missing_root("namespaces and mounts")) {
            return None;
        }
        if skip_unless_ci(static_busybox().err()) {
            return None;
        }
        let host = HostNs::new();
        host.add_bridge("bridge0", Some("10.23.42.1/24"));
        let root = host.dir().join("jailroot");
        build_busybox_root(&root);
        Some(Rooted {
            host,
            root,
            _serial: serial,
        })
    }

    fn path(&self) -> &str {
        self.root.to_str().unwrap()
    }

    /// Creates a VNET jail on `bridge0` (`sep` `:` plain, `::` Secure VNET) with
    /// 10.23.42.`n` and this root, plus `extra` properties.
    fn create(&self, jail: &str, sep: &str, n: u8, extra: &[&str]) {
        let mut args = vec![
            "create".to_string(),
            jail.to_string(),
            "vnet=on".into(),
            format!("interfaces=vnet0{sep}bridge0"),
            format!("ip4_addr=vnet0|10.23.42.{n}/24"),
            "defaultrouter=10.23.42.1".into(),
            format!("path={}", self.path()),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        self.host.ok(&args);
    }

    /// `ioc exec JAIL -- sh -c SCRIPT`, which must succeed; its stdout.
    fn sh(&self, jail: &str, script: &str) -> String {
        self.host.exec_ok(jail, &["sh", "-c", script])
    }
}

/// Host pids of the live (not zombie) processes named `ioc-init` whose root is this
/// sandbox's jail root: the inits of its jails, not those of other tests or programs running
/// at the same time. (The init blanks its environment, so that cannot tell; its mount table
/// names the bind-mounted root by its path, which holds the sandbox's unique directory.)
fn inits(host: &HostNs) -> Vec<u32> {
    let dir = host.dir();
    let unique = dir.file_name().unwrap().to_string_lossy();
    let marker = format!("{unique}/jailroot");
    live_processes()
        .into_iter()
        .filter(|(_, comm, _)| comm == "ioc-init")
        .filter(|(pid, _, _)| {
            std::fs::read_to_string(format!("/proc/{pid}/mountinfo"))
                .map(|mounts| mounts.contains(&marker))
                .unwrap_or(false)
        })
        .map(|(pid, _, _)| pid)
        .collect()
}

/// Every process as (pid, comm, state), from `/proc/PID/stat`.
fn live_processes() -> Vec<(u32, String, char)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_string();
        let state = stat[close + 2..].chars().next().unwrap_or('?');
        if state != 'Z' {
            found.push((pid, comm, state));
        }
    }
    found
}

/// Processes (pid, state, including zombies) in the PID namespace pinned for `jail`.
fn processes_in_pid_namespace(host: &HostNs, jail: &str) -> Vec<(u32, char)> {
    use std::os::unix::fs::MetadataExt;
    let pin = host
        .sandbox()
        .run_dir()
        .join("jails")
        .join(jail)
        .join("ns")
        .join("pid");
    let ns = std::fs::metadata(&pin).unwrap().ino();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let same = std::fs::metadata(entry.path().join("ns/pid"))
            .ok()
            .map(|m| m.ino())
            == Some(ns);
        if !same {
            continue;
        }
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let state = stat
            .rfind(')')
            .and_then(|c| stat[c + 2..].chars().next())
            .unwrap_or('?');
        found.push((pid, state));
    }
    found
}
