//! The rules and batches as data, read back in nft-like words, and the backend's requests to
//! the host. No kernel needed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ioc_sdk::nft::{NftBatch, NftCommand, NftExpr, NftHookKind, NftPolicy, NftVerdict};
use ioc_sdk::testing::{JailBuilder, RecordingHost};
use ioc_sdk::{
    Firewall, HostErrorKind, HostOp, HostReply, LearnSink, Mac, NftFamily, Platform, PortLearning,
    PortPolicy, UndoAction,
};

use crate::layout::{self, install, remove, table};
use crate::whitelist::Whitelist;
use crate::{from_jail, to_jail, Nftables};

const MAC: &str = "02:ff:60:cb:49:49";

fn policy(addresses: &[&str], learning: PortLearning) -> PortPolicy {
    PortPolicy::new(
        "myjail",
        5,
        "vnet0",
        "vnet0.5",
        "bridge0",
        MAC.parse().unwrap(),
        addresses.iter().map(|a| a.parse::<IpAddr>().unwrap()),
        Some(1500),
    )
    .with_learning(learning)
}

const DHCP: PortLearning = PortLearning {
    dhcp4: true,
    slaac: false,
    dhcp_server: false,
};
const SLAAC: PortLearning = PortLearning {
    dhcp4: false,
    slaac: true,
    dhcp_server: false,
};
const STATIC: PortLearning = PortLearning {
    dhcp4: false,
    slaac: false,
    dhcp_server: false,
};

/// The name of a field the rules load, as nft calls it (or its raw `@base,bits,bits` form).
fn field(base: &str, offset: u32, len: u32) -> String {
    let named = match (base, offset, len) {
        ("ll", 0, 6) => "ether daddr",
        ("ll", 6, 6) => "ether saddr",
        ("ll", 12, 2) => "ether type",
        ("nh", 4, 2) => "ip6 length",
        ("nh", 6, 1) => "ip6 nexthdr",
        ("nh", 8, 16) => "ip6 saddr",
        ("nh", 24, 16) => "ip6 daddr",
        ("nh", 12, 4) => "ip saddr",
        ("nh", 16, 4) => "ip daddr",
        ("nh", 0, 2) => "arp htype",
        ("nh", 2, 2) => "arp ptype",
        ("nh", 4, 1) => "arp hlen",
        ("nh", 5, 1) => "arp plen",
        ("nh", 6, 2) => "arp operation",
        ("nh", 8, 6) => "arp saddr ether",
        ("nh", 14, 4) => "arp saddr ip",
        ("nh", 24, 4) => "arp daddr ip",
        ("th", 0, 1) => "icmp type",
        ("th", 0, 2) => "th sport",
        ("th", 2, 2) => "th dport",
        _ => return format!("@{base},{},{}", offset * 8, len * 8),
    };
    named.to_string()
}

/// A value as the field's type shows it.
fn value(data: &[u8]) -> String {
    match data.len() {
        4 => Ipv4Addr::from(<[u8; 4]>::try_from(data).unwrap()).to_string(),
        6 => Mac(<[u8; 6]>::try_from(data).unwrap()).to_string(),
        16 => Ipv6Addr::from(<[u8; 16]>::try_from(data).unwrap()).to_string(),
        1 => data[0].to_string(),
        _ => data
            .iter()
            .fold("0x".to_string(), |s, b| s + &format!("{b:02x}")),
    }
}

