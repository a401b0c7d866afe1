//! The rules of chain `to`: frames toward the jail, seen on the port's egress hook after the
//! bridge (or the host) sent them there. The chain's policy drops whatever no rule accepts.

use ioc_sdk::nft::{NftField, NftRule};
use ioc_sdk::Mac;

use crate::layout::{ALLOWED4, ALLOWED6, LEASE4, SLAAC6};
use crate::proto::*;
use crate::whitelist::{Whitelist, ALL_NODES};

/// The rules, in order.
pub fn rules(w: &Whitelist) -> Vec<NftRule> {
    let mut rules = vlan_drops();
    if w.ipv4() {
        rules.extend(ipv4(w));
    }
    if w.ipv6() {
        rules.extend(ipv6(w));
    }
    rules
}

/// The jail's MAC, and the broadcast address.
fn unicast_or_broadcast(w: &Whitelist) -> [Mac; 2] {
    [w.mac, BROADCAST]
}

/// IPv4 and ARP.
fn ipv4(w: &Whitelist) -> Vec<NftRule> {
    let mut rules = Vec::new();
    let mut sets = vec![ALLOWED4];
    if let Some(queue) = w.dhcp4_queue() {
        // DHCP replies for the jail's MAC, unicast or broadcast: the learner notes the lease,
        // then lets the reply pass, so the jail never holds an address the filter refuses.
        for dst in unicast_or_broadcast(w) {
            let reply = udp_sport(
                NftRule::new().eq(NftField::ETHER_DADDR, &dst.0).ipv4(),
                DHCP_SERVER,
            )
            .eq(NftField::TH_DPORT, &DHCP_CLIENT.to_be_bytes())
            .eq(DHCP_CHADDR, &w.mac.0);
            rules.push(reply.queue(queue));
        }
        sets.push(LEASE4);
    }
    for set in &sets {
        let to = NftRule::new().eq(NftField::ETHER_DADDR, &w.mac.0).ipv4();
        rules.push(to.lookup(NftField::IP_DADDR, set).accept());
    }
    for set in &sets {
        for dst in unicast_or_broadcast(w) {
            let arp = arp_ether_ipv4(NftRule::new().eq(NftField::ETHER_DADDR, &dst.0));
            rules.push(arp.lookup(NftField::ARP_TPA, set).accept());
        }
    }
    rules
}

/// IPv6: the jail's unicast addresses, and ND and MLD queries to its groups.
fn ipv6(w: &Whitelist) -> Vec<NftRule> {
    let mut rules = Vec::new();
    if let Some(queue) = w.slaac_queue() {
        // Router advertisements, to all nodes or to the jail's link-local (an answer to its
        // solicitation): the learner adds the jail's address in each advertised prefix, then
        // lets the advertisement pass. Read at fixed offsets by the learner, so only without
        // extension headers.
        let link_local = w.mac.link_local();
        for (mac, dst) in [
            (Mac::ipv6_multicast(&ALL_NODES), ALL_NODES),
            (w.mac, link_local),
        ] {
            let ra = NftRule::new()
                .eq(NftField::ETHER_DADDR, &mac.0)
                .ipv6()
                .eq(NftField::IP6_DADDR, &dst.octets())
                .eq(NftField::IP6_NEXTHDR, &[ICMPV6])
                .l4proto(ICMPV6)
                .eq(NftField::ICMP_TYPE, &[ND_RA]);
            rules.push(ra.queue(queue));
        }
    }
    // Any other router advertisement stays out: a jail without SLAAC has static addresses
    // only, and an address it configured from an advertisement the learner did not see
    // would be one the filter refuses.
    rules.push(icmpv6(NftRule::new(), ND_RA).drop());
    let mut sets = vec![ALLOWED6];
    if w.learning.slaac {
        sets.push(SLAAC6);
    }
    for set in sets {
        let to = NftRule::new().eq(NftField::ETHER_DADDR, &w.mac.0).ipv6();
        rules.push(to.lookup(NftField::IP6_DADDR, set).accept());
    }
    for group in w.groups() {
        let to = || {
            NftRule::new()
                .eq(NftField::ETHER_DADDR, &Mac::ipv6_multicast(&group).0)
                .ipv6()
                .eq(NftField::IP6_DADDR, &group.octets())
                .l4proto(ICMPV6)
        };
        rules.push(to().range(NftField::ICMP_TYPE, &[ND_NS], &[ND_NA]).accept());
        rules.push(to().eq(NftField::ICMP_TYPE, &[MLD_QUERY]).accept());
    }
    rules
}
