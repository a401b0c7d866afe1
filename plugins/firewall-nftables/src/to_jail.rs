//! The rules of chain `to`: frames toward the jail, seen on the port's egress hook after the
//! bridge (or the host) sent them there. The chain's policy drops whatever no rule accepts.

use ioc_sdk::nft::{NftField, NftRule};
use ioc_sdk::Mac;

use crate::layout::{ALLOWED4, ALLOWED6, LEASE4, SLAAC6};
use crate::proto::*;
use crate::whitelist::{Whitelist, ALL_NODES};

/// The rules, in order.
pub fn rules(w: &Whitelist) -> Vec<NftRule> {
    // A VLAN-tagged frame meets no accept (see [`OnTheWire`]).
    let mut rules = Vec::new();
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
    if let Some(group) = w.dhcp4_group() {
        // DHCP replies for the jail's MAC, unicast or broadcast. The kernel itself adds the
        // address a reply hands out (`yiaddr`) to `lease4` before the reply passes, so the jail
        // never holds an address the filter refuses; with a provisional lifetime only, because
        // the lease time sits in an option at no fixed place. The learner, which gets a copy
        // through `log group`, reads the whole reply and gives the address the lease's own
        // lifetime (or drops it on a NAK). Without a learner a lease lives
        // PROVISIONAL_LEASE_MS and is never renewed: the filter fails closed.
        for dst in unicast_or_broadcast(w) {
            let reply = || {
                udp_sport(
                    NftRule::new()
                        .eq(NftField::ETHER_DADDR, &dst.0)
                        .ipv4_frame(),
                    DHCP_SERVER,
                )
                .eq(NftField::TH_DPORT, &DHCP_CLIENT.to_be_bytes())
                .eq(DHCP_CHADDR, &w.mac.0)
            };
            rules.push(
                reply()
                    .ne(DHCP_YIADDR, &[0; 4])
                    .add_to_set(DHCP_YIADDR, LEASE4, Some(PROVISIONAL_LEASE_MS))
                    .log_group(group)
                    .accept(),
            );
            // NAKs and answers that hand out no address: the learner still hears them.
            rules.push(reply().log_group(group).accept());
        }
        sets.push(LEASE4);
    }
    for set in &sets {
        let to = NftRule::new()
            .eq(NftField::ETHER_DADDR, &w.mac.0)
            .ipv4_frame();
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
    if let Some(group) = w.slaac_group() {
        // Router advertisements, to all nodes or to the jail's link-local (an answer to its
        // solicitation): the learner, which gets a copy through `log group`, adds the jail's
        // address in each advertised prefix to `slaac6`. The prefix sits in an option at no
        // fixed place, so the kernel cannot add it first: the jail's first packets from a new
        // SLAAC address may be dropped until the learner has added it (it has within
        // milliseconds, before the jail's duplicate address detection ends). Only without
        // extension headers.
        let link_local = w.mac.link_local();
        for (mac, dst) in [
            (Mac::ipv6_multicast(&ALL_NODES), ALL_NODES),
            (w.mac, link_local),
        ] {
            let ra = NftRule::new()
                .eq(NftField::ETHER_DADDR, &mac.0)
                .ipv6_frame()
                .eq(NftField::IP6_DADDR, &dst.octets())
                .eq(NftField::IP6_NEXTHDR, &[ICMPV6])
                .l4proto(ICMPV6)
                .eq(NftField::ICMP_TYPE, &[ND_RA]);
            rules.push(ra.log_group(group).accept());
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
        let to = NftRule::new()
            .eq(NftField::ETHER_DADDR, &w.mac.0)
            .ipv6_frame();
        rules.push(to.lookup(NftField::IP6_DADDR, set).accept());
    }
    for group in w.groups() {
        let to = || {
            NftRule::new()
                .eq(NftField::ETHER_DADDR, &Mac::ipv6_multicast(&group).0)
                .ipv6_frame()
                .eq(NftField::IP6_DADDR, &group.octets())
                .l4proto(ICMPV6)
        };
        rules.push(to().range(NftField::ICMP_TYPE, &[ND_NS], &[ND_NA]).accept());
        rules.push(to().eq(NftField::ICMP_TYPE, &[MLD_QUERY]).accept());
    }
    rules
}
