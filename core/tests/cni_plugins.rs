//! The CNI runtime with Debian's real plugins (`containernetworking-plugins`, in
//! /usr/lib/cni), driven through the Linux host's ops: each test runs in a network namespace
//! of its own (the "host"), with a jail namespace pinned where ioc pins a jail's, and IPAM
//! state in a test-owned `dataDir`, so nothing of the real host is touched.
//!
//! Needs root and the plugins; skips with the reason otherwise, and fails under `CI=true`.
//! Debian's plugins speak CNI up to 1.0.0, so the lists here are 1.0.0 (GC is covered by the
//! script plugins of `cni_engine.rs`).

#![cfg(target_os = "linux")]

#[path = "../../tests/src/live_netns.rs"]
mod live_netns;
#[path = "../../tests/src/skip.rs"]
mod skip;

mod cni_live;
mod cni_support;

use std::time::{Duration, Instant};

use cni_live::*;
use ioc_core::cni::journaled;
use ioc_core::host::Backend;
use live_netns::sh;

#[test]
fn bridge_with_host_local_attaches_and_releases_its_lease_on_del() {
    live(|sb| {
        let data = bridge_list(&sb, "jails", "");
        let ns = JailNs::new(&sb);
        let mut host = ns.host();
        let att = attachment(&sb, "jails");
        let run = add(&mut host, &att).unwrap();
        let result = run.result.clone().unwrap();
        assert_eq!(result["ips"][0]["address"], "10.77.0.2/24");
        assert_eq!(result["ips"][0]["gateway"], "10.77.0.1");
        assert!(ns.links().contains("eth0"), "{}", ns.links());
        let addresses = ns.sh(&["ip", "-br", "addr", "show", "eth0"]);
        assert!(addresses.contains("10.77.0.2/24"), "{addresses}");
        assert!(sh(&["ip", "-br", "link"], None).contains("cnibr0"));
        assert_eq!(leases(&data, "jails"), ["10.77.0.2"]);
        // The jail reaches its gateway on the bridge.
        ns.sh(&["ping", "-c1", "-W2", "10.77.0.1"]);

        journaled::del(&mut host, &params(), &run).unwrap();
        assert!(!ns.links().contains("eth0"), "{}", ns.links());
        assert!(
            leases(&data, "jails").is_empty(),
            "{:?}",
            leases(&data, "jails")
        );
        // No veth of the jail is left on the bridge.
        let left = sh(&["ip", "-br", "link", "show", "master", "cnibr0"], None);
        assert!(left.trim().is_empty(), "{left}");
    });
}

#[test]
fn check_passes_on_what_add_built_and_names_what_went_missing() {
    live(|sb| {
        bridge_list(&sb, "jails", "");
        let ns = JailNs::new(&sb);
        let mut host = ns.host();
        let att = attachment(&sb, "jails");
        let run = add(&mut host, &att).unwrap();
        let list = run.network_list().unwrap();
        let result = run.result.clone().unwrap();
        let netns = host.cni_netns(&params(), false);
        host.cni()
            .unwrap()
            .check(&list, &att, &netns, &result)
            .unwrap();
        ns.sh(&["ip", "link", "del", "eth0"]);
        let err = host
            .cni()
            .unwrap()
            .check(&list, &att, &netns, &result)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("CNI plugin bridge (network jails): "),
            "{err}"
        );
        assert!(err.contains("eth0"), "{err}");
        journaled::del(&mut host, &params(), &run).unwrap();
    });
}

#[test]
fn del_after_the_namespace_is_gone_still_releases_the_lease() {
    live(|sb| {
        let data = bridge_list(&sb, "jails", "");
        let ns = JailNs::new(&sb);
        let mut host = ns.host();
        let run = add(&mut host, &attachment(&sb, "jails")).unwrap();
        assert_eq!(leases(&data, "jails"), ["10.77.0.2"]);
        // The jail's namespace goes first (its pin unmounted, as removing the jail does).
        sh(&["umount", &ns.pin.display().to_string()], None);
        assert_eq!(host.cni_netns(&params(), true), "");
        journaled::del(&mut host, &params(), &run).unwrap();
        assert!(leases(&data, "jails").is_empty());
    });
}

