//! The backend's batches against the real kernel, in a private network namespace: every
//! variant (static, DHCP and SLAAC learning, the network's DHCP server) is accepted by the
//! kernel as one commit, and the plan's `nft -f` text of it, replayed with `nft`, makes the same
//! table (up to nft's own merging of adjacent loads): what a dry run shows is what a start does.
//!
//! Needs root and nftables; skips with the reason otherwise, and fails under `CI=true`.

#![cfg(target_os = "linux")]

// The workspace's one rule for tests that cannot run here, shared as source.
#[path = "../../../tests/src/live_netns.rs"]
mod live_netns;
#[path = "../../../tests/src/skip.rs"]
mod skip;

use std::net::IpAddr;

use live_netns::in_private_netns;

use ioc_core::host::linux::LinuxHost;
use ioc_core::host::Backend;
use ioc_core::render::nft_text;
use ioc_core::runtime::RunDir;
use ioc_core::step::JailParams;
use ioc_plugin_nftables::whitelist::Whitelist;
use ioc_plugin_nftables::{layout, nat};
use ioc_sdk::nft::NftBatch;
use ioc_sdk::{
    HostOp, HostReply, Nat, NatRequest, PortForward, PortLearning, PortPolicy, Protocol,
};

fn skip_reason() -> Option<String> {
    live_netns::skip_reason("nftables tables in a private network namespace", &["nft"])
}

/// `nft ARGS`, which must succeed.
fn nft(args: &[&str], stdin: Option<&str>) -> String {
    let argv: Vec<&str> = std::iter::once("nft").chain(args.iter().copied()).collect();
    live_netns::sh(&argv, stdin)
}

fn policy(addresses: &[&str], learning: PortLearning) -> PortPolicy {
    PortPolicy::new(
        "myjail",
        5,
        "vnet0",
        "vnet0.5",
        "bridge0",
        "02:ff:60:cb:49:49".parse().unwrap(),
        addresses.iter().map(|a| a.parse::<IpAddr>().unwrap()),
        Some(1500),
    )
    .with_learning(learning)
}

#[test]
fn every_variant_commits_and_its_plan_text_replays_to_the_same_table() {
    if skip::skip_unless_ci(skip_reason()) {
        return;
    }
    let run = tempfile::tempdir().unwrap();
    let all = PortLearning {
        dhcp4: true,
        slaac: true,
        dhcp_server: false,
    };
    let server = PortLearning {
        dhcp_server: true,
        ..PortLearning::default()
    };
    let variants = [
        (
            policy(&["10.23.42.2", "2001:db8::2"], PortLearning::default()),
            None,
        ),
        (policy(&[], all), Some(7)),
        (policy(&["10.23.42.2"], all), Some(65535)),
        (policy(&["10.23.42.2", "2001:db8::2"], server), None),
        (policy(&[], PortLearning::default()), None),
    ];
    for (p, group) in variants {
        let w = Whitelist::new(&p, group);
        let batch = layout::install(p.port(), &w, false).unwrap();
        let replace = layout::install(p.port(), &w, true).unwrap();
        let committed = in_private_netns(|| {
            let mut host = LinuxHost::new(&RunDir::new(run.path()));
            let params = JailParams::unknown("myjail");
            let reply = host.perform(
                &params,
                &HostOp::NftCommit {
                    batch: batch.clone(),
                },
            );
            assert!(matches!(reply, Ok(HostReply::Done)), "{p:?}: {reply:?}");
            let listed = nft(&["list", "table", "netdev", "ioc-vnet0.5"], None);
            // A start after a crash replaces the table, a removal deletes it, twice is fine.
            host.perform(
                &params,
                &HostOp::NftCommit {
                    batch: replace.clone(),
                },
            )
            .expect("commit again");
            assert_eq!(
                nft(&["list", "table", "netdev", "ioc-vnet0.5"], None),
                listed
            );
            let remove = layout::remove(p.port()).unwrap();
            for _ in 0..2 {
                host.perform(
                    &params,
                    &HostOp::NftCommit {
                        batch: remove.clone(),
                    },
                )
                .expect("remove");
            }
            assert_eq!(nft(&["list", "tables"], None), "");
            listed
        });
        // nft merges adjacent loads of one header when it parses (`@th,192,16 X @th,208,48 Y`
        // becomes one `@th,192,64` load), so both sides go through its parser once.
        let through_nft = |text: &str| {
            in_private_netns(|| {
                nft(&["-f", "-"], Some(text));
                nft(&["list", "table", "netdev", "ioc-vnet0.5"], None)
            })
        };
        assert_eq!(
            through_nft(&nft_text::batch(&batch)),
            through_nft(&committed),
            "{p:?}"
        );
        if let Some(group) = group {
            assert!(
                committed.contains(&format!("log group {group}")),
                "{committed}"
            );
            assert!(committed.contains("add @lease4"), "{committed}");
        }
    }
}

