//! A single stop deletes its jail's host links from detached processes (issue 15): the stop
//! still returns only once they are gone, the detached processes hold nothing of the caller's,
//! and a SIGKILL right after they are forked leaves a state the next stop finishes.
//!
//! On an idle host the kernel's teardown of the jail's namespace may remove the host end before
//! ioc looks; each test holds the namespace open from outside, so the host end can only go
//! by ioc's own deletion.

use std::time::{Duration, Instant};

use ioc_tests::netns::{eventually, HostNs};
use ioc_tests::require_root;

use crate::{seed_started, stdout, IDLE};

/// The bridge ports of the sandbox host.
fn ports(host: &HostNs) -> String {
    host.ip(["-o", "link", "show", "master", "bridge0"])
}

#[test]
fn a_single_stop_returns_with_its_host_link_gone() {
    require_root!();
    let host = seed_started();
    for round in 0..3 {
        let _holder = host.hold_jail_netns("jail-a");
        let started = Instant::now();
        assert_eq!(host.ok(["stop", "jail-a"]), "jail-a: stopped\n");
        // Far below the 10 s a stop gives the kernel before deleting the link itself.
        let took = started.elapsed();
        assert!(took < Duration::from_secs(5), "round {round}: {took:?}");
        // Right away: no wait, no retry.
        host.assert_links(&["lo", "bridge0", "vnet0.2"]);
        let ports = ports(&host);
        assert!(
            !ports.contains("vnet0.1") && ports.contains("vnet0.2"),
            "round {round}: {ports}"
        );
        host.ok(["start", "jail-a"]);
    }
    host.stop_and_check_clean("jail-a,jail-b", IDLE);
}

/// With the detached processes lingering for seconds, ioc's output still ends when ioc does:
/// they keep none of its descriptors.
#[test]
fn the_output_of_a_stop_ends_when_ioc_exits() {
    require_root!();
    let host = seed_started();
    let _holder = host.hold_jail_netns("jail-a");
    let started = Instant::now();
    let out = host.ioc_env(["stop", "jail-a"], &[("IOC_FAULT_DETACHED_LINGER", "12")]);
    let took = started.elapsed();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout(&out), "jail-a: stopped\n");
    assert!(took < Duration::from_secs(6), "output ended after {took:?}");
    host.assert_links(&["lo", "bridge0", "vnet0.2"]);
    host.stop_and_check_clean("jail-b", IDLE);
}

#[test]
fn sigkill_right_after_the_detached_deletion_then_stop_finishes() {
    require_root!();
    let host = seed_started();
    let holder = host.hold_jail_netns("jail-a");
    let out = host.ioc_env(["stop", "jail-a"], &[("IOC_FAULT_KILL_AFTER_DETACH", "1")]);
    assert_eq!(out.status.code(), None, "killed by a signal: {out:?}");
    assert!(!host.running("jail-a"));
    // The detached process deletes the host end by itself, the namespace still held.
    assert!(
        eventually(Duration::from_secs(5), || !host
            .links()
            .iter()
            .any(|l| l.name == "vnet0.1")),
        "vnet0.1 stayed"
    );
    drop(holder);
    assert_eq!(host.ok(["stop", "jail-a"]), "jail-a: not running\n");
    host.assert_links(&["lo", "bridge0", "vnet0.2"]);
    host.stop_and_check_clean("jail-b", IDLE);
}
