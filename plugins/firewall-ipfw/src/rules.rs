//! The ipfw rules of one jail port, as argument lists for `ipfw -q add NUMBER ...`.

use std::net::{IpAddr, Ipv6Addr};

use ioc_jail_bridge::JailBridge;
use ioc_sdk::PortPolicy;

use crate::learn::{self, Tables};

/// libioc numbers a jail's rules 10000 + JID, so one `ipfw delete` removes them all.
pub const RULE_OFFSET: u32 = 10000;
/// 65535 is ipfw's default rule; numbers above it do not exist.
pub const LAST_RULE: u32 = 65534;

/// The rule number of a jail, or `None` when its JID is too large for ipfw's numbering.
pub fn rule_number(jid: u32) -> Option<u32> {
    jid.checked_add(RULE_OFFSET).filter(|n| *n <= LAST_RULE)
}

pub(crate) fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| w.to_string()).collect()
}

/// All rules, in order. Rules sharing a number are matched in the order they were added.
///
/// The first part is libioc's, unchanged: per family, three allow rules per address (from the
/// jail with its MAC as source; to the jail with its MAC as destination, at layer 2 and again at
/// layer 3) and two deny rules, even for a family without addresses. What follows adds what
/// libioc left open: IPv6 router advertisements and redirects from the jail are dropped, its
/// EUI-64 link-local address is allowed as its other addresses are, and the neighbour discovery
/// a static IPv6 address needs is let through (DAD and MLD from `::`, solicitations to its
/// solicited-node groups). ARP is restricted to frames with the jail's MAC as source, and, toward
/// the jail, to its MAC or broadcast.
///
/// A port that learns addresses (see [`learn`]) gets, per family and before every allow, the
/// drop of DHCP server replies from the jail, and after the static allows the rules that
/// consult the learned-address tables. SLAAC alone makes the IPv6 part active (its link-local
/// address and neighbour discovery), DHCP alone the IPv4 and ARP parts. A port that learns
/// nothing gets exactly the rules above.
pub fn rules(policy: &PortPolicy, links: &JailBridge) -> Vec<Vec<String>> {
    let mac = policy.mac().to_string();
    let (b, p) = (links.inner.as_str(), links.port.as_str());
    let learning = policy.learning();
    let tables = Tables::of(policy);
    let mut v6: Vec<Ipv6Addr> = policy.ipv6().collect();
    if (!v6.is_empty() || learning.slaac) && !v6.contains(&policy.mac().link_local()) {
        v6.push(policy.mac().link_local());
    }
    let v4: Vec<IpAddr> = policy.ipv4().map(IpAddr::V4).collect();
    let has_ipv4 = !v4.is_empty() || learning.dhcp4;
    let mut out = Vec::new();
    for (family, addresses) in [
        ("ipv4", v4),
        ("ipv6", v6.iter().map(|a| IpAddr::V6(*a)).collect()),
    ] {
        let v6_family = family == "ipv6";
        let active = if v6_family {
            !addresses.is_empty()
        } else {
            has_ipv4
        };
        if v6_family && active {
            out.push(words(&[
                "deny",
                "log",
                "ipv6-icmp",
                "from",
                "any",
                "to",
                "any",
                "icmp6types",
                "134,137",
                "layer2",
                "via",
                b,
                "out",
            ]));
        }
        if active {
            out.extend(learn::server_replies(learning, v6_family, b));
        }
        for a in &addresses {
            let a = a.to_string();
            out.push(words(&[
                "allow", family, "from", &a, "to", "any", "layer2", "MAC", "any", &mac, "via", b,
                "out",
            ]));
            out.push(words(&[
                "allow", family, "from", "any", "to", &a, "layer2", "MAC", &mac, "any", "via", p,
                "out",
            ]));
            out.push(words(&[
                "allow", family, "from", "any", "to", &a, "via", p, "out",
            ]));
        }
        if !v6_family && learning.dhcp4 {
            out.extend(learn::dhcp4(&tables.table4, &mac, b, p));
        }
        if v6_family && learning.slaac {
            out.extend(learn::slaac(&tables.table6, &mac, b, p));
        }
        if v6_family && active {
            out.extend(neighbour_discovery(&v6, &mac, b, p));
        }
        out.push(words(&[
            "deny", "log", family, "from", "any", "to", "any", "layer2", "via", b, "out",
        ]));
        out.push(words(&[
            "deny", "log", family, "from", "any", "to", "any", "via", p, "out",
        ]));
    }
    out.extend(arp(has_ipv4, &mac, b, p));
    out
}

