//! Protocol numbers, header fields and rule fragments both chains use.

use ioc_sdk::nft::{NftField, NftPayloadBase, NftRule};
use ioc_sdk::Mac;

/// EtherTypes (network order).
pub const ETH_IP: [u8; 2] = [0x08, 0x00];
/// IEEE 802.1Q VLAN tag.
pub const ETH_8021Q: [u8; 2] = [0x81, 0x00];
/// IEEE 802.1ad (QinQ) service tag.
pub const ETH_8021AD: [u8; 2] = [0x88, 0xa8];

/// IP protocol numbers.
pub const UDP: u8 = 17;
/// ICMPv6.
pub const ICMPV6: u8 = 58;

/// ICMPv6 types.
pub const MLD_QUERY: u8 = 130;
/// MLDv1 report.
pub const MLD_REPORT: u8 = 131;
/// MLDv1 done.
pub const MLD_DONE: u8 = 132;
/// Router solicitation.
pub const ND_RS: u8 = 133;
/// Router advertisement.
pub const ND_RA: u8 = 134;
/// Neighbour solicitation.
pub const ND_NS: u8 = 135;
/// Neighbour advertisement.
pub const ND_NA: u8 = 136;
/// Redirect.
pub const ND_REDIRECT: u8 = 137;
/// MLDv2 report.
pub const MLD2_REPORT: u8 = 143;

/// DHCPv4 ports: server, client.
pub const DHCP_SERVER: u16 = 67;
/// DHCPv4 client port.
pub const DHCP_CLIENT: u16 = 68;
/// DHCPv6 server and relay port (replies come from it).
pub const DHCP6_SERVER: u16 = 547;

/// ARP operations: request and reply.
pub const ARP_REQUEST: [u8; 2] = [0, 1];
/// ARP reply.
pub const ARP_REPLY: [u8; 2] = [0, 2];

/// The NS/NA target address, right after the ICMPv6 header and 4 reserved/flag bytes.
pub const ND_TARGET: NftField = NftField::new(NftPayloadBase::Th, 8, 16);
/// The interface identifier (low 64 bits) of the NS/NA target.
pub const ND_TARGET_IID: NftField = NftField::new(NftPayloadBase::Th, 16, 8);
/// The type and length of the option right after the target (byte 24).
pub const ND_OPTION: NftField = NftField::new(NftPayloadBase::Th, 24, 2);
/// The link-layer address carried in that option, when it is one.
pub const ND_OPTION_MAC: NftField = NftField::new(NftPayloadBase::Th, 26, 6);
/// `chaddr` of a BOOTP/DHCP message: UDP header (8) + op, htype, hlen, hops (4), xid (4),
/// secs, flags (4), ciaddr, yiaddr, siaddr, giaddr (16); the first 6 bytes of 16 for Ethernet.
pub const DHCP_CHADDR: NftField = NftField::new(NftPayloadBase::Th, 36, 6);

/// ND option types (RFC 4861, RFC 7527): source and target link-layer address, DAD nonce.
pub const OPT_SOURCE_LL: u8 = 1;
/// Target link-layer address option.
pub const OPT_TARGET_LL: u8 = 2;
/// DAD nonce option.
pub const OPT_NONCE: u8 = 14;

/// The Ethernet broadcast address.
pub const BROADCAST: Mac = Mac([0xff; 6]);

/// ICMPv6 of `kind` (`icmpv6 type KIND`), after any extension headers: the kernel's own
/// transport-header lookup finds it, so headers cannot hide a message from the rule.
pub fn icmpv6(rule: NftRule, kind: u8) -> NftRule {
    rule.ipv6().l4proto(ICMPV6).eq(NftField::ICMP_TYPE, &[kind])
}

/// UDP (`meta l4proto udp`) with source port `sport` (after `ipv4()` or `ipv6()`).
pub fn udp_sport(rule: NftRule, sport: u16) -> NftRule {
    rule.l4proto(UDP)
        .eq(NftField::TH_SPORT, &sport.to_be_bytes())
}

/// An ND message read at fixed offsets (`ip6 nexthdr ipv6-icmp ip6 length LEN icmpv6 type
/// KIND`): sound only when ICMPv6 directly follows the IPv6 header, then `ip6 length` is the
/// message's length. ND never carries extension headers in practice; ND messages that do
/// match no such rule and are dropped.
///
/// `len` 24 is a bare NS/NA (header and target); 32 carries one 8-byte option.
pub fn nd_plain(rule: NftRule, kind: u8, len: u16) -> NftRule {
    rule.ipv6()
        .eq(NftField::IP6_NEXTHDR, &[ICMPV6])
        .eq(NftField::IP6_LENGTH, &len.to_be_bytes())
        .l4proto(ICMPV6)
        .eq(NftField::ICMP_TYPE, &[kind])
}

/// The one option of an NS/NA of length 32 is of `kind` and one unit (8 bytes) long.
pub fn nd_option(rule: NftRule, kind: u8) -> NftRule {
    rule.eq(ND_OPTION, &[kind, 1])
}

/// ...and carries link-layer address `mac`.
pub fn nd_option_mac(rule: NftRule, kind: u8, mac: Mac) -> NftRule {
    nd_option(rule, kind).eq(ND_OPTION_MAC, &mac.0)
}

/// Ethernet/IPv4 ARP (`arp htype 1 arp ptype ip arp hlen 6 arp plen 4`), the only kind a jail
/// has any use for; the sender and target fields are at fixed offsets only in this kind.
pub fn arp_ether_ipv4(rule: NftRule) -> NftRule {
    rule.arp()
        .eq(NftField::ARP_HTYPE, &[0, 1])
        .eq(NftField::ARP_PTYPE, &ETH_IP)
        .eq(NftField::ARP_HLEN, &[6])
        .eq(NftField::ARP_PLEN, &[4])
}

/// Drops frames that carry an 802.1Q or 802.1ad VLAN tag, in either direction.
///
/// They need rules of their own: Linux takes a tag off a frame when it enters a port and
/// keeps it beside the frame, and `meta protocol` (which every IPv4, IPv6 and ARP rule tests)
/// is then the inner protocol. Without these rules a tagged frame with the jail's own MAC and
/// address passed both chains, letting a jail talk into (and be reached from) any VLAN on a
/// trunk behind the bridge. A link-layer load of the EtherType reads the frame as it was on
/// the wire, tag included (the kernel puts a stripped tag back for such loads).
pub fn vlan_drops() -> Vec<NftRule> {
    [ETH_8021Q, ETH_8021AD]
        .iter()
        .map(|t| NftRule::new().eq(NftField::ETHER_TYPE, t).drop())
        .collect()
}
