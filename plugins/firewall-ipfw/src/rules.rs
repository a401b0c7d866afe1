//! The ipfw rules of one jail port, as argument lists for `ipfw -q add NUMBER ...`.

use std::net::{IpAddr, Ipv6Addr};

use ioc_jail_bridge::JailBridge;
use ioc_sdk::PortPolicy;

/// libioc numbers a jail's rules 10000 + JID, so one `ipfw delete` removes them all.
pub const RULE_OFFSET: u32 = 10000;
/// 65535 is ipfw's default rule; numbers above it do not exist.
pub const LAST_RULE: u32 = 65534;

/// The rule number of a jail, or `None` when its JID is too large for ipfw's numbering.
pub fn rule_number(jid: u32) -> Option<u32> {
    jid.checked_add(RULE_OFFSET).filter(|n| *n <= LAST_RULE)
}

fn words(list: &[&str]) -> Vec<String> {
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
pub fn rules(policy: &PortPolicy, links: &JailBridge) -> Vec<Vec<String>> {
    let mac = policy.mac().to_string();
    let (b, p) = (links.inner.as_str(), links.port.as_str());
    let mut v6: Vec<Ipv6Addr> = policy.ipv6().collect();
    if !v6.is_empty() && !v6.contains(&policy.mac().link_local()) {
        v6.push(policy.mac().link_local());
    }
    let v4: Vec<IpAddr> = policy.ipv4().map(IpAddr::V4).collect();
    let mut out = Vec::new();
    for (family, addresses) in [
        ("ipv4", v4),
        ("ipv6", v6.iter().map(|a| IpAddr::V6(*a)).collect()),
    ] {
        if family == "ipv6" && !addresses.is_empty() {
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
        if family == "ipv6" && !addresses.is_empty() {
            out.extend(neighbour_discovery(&v6, &mac, b, p));
        }
        out.push(words(&[
            "deny", "log", family, "from", "any", "to", "any", "layer2", "via", b, "out",
        ]));
        out.push(words(&[
            "deny", "log", family, "from", "any", "to", "any", "via", p, "out",
        ]));
    }
    out.extend(arp(policy.ipv4().next().is_some(), &mac, b, p));
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

    #[test]
    fn rule_numbers_follow_libioc_and_stay_in_range() {
        assert_eq!(rule_number(5), Some(10005));
        assert_eq!(rule_number(55534), Some(65534));
        assert_eq!(rule_number(55535), None);
        assert_eq!(rule_number(u32::MAX), None);
    }
}
