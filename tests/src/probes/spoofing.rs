//! What an attacker jail sends to pass as someone else, and the honest frames that show the
//! filter tells lies from truth.

use super::*;

/// Frames an attacker jail `a` sends to try to take over the victim `v`'s addresses (or to
/// pass as someone else) in the eyes of the observer `o`.
pub fn attacks_from(a: &Node, v: &Node, o: &Node) -> Vec<Probe> {
    let (am, om, vm) = (a.mac, o.mac, v.mac);
    let bcast = "ff:ff:ff:ff:ff:ff";
    let o_group = solicited_node(o.ip6);
    let dad_group = solicited_node(DAD_TARGET);
    vec![
        probe(
            "IPv4 source changed to another jail's",
            format!(
                "icmp4 dst-mac={om} src={} dst={} tag=spoof-ip4-src",
                v.ip4, o.ip4
            ),
            "tag=spoof-ip4-src".into(),
        ),
        probe(
            "UDP from another jail's IPv4 address",
            format!(
                "udp dst-mac={om} src={} dst={} sport=5353 dport=9 tag=spoof-udp4-src",
                v.ip4, o.ip4
            ),
            "tag=spoof-udp4-src".into(),
        ),
        probe(
            "source MAC changed (IPv4)",
            format!(
                "icmp4 src-mac={FAKE_MAC} dst-mac={om} src={} dst={} tag=spoof-mac4",
                a.ip4, o.ip4
            ),
            "tag=spoof-mac4".into(),
        ),
        probe(
            "802.1Q-tagged frame",
            format!(
                "icmp4 vlan=42 dst-mac={om} src={} dst={} tag=spoof-vlan",
                a.ip4, o.ip4
            ),
            "tag=spoof-vlan".into(),
        ),
        probe(
            "802.1ad-tagged frame (QinQ)",
            format!(
                "icmp4 vlan=42 vlan-tpid=88a8 dst-mac={om} src={} dst={} tag=spoof-qinq",
                a.ip4, o.ip4
            ),
            "tag=spoof-qinq".into(),
        ),
        probe(
            "gratuitous ARP claiming another jail's IPv4",
            format!("arp op=request sender-ip={0} target-ip={0}", v.ip4),
            format!(
                "{am} > {bcast} arp request who-has {0} tell {0} at {am}",
                v.ip4
            ),
        ),
        probe(
            "ARP reply claiming another jail's IPv4 (to the peer's request)",
            format!(
                "arp op=reply dst-mac={om} sender-ip={} target-mac={om} target-ip={}",
                v.ip4, o.ip4
            ),
            format!("arp reply {} is-at {am}", v.ip4),
        ),
        probe(
            "ARP request from another jail's IPv4",
            format!("arp op=request sender-ip={} target-ip={}", v.ip4, o.ip4),
            format!("arp request who-has {} tell {} at {am}", o.ip4, v.ip4),
        ),
        probe(
            "ARP with another jail's MAC as sender",
            format!(
                "arp op=request sender-mac={vm} sender-ip={} target-ip={}",
                a.ip4, o.ip4
            ),
            format!(
                "{am} > {bcast} arp request who-has {} tell {} at {vm}",
                o.ip4, a.ip4
            ),
        ),
        probe(
            "IPv6 source changed to another jail's",
            format!(
                "icmp6 dst-mac={om} src={} dst={} tag=spoof-ip6-src",
                v.ip6, o.ip6
            ),
            "tag=spoof-ip6-src".into(),
        ),
        probe(
            "source MAC changed (IPv6)",
            format!(
                "icmp6 src-mac={FAKE_MAC} dst-mac={om} src={} dst={} tag=spoof-mac6",
                a.ip6, o.ip6
            ),
            "tag=spoof-mac6".into(),
        ),
        probe(
            "NA for another jail's address",
            format!(
                "na src={} dst=ff02::1 target={} flags=o tll={am}",
                a.ip6, v.ip6
            ),
            format!(
                "{am} > 33:33:00:00:00:01 ip6 {} > ff02::1 icmp6 na target {} flags o tll {am}",
                a.ip6, v.ip6
            ),
        ),
        probe(
            "NA for another jail's address, from that address",
            format!("na src={0} dst=ff02::1 target={0} flags=o tll={am}", v.ip6),
            format!(
                "{am} > 33:33:00:00:00:01 ip6 {0} > ff02::1 icmp6 na target {0} flags o tll {am}",
                v.ip6
            ),
        ),
        probe(
            "NA for its own address with a foreign target link-layer address",
            format!("na src={0} dst=ff02::1 target={0} flags=o tll={vm}", a.ip6),
            format!("icmp6 na target {} flags o tll {vm}", a.ip6),
        ),
        probe(
            "NA without options for another jail's address",
            format!("na src={} dst=ff02::1 target={} flags=o", a.ip6, v.ip6),
            format!(
                "{am} > 33:33:00:00:00:01 ip6 {} > ff02::1 icmp6 na target {} flags o",
                a.ip6, v.ip6
            ),
        ),
        probe(
            "NS with a foreign source link-layer address",
            format!("ns src={} dst={o_group} target={} sll={vm}", a.ip6, o.ip6),
            format!("icmp6 ns target {} sll {vm}", o.ip6),
        ),
        probe(
            "NS from another jail's address",
            format!("ns src={} dst={o_group} target={} sll={am}", v.ip6, o.ip6),
            format!(
                "ip6 {} > {o_group} icmp6 ns target {} sll {am}",
                v.ip6, o.ip6
            ),
        ),
        // Not for the victim's address: the victim would defend it with an advertisement of
        // its own, which would undo the poisoning this test checks for in plain mode.
        probe(
            "DAD probe for an address not its own",
            format!("ns src=:: dst={dad_group} target={DAD_TARGET}"),
            format!(
                "{am} > {} ip6 :: > {dad_group} icmp6 ns target {DAD_TARGET}",
                group_mac(dad_group)
            ),
        ),
        probe(
            "router advertisement",
            format!(
                "ra src={} dst=ff02::1 prefix={ROGUE_PREFIX}/64 sll={am}",
                a.ll()
            ),
            format!("prefix {ROGUE_PREFIX}/64"),
        ),
    ]
}

