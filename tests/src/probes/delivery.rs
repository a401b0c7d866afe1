//! What a peer sends toward a jail: frames for someone else, which a secure jail must not
//! receive, and frames for it, which it must.

use super::*;

/// Frames the observer `o` sends that are not for the jail `t`: none may reach it.
pub fn not_addressed_to(t: &Node, o: &Node) -> Vec<Probe> {
    vec![
        probe(
            "IPv4 to its MAC but another address",
            format!(
                "icmp4 dst-mac={} src={} dst=10.23.42.77 tag=to-wrong-ip4",
                t.mac, o.ip4
            ),
            "tag=to-wrong-ip4".into(),
        ),
        probe(
            "IPv4 to its address but a foreign MAC (flooded)",
            format!(
                "icmp4 dst-mac={UNKNOWN_MAC} src={} dst={} tag=to-foreign-mac4",
                o.ip4, t.ip4
            ),
            "tag=to-foreign-mac4".into(),
        ),
        probe(
            "UDP broadcast",
            format!(
                "udp src={} dst=10.23.42.255 sport=9 dport=9 tag=to-broadcast",
                o.ip4
            ),
            "tag=to-broadcast".into(),
        ),
        probe(
            "ARP request for another address",
            format!("arp op=request sender-ip={} target-ip=10.23.42.78", o.ip4),
            "arp request who-has 10.23.42.78".into(),
        ),
        probe(
            "IPv6 to its MAC but another address",
            format!(
                "icmp6 dst-mac={} src={} dst=fd00:23::77 tag=to-wrong-ip6",
                t.mac, o.ip6
            ),
            "tag=to-wrong-ip6".into(),
        ),
        probe(
            "IPv6 to its address but a foreign MAC (flooded)",
            format!(
                "icmp6 dst-mac={UNKNOWN_MAC} src={} dst={} tag=to-foreign-mac6",
                o.ip6, t.ip6
            ),
            "tag=to-foreign-mac6".into(),
        ),
        probe(
            "802.1Q-tagged frame to its MAC and address",
            format!(
                "icmp4 vlan=42 dst-mac={} src={} dst={} tag=to-vlan",
                t.mac, o.ip4, t.ip4
            ),
            "tag=to-vlan".into(),
        ),
        probe(
            "802.1ad-tagged frame to its MAC and address",
            format!(
                "icmp4 vlan=42 vlan-tpid=88a8 dst-mac={} src={} dst={} tag=to-qinq",
                t.mac, o.ip4, t.ip4
            ),
            "tag=to-qinq".into(),
        ),
        probe(
            "router advertisement",
            format!(
                "ra src={} dst=ff02::1 prefix={ROGUE_PREFIX_IN}/64 sll={}",
                o.ll(),
                o.mac
            ),
            format!("prefix {ROGUE_PREFIX_IN}/64"),
        ),
    ]
}

/// Frames for the jail `t` that must reach it in either mode.
pub fn addressed_to(t: &Node, o: &Node) -> Vec<Probe> {
    vec![
        probe(
            "IPv4 to its MAC and address",
            format!(
                "icmp4 dst-mac={} src={} dst={} tag=to-honest-ip4",
                t.mac, o.ip4, t.ip4
            ),
            "tag=to-honest-ip4".into(),
        ),
        probe(
            "IPv6 to its MAC and address",
            format!(
                "icmp6 dst-mac={} src={} dst={} tag=to-honest-ip6",
                t.mac, o.ip6, t.ip6
            ),
            "tag=to-honest-ip6".into(),
        ),
        probe(
            "ARP request for its address",
            format!("arp op=request sender-ip={} target-ip={}", o.ip4, t.ip4),
            format!(
                "{} > ff:ff:ff:ff:ff:ff arp request who-has {} tell {}",
                o.mac, t.ip4, o.ip4
            ),
        ),
        probe(
            "NS for its address",
            format!(
                "ns src={} dst={} target={} sll={}",
                o.ip6,
                solicited_node(t.ip6),
                t.ip6,
                o.mac
            ),
            format!("icmp6 ns target {} sll {}", t.ip6, o.mac),
        ),
    ]
}