/// What a static IPv6 address needs beyond unicast: duplicate address detection and MLD
/// reports from `::` out of the jail, and solicitations/advertisements/MLD queries sent to
/// all-nodes or to the jail's solicited-node groups into it.
fn neighbour_discovery(v6: &[Ipv6Addr], mac: &str, b: &str, p: &str) -> Vec<Vec<String>> {
    let mut groups = vec![Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1)];
    for a in v6 {
        let g = ioc_sdk::solicited_node(a);
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    let groups = groups
        .iter()
        .map(|g| g.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let to_jail = [
        "allow",
        "ipv6-icmp",
        "from",
        "any",
        "to",
        &groups,
        "icmp6types",
        "130,135,136",
    ];
    let mut l2 = words(&to_jail);
    l2.extend(words(&[
        "layer2",
        "MAC",
        "33:33:00:00:00:00/16",
        "any",
        "via",
        p,
        "out",
    ]));
    let mut l3 = words(&to_jail);
    l3.extend(words(&["via", p, "out"]));
    vec![
        words(&[
            "allow",
            "ipv6-icmp",
            "from",
            "::",
            "to",
            "ff02::/16",
            "icmp6types",
            "131,132,135,143",
            "layer2",
            "MAC",
            "any",
            mac,
            "via",
            b,
            "out",
        ]),
        l2,
        l3,
    ]
}

/// ARP at layer 2 (needs `net.link.bridge.ipfw_arp=1`): out of the jail only with its MAC as
/// Ethernet source, into it only to its MAC or broadcast; none at all without an IPv4 address.
fn arp(has_ipv4: bool, mac: &str, b: &str, p: &str) -> Vec<Vec<String>> {
    let arp = [
        "ip", "from", "any", "to", "any", "layer2", "mac-type", "arp",
    ];
    let rule = |action: &[&str], tail: &[&str]| {
        let mut r = words(action);
        r.extend(words(&arp));
        r.extend(words(tail));
        r
    };
    let mut out = Vec::new();
    if has_ipv4 {
        out.push(rule(&["allow"], &["MAC", "any", mac, "via", b, "out"]));
    }
    out.push(rule(&["deny", "log"], &["via", b, "out"]));
    if has_ipv4 {
        out.push(rule(&["allow"], &["MAC", mac, "any", "via", p, "out"]));
        out.push(rule(
            &["allow"],
            &["MAC", "ff:ff:ff:ff:ff:ff", "any", "via", p, "out"],
        ));
    }
    out.push(rule(&["deny", "log"], &["via", p, "out"]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links_and_policy(addresses: &[&str]) -> (JailBridge, PortPolicy) {
        ioc_jail_bridge::fixtures::myjail("ipfw", addresses)
    }

    fn lines(addresses: &[&str]) -> Vec<String> {
        let (links, policy) = links_and_policy(addresses);
        rules(&policy, &links).iter().map(|r| r.join(" ")).collect()
    }

    #[test]
    fn seed_jail_starts_with_libiocs_rules_then_arp() {
        assert_eq!(
            lines(&["10.23.42.2"]),
            [
                "deny log udp from any 67 to any layer2 via vnet0:5:b out",
                "allow ipv4 from 10.23.42.2 to any layer2 MAC any 02:ff:60:cb:49:49 via vnet0:5:b out",
                "allow ipv4 from any to 10.23.42.2 layer2 MAC 02:ff:60:cb:49:49 any via vnet0:5 out",
                "allow ipv4 from any to 10.23.42.2 via vnet0:5 out",
                "deny log ipv4 from any to any layer2 via vnet0:5:b out",
                "deny log ipv4 from any to any via vnet0:5 out",
                "deny log ipv6 from any to any layer2 via vnet0:5:b out",
                "deny log ipv6 from any to any via vnet0:5 out",
                "allow ip from any to any layer2 mac-type arp MAC any 02:ff:60:cb:49:49 via vnet0:5:b out",
                "deny log ip from any to any layer2 mac-type arp via vnet0:5:b out",
                "allow ip from any to any layer2 mac-type arp MAC 02:ff:60:cb:49:49 any via vnet0:5 out",
                "allow ip from any to any layer2 mac-type arp MAC ff:ff:ff:ff:ff:ff any via vnet0:5 out",
                "deny log ip from any to any layer2 mac-type arp via vnet0:5 out",
            ]
        );
    }

    #[test]
    fn ipv6_adds_link_local_and_neighbour_discovery_and_drops_router_advertisements() {
        let l = lines(&["2001:db8::2"]);
        let at = |needle: &str| {
            l.iter()
                .position(|r| r.contains(needle))
                .unwrap_or_else(|| panic!("{needle} missing:\n{}", l.join("\n")))
        };
        assert!(at("icmp6types 134,137") < at("allow ipv6 from 2001:db8::2 to any"));
        assert!(at("allow ipv6 from fe80::ff:60ff:fecb:4949 to any layer2 MAC any 02:ff:60:cb:49:49 via vnet0:5:b out") > 0);
        assert!(l.contains(&"allow ipv6-icmp from any to ff02::1,ff02::1:ff00:2,ff02::1:ffcb:4949 icmp6types 130,135,136 layer2 MAC 33:33:00:00:00:00/16 any via vnet0:5 out".to_string()));
        assert!(at("from :: to ff02::/16") < at("deny log ipv6 from any to any layer2"));
        // No IPv4 address: no IPv4 allow and no ARP allow at all.
        assert!(!l.iter().any(|r| r.starts_with("allow ipv4")));
        assert!(!l
            .iter()
            .any(|r| r.contains("mac-type arp") && r.starts_with("allow")));
    }

    fn learning_lines(addresses: &[&str], dhcp4: bool, slaac: bool) -> Vec<String> {
        let (links, policy) = links_and_policy(addresses);
        let policy = policy.with_learning(ioc_sdk::PortLearning {
            dhcp4,
            slaac,
            dhcp_server: false,
        });
        rules(&policy, &links).iter().map(|r| r.join(" ")).collect()
    }

    #[test]
    fn dhcp_drops_server_replies_first_then_allows_the_client_and_the_lease_table() {
        let l = learning_lines(&[], true, false);
        let at = |needle: &str| {
            l.iter()
                .position(|r| r.starts_with(needle))
                .unwrap_or_else(|| panic!("{needle} missing:\n{}", l.join("\n")))
        };
        assert_eq!(
            l[0],
            "deny log udp from any 67 to any layer2 via vnet0:5:b out"
        );
        assert!(at("allow udp from 0.0.0.0 68 to any 67 layer2 MAC any 02:ff:60:cb:49:49") > 0);
        assert!(
            at("allow ipv4 from table(ioc-5-vnet0-lease4) to any layer2 MAC any 02:ff:60:cb:49:49 via vnet0:5:b out")
                < at("deny log ipv4 from any to any layer2 via vnet0:5:b out")
        );
        assert!(at("allow ipv4 from any to table(ioc-5-vnet0-lease4) via vnet0:5 out") > 0);
        // ARP is open to the jail's MAC as for a static address; IPv6 stays closed.
        assert!(at("allow ip from any to any layer2 mac-type arp MAC any 02:ff:60:cb:49:49") > 0);
        assert!(!l.iter().any(|r| r.starts_with("allow ipv6")));
        assert!(!l.iter().any(|r| r.contains("slaac6")));
    }

    #[test]
    fn slaac_alone_opens_ipv6_for_the_link_local_the_table_and_router_advertisements() {
        let l = learning_lines(&[], false, true);
        let at = |needle: &str| {
            l.iter()
                .position(|r| r.starts_with(needle))
                .unwrap_or_else(|| panic!("{needle} missing:\n{}", l.join("\n")))
        };
        assert!(at("deny log ipv6-icmp from any to any icmp6types 134,137") < at("allow ipv6"));
        assert!(at("deny log udp from any 547 to any layer2 via vnet0:5:b out") < at("allow ipv6"));
        assert!(at("allow ipv6 from fe80::ff:60ff:fecb:4949 to any layer2") > 0);
        assert!(at("allow ipv6 from table(ioc-5-vnet0-slaac6) to any layer2 MAC any 02:ff:60:cb:49:49 via vnet0:5:b out") > 0);
        assert!(at("allow ipv6-icmp from fe80::/10 to ff02::1 icmp6types 134 layer2 MAC 33:33:00:00:00:01 any via vnet0:5 out") > 0);
        // No IPv4 at all, so no DHCP rule and no ARP.
        assert!(!l
            .iter()
            .any(|r| r.contains(" 67 ") || r.starts_with("allow ipv4")));
        assert!(!l
            .iter()
            .any(|r| r.contains("mac-type arp") && r.starts_with("allow")));
    }

    #[test]
    fn a_dhcp_server_jail_keeps_its_server_replies() {
        let (links, policy) = links_and_policy(&["10.23.42.2"]);
        let policy = policy.with_learning(ioc_sdk::PortLearning {
            dhcp4: true,
            slaac: false,
            dhcp_server: true,
        });
        let l: Vec<String> = rules(&policy, &links).iter().map(|r| r.join(" ")).collect();
        assert!(!l.iter().any(|r| r.starts_with("deny log udp")), "{l:?}");
    }

    #[test]
    fn rule_numbers_follow_libioc_and_stay_in_range() {
        assert_eq!(rule_number(5), Some(10005));
        assert_eq!(rule_number(55534), Some(65534));
        assert_eq!(rule_number(55535), None);
        assert_eq!(rule_number(u32::MAX), None);
    }
}