/// The shared NAT table with a jail's elements for every kind of forward (one port,
/// same-port range, shifted range): committed through nfnetlink, it lists as its plan text
/// replayed by `nft -f` does; a second create fails whole, adding the same elements again is
/// no error, a removal (twice) leaves the table without any element of the jail.
#[test]
fn the_nat_table_commits_and_its_plan_text_replays_to_the_same_table() {
    if skip::skip_unless_ci(skip_reason()) {
        return;
    }
    let run = tempfile::tempdir().unwrap();
    let forward = |proto, jail_port, host_port, count| PortForward {
        proto,
        jail_port,
        host_port,
        count,
    };
    let request = NatRequest {
        jail: "web".into(),
        jid: 3,
        link: "vnet0.3".into(),
        nat: Nat::new(
            "172.16.0.4".parse().unwrap(),
            Some("up0"),
            vec![
                forward(Protocol::Tcp, 80, 8080, 1),
                forward(Protocol::Udp, 53, 53, 1),
                forward(Protocol::Tcp, 8000, 8000, 11),
                forward(Protocol::Udp, 7000, 9000, 2),
            ],
            "nftables",
        ),
    };
    let batch = nat::install_batch(&request, "up0", true);
    let elements = nat::install_batch(&request, "up0", false);
    let remove = nat::remove_batch(&request, "up0");
    let list = || nft(&["list", "table", "ip", nat::TABLE], None);
    let committed = in_private_netns(|| {
        let mut host = LinuxHost::new(&RunDir::new(run.path()));
        let params = JailParams::unknown("web");
        let commit = |host: &mut LinuxHost, batch: &NftBatch| {
            let reply = host.perform(
                &params,
                &HostOp::NftCommit {
                    batch: batch.clone(),
                },
            );
            assert!(matches!(reply, Ok(HostReply::Done)), "{reply:?}");
        };
        commit(&mut host, &batch);
        let listed = list();
        // A second create finds the table and fails whole; the elements alone are no error.
        let again = host.perform(
            &params,
            &HostOp::NftCommit {
                batch: batch.clone(),
            },
        );
        assert!(again.is_err(), "{again:?}");
        assert_eq!(list(), listed);
        commit(&mut host, &elements);
        assert_eq!(list(), listed);
        // Another jail's removal naming the same host port never takes this jail's element
        // (a bare delete would: the kernel matches the key only).
        let mut other = request.clone();
        other.jail = "api".into();
        other.nat = Nat::new(
            "172.16.0.8".parse().unwrap(),
            Some("up0"),
            vec![forward(Protocol::Tcp, 80, 8080, 1)],
            "nftables",
        );
        let taken = host.perform(
            &params,
            &HostOp::NftCommit {
                batch: nat::remove_batch(&other, "up0"),
            },
        );
        assert!(taken.is_err(), "{taken:?}");
        assert_eq!(list(), listed);
        commit(&mut host, &remove);
        commit(&mut host, &remove);
        let left = list();
        assert!(!left.contains("172.16.0.6"), "{left}");
        listed
    });
    let replayed = in_private_netns(|| {
        nft(&["-f", "-"], Some(&nft_text::batch(&batch)));
        list()
    });
    assert_eq!(committed, replayed);
    for line in [
        "type nat hook prerouting priority dstnat; policy accept;",
        "type nat hook output priority -100; policy accept;",
        "type nat hook postrouting priority srcnat; policy accept;",
        "8080 : 172.16.0.6 . 80",
        "9001 : 172.16.0.6 . 7001",
        "8010 : 172.16.0.6 . 8010",
        "ip saddr . oifname @masq_out masquerade",
    ] {
        assert!(committed.contains(line), "{line} missing:\n{committed}");
    }
}