/// One rule in nft-like words: `ether saddr != 02:.. drop`, `ip saddr @allowed4 accept`.
fn words(exprs: &[NftExpr]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut loaded = String::new();
    for e in exprs {
        match e {
            NftExpr::Payload { base, offset, len } => loaded = field(base.as_str(), *offset, *len),
            NftExpr::Meta { key } => loaded = format!("meta {}", key.as_str()),
            NftExpr::Cmp { op, data } => {
                let op = if op.as_str() == "==" { "" } else { "!= " };
                out.push(format!("{loaded} {op}{}", value(data)))
            }
            NftExpr::Range { from, to, .. } => {
                out.push(format!("{loaded} {}-{}", value(from), value(to)))
            }
            NftExpr::Lookup { set, invert } => {
                let op = if *invert { "!= " } else { "" };
                out.push(format!("{loaded} {op}@{set}"))
            }
            NftExpr::Verdict { verdict } => out.push(
                match verdict {
                    NftVerdict::Accept => "accept",
                    NftVerdict::Drop => "drop",
                    other => panic!("unexpected verdict {other:?}"),
                }
                .into(),
            ),
            NftExpr::Log { prefix, group } => {
                assert!(prefix.is_none(), "the filter logs only to the learner");
                out.push(format!("log group {}", group.unwrap()))
            }
            NftExpr::Dynset {
                op,
                set,
                timeout_ms,
            } => out.push(format!(
                "{} @{set} {{ {loaded} timeout {}ms }}",
                op.as_str(),
                timeout_ms.unwrap()
            )),
            other => panic!("unexpected expression {other:?}"),
        }
    }
    out.join(" ")
}

fn chain(w: &Whitelist, which: &str) -> Vec<String> {
    let rules = if which == "from" {
        from_jail::rules(w)
    } else {
        to_jail::rules(w)
    };
    rules.iter().map(|r| words(r.exprs())).collect()
}

