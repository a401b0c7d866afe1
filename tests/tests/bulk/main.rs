//! A host full of jails (issue 15): `ioc start --rc` and `ioc stop --rc` in `priority` order
//! with `depends`, failures and SIGKILL in the middle of a bulk start, and hundreds of jails
//! started and stopped in one command with nothing left. The real `ioc` in a sandbox host
//! namespace of each test's own; every test needs root (and fails under `CI=true` without it).
#![cfg(target_os = "linux")]

mod failures;
mod many;
mod order;

use ioc_tests::netns::HostNs;

/// The sandbox links with no jail running.
const IDLE: &[&str] = &["lo", "bridge0"];

/// A sandbox host with `bridge0` (10.77.0.1/16) and defaults every jail here shares.
fn bulk_host() -> HostNs {
    let host = HostNs::new();
    host.add_bridge("bridge0", Some("10.77.0.1/16"));
    host.ok(["set", "vnet=on", "defaultrouter=10.77.0.1", "defaults"]);
    host
}

/// Creates jail `name` with address 10.77.N/16 on bridge0 (Secure VNET when `secure`), plus
/// `extra` properties.
fn create(host: &HostNs, name: &str, n: u16, secure: bool, extra: &[&str]) {
    let interfaces = if secure {
        "interfaces=vnet0::bridge0"
    } else {
        "interfaces=vnet0:bridge0"
    };
    let address = format!("ip4_addr=vnet0|10.77.{}.{}/16", n / 250 + 1, n % 250 + 2);
    let mut args = vec!["create", name, interfaces, &address];
    args.extend_from_slice(extra);
    host.ok(args);
}

/// The jail names of `ioc start/stop` output lines `NAME: ...`, in order.
fn names(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.split_once(':').map(|(n, _)| n.to_string()))
        .collect()
}
