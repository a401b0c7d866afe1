//! Finding the IP packet in what the netfilter queue hands over, and its UDP or ICMPv6 payload.
//!
//! On the netdev `ingress` hook the kernel has pulled the Ethernet header and the queued payload
//! starts at the network header; on `egress` the frame still starts with its Ethernet header
//! (`tests::live` checks both). So the payload is taken as an IP packet when its header says
//! so and its length field matches exactly, and as an Ethernet frame (with up to two VLAN tags)
//! otherwise. Every read is bounds-checked: the packets come from the network and from jails,
//! and nothing here may panic on them.

use std::net::{Ipv4Addr, Ipv6Addr};

const ETH_HEADER: usize = 14;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: [u16; 2] = [0x8100, 0x88a8];
const IPPROTO_UDP: u8 = 17;
const IPPROTO_ICMPV6: u8 = 58;
const IPV6_HEADER: usize = 40;

/// A UDP datagram in an IPv4 packet.
#[derive(Debug, PartialEq, Eq)]
pub struct Udp4<'a> {
    pub source: Ipv4Addr,
    pub destination: Ipv4Addr,
    pub source_port: u16,
    pub destination_port: u16,
    pub payload: &'a [u8],
}

/// An ICMPv6 message in an IPv6 packet (no extension headers: neighbour discovery uses none).
#[derive(Debug, PartialEq, Eq)]
pub struct Icmp6<'a> {
    pub source: Ipv6Addr,
    pub destination: Ipv6Addr,
    pub hop_limit: u8,
    pub message: &'a [u8],
}

/// What a queued packet carries, as far as the learner cares.
#[derive(Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    Udp4(Udp4<'a>),
    Icmp6(Icmp6<'a>),
    Other,
}

/// Reads a queued payload: an IP packet, or an Ethernet frame holding one.
pub fn parse(payload: &[u8]) -> Packet<'_> {
    if let Some(packet) = ip_packet(payload) {
        return packet;
    }
    ethernet(payload)
        .and_then(ip_packet)
        .unwrap_or(Packet::Other)
}

/// The IP packet inside an Ethernet frame, past any VLAN tags.
fn ethernet(frame: &[u8]) -> Option<&[u8]> {
    let mut offset = ETH_HEADER - 2;
    for _ in 0..3 {
        let ethertype = be16(frame, offset)?;
        if ETHERTYPE_VLAN.contains(&ethertype) {
            offset += 4;
            continue;
        }
        if ethertype == ETHERTYPE_IPV4 || ethertype == ETHERTYPE_IPV6 {
            return frame.get(offset + 2..);
        }
        return None;
    }
    None
}

/// An IPv4 or IPv6 packet whose header is valid and whose length field matches `data`
/// (an Ethernet frame may be padded, so there a longer buffer is allowed too).
fn ip_packet(data: &[u8]) -> Option<Packet<'_>> {
    match data.first()? >> 4 {
        4 => ipv4(data),
        6 => ipv6(data),
        _ => None,
    }
}

fn ipv4(data: &[u8]) -> Option<Packet<'_>> {
    let header = usize::from(data.first()? & 0x0f) * 4;
    let total = usize::from(be16(data, 2)?);
    if header < 20 || total < header || data.len() < total {
        return None;
    }
    // A fragment other than the first has no UDP header; a first fragment is incomplete.
    let fragment = be16(data, 6)?;
    let more_fragments = fragment & 0x2000 != 0;
    let offset = fragment & 0x1fff;
    let packet = &data[..total];
    if packet[9] != IPPROTO_UDP || more_fragments || offset != 0 {
        return Some(Packet::Other);
    }
    let udp = &packet[header..];
    let length = usize::from(be16(udp, 4)?);
    if length < 8 || length > udp.len() {
        return Some(Packet::Other);
    }
    Some(Packet::Udp4(Udp4 {
        source: Ipv4Addr::from(array::<4>(packet, 12)?),
        destination: Ipv4Addr::from(array::<4>(packet, 16)?),
        source_port: be16(udp, 0)?,
        destination_port: be16(udp, 2)?,
        payload: &udp[8..length],
    }))
}

fn ipv6(data: &[u8]) -> Option<Packet<'_>> {
    let length = usize::from(be16(data, 4)?);
    let packet = data.get(..IPV6_HEADER + length)?;
    if packet.get(6) != Some(&IPPROTO_ICMPV6) {
        return Some(Packet::Other);
    }
    Some(Packet::Icmp6(Icmp6 {
        source: Ipv6Addr::from(array::<16>(packet, 8)?),
        destination: Ipv6Addr::from(array::<16>(packet, 24)?),
        hop_limit: packet[7],
        message: &packet[IPV6_HEADER..],
    }))
}

