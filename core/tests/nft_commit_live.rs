//! `NftCommit` against the real kernel, in a private network namespace: the nfnetlink encoder
//! builds what its nft rendering builds, deletes are idempotent, errors name the command, and
//! a commit costs the same whatever else the ruleset holds.
//!
//! Needs root and nftables; skips with the reason otherwise, and fails under `CI=true`.

#![cfg(target_os = "linux")]

// The workspace's one rule for tests that cannot run here, shared as source (see the file).
#[path = "../../tests/src/live_netns.rs"]
mod live_netns;
#[path = "../../tests/src/skip.rs"]
mod skip;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use ioc_core::host::linux::netlink::Nfnetlink;
use ioc_core::render::nft_text;
use ioc_sdk::nft::{
    NftBatch, NftChainType, NftCmpOp, NftCommand, NftElement, NftExpr, NftField, NftHook,
    NftHookKind, NftKeyType, NftMetaKey, NftPolicy, NftRule, NftSetFlags, NftVerdict,
};
use ioc_sdk::NftFamily::Netdev;
use ioc_sdk::{Mac, NftFamily};
use live_netns::{in_private_netns, sh};

fn veth(a: &str, b: &str) {
    sh(
        &["ip", "link", "add", a, "type", "veth", "peer", "name", b],
        None,
    );
}

