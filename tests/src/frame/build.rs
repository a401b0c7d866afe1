//! Frames built byte by byte: headers, checksums and the ICMP, ICMPv6 and ND messages.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::*;

/// The Internet checksum (RFC 1071) of `data`: the ones' complement of the ones' complement
/// sum of its 16-bit words, an odd last byte padded with zero.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The checksum of an upper-layer message `msg` over the pseudo-header of its IP family
/// (RFC 768 for IPv4, RFC 8200 8.1 for IPv6).
fn pseudo_checksum(src: IpAddr, dst: IpAddr, proto: u8, msg: &[u8]) -> u16 {
    let mut data = Vec::with_capacity(40 + msg.len());
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            data.extend_from_slice(&s.octets());
            data.extend_from_slice(&d.octets());
            data.extend_from_slice(&[0, proto]);
            data.extend_from_slice(&(msg.len() as u16).to_be_bytes());
        }
        (s, d) => {
            data.extend_from_slice(&v6(s).octets());
            data.extend_from_slice(&v6(d).octets());
            data.extend_from_slice(&(msg.len() as u32).to_be_bytes());
            data.extend_from_slice(&[0, 0, 0, proto]);
        }
    }
    data.extend_from_slice(msg);
    checksum(&data)
}

fn v6(a: IpAddr) -> Ipv6Addr {
    match a {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    }
}

/// Writes a checksum into bytes 2..4 or 6..8 (`at`) of a message whose field was zero.
fn with_checksum(mut msg: Vec<u8>, at: usize, sum: u16) -> Vec<u8> {
    msg[at..at + 2].copy_from_slice(&sum.to_be_bytes());
    msg
}

/// An IPv4 packet: 20-byte header (TTL 64, don't fragment) with its checksum, then `payload`.
pub fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]);
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    let sum = checksum(&h);
    let mut p = with_checksum(h, 10, sum);
    p.extend_from_slice(payload);
    p
}

/// An IPv6 packet: fixed header, no extension headers, then `payload`.
pub fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, next: u8, hop_limit: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0];
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.extend_from_slice(&[next, hop_limit]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(payload);
    p
}

/// An echo request (ICMP type 8 or ICMPv6 type 128), identifier and sequence 1, checksum zero.
fn echo(kind: u8, data: &[u8]) -> Vec<u8> {
    let mut m = vec![kind, 0, 0, 0, 0, 1, 0, 1];
    m.extend_from_slice(data);
    m
}

/// A link-layer address option (type 1 source, 2 target): one 8-byte unit.
fn link_option(kind: u8, mac: Mac) -> Vec<u8> {
    let mut o = vec![kind, 1];
    o.extend_from_slice(&mac.0);
    o
}

/// NS (135) or NA (136): type, code, checksum, a flags word, the target, then options.
fn nd(kind: u8, flags: u8, target: Ipv6Addr, option: Option<Vec<u8>>) -> Vec<u8> {
    let mut m = vec![kind, 0, 0, 0, flags, 0, 0, 0];
    m.extend_from_slice(&target.octets());
    m.extend(option.unwrap_or_default());
    m
}

fn router_advert(prefix: Option<(Ipv6Addr, u8)>, sll: Option<Mac>) -> Vec<u8> {
    // Hop limit 64, no flags, router lifetime 1800 s, reachable time and retrans timer unset.
    let mut m = vec![134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0];
    if let Some(mac) = sll {
        m.extend(link_option(1, mac));
    }
    if let Some((prefix, len)) = prefix {
        // Prefix information: 4 units, on-link and autonomous, 3600 s valid and preferred.
        m.extend_from_slice(&[
            3, 4, len, 0xc0, 0, 0, 0x0e, 0x10, 0, 0, 0x0e, 0x10, 0, 0, 0, 0,
        ]);
        m.extend_from_slice(&prefix.octets());
    }
    m
}

impl Packet {
    pub fn ethertype(&self) -> u16 {
        match self {
            Packet::Icmp4Echo { .. } => ETHERTYPE_IPV4,
            Packet::Udp { src, .. } if src.is_ipv4() => ETHERTYPE_IPV4,
            Packet::Arp { .. } => ETHERTYPE_ARP,
            _ => ETHERTYPE_IPV6,
        }
    }

