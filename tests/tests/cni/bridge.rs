//! A CNI jail on a bridge + host-local network list: the result's address is the jail's
//! (`ioc get`, `ioc list`, a peer on the bridge reaches it), its DNS is the jail's resolv.conf,
//! `ioc check` finds a piece deleted by hand, and stop releases the lease. Needs root.

use crate::net::{cannot_run, CniHost};

/// What the sandbox holds once CNI jails are gone: the bridge plugin keeps its bridge.
const IDLE: &[&str] = &["lo", "cnit0"];

fn bridge_host() -> CniHost {
    let cni = CniHost::new();
    cni.write_list("tnet", vec![cni.bridge("cnit0", "10.22.0.0/24", None)]);
    cni
}

#[test]
fn a_bridge_jail_gets_the_result_address_dns_and_its_lease_back_on_stop() {
    if cannot_run() {
        return;
    }
    let mut cni = bridge_host();
    cni.create("web", "tnet", &[]);
    assert_eq!(cni.ip4("web"), "none");
    cni.host.ok(["start", "web"]);
    assert_eq!(cni.ip4("web"), "eth0|10.22.0.2/24");
    assert_eq!(
        cni.host.jail_row("web")["ip4_addr"],
        serde_json::json!(["eth0|10.22.0.2/24"])
    );
    assert_eq!(cni.leases("tnet"), ["10.22.0.2"]);
    let resolv = cni.host.exec_ok("web", &["cat", "/etc/resolv.conf"]);
    assert!(resolv.contains("nameserver 10.22.0.53"), "{resolv}");
    assert!(resolv.contains("search cni.test"), "{resolv}");
    // The generated MAC of eth0 is shown like any NIC's.
    let macs = cni.host.ok(["get", "eth0_mac", "web"]);
    assert!(macs.trim().starts_with("02:ff:60:"), "{macs}");
    // The gateway on the bridge, and a peer plugged into it, reach the jail.
    cni.host.assert_pings("web", &["10.22.0.1"]);
    let peer = cni.host.add_peer("cnit0", "10.22.0.200/24");
    assert!(ioc_tests::netns::pings_from(&peer, "10.22.0.2"));
    cni.host.ok(["check", "web"]);
    cni.host.ok(["stop", "web"]);
    assert_eq!(cni.leases("tnet"), Vec::<String>::new(), "the lease stays");
    assert_eq!(cni.ip4("web"), "none");
    cni.host.assert_links(&["lo", "cnit0", "peer0"]);
}

#[test]
fn a_custom_resolver_and_a_static_address_are_kept() {
    if cannot_run() {
        return;
    }
    let cni = bridge_host();
    cni.create(
        "web",
        "tnet",
        &[
            "resolver=nameserver 192.0.2.7",
            "ip4_addr=eth0|10.22.0.77/24",
        ],
    );
    cni.host.ok(["start", "web"]);
    assert_eq!(cni.ip4("web"), "eth0|10.22.0.77/24");
    assert_eq!(cni.leases("tnet"), ["10.22.0.77"]);
    let resolv = cni.host.exec_ok("web", &["cat", "/etc/resolv.conf"]);
    assert!(resolv.contains("192.0.2.7"), "{resolv}");
    assert!(!resolv.contains("10.22.0.53"), "{resolv}");
    cni.host.stop_and_check_clean("web", IDLE);
    assert_eq!(cni.leases("tnet"), Vec::<String>::new());
}

#[test]
fn check_passes_then_fails_once_a_piece_is_deleted_by_hand() {
    if cannot_run() {
        return;
    }
    let cni = bridge_host();
    cni.create("web", "tnet", &[]);
    let err = cni.host.fails(["check", "web"]);
    assert!(err.contains("is not running"), "{err}");
    cni.host.ok(["start", "web"]);
    assert_eq!(cni.host.ok(["check", "web"]).trim(), "web: ok");
    // The jail's address, removed by hand: the bridge plugin's CHECK finds it missing.
    cni.host
        .exec_ok("web", &["ip", "addr", "flush", "dev", "eth0"]);
    let err = cni.host.fails(["check", "web"]);
    assert!(err.contains("jail 'web'"), "{err}");
    assert!(
        err.contains("bridge"),
        "the failing plugin is not named: {err}"
    );
    cni.host.stop_and_check_clean("web", IDLE);
    assert_eq!(cni.leases("tnet"), Vec::<String>::new());
}

#[test]
fn gc_keeps_the_running_jails_attachments() {
    if cannot_run() {
        return;
    }
    let cni = bridge_host();
    cni.create("a", "tnet", &[]);
    cni.create("b", "tnet", &[]);
    // Jails of other modes, one that could not even start, do not stop the collection.
    cni.host.ok(["create", "odd", "vnet=on"]);
    cni.host.ok(["create", "plain"]);
    cni.host.ok(["start", "a"]);
    cni.host.ok(["gc"]);
    assert_eq!(cni.leases("tnet"), ["10.22.0.2"]);
    assert!(cni.host.pings("a", "10.22.0.1"));
    cni.host.stop_and_check_clean("a", IDLE);
}

#[test]
fn a_missing_network_list_fails_the_start_and_leaves_nothing() {
    if cannot_run() {
        return;
    }
    let cni = bridge_host();
    cni.create("web", "nosuchnet", &[]);
    let err = cni.host.fails(["start", "web"]);
    assert!(err.contains("jail 'web'"), "{err}");
    assert!(err.contains("no CNI network named \"nosuchnet\""), "{err}");
    // Refused by the mode's validate (HostOp::CniFindList), before the jail existed: there
    // is nothing to roll back.
    assert!(!err.contains("roll"), "{err}");
    cni.host.assert_clean(&["lo"]);
}
