//! Secure VNET with learned addresses, end to end: the real `ioc`, the nftables backend's
//! per-port tables and the address learner (`ioc __learn`) in a sandbox namespace, with busybox
//! `udhcpd` as the LAN's DHCP server and crafted router advertisements for SLAAC.
//!
//! The port's rules add a DHCP reply's address to `lease4` in the kernel and copy replies and
//! RAs to the learner with `log group N` (nfnetlink_log), which needs no optional kernel
//! feature beyond nftables' `log` (the CI kernel has no `queue` expression).
//!
//! Every test needs root (it says so when skipped, and fails under `CI=true`).
#![cfg(target_os = "linux")]

mod learned;
mod learner;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};

use ioc_tests::netns::{in_netns, Background, HostNs};

/// The sandbox links with no jail running (the DHCP server's peer included).
const IDLE: &[&str] = &["lo", "bridge0", "peer0"];

/// The sandbox: `bridge0` with 10.23.42.1/24 and fd00:23::1/64.
fn sandbox() -> HostNs {
    let host = HostNs::new();
    host.add_bridge("bridge0", Some("10.23.42.1/24"));
    host.add_address("bridge0", "fd00:23::1/64");
    host
}

/// Creates a Secure VNET jail on `bridge0` with `ip4_addr`/`ip6_addr` and extra properties.
fn create_jail(host: &HostNs, jail: &str, ip4: &str, ip6: &str, extra: &[&str]) {
    let mut args = vec![
        "create".to_string(),
        jail.to_string(),
        "vnet=on".into(),
        "interfaces=vnet0::bridge0".into(),
        format!("ip4_addr={ip4}"),
        format!("ip6_addr={ip6}"),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    host.ok(args);
}

/// Busybox's DHCP server in a peer host on `bridge0` (10.23.42.254), leasing 10.23.42.100-110
/// for `lease` seconds; `None` when busybox has no udhcpd.
fn dhcp_server(host: &mut HostNs, lease: u32) -> Option<Background> {
    let has_udhcpd = Command::new("busybox")
        .args(["udhcpd", "--help"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stderr).contains("udhcpd"));
    if !has_udhcpd {
        eprintln!("skipped: busybox udhcpd is not installed");
        return None;
    }
    let peer = host.add_peer("bridge0", "10.23.42.254/24");
    let dir = host.dir();
    let config = dir.join("udhcpd.conf");
    let leases = dir.join("udhcpd.leases");
    std::fs::write(&leases, b"").expect("lease file");
    std::fs::write(
        &config,
        format!(
            "start 10.23.42.100\nend 10.23.42.110\ninterface eth0\nlease_file {}\n\
             pidfile {}\noption subnet 255.255.255.0\noption router 10.23.42.1\n\
             option lease {lease}\nmin_lease {lease}\n",
            leases.display(),
            dir.join("udhcpd.pid").display()
        ),
    )
    .expect("udhcpd.conf");
    let mut command = in_netns(&peer, "busybox");
    command
        .args(["udhcpd", "-f"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Some(Background::spawn(command))
}

/// `nft ARGS...` in the sandbox; its stdout, or its stderr as the error.
fn nft(host: &HostNs, args: &[&str], stdin: Option<&str>) -> Result<String, String> {
    use std::io::Write;
    let mut command = host.command("nft");
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run nft");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().expect("nft");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The names of ioc's per-port tables in the sandbox.
fn ioc_tables(host: &HostNs) -> Vec<String> {
    nft(host, &["list", "tables"], None)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(" ioc-"))
        .map(str::to_string)
        .collect()
}

/// The pids of learners (`ioc __learn`) running in the sandbox's network namespace.
fn learners(host: &HostNs) -> Vec<u32> {
    let Ok(ns) = std::fs::metadata(Path::new("/run/netns").join(host.name())) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if !cmdline.split(|&b| b == 0).any(|arg| arg == b"__learn") {
            continue;
        }
        let same_ns = std::fs::metadata(entry.path().join("ns/net"))
            .is_ok_and(|m| m.ino() == ns.ino() && m.dev() == ns.dev());
        let zombie = std::fs::read_to_string(entry.path().join("stat")).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
        });
        if same_ns && !zombie {
            found.push(pid);
        }
    }
    found
}

/// Nothing of ioc is left: no jail, no link, no table, no learner.
fn assert_nothing_left(host: &HostNs) {
    host.assert_clean(IDLE);
    assert_eq!(ioc_tables(host), Vec::<String>::new(), "tables left");
    assert_eq!(learners(host), Vec::<u32>::new(), "learners left");
}