    /// The destination MAC the packet implies when the caller names none: the Ethernet group
    /// of an IPv6 multicast destination (`33:33` + its low 32 bits), else broadcast.
    pub fn default_dst_mac(&self) -> Mac {
        let dst = match self {
            Packet::Icmp6Echo { dst, .. }
            | Packet::NeighborSolicit { dst, .. }
            | Packet::NeighborAdvert { dst, .. }
            | Packet::RouterAdvert { dst, .. } => *dst,
            Packet::Udp {
                dst: IpAddr::V6(dst),
                ..
            } => *dst,
            _ => return BROADCAST,
        };
        if dst.is_multicast() {
            let o = dst.octets();
            Mac([0x33, 0x33, o[12], o[13], o[14], o[15]])
        } else {
            BROADCAST
        }
    }

    /// The bytes after the Ethernet header.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Packet::Icmp4Echo { src, dst, tag } => {
                let m = echo(8, tag.as_bytes());
                let sum = checksum(&m);
                ipv4(*src, *dst, PROTO_ICMP, &with_checksum(m, 2, sum))
            }
            Packet::Udp {
                src,
                dst,
                sport,
                dport,
                tag,
            } => {
                let mut m = Vec::new();
                m.extend_from_slice(&sport.to_be_bytes());
                m.extend_from_slice(&dport.to_be_bytes());
                m.extend_from_slice(&((8 + tag.len()) as u16).to_be_bytes());
                m.extend_from_slice(&[0, 0]);
                m.extend_from_slice(tag.as_bytes());
                // A computed zero is sent as all ones: zero means "no checksum" (RFC 768).
                let sum = match pseudo_checksum(*src, *dst, PROTO_UDP, &m) {
                    0 => 0xffff,
                    s => s,
                };
                let m = with_checksum(m, 6, sum);
                match (src, dst) {
                    (IpAddr::V4(s), IpAddr::V4(d)) => ipv4(*s, *d, PROTO_UDP, &m),
                    (s, d) => ipv6(v6(*s), v6(*d), PROTO_UDP, 64, &m),
                }
            }
            Packet::Arp {
                op,
                sender_mac,
                sender_ip,
                target_mac,
                target_ip,
            } => {
                // Ethernet (1), IPv4, 6-byte and 4-byte addresses.
                let mut p = vec![0, 1, 0x08, 0x00, 6, 4, 0, *op as u8];
                p.extend_from_slice(&sender_mac.0);
                p.extend_from_slice(&sender_ip.octets());
                p.extend_from_slice(&target_mac.0);
                p.extend_from_slice(&target_ip.octets());
                p
            }
            Packet::Icmp6Echo { src, dst, tag } => icmp6(*src, *dst, 64, echo(128, tag.as_bytes())),
            Packet::NeighborSolicit {
                src,
                dst,
                target,
                sll,
            } => {
                let option = sll.map(|mac| link_option(1, mac));
                icmp6(*src, *dst, ND_HOP_LIMIT, nd(135, 0, *target, option))
            }
            Packet::NeighborAdvert {
                src,
                dst,
                target,
                flags,
                tll,
            } => {
                let bits = u8::from(flags.router) << 7
                    | u8::from(flags.solicited) << 6
                    | u8::from(flags.override_) << 5;
                let option = tll.map(|mac| link_option(2, mac));
                icmp6(*src, *dst, ND_HOP_LIMIT, nd(136, bits, *target, option))
            }
            Packet::RouterAdvert {
                src,
                dst,
                prefix,
                sll,
            } => icmp6(*src, *dst, ND_HOP_LIMIT, router_advert(*prefix, *sll)),
        }
    }
}

/// An ICMPv6 message with its checksum over the IPv6 pseudo-header, in an IPv6 packet.
fn icmp6(src: Ipv6Addr, dst: Ipv6Addr, hop_limit: u8, msg: Vec<u8>) -> Vec<u8> {
    let sum = pseudo_checksum(src.into(), dst.into(), PROTO_ICMPV6, &msg);
    ipv6(
        src,
        dst,
        PROTO_ICMPV6,
        hop_limit,
        &with_checksum(msg, 2, sum),
    )
}

/// The whole frame: Ethernet header (with the 802.1Q tag, if any), the packet, zero padding
/// up to the Ethernet minimum.
pub fn frame(ether: &Ether, packet: &Packet) -> Vec<u8> {
    let mut f = Vec::with_capacity(MIN_FRAME);
    f.extend_from_slice(&ether.dst.0);
    f.extend_from_slice(&ether.src.0);
    if let Some(tag) = ether.vlan {
        f.extend_from_slice(&tag.tpid.to_be_bytes());
        f.extend_from_slice(&(tag.id & 0x0fff).to_be_bytes());
    }
    f.extend_from_slice(&packet.ethertype().to_be_bytes());
    f.extend(packet.bytes());
    if f.len() < MIN_FRAME {
        f.resize(MIN_FRAME, 0);
    }
    f
}
