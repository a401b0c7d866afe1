//! The rules of chain `from`: frames the jail sends, seen on the port's ingress hook before
//! the bridge learns their source MAC. The chain's policy drops whatever no rule accepts.

use std::net::Ipv6Addr;

use ioc_sdk::nft::{NftField, NftRule};

use crate::layout::{ALLOWED4, ALLOWED6, LEASE4, SLAAC6};
use crate::proto::*;
use crate::whitelist::Whitelist;

/// The rules, in order.
pub fn rules(w: &Whitelist) -> Vec<NftRule> {
    // Everything not from the jail's MAC goes first, before any accept. A VLAN-tagged frame
    // meets no accept (see [`OnTheWire`]).
    let mut rules = vec![NftRule::new().ne(NftField::ETHER_SADDR, &w.mac.0).drop()];
    if w.ipv4() {
        rules.extend(ipv4(w));
    }
    if w.ipv6() {
        rules.extend(ipv6(w));
    }
    rules
}

/// The IPv4 sets the jail's sources may be in: its static addresses, and its lease.
fn v4_sets(w: &Whitelist) -> Vec<&'static str> {
    let mut sets = vec![ALLOWED4];
    if w.learning.dhcp4 {
        sets.push(LEASE4);
    }
    sets
}

/// IPv4 and ARP.
fn ipv4(w: &Whitelist) -> Vec<NftRule> {
    let mut rules = Vec::new();
    if !w.learning.dhcp_server {
        // DHCP server replies: only the network's DHCP server may send them.
        rules.push(udp_sport(NftRule::new().ipv4_frame(), DHCP_SERVER).drop());
    }
    if let Some(group) = w.dhcp4_group() {
        let client = |rule: NftRule| {
            udp_sport(rule, DHCP_CLIENT).eq(NftField::TH_DPORT, &DHCP_SERVER.to_be_bytes())
        };
        // DISCOVER and REQUEST before a lease, from 0.0.0.0.
        rules.push(client(NftRule::new().ipv4_frame().eq(NftField::IP_SADDR, &[0; 4])).accept());
        // From the leased address (renewals, RELEASE): copied to the learner, which drops the
        // lease on a RELEASE.
        rules.push(
            client(
                NftRule::new()
                    .ipv4_frame()
                    .lookup(NftField::IP_SADDR, LEASE4),
            )
            .log_group(group)
            .accept(),
        );
    }
    for set in v4_sets(w) {
        rules.push(
            NftRule::new()
                .ipv4_frame()
                .lookup(NftField::IP_SADDR, set)
                .accept(),
        );
    }
    for set in v4_sets(w) {
        let arp = arp_ether_ipv4(NftRule::new())
            .range(NftField::ARP_OPERATION, &ARP_REQUEST, &ARP_REPLY)
            .eq(NftField::ARP_SHA, &w.mac.0)
            .lookup(NftField::ARP_SPA, set);
        rules.push(arp.accept());
    }
    rules
}

/// IPv6, with neighbour discovery held to the jail's own addresses.
fn ipv6(w: &Whitelist) -> Vec<NftRule> {
    let mac = w.mac;
    let mut rules = vec![
        icmpv6(NftRule::new(), ND_RA).drop(),
        icmpv6(NftRule::new(), ND_REDIRECT).drop(),
    ];
    if !w.learning.dhcp_server {
        rules.push(udp_sport(NftRule::new().ipv6_frame(), DHCP6_SERVER).drop());
    }
    // From here on an IPv6 source is one of the jail's addresses or `::`.
    let mut sources = NftRule::new()
        .ipv6_frame()
        .not_in(NftField::IP6_SADDR, ALLOWED6);
    if w.learning.slaac {
        sources = sources.not_in(NftField::IP6_SADDR, SLAAC6);
    }
    rules.push(sources.ne(NftField::IP6_SADDR, &[0; 16]).drop());

    // `::` is only for duplicate address detection of the jail's own addresses (NS with no
    // option or a nonce), the MLD reports the kernel sends meanwhile, and (with SLAAC) router
    // solicitations. A SLAAC address is told by its interface identifier, the one of the
    // jail's MAC, whatever the prefix (nft cannot look a raw payload up in a typed set).
    // `from_unspecified` goes last: the helpers test the protocol first, once per rule (nft
    // needs it ahead of the address to read it back), and each expression costs the commit.
    let from_unspecified = |rule: NftRule| rule.eq(NftField::IP6_SADDR, &[0; 16]);
    let own_targets = own_targets(w);
    for target in &own_targets {
        let dad = from_unspecified(nd_plain(NftRule::new(), ND_NS, 24));
        rules.push(target.matched(dad).accept());
        let dad = from_unspecified(nd_plain(NftRule::new(), ND_NS, 32));
        rules.push(nd_option(target.matched(dad), OPT_NONCE).accept());
    }
    for kind in [MLD_REPORT, MLD_DONE, MLD2_REPORT] {
        rules.push(from_unspecified(icmpv6(NftRule::new(), kind)).accept());
    }
    if w.learning.slaac {
        rules.push(from_unspecified(icmpv6(NftRule::new(), ND_RS)).accept());
    }
    rules.push(from_unspecified(NftRule::new().ipv6_frame()).drop());

    // Own source: any solicitation, but a source link-layer option must be the jail's MAC.
    rules.push(nd_plain(NftRule::new(), ND_NS, 24).accept());
    rules.push(nd_option_mac(nd_plain(NftRule::new(), ND_NS, 32), OPT_SOURCE_LL, mac).accept());
    // Advertisements only for the jail's own addresses, with its own MAC if any.
    for target in &own_targets {
        rules.push(target.matched(nd_plain(NftRule::new(), ND_NA, 24)).accept());
        let na = target.matched(nd_plain(NftRule::new(), ND_NA, 32));
        rules.push(nd_option_mac(na, OPT_TARGET_LL, mac).accept());
    }
    // Any other NS/NA (more options, extension headers, other targets) is dropped.
    rules.push(
        NftRule::new()
            .ipv6_frame()
            .l4proto(ICMPV6)
            .range(NftField::ICMP_TYPE, &[ND_NS], &[ND_NA])
            .drop(),
    );
    rules.push(NftRule::new().ipv6_frame().accept());
    rules
}

/// An address the jail's DAD probes and advertisements may name as their target.
enum Target {
    /// One of its static addresses or its link-local.
    Exact(Ipv6Addr),
    /// Any address with the interface identifier of its MAC: its SLAAC addresses, in
    /// whichever prefix a router advertised.
    Eui64([u8; 8]),
}

impl Target {
    /// `rule`, which must read an NS or NA, further requiring this target.
    fn matched(&self, rule: NftRule) -> NftRule {
        match self {
            Target::Exact(a) => rule.eq(ND_TARGET, &a.octets()),
            Target::Eui64(iid) => rule.eq(ND_TARGET_IID, iid),
        }
    }
}

fn own_targets(w: &Whitelist) -> Vec<Target> {
    let mut targets: Vec<Target> = w.v6.iter().map(|a| Target::Exact(*a)).collect();
    if w.learning.slaac {
        targets.push(Target::Eui64(w.eui64_iid()));
    }
    targets
}