/// `nft list table`, with the seconds that keep running (`expires ...`) cut off.
fn list(family: NftFamily, table: &str) -> String {
    let text = sh(&["nft", "list", "table", family.as_str(), table], None);
    text.lines()
        .map(|l| match l.find(" expires ") {
            Some(at) => {
                let rest = &l[at + 9..];
                let end = rest.find([',', ' ', '}']).unwrap_or(rest.len());
                format!("{}{}", &l[..at], &rest[end..])
            }
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const MAC: Mac = Mac([0x02, 0xff, 0x60, 0xcb, 0x49, 0x49]);
const V4: Ipv4Addr = Ipv4Addr::new(10, 23, 42, 2);

fn hook(kind: NftHookKind, device: &str) -> Option<NftHook> {
    Some(NftHook {
        kind,
        device: Some(device.into()).into(),
        priority: 0,
        policy: NftPolicy::Drop,
        chain_type: NftChainType::Filter,
    })
}

fn timeout() -> NftSetFlags {
    NftSetFlags {
        timeout: true,
        ..NftSetFlags::default()
    }
}

/// A table like a Secure VNET port's, with one rule per kind of expression (no queue: see
/// `queue_rules_reach_the_kernel`).
fn representative(table: &str, port: &str) -> NftBatch {
    let mut b = NftBatch::new();
    let dynamic = NftSetFlags {
        timeout: true,
        dynamic: true,
        ..NftSetFlags::default()
    };
    b.add_table(Netdev, table)
        .add_chain(Netdev, table, "from", hook(NftHookKind::Ingress, port))
        .add_chain(Netdev, table, "to", hook(NftHookKind::Egress, port))
        .add_chain(Netdev, table, "aux", None)
        .add_set(
            Netdev,
            table,
            "allowed4",
            NftKeyType::Ipv4Addr,
            NftSetFlags::default(),
            vec![NftElement::ipv4(V4)],
        )
        .add_set(
            Netdev,
            table,
            "allowed6",
            NftKeyType::Ipv6Addr,
            NftSetFlags::default(),
            vec![NftElement::ipv6(MAC.link_local())],
        )
        .add_set(
            Netdev,
            table,
            "lease4",
            NftKeyType::Ipv4Addr,
            dynamic,
            vec![],
        )
        .add_set(
            Netdev,
            table,
            "slaac6",
            NftKeyType::Ipv6Addr,
            timeout(),
            vec![],
        )
        .add_set(
            Netdev,
            table,
            "macs",
            NftKeyType::EtherAddr,
            NftSetFlags::default(),
            vec![NftElement::ether(MAC)],
        )
        .add_set(
            Netdev,
            table,
            "ports",
            NftKeyType::InetService,
            NftSetFlags::default(),
            vec![NftElement::port(67), NftElement::port(547)],
        )
        .add_set(
            Netdev,
            table,
            "ifs",
            NftKeyType::Ifname,
            NftSetFlags::default(),
            vec![NftElement::ifname(port)],
        );
    b.push(NftCommand::AddElements {
        family: Netdev,
        table: table.into(),
        set: "slaac6".into(),
        elements: vec![NftElement::ipv6("2001:db8::2".parse().unwrap()).with_timeout_ms(3_600_000)]
            .into(),
    });
    let from = [
        NftRule::new().ne(NftField::ETHER_SADDR, &MAC.0).drop(),
        NftRule::new()
            .eq(NftField::ETHER_TYPE, &[0x81, 0x00])
            .drop(),
        NftRule::new()
            .ipv4()
            .lookup(NftField::IP_SADDR, "allowed4")
            .accept(),
        NftRule::new()
            .ipv4()
            .lookup(NftField::IP_SADDR, "lease4")
            .accept(),
        NftRule::new()
            .arp()
            .range(NftField::ARP_OPERATION, &[0, 1], &[0, 2])
            .lookup(NftField::ARP_SPA, "allowed4")
            .accept(),
        NftRule::new()
            .ipv6()
            .l4proto(58)
            .eq(NftField::ICMP_TYPE, &[134])
            .counter()
            .log("ioc ra ")
            .drop()
            .comment("RAs from the jail"),
        NftRule::new()
            .ipv6()
            .not_in(NftField::IP6_SADDR, "allowed6")
            .jump("aux"),
        NftRule::new()
            .masked_eq(
                NftField::new(ioc_sdk::nft::NftPayloadBase::Nh, 0, 1),
                &[0xf0],
                &[0x60],
            )
            .l4proto(17)
            .lookup(NftField::TH_SPORT, "ports")
            .drop(),
        NftRule::new()
            .ipv4()
            .update_set(NftField::IP_SADDR, "lease4", Some(60_000))
            .expr(NftExpr::Verdict {
                verdict: NftVerdict::Goto {
                    chain: "aux".into(),
                },
            }),
        NftRule::new()
            .meta_eq(NftMetaKey::Iifname, &ioc_sdk::nft::ifname_bytes(port))
            .lookup(NftField::ETHER_SADDR, "macs")
            .accept(),
        NftRule::new()
            .expr(NftExpr::Meta {
                key: NftMetaKey::Iifname,
            })
            .expr(NftExpr::Lookup {
                set: "ifs".into(),
                invert: false,
            })
            .meta_eq(NftMetaKey::Pkttype, &[1])
            .load(NftField::IP_DADDR)
            .cmp(NftCmpOp::Gte, &[10, 0, 0, 0])
            .verdict(NftVerdict::Return),
    ];
    for rule in from {
        b.add_rule(Netdev, table, "from", rule);
    }
    b.add_rule(
        Netdev,
        table,
        "to",
        NftRule::new()
            .ipv4()
            .eq(NftField::ETHER_DADDR, &MAC.0)
            .eq(NftField::IP_DADDR, &V4.octets())
            .accept(),
    );
    b.add_rule(Netdev, table, "aux", NftRule::new().drop());
    b
}

fn commit(batch: &NftBatch) {
    Nfnetlink::open()
        .unwrap()
        .commit(batch)
        .unwrap_or_else(|e| panic!("commit failed: {e}\n{}", nft_text::batch(batch)));
}

fn delete(table: &str) -> NftBatch {
    let mut b = NftBatch::new();
    b.delete_table(Netdev, table);
    b
}

#[test]
fn the_encoder_builds_what_its_nft_text_builds() {
    if skip::skip_unless_ci(live_netns::skip_reason(
        "nftables tables in a private network namespace",
        &["ip", "nft"],
    )) {
        return;
    }
    in_private_netns(|| {
        veth("vnet0.5", "peer0");
        let batch = representative("ioc-vnet0.5", "vnet0.5");
        commit(&batch);
        let committed = list(Netdev, "ioc-vnet0.5");
        commit(&delete("ioc-vnet0.5"));
        let text = nft_text::batch(&batch);
        sh(&["nft", "-f", "-"], Some(&text));
        let replayed = list(Netdev, "ioc-vnet0.5");
        // The one known difference: nft types a lookup on `ether saddr` with its own
        // `meta iiftype ether` check (always true on an Ethernet port), so the replayed rule
        // lists by name and the committed one raw.
        let raw_ether = "@ll,48,48 @macs";
        assert!(committed.contains(raw_ether), "{committed}");
        assert_eq!(
            committed.replace(raw_ether, "ether saddr @macs"),
            replayed,
            "nft text:\n{text}"
        );
        for line in [
            "type filter hook ingress device \"vnet0.5\" priority filter; policy drop;",
            "type filter hook egress device \"vnet0.5\" priority filter; policy drop;",
            "@ll,48,48 != 0x2ff60cb4949 drop",
            "@ll,96,16 0x8100 drop",
            "ip saddr @allowed4 accept",
            "arp operation 1-2 arp saddr ip @allowed4 accept",
            "ip6 saddr != @allowed6 jump aux",
            "update @lease4 { ip saddr timeout 1m } goto aux",
            "elements = { 2001:db8::2 timeout 1h }",
            "log prefix \"ioc ra \" drop comment \"RAs from the jail\"",
            "@ll,0,48 0x2ff60cb4949 ip daddr 10.23.42.2 accept",
            "icmpv6 type nd-router-advert counter packets 0 bytes 0 log",
            "@nh,0,8 & 0xf0 == 0x60 udp sport @ports drop",
            "iifname @ifs meta pkttype broadcast @nh,128,32 >= 0xa000000 return",
            "elements = { \"vnet0.5\" }",
            "flags dynamic,timeout",
        ] {
            assert!(committed.contains(line), "{line} missing:\n{committed}");
        }
    });
}

#[test]
fn deleting_a_table_twice_is_fine_and_errors_name_the_command() {
    if skip::skip_unless_ci(live_netns::skip_reason(
        "nftables tables in a private network namespace",
        &["ip", "nft"],
    )) {
        return;
    }
    in_private_netns(|| {
        veth("vnet0.6", "peer0");
        commit(&representative("ioc-vnet0.6", "vnet0.6"));
        let gone = Ipv4Addr::new(192, 0, 2, 99);
        let mut del = NftBatch::new();
        del.delete_elements(
            Netdev,
            "ioc-vnet0.6",
            "allowed4",
            vec![NftElement::ipv4(V4), NftElement::ipv4(gone)],
        );
        commit(&del);
        commit(&del);
        let listed = list(Netdev, "ioc-vnet0.6");
        assert!(!listed.contains("10.23.42.2 }"), "{listed}");
        assert!(!listed.contains("192.0.2.99"), "{listed}");
        commit(&delete("ioc-vnet0.6"));
        commit(&delete("ioc-vnet0.6"));
        let err = sh(&["nft", "list", "tables"], None);
        assert!(!err.contains("ioc-vnet0.6"), "{err}");

        let mut bad = NftBatch::new();
        bad.add_table(Netdev, "ioc-bad").add_rule(
            Netdev,
            "ioc-bad",
            "nochain",
            NftRule::new().drop(),
        );
        let e = Nfnetlink::open()
            .unwrap()
            .commit(&bad)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("add rule netdev ioc-bad nochain drop (command 2 of 2)"),
            "{e}"
        );
        let tables = sh(&["nft", "list", "tables"], None);
        assert!(
            !tables.contains("ioc-bad"),
            "a failed batch changes nothing: {tables}"
        );
    });
}

/// The queue statement needs `nft_queue` in the kernel; a kernel without it refuses the rule
/// (ENOENT), which this test reports instead of failing.
#[test]
fn queue_rules_reach_the_kernel() {
    if skip::skip_unless_ci(live_netns::skip_reason(
        "nftables tables in a private network namespace",
        &["ip", "nft"],
    )) {
        return;
    }
    in_private_netns(|| {
        let mut b = NftBatch::new();
        b.add_table(Netdev, "q")
            .add_chain(Netdev, "q", "c", None)
            .add_rule(
                Netdev,
                "q",
                "c",
                NftRule::new()
                    .l4proto(17)
                    .eq(NftField::TH_DPORT, &68u16.to_be_bytes())
                    .queue(3),
            );
        match Nfnetlink::open().unwrap().commit(&b) {
            Ok(()) => assert!(list(Netdev, "q").contains("udp dport 68 queue to 3")),
            Err(e) if e.to_string().contains("No such file") => {
                eprintln!("kernel without nft_queue: {e}")
            }
            Err(e) => panic!("{e}"),
        }
    });
}

/// A port's table of about 40 rules, as the port filter builds it.
fn port_table(table: &str, port: &str) -> NftBatch {
    let mut b = NftBatch::new();
    b.add_table(Netdev, table)
        .add_chain(Netdev, table, "from", hook(NftHookKind::Ingress, port))
        .add_chain(Netdev, table, "to", hook(NftHookKind::Egress, port));
    for (set, key) in [
        ("allowed4", NftKeyType::Ipv4Addr),
        ("allowed6", NftKeyType::Ipv6Addr),
        ("lease4", NftKeyType::Ipv4Addr),
        ("slaac6", NftKeyType::Ipv6Addr),
    ] {
        b.add_set(Netdev, table, set, key, timeout(), vec![]);
    }
    for i in 0..20u8 {
        b.add_rule(
            Netdev,
            table,
            "from",
            NftRule::new()
                .ipv6()
                .eq(
                    NftField::IP6_DADDR,
                    &Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i.into()).octets(),
                )
                .lookup(NftField::IP6_SADDR, "allowed6")
                .accept(),
        );
        b.add_rule(
            Netdev,
            table,
            "to",
            NftRule::new()
                .ipv4()
                .eq(NftField::ETHER_DADDR, &MAC.0)
                .eq(NftField::IP_DADDR, &[10, 0, 0, i])
                .accept(),
        );
    }
    b
}

fn time_commit(batch: &NftBatch) -> Duration {
    let mut nl = Nfnetlink::open().unwrap();
    let start = Instant::now();
    nl.commit(batch).unwrap();
    start.elapsed()
}

#[test]
fn a_commit_costs_the_same_with_400_other_tables() {
    if skip::skip_unless_ci(live_netns::skip_reason(
        "nftables tables in a private network namespace",
        &["ip", "nft"],
    )) {
        return;
    }
    in_private_netns(|| {
        veth("probe0", "probe1");
        let alone = (0..5)
            .map(|_| {
                let t = time_commit(&port_table("ioc-probe0", "probe0"));
                commit(&delete("ioc-probe0"));
                t
            })
            .min()
            .unwrap();
        for i in 0..400 {
            let port = format!("p{i}");
            veth(&port, &format!("q{i}"));
            commit(&port_table(&format!("ioc-{port}"), &port));
        }
        let crowded = (0..5)
            .map(|_| {
                let t = time_commit(&port_table("ioc-probe0", "probe0"));
                commit(&delete("ioc-probe0"));
                t
            })
            .min()
            .unwrap();
        eprintln!(
            "commit of one port table (~40 rules): alone {alone:?}, with 400 tables {crowded:?}"
        );
        assert!(
            crowded < alone * 3 + Duration::from_millis(5),
            "alone {alone:?}, with 400 tables {crowded:?}"
        );
    });
}
