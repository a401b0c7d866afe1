//! Protocol numbers, header fields and rule fragments both chains use.

use ioc_sdk::nft::{NftField, NftPayloadBase, NftRule};
use ioc_sdk::Mac;

/// EtherTypes (network order).
pub const ETH_IP: [u8; 2] = [0x08, 0x00];
/// IPv6.
pub const ETH_IP6: [u8; 2] = [0x86, 0xdd];
/// ARP.
pub const ETH_ARP: [u8; 2] = [0x08, 0x06];

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

/// The address a DHCP reply hands out (BOOTP `yiaddr`, 16 bytes into the message, after the
/// 8-byte UDP header).
pub const DHCP_YIADDR: NftField = NftField::new(NftPayloadBase::Th, 24, 4);

/// How long `lease4` holds an address the kernel learned from a reply before the learner
/// sets the lease's own lifetime: long enough for the learner to act, short enough that an
/// address nothing vouches for soon stops working.
pub const PROVISIONAL_LEASE_MS: u64 = 60_000;

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
    rule.ipv6_frame()
        .l4proto(ICMPV6)
        .eq(NftField::ICMP_TYPE, &[kind])
}

/// UDP (`meta l4proto udp`) with source port `sport` (after `ipv4_frame()` or `ipv6_frame()`).
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
    rule.ipv6_frame()
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
    rule.arp_frame()
        .eq(NftField::ARP_HTYPE, &[0, 1])
        .eq(NftField::ARP_PTYPE, &ETH_IP)
        .eq(NftField::ARP_HLEN, &[6])
        .eq(NftField::ARP_PLEN, &[4])
}

/// The protocol tests of every rule, read from the frame as it is on the wire: `ether type`,
/// a link-layer load, besides `meta protocol`.
///
/// The difference is a VLAN tag. Linux takes a tag off a frame when it enters a port and keeps
/// it beside the frame, and `meta protocol` is then the inner protocol: with it, a tagged frame
/// with the jail's own MAC and address passed both chains, letting a jail talk into (and be
/// reached from) any VLAN on a trunk behind the bridge. A link-layer load of the EtherType
/// reads the frame with its tag (the kernel puts a stripped tag back for such loads), so a
/// tagged frame (802.1Q, 802.1ad or any other TPID) meets no accept rule and the chain's
/// policy drops it. That used to take two rules of its own per chain: two kernel messages per
/// chain and start, each of which looks the table up among all the others.
///
/// `meta protocol` stays in front all the same: it is what lets `nft list` name the network
/// header's fields (`ip saddr`), so the table reads (and replays) as written. It costs an
/// expression, not a message.
pub trait OnTheWire {
    /// An untagged IPv4 frame (`meta protocol ip`, then `ether type ip`).
    fn ipv4_frame(self) -> NftRule;
    /// An untagged IPv6 frame (`meta protocol ip6`, then `ether type ip6`).
    fn ipv6_frame(self) -> NftRule;
    /// An untagged ARP frame (`meta protocol arp`, then `ether type arp`).
    fn arp_frame(self) -> NftRule;
}

impl OnTheWire for NftRule {
    fn ipv4_frame(self) -> NftRule {
        self.ipv4().eq(NftField::ETHER_TYPE, &ETH_IP)
    }

    fn ipv6_frame(self) -> NftRule {
        self.ipv6().eq(NftField::ETHER_TYPE, &ETH_IP6)
    }

    fn arp_frame(self) -> NftRule {
        self.arp().eq(NftField::ETHER_TYPE, &ETH_ARP)
    }
}
