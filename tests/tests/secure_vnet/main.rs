//! Secure VNET end to end: the real `ioc` and the nftables backend in a sandbox namespace,
//! attacked with raw frames from inside jails.
//!
//! The LAN of every test: the sandbox's `bridge0` (10.23.42.1, fd00:23::1) with
//!
//! ```text
//! myjail     10.23.42.2  fd00:23::2   interfaces="vnet0::bridge0"   the Secure VNET jail
//! observer   10.23.42.3  fd00:23::3   a peer namespace on bridge0    sees what crosses the bridge
//! plainjail  10.23.42.4  fd00:23::4   interfaces="vnet0:bridge0"    the control: plain VNET
//! victim     10.23.42.5  fd00:23::5   interfaces="vnet0:bridge0"    whose addresses are claimed
//! ```
//!
//! `ioc-frame` (this crate's binary) crafts each attack frame on the attacker's `vnet0` and
//! reports, line by line, what reaches the receiver's link. Every attack must be dropped when
//! `myjail` sends it, and must arrive when `plainjail` sends the same frame: that proves the
//! receiver would have seen it, so its absence is the filter's doing. Each batch ends with an
//! honest frame that passes in both modes; frames of one sender on one path keep their order,
//! so once it has arrived, every earlier frame that was going to arrive has.
//!
//! Every test needs root (it says so when skipped, and fails under `CI=true`) and nftables.
//!
//! The modules by theme: [`spoofing`] (the attack matrices), [`traffic`] (what must still work:
//! ping, TCP, UDP, ARP, ND, DAD), [`nftables`] (the rules ioc writes and leaves alone),
//! [`refusals`] (starts refused before any change); [`lan`] is the harness they share, and the
//! probe tables are `ioc_tests::probes`.
#![cfg(target_os = "linux")]

mod lan;
mod nftables;
mod refusals;
mod spoofing;
mod traffic;

use std::io::Write;
use std::process::Stdio;

use ioc_tests::netns::HostNs;

/// The frame tool, built with this test (Cargo builds a package's binaries for its tests).
const FRAME: &str = env!("CARGO_BIN_EXE_ioc-frame");

/// The sandbox links with no jail running.
const IDLE: &[&str] = &["lo", "bridge0", "peer0"];

/// The seed's host (`bridge0` with 10.23.42.1/24) with IPv6 (fd00:23::1/64) too.
fn sandbox() -> HostNs {
    let host = HostNs::new();
    host.add_bridge("bridge0", Some("10.23.42.1/24"));
    host.add_address("bridge0", "fd00:23::1/64");
    host
}

/// Creates a VNET jail with 10.23.42.N and fd00:23::N on `interfaces`' only NIC.
fn create_jail(host: &HostNs, jail: &str, interfaces: &str, n: u8) {
    host.ok([
        "create",
        jail,
        "vnet=on",
        &format!("interfaces={interfaces}"),
        &format!("ip4_addr=vnet0|10.23.42.{n}/24"),
        &format!("ip6_addr=vnet0|fd00:23::{n}/64"),
        "defaultrouter=10.23.42.1",
        "defaultrouter6=fd00:23::1",
    ]);
}

/// The sandbox with Secure VNET jails `(NAME, N)`.
fn secure_host(jails: &[(&str, u8)]) -> HostNs {
    let host = sandbox();
    for (jail, n) in jails {
        create_jail(&host, jail, "vnet0::bridge0", *n);
    }
    host
}

/// `nft ARGS...` in the sandbox, which must succeed; returns its stdout.
fn nft(host: &HostNs, args: &[&str], stdin: Option<&str>) -> String {
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
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write to nft");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("wait for nft");
    assert!(
        out.status.success(),
        "nft {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// ioc's tables in the sandbox, `ioc-<port>` in the `netdev` family, by name.
fn ioc_tables(host: &HostNs) -> Vec<String> {
    let mut tables: Vec<String> = nft(host, &["list", "tables"], None)
        .lines()
        .filter_map(|l| l.strip_prefix("table netdev "))
        .filter(|name| name.starts_with("ioc-"))
        .map(str::to_string)
        .collect();
    // Sorted: jails of one command start concurrently, so the kernel's order varies.
    tables.sort();
    tables
}

/// The table of one port, with rule handles (`nft -a`): equal listings mean nothing in it was
/// replaced, added or removed.
fn port_table(host: &HostNs, port: &str) -> String {
    nft(
        host,
        &["-a", "list", "table", "netdev", &format!("ioc-{port}")],
        None,
    )
}

/// What a refused start must leave as it was: links, the whole ruleset, runtime state.
fn host_state(host: &HostNs) -> (Vec<String>, String, Vec<String>) {
    let mut links: Vec<String> = host.links().into_iter().map(|l| l.name).collect();
    links.sort();
    let mut jails = host.runtime_jails();
    jails.sort();
    (links, nft(host, &["-a", "list", "ruleset"], None), jails)
}