/// Honest frames of `a`, crafted the same way: they pass in both modes, so a dropped attack
/// is the filter telling lies from truth, not crafted frames failing as such.
pub fn honest_from(a: &Node, o: &Node) -> Vec<Probe> {
    let am = a.mac;
    vec![
        probe(
            "own IPv4 echo",
            format!(
                "icmp4 dst-mac={} src={} dst={} tag=honest-ip4",
                o.mac, a.ip4, o.ip4
            ),
            "tag=honest-ip4".into(),
        ),
        probe(
            "own UDP over IPv6",
            format!(
                "udp dst-mac={} src={} dst={} sport=5353 dport=9 tag=honest-udp6",
                o.mac, a.ip6, o.ip6
            ),
            "tag=honest-udp6".into(),
        ),
        probe(
            "gratuitous ARP for its own IPv4",
            format!("arp op=request sender-ip={0} target-ip={0}", a.ip4),
            format!(
                "{am} > ff:ff:ff:ff:ff:ff arp request who-has {0} tell {0} at {am}",
                a.ip4
            ),
        ),
        probe(
            "own IPv6 echo",
            format!(
                "icmp6 dst-mac={} src={} dst={} tag=honest-ip6",
                o.mac, a.ip6, o.ip6
            ),
            "tag=honest-ip6".into(),
        ),
        probe(
            "unsolicited NA for its own address",
            format!("na src={0} dst=ff02::1 target={0} flags=o tll={am}", a.ip6),
            format!(
                "{am} > 33:33:00:00:00:01 ip6 {0} > ff02::1 icmp6 na target {0} flags o tll {am}",
                a.ip6
            ),
        ),
        probe(
            "NS from its link-local address",
            format!(
                "ns src={} dst={} target={} sll={am}",
                a.ll(),
                solicited_node(o.ip6),
                o.ip6
            ),
            format!(
                "ip6 {} > {} icmp6 ns target {} sll {am}",
                a.ll(),
                solicited_node(o.ip6),
                o.ip6
            ),
        ),
    ]
}