/// The rules of chain `which` of a batch, in words.
fn batch_chain(batch: &NftBatch, which: &str) -> Vec<String> {
    batch
        .commands
        .iter()
        .filter_map(|c| match c {
            NftCommand::AddRule { chain, exprs, .. } if chain.as_str() == which => {
                Some(words(exprs))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn seed_jail_gets_exactly_this_filter() {
    let w = Whitelist::new(&policy(&["10.23.42.2"], STATIC), None);
    assert_eq!(
        chain(&w, "from"),
        [
            "ether saddr != 02:ff:60:cb:49:49 drop",
            "meta protocol 0x0800 ether type 0x0800 meta l4proto 17 th sport 0x0043 drop",
            "meta protocol 0x0800 ether type 0x0800 ip saddr @allowed4 accept",
            "meta protocol 0x0806 ether type 0x0806 arp htype 0x0001 arp ptype 0x0800 arp hlen 6 arp plen 4 arp operation 0x0001-0x0002 arp saddr ether 02:ff:60:cb:49:49 arp saddr ip @allowed4 accept",
        ]
    );
    assert_eq!(
        chain(&w, "to"),
        [
            "ether daddr 02:ff:60:cb:49:49 meta protocol 0x0800 ether type 0x0800 ip daddr @allowed4 accept",
            "ether daddr 02:ff:60:cb:49:49 meta protocol 0x0806 ether type 0x0806 arp htype 0x0001 arp ptype 0x0800 arp hlen 6 arp plen 4 arp daddr ip @allowed4 accept",
            "ether daddr ff:ff:ff:ff:ff:ff meta protocol 0x0806 ether type 0x0806 arp htype 0x0001 arp ptype 0x0800 arp hlen 6 arp plen 4 arp daddr ip @allowed4 accept",
        ]
    );
}

#[test]
fn the_batch_replaces_the_ports_table_whole_and_names_no_other() {
    let p = policy(&["10.23.42.2", "2001:db8::2"], STATIC);
    let w = Whitelist::new(&p, None);
    let batch = install("vnet0.5", &w, true).unwrap();
    let netdev = NftFamily::Netdev;
    let name = "ioc-vnet0.5";
    let c = &batch.commands;
    assert_eq!(
        c[..2],
        [
            NftCommand::DeleteTable {
                family: netdev,
                name: name.into()
            },
            NftCommand::AddTable {
                family: netdev,
                name: name.into()
            }
        ]
    );
    let mut sets = Vec::new();
    let mut chains = Vec::new();
    for command in c {
        match command {
            NftCommand::AddSet {
                family,
                table,
                name: set,
                key,
                flags,
                elements,
            } => {
                assert_eq!((*family, table.as_str()), (netdev, name));
                let keys: Vec<String> = elements.iter().map(|e| value(&e.key)).collect();
                sets.push((set.to_string(), key.as_str(), flags.timeout, keys));
            }
            NftCommand::AddChain {
                family,
                table,
                name: chain,
                hook,
            } => {
                assert_eq!((*family, table.as_str()), (netdev, name));
                let hook = hook.clone().into_option().expect("base chain");
                assert_eq!(
                    hook.device.as_ref().map(|d| d.as_str()).into_option(),
                    Some("vnet0.5")
                );
                assert_eq!((hook.priority, hook.policy), (0, NftPolicy::Drop));
                chains.push((chain.to_string(), hook.kind));
            }
            NftCommand::AddRule { family, table, .. } => {
                assert_eq!((*family, table.as_str()), (netdev, name))
            }
            NftCommand::AddTable { .. } | NftCommand::DeleteTable { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    assert_eq!(
        sets,
        [
            (
                "allowed4".to_string(),
                "ipv4_addr",
                false,
                s(&["10.23.42.2"])
            ),
            (
                "allowed6".to_string(),
                "ipv6_addr",
                false,
                s(&["2001:db8::2", "fe80::ff:60ff:fecb:4949"])
            ),
        ]
    );
    assert_eq!(
        chains,
        [
            ("from".to_string(), NftHookKind::Ingress),
            ("to".to_string(), NftHookKind::Egress)
        ]
    );
    assert_eq!(batch_chain(&batch, "from"), chain(&w, "from"));
    assert_eq!(batch_chain(&batch, "to"), chain(&w, "to"));
    // Without a leftover, nothing is deleted (a deletion costs the start a wait): the table is
    // created exclusively, so that a leftover makes the commit fail instead.
    let fresh = install("vnet0.5", &w, false).unwrap();
    assert_eq!(
        fresh.commands[0],
        NftCommand::CreateTable {
            family: netdev,
            name: name.into()
        }
    );
    assert_eq!(fresh.commands[1..], batch.commands[2..]);

    assert_eq!(
        remove("vnet0.5").unwrap().commands,
        [NftCommand::DeleteTable {
            family: netdev,
            name: name.into()
        }]
    );
}

#[test]
fn ipv6_jail_gets_nd_rules_for_its_addresses_and_link_local() {
    let w = Whitelist::new(&policy(&["2001:db8::2"], STATIC), None);
    let from = chain(&w, "from");
    let to = chain(&w, "to");
    for rule in from.iter().chain(&to) {
        assert!(
            !rule.contains("0x0800") && !rule.contains("0x0806"),
            "no IPv4 or ARP: {rule}"
        );
    }
    let at = |needle: &str| {
        from.iter()
            .position(|r| r.contains(needle))
            .unwrap_or_else(|| panic!("{needle} missing:\n{}", from.join("\n")))
    };
    let sources = at("ip6 saddr != @allowed6");
    // Router advertisements, redirects and DHCPv6 server replies never leave the jail.
    assert!(at("icmp type 134 drop") < sources);
    assert!(at("icmp type 137 drop") < sources);
    assert!(at("meta l4proto 17 th sport 0x0223 drop") < sources);
    assert_eq!(
        from[sources],
        "meta protocol 0x86dd ether type 0x86dd ip6 saddr != @allowed6 ip6 saddr != :: drop"
    );
    let nd = "meta protocol 0x86dd ether type 0x86dd ip6 nexthdr 58";
    for target in ["2001:db8::2", "fe80::ff:60ff:fecb:4949"] {
        assert!(from.contains(&format!(
            "{nd} ip6 length 0x0020 meta l4proto 58 icmp type 136 @th,64,128 {target} @th,192,16 0x0201 @th,208,48 02:ff:60:cb:49:49 accept"
        )), "{}", from.join("\n"));
        assert!(from.contains(&format!(
            "{nd} ip6 length 0x0018 meta l4proto 58 icmp type 135 ip6 saddr :: @th,64,128 {target} accept"
        )), "{}", from.join("\n"));
    }
    assert!(
        at("ip6 saddr :: drop")
            > at("meta protocol 0x86dd ether type 0x86dd meta l4proto 58 icmp type 143 ip6 saddr :: accept")
    );
    // Any other NS/NA is dropped before the catch-all accept.
    assert!(at("icmp type 135-136 drop") < at("meta protocol 0x86dd ether type 0x86dd accept"));
    assert_eq!(
        from.last().unwrap(),
        "meta protocol 0x86dd ether type 0x86dd accept"
    );
    assert!(!from
        .iter()
        .any(|r| r.contains("@slaac6") || r.contains("queue")));
    // Toward the jail: its unicast addresses, all-nodes and its solicited-node groups.
    for rule in [
        "meta protocol 0x86dd ether type 0x86dd meta l4proto 58 icmp type 134 drop",
        "ether daddr 02:ff:60:cb:49:49 meta protocol 0x86dd ether type 0x86dd ip6 daddr @allowed6 accept",
        "ether daddr 33:33:00:00:00:01 meta protocol 0x86dd ether type 0x86dd ip6 daddr ff02::1 meta l4proto 58 icmp type 135-136 accept",
        "ether daddr 33:33:ff:00:00:02 meta protocol 0x86dd ether type 0x86dd ip6 daddr ff02::1:ff00:2 meta l4proto 58 icmp type 135-136 accept",
        "ether daddr 33:33:ff:cb:49:49 meta protocol 0x86dd ether type 0x86dd ip6 daddr ff02::1:ffcb:4949 meta l4proto 58 icmp type 130 accept",
    ] {
        assert!(to.contains(&rule.to_string()), "{rule} missing:\n{}", to.join("\n"));
    }
}

#[test]
fn a_jail_without_addresses_is_cut_off() {
    let w = Whitelist::new(&policy(&[], STATIC), None);
    assert_eq!(chain(&w, "from"), ["ether saddr != 02:ff:60:cb:49:49 drop"]);
    assert!(chain(&w, "to").is_empty());
}

#[test]
fn dhcp_client_traffic_passes_and_replies_and_releases_go_through_the_learner() {
    let w = Whitelist::new(&policy(&[], DHCP), Some(7));
    let from = chain(&w, "from");
    let client = "meta l4proto 17 th sport 0x0044 th dport 0x0043";
    assert_eq!(
        from[1..],
        [
            "meta protocol 0x0800 ether type 0x0800 meta l4proto 17 th sport 0x0043 drop".to_string(),
            format!("meta protocol 0x0800 ether type 0x0800 ip saddr 0.0.0.0 {client} accept"),
            format!("meta protocol 0x0800 ether type 0x0800 ip saddr @lease4 {client} log group 7 accept"),
            "meta protocol 0x0800 ether type 0x0800 ip saddr @allowed4 accept".into(),
            "meta protocol 0x0800 ether type 0x0800 ip saddr @lease4 accept".into(),
            "meta protocol 0x0806 ether type 0x0806 arp htype 0x0001 arp ptype 0x0800 arp hlen 6 arp plen 4 arp operation 0x0001-0x0002 arp saddr ether 02:ff:60:cb:49:49 arp saddr ip @allowed4 accept".into(),
            "meta protocol 0x0806 ether type 0x0806 arp htype 0x0001 arp ptype 0x0800 arp hlen 6 arp plen 4 arp operation 0x0001-0x0002 arp saddr ether 02:ff:60:cb:49:49 arp saddr ip @lease4 accept".into(),
        ]
    );
    let to = chain(&w, "to");
    for dst in [MAC, "ff:ff:ff:ff:ff:ff"] {
        let reply = format!("ether daddr {dst} meta protocol 0x0800 ether type 0x0800 meta l4proto 17 th sport 0x0043 th dport 0x0044 @th,288,48 {MAC}");
        let learned = format!(
            "{reply} @th,192,32 != 0.0.0.0 add @lease4 {{ @th,192,32 timeout 60000ms }} log group 7 accept"
        );
        let at = to
            .iter()
            .position(|r| *r == learned)
            .unwrap_or_else(|| panic!("{learned}:\n{}", to.join("\n")));
        // The kernel learns the address before anything could accept the reply unlearned.
        assert!(to[..at]
            .iter()
            .all(|r| r.ends_with("drop") || r.contains("log group")));
        // A reply that hands out no address (a NAK) still reaches the learner.
        assert_eq!(to[at + 1], format!("{reply} log group 7 accept"));
    }
    assert!(to.contains(&format!(
        "ether daddr {MAC} meta protocol 0x0800 ether type 0x0800 ip daddr @lease4 accept"
    )));
    assert!(to
        .iter()
        .any(|r| r.starts_with("ether daddr ff:ff:ff:ff:ff:ff")
            && r.ends_with("arp daddr ip @lease4 accept")));
    // No IPv6 without IPv6 addresses or SLAAC.
    assert!(!from.iter().chain(&to).any(|r| r.contains("0x86dd")));
}

#[test]
fn the_networks_dhcp_server_may_send_replies() {
    let server = PortLearning {
        dhcp_server: true,
        ..STATIC
    };
    let w = Whitelist::new(&policy(&["10.23.42.2", "2001:db8::2"], server), None);
    let from = chain(&w, "from");
    assert!(
        !from.iter().any(|r| r.contains("th sport")),
        "{}",
        from.join("\n")
    );
    let w = Whitelist::new(&policy(&["10.23.42.2", "2001:db8::2"], STATIC), None);
    let from = chain(&w, "from");
    assert_eq!(from.iter().filter(|r| r.contains("th sport")).count(), 2);
}

#[test]
fn slaac_learns_from_advertisements_and_allows_the_learned_addresses() {
    let w = Whitelist::new(&policy(&[], SLAAC), Some(9));
    let from = chain(&w, "from");
    assert!(from.contains(
        &"meta protocol 0x86dd ether type 0x86dd ip6 saddr != @allowed6 ip6 saddr != @slaac6 ip6 saddr != :: drop"
            .to_string()
    ));
    // DAD and advertisements for its SLAAC addresses: told by the interface identifier.
    let iid = "@th,128,64 0x00ff60fffecb4949";
    assert!(from
        .iter()
        .any(|r| r.contains("ip6 saddr ::") && r.contains("icmp type 135") && r.contains(iid)));
    assert!(from
        .iter()
        .any(|r| r.contains("icmp type 136") && r.contains(iid) && r.contains("0x0201")));
    assert!(from
        .iter()
        .any(|r| r.ends_with("icmp type 133 ip6 saddr :: accept")));
    let to = chain(&w, "to");
    let ra = "meta protocol 0x86dd ether type 0x86dd ip6 nexthdr 58 meta l4proto 58 icmp type 134 log group 9 accept";
    assert_eq!(
        to[..3],
        [
            format!(
                "ether daddr 33:33:00:00:00:01 meta protocol 0x86dd ether type 0x86dd ip6 daddr ff02::1 {}",
                ra.replacen("meta protocol 0x86dd ether type 0x86dd ", "", 1)
            ),
            format!(
                "ether daddr {MAC} meta protocol 0x86dd ether type 0x86dd ip6 daddr fe80::ff:60ff:fecb:4949 {}",
                ra.replacen("meta protocol 0x86dd ether type 0x86dd ", "", 1)
            ),
            "meta protocol 0x86dd ether type 0x86dd meta l4proto 58 icmp type 134 drop".to_string(),
        ]
    );
    assert!(to.contains(&format!(
        "ether daddr {MAC} meta protocol 0x86dd ether type 0x86dd ip6 daddr @slaac6 accept"
    )));
    // No IPv4 without IPv4 addresses or DHCP.
    assert!(!from.iter().chain(&to).any(|r| r.contains("0x0800")));
}

#[test]
fn port_names_cannot_inject_nft_syntax() {
    for bad in [
        "",
        "a b",
        "x\"; flush ruleset",
        "a{b}",
        "averyveryverylongname",
    ] {
        assert!(table(bad).is_err(), "{bad}");
        assert!(remove(bad).is_err(), "{bad}");
    }
    assert_eq!(table("vnet0.5").unwrap(), "ioc-vnet0.5");
    assert_eq!(table("i0123456789abcd").unwrap(), "ioc-i0123456789abcd");
}

mod backend;