#[test]
fn ptp_and_tuning_chain() {
    live(|sb| {
        let data = ipam_list(
            &sb,
            "p2p",
            r#""type": "ptp", "ipMasq": false, "mtu": 1400"#,
            r#""subnet": "10.78.0.0/24""#,
            r#", {"type": "tuning", "sysctl": {"net.core.somaxconn": "777"}}"#,
        );
        let ns = JailNs::new(&sb);
        let mut host = ns.host();
        let run = add(&mut host, &attachment(&sb, "p2p")).unwrap();
        let result = run.result.clone().unwrap();
        // The host end is in the result (tuning passes ptp's result on).
        let host_end = result["interfaces"][0]["name"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(sh(&["ip", "-br", "link"], None).contains(&host_end));
        assert!(ns.sh(&["ip", "link", "show", "eth0"]).contains("mtu 1400"));
        assert_eq!(ns.sh(&["sysctl", "-n", "net.core.somaxconn"]).trim(), "777");
        ns.sh(&[
            "ping",
            "-c1",
            "-W2",
            result["ips"][0]["gateway"].as_str().unwrap(),
        ]);
        journaled::del(&mut host, &params(), &run).unwrap();
        assert!(!sh(&["ip", "-br", "link"], None).contains(&host_end));
        assert!(leases(&data, "p2p").is_empty());
    });
}

#[test]
fn bandwidth_gets_its_runtime_config_and_shapes_the_host_end() {
    live(|sb| {
        let data = ipam_list(
            &sb,
            "shaped",
            r#""type": "ptp", "ipMasq": false"#,
            r#""subnet": "10.80.0.0/24""#,
            r#", {"type": "bandwidth", "capabilities": {"bandwidth": true}}"#,
        );
        let ns = JailNs::new(&sb);
        let mut host = ns.host();
        let mut att = attachment(&sb, "shaped");
        // Traffic toward the jail: shaped on the host end (egress needs the ifb module).
        att.runtime_config =
            r#"{"bandwidth": {"ingressRate": 8000000, "ingressBurst": 100000}}"#.into();
        let run = add(&mut host, &att).unwrap();
        let host_end = run.result.as_ref().unwrap()["interfaces"][0]["name"]
            .as_str()
            .unwrap()
            .to_string();
        let qdisc = sh(&["tc", "qdisc", "show", "dev", &host_end], None);
        assert!(
            qdisc.contains("tbf") && qdisc.contains("rate 8Mbit"),
            "{qdisc}"
        );
        journaled::del(&mut host, &params(), &run).unwrap();
        assert!(!sh(&["ip", "-br", "link"], None).contains(&host_end));
        assert!(leases(&data, "shaped").is_empty());
    });
}

#[test]
fn macvlan_on_a_sandbox_uplink() {
    live(|sb| {
        // The uplink: one end of a pair (no dummy module needed).
        sh(
            &[
                "ip", "link", "add", "uplink0", "type", "veth", "peer", "name", "uplink1",
            ],
            None,
        );
        sh(&["ip", "link", "set", "uplink0", "up"], None);
        sh(&["ip", "link", "set", "uplink1", "up"], None);
        let data = ipam_list(
            &sb,
            "mv",
            r#""type": "macvlan", "master": "uplink0", "mode": "bridge""#,
            r#""subnet": "10.79.0.0/24""#,
            r#""#,
        );
        let ns = JailNs::new(&sb);
        let mut host = ns.host();
        let run = add(&mut host, &attachment(&sb, "mv")).unwrap();
        let link = ns.sh(&["ip", "-d", "link", "show", "eth0"]);
        assert!(link.contains("macvlan mode bridge"), "{link}");
        assert!(ns
            .sh(&["ip", "-br", "addr", "show", "eth0"])
            .contains("10.79.0.2/24"));
        journaled::del(&mut host, &params(), &run).unwrap();
        assert!(!ns.links().contains("eth0"));
        assert!(leases(&data, "mv").is_empty());
    });
}

#[test]
fn a_failing_second_plugin_leaves_nothing() {
    live(|sb| {
        // tuning refuses a sysctl that does not exist.
        let data = bridge_list(
            &sb,
            "broken",
            r#", {"type": "tuning", "sysctl": {"net.ipv4.no_such_knob": "1"}}"#,
        );
        let ns = JailNs::new(&sb);
        let mut host = ns.host();
        let err = add(&mut host, &attachment(&sb, "broken")).unwrap_err();
        assert!(
            err.starts_with("CNI plugin tuning (network broken): CNI error"),
            "{err}"
        );
        assert!(!ns.links().contains("eth0"), "{}", ns.links());
        assert!(leases(&data, "broken").is_empty());
        let left = sh(&["ip", "-br", "link", "show", "master", "cnibr0"], None);
        assert!(left.trim().is_empty(), "{left}");
    });
}

#[test]
fn a_hanging_plugin_is_killed_and_the_chain_rolled_back() {
    live(|sb| {
        hanging_plugin(&sb);
        let data = bridge_list(&sb, "hangs", r#", {"type": "hang"}"#);
        let ns = JailNs::new(&sb);
        let mut host = ns.host();
        let started = Instant::now();
        let err = add(&mut host, &attachment(&sb, "hangs")).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            err.contains("hang (network hangs): ADD: did not finish within 2.0 s"),
            "{err}"
        );
        assert!(!ns.links().contains("eth0"));
        assert!(leases(&data, "hangs").is_empty());
    });
}