/// A big-endian `u16` at `offset`, if the buffer holds it.
pub fn be16(data: &[u8], offset: usize) -> Option<u16> {
    array::<2>(data, offset).map(u16::from_be_bytes)
}

/// A big-endian `u32` at `offset`, if the buffer holds it.
pub fn be32(data: &[u8], offset: usize) -> Option<u32> {
    array::<4>(data, offset).map(u32::from_be_bytes)
}

/// `N` bytes at `offset`, if the buffer holds them.
pub fn array<const N: usize>(data: &[u8], offset: usize) -> Option<[u8; N]> {
    data.get(offset..offset.checked_add(N)?)?.try_into().ok()
}

#[cfg(test)]
pub(crate) mod build {
    //! Packets for the tests, built the way a server sends them.

    use std::net::{Ipv4Addr, Ipv6Addr};

    pub fn udp4(
        source: Ipv4Addr,
        destination: Ipv4Addr,
        ports: (u16, u16),
        body: &[u8],
    ) -> Vec<u8> {
        let total = 20 + 8 + body.len();
        let mut p = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0];
        p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        p.extend_from_slice(&source.octets());
        p.extend_from_slice(&destination.octets());
        p.extend_from_slice(&ports.0.to_be_bytes());
        p.extend_from_slice(&ports.1.to_be_bytes());
        p.extend_from_slice(&((8 + body.len()) as u16).to_be_bytes());
        p.extend_from_slice(&[0, 0]);
        p.extend_from_slice(body);
        p
    }

    pub fn icmp6(source: Ipv6Addr, destination: Ipv6Addr, hop_limit: u8, body: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&(body.len() as u16).to_be_bytes());
        p.extend_from_slice(&[58, hop_limit]);
        p.extend_from_slice(&source.octets());
        p.extend_from_slice(&destination.octets());
        p.extend_from_slice(body);
        p
    }

    /// `packet` in an Ethernet frame (`vlan`: with one 802.1Q tag).
    pub fn ethernet(packet: &[u8], ethertype: u16, vlan: bool) -> Vec<u8> {
        let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
        if vlan {
            f.extend_from_slice(&[0x81, 0x00, 0, 5]);
        }
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(packet);
        f
    }
}

#[cfg(test)]
mod tests {
    use super::build::{ethernet, icmp6, udp4};
    use super::{parse, Ipv4Addr, Ipv6Addr, Packet, ETHERTYPE_IPV4, ETHERTYPE_IPV6};

    fn v4() -> Vec<u8> {
        udp4(
            "192.0.2.1".parse().unwrap(),
            Ipv4Addr::BROADCAST,
            (67, 68),
            b"hello",
        )
    }

    #[test]
    fn an_ip_packet_and_the_same_in_a_frame_read_alike() {
        let packet = v4();
        let Packet::Udp4(udp) = parse(&packet) else {
            panic!("not udp")
        };
        assert_eq!((udp.source_port, udp.destination_port), (67, 68));
        assert_eq!(udp.payload, b"hello");
        for vlan in [false, true] {
            let frame = ethernet(&packet, ETHERTYPE_IPV4, vlan);
            assert_eq!(parse(&frame), parse(&packet));
        }
        let six = icmp6(Ipv6Addr::LOCALHOST, Ipv6Addr::UNSPECIFIED, 255, &[134, 0]);
        let Packet::Icmp6(icmp) = parse(&six) else {
            panic!("not icmp6")
        };
        assert_eq!((icmp.hop_limit, icmp.message), (255, &[134u8, 0][..]));
        assert_eq!(parse(&ethernet(&six, ETHERTYPE_IPV6, false)), parse(&six));
    }

    #[test]
    fn truncated_and_garbage_packets_are_other() {
        let packet = v4();
        for len in 0..packet.len() {
            assert_eq!(parse(&packet[..len]), Packet::Other, "{len}");
        }
        let mut bad_udp_len = packet.clone();
        bad_udp_len[24..26].copy_from_slice(&200u16.to_be_bytes());
        assert_eq!(parse(&bad_udp_len), Packet::Other);
        let mut fragment = packet.clone();
        fragment[6] = 0x20;
        assert_eq!(parse(&fragment), Packet::Other);
        assert_eq!(parse(&[0xff; 64]), Packet::Other);
    }
}
