//! Raw Ethernet frames for the spoofing tests: built byte by byte (so a test can lie about any
//! field a kernel would fill in honestly) and decoded back into one-line summaries (so a test
//! can tell which crafted frame arrived without tcpdump).
//!
//! Pure byte work, no sockets: `ioc-frame` (the binary) puts these frames on a link and reads
//! them off another. The formats follow the RFCs: IPv4 (791), ICMP (792), UDP (768), ARP (826),
//! IPv6 (8200), ICMPv6 (4443) and neighbour discovery (4861).

//!
//! [`build`] makes the bytes, [`describe`] reads them back; this module holds the vocabulary
//! both share.

mod build;
mod describe;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use build::{checksum, frame, ipv4, ipv6};
pub use describe::describe;

pub use ioc_sdk::Mac;

pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_ARP: u16 = 0x0806;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// The tag protocol identifiers of 802.1Q (VLAN) and 802.1ad (service VLAN, "QinQ").
pub const ETHERTYPE_VLAN: u16 = 0x8100;
pub const ETHERTYPE_QINQ: u16 = 0x88a8;

const PROTO_ICMP: u8 = 1;
const PROTO_UDP: u8 = 17;
const PROTO_ICMPV6: u8 = 58;

/// The broadcast MAC, where ARP requests go.
pub const BROADCAST: Mac = Mac([0xff; 6]);

/// Ethernet frames shorter than this (without the FCS) are padded with zeros on the wire.
const MIN_FRAME: usize = 60;

/// ND messages must arrive with the hop limit 255 that no router can forward (RFC 4861 6.1).
const ND_HOP_LIMIT: u8 = 255;

/// The Ethernet header of a crafted frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ether {
    pub src: Mac,
    pub dst: Mac,
    /// A VLAN tag before the ethertype.
    pub vlan: Option<Vlan>,
}

/// A VLAN tag: its protocol identifier (802.1Q or 802.1ad) and VLAN id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vlan {
    pub tpid: u16,
    pub id: u16,
}

impl Vlan {
    /// An 802.1Q tag.
    pub fn dot1q(id: u16) -> Vlan {
        Vlan {
            tpid: ETHERTYPE_VLAN,
            id,
        }
    }
}

impl std::fmt::Display for Vlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let id = self.id & 0x0fff;
        match self.tpid {
            ETHERTYPE_VLAN => write!(f, "vlan {id}"),
            ETHERTYPE_QINQ => write!(f, "802.1ad {id}"),
            tpid => write!(f, "tag 0x{tpid:04x} {id}"),
        }
    }
}

/// Which ARP message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArpOp {
    Request = 1,
    Reply = 2,
}

/// The NA flags (RFC 4861 4.4): router, solicited, override.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NaFlags {
    pub router: bool,
    pub solicited: bool,
    pub override_: bool,
}

/// What a crafted frame carries above Ethernet. Every field a receiver might check is chosen
/// by the caller; checksums and lengths are computed, so the frame is well-formed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet {
    /// ICMP echo request whose data is `tag`.
    Icmp4Echo {
        src: Ipv4Addr,
        dst: Ipv4Addr,
        tag: String,
    },
    /// UDP datagram, over IPv4 or IPv6 (by the addresses' family), whose payload is `tag`.
    Udp {
        src: IpAddr,
        dst: IpAddr,
        sport: u16,
        dport: u16,
        tag: String,
    },
    /// Ethernet/IPv4 ARP.
    Arp {
        op: ArpOp,
        sender_mac: Mac,
        sender_ip: Ipv4Addr,
        target_mac: Mac,
        target_ip: Ipv4Addr,
    },
    /// ICMPv6 echo request whose data is `tag`.
    Icmp6Echo {
        src: Ipv6Addr,
        dst: Ipv6Addr,
        tag: String,
    },
    /// Neighbour solicitation, with a source link-layer address option when `sll` is given.
    /// From `::` it is a duplicate address detection probe.
    NeighborSolicit {
        src: Ipv6Addr,
        dst: Ipv6Addr,
        target: Ipv6Addr,
        sll: Option<Mac>,
    },
    /// Neighbour advertisement, with a target link-layer address option when `tll` is given.
    NeighborAdvert {
        src: Ipv6Addr,
        dst: Ipv6Addr,
        target: Ipv6Addr,
        flags: NaFlags,
        tll: Option<Mac>,
    },
    /// Router advertisement (lifetime 1800 s) offering `prefix` for SLAAC, if given.
    RouterAdvert {
        src: Ipv6Addr,
        dst: Ipv6Addr,
        prefix: Option<(Ipv6Addr, u8)>,
        sll: Option<Mac>,
    },
}
