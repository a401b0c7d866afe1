//! Raw Ethernet frames for the spoofing tests: built byte by byte (so a test can lie about any
//! field a kernel would fill in honestly) and decoded back into one-line summaries (so a test
//! can tell which crafted frame arrived without tcpdump).
//!
//! Pure byte work, no sockets: `ioc-frame` (the binary) puts these frames on a link and reads
//! them off another. The formats follow the RFCs: IPv4 (791), ICMP (792), UDP (768), ARP (826),
//! IPv6 (8200), ICMPv6 (4443) and neighbour discovery (4861).

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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

/// Reads big-endian fields out of a received frame without panicking on short input.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn bytes<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        self.0.get(at..at + N)?.try_into().ok()
    }
    fn u8(&self, at: usize) -> Option<u8> {
        self.0.get(at).copied()
    }
    fn u16(&self, at: usize) -> Option<u16> {
        self.bytes(at).map(u16::from_be_bytes)
    }
    fn mac(&self, at: usize) -> Option<Mac> {
        self.bytes(at).map(Mac)
    }
    fn v4(&self, at: usize) -> Option<Ipv4Addr> {
        self.bytes::<4>(at).map(Ipv4Addr::from)
    }
    fn v6(&self, at: usize) -> Option<Ipv6Addr> {
        self.bytes::<16>(at).map(Ipv6Addr::from)
    }
}

/// `tag=TEXT` for a printable payload (what `ioc-frame` sends), else its length.
fn payload(data: &[u8]) -> String {
    if !data.is_empty() && data.iter().all(|b| b.is_ascii_graphic()) {
        format!("tag={}", String::from_utf8_lossy(data))
    } else {
        format!("len={}", data.len())
    }
}

/// One line that says what a frame is, in a stable format the tests match on:
///
/// ```text
/// SRC > DST [vlan ID | 802.1ad ID] ip A > B icmp echo-request tag=T
/// SRC > DST ip6 A > B icmp6 na target T flags so tll M
/// SRC > DST arp reply 10.0.0.5 is-at M to 10.0.0.3 at M2
/// ```
///
/// `vlan` is the tag the kernel took off the frame on receipt (Linux hands it over beside the
/// data), or `None`; a tag still in the data is decoded too.
pub fn describe(frame: &[u8], vlan: Option<Vlan>) -> String {
    let r = Reader(frame);
    let (Some(dst), Some(src), Some(mut kind)) = (r.mac(0), r.mac(6), r.u16(12)) else {
        return format!("runt len={}", frame.len());
    };
    let mut s = format!("{src} > {dst} ");
    let mut at = 14;
    if let Some(tag) = vlan {
        let _ = write!(s, "{tag} ");
    }
    while matches!(kind, ETHERTYPE_VLAN | ETHERTYPE_QINQ) {
        let id = r.u16(at).unwrap_or(0);
        let _ = write!(s, "{} ", Vlan { tpid: kind, id });
        kind = r.u16(at + 2).unwrap_or(0);
        at += 4;
    }
    let rest = Reader(&frame[at.min(frame.len())..]);
    let body = match kind {
        ETHERTYPE_IPV4 => describe_ipv4(&rest),
        ETHERTYPE_IPV6 => describe_ipv6(&rest),
        ETHERTYPE_ARP => describe_arp(&rest),
        _ => None,
    };
    s + &body.unwrap_or_else(|| format!("ethertype 0x{kind:04x} len={}", frame.len()))
}

fn describe_arp(r: &Reader) -> Option<String> {
    let (sm, si, tm, ti) = (r.mac(8)?, r.v4(14)?, r.mac(18)?, r.v4(24)?);
    Some(match r.u16(6)? {
        1 => format!("arp request who-has {ti} tell {si} at {sm}"),
        2 => format!("arp reply {si} is-at {sm} to {ti} at {tm}"),
        op => format!("arp op {op}"),
    })
}

fn describe_ipv4(r: &Reader) -> Option<String> {
    let ihl = usize::from(r.u8(0)? & 0x0f) * 4;
    let total = usize::from(r.u16(2)?).min(r.0.len());
    let (proto, src, dst) = (r.u8(9)?, r.v4(12)?, r.v4(16)?);
    let l4 = Reader(r.0.get(ihl..total)?);
    let what = match proto {
        PROTO_ICMP => match l4.u8(0)? {
            8 => format!("icmp echo-request {}", payload(l4.0.get(8..)?)),
            0 => format!("icmp echo-reply {}", payload(l4.0.get(8..)?)),
            t => format!("icmp type {t}"),
        },
        PROTO_UDP => describe_udp(&l4)?,
        p => format!("proto {p}"),
    };
    Some(format!("ip {src} > {dst} {what}"))
}

fn describe_udp(l4: &Reader) -> Option<String> {
    Some(format!(
        "udp {} > {} {}",
        l4.u16(0)?,
        l4.u16(2)?,
        payload(l4.0.get(8..)?)
    ))
}

fn describe_ipv6(r: &Reader) -> Option<String> {
    let len = usize::from(r.u16(4)?);
    let (next, src, dst) = (r.u8(6)?, r.v6(8)?, r.v6(24)?);
    let l4 = Reader(r.0.get(40..(40 + len).min(r.0.len()))?);
    let what = match next {
        PROTO_ICMPV6 => describe_icmp6(&l4)?,
        PROTO_UDP => describe_udp(&l4)?,
        p => format!("next-header {p}"),
    };
    Some(format!("ip6 {src} > {dst} {what}"))
}

/// ND options after byte `from`: ` sll M`, ` tll M`, ` prefix P/L`, ` nonce`, ` option T`.
fn nd_options(m: &Reader, mut from: usize) -> String {
    let mut s = String::new();
    while let (Some(kind), Some(units)) = (m.u8(from), m.u8(from + 1)) {
        let len = usize::from(units) * 8;
        if len == 0 {
            break;
        }
        let _ = match (kind, m.mac(from + 2), m.v6(from + 16)) {
            (1, Some(mac), _) => write!(s, " sll {mac}"),
            (2, Some(mac), _) => write!(s, " tll {mac}"),
            (3, _, Some(p)) => write!(s, " prefix {p}/{}", m.u8(from + 2).unwrap_or(0)),
            (14, _, _) => write!(s, " nonce"),
            (k, _, _) => write!(s, " option {k}"),
        };
        from += len;
    }
    s
}

fn describe_icmp6(m: &Reader) -> Option<String> {
    Some(match m.u8(0)? {
        128 => format!("icmp6 echo-request {}", payload(m.0.get(8..)?)),
        129 => format!("icmp6 echo-reply {}", payload(m.0.get(8..)?)),
        133 => format!("icmp6 rs{}", nd_options(m, 8)),
        134 => format!("icmp6 ra{}", nd_options(m, 16)),
        135 => format!("icmp6 ns target {}{}", m.v6(8)?, nd_options(m, 24)),
        136 => {
            let bits = m.u8(4)?;
            let flags: String = [(0x80, 'r'), (0x40, 's'), (0x20, 'o')]
                .iter()
                .filter(|(bit, _)| bits & bit != 0)
                .map(|(_, c)| *c)
                .collect();
            let flags = if flags.is_empty() { "-".into() } else { flags };
            format!(
                "icmp6 na target {} flags {flags}{}",
                m.v6(8)?,
                nd_options(m, 24)
            )
        }
        t => format!("icmp6 type {t}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(s: &str) -> Mac {
        s.parse().unwrap()
    }

    fn ether() -> Ether {
        Ether {
            src: mac("02:ff:60:cb:49:49"),
            dst: BROADCAST,
            vlan: None,
        }
    }

    #[test]
    fn checksum_matches_rfc1071_example_and_verifies_to_zero() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (checksum 220d).
        assert_eq!(
            checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0x220d
        );
        // Odd length: the last byte is padded with zero.
        assert_eq!(checksum(&[0xff]), !0xff00);
    }

    #[test]
    fn ipv4_header_checksum_is_the_one_the_kernel_computes() {
        // 10.23.42.2 -> 10.23.42.1, 84 bytes, id 0, DF, TTL 64: checksum 0xd278, worked out
        // independently of this code (the sum of the other words is 0x2d87).
        let p = ipv4(
            "10.23.42.2".parse().unwrap(),
            "10.23.42.1".parse().unwrap(),
            PROTO_ICMP,
            &[0; 64],
        );
        assert_eq!(
            &p[..12],
            &[0x45, 0, 0, 84, 0, 0, 0x40, 0, 64, 1, 0xd2, 0x78]
        );
        assert_eq!(
            checksum(&p[..20]),
            0,
            "a header with its checksum sums to zero"
        );
    }

    #[test]
    fn icmp_and_icmpv6_checksums_verify() {
        let p = Packet::Icmp4Echo {
            src: "10.23.42.2".parse().unwrap(),
            dst: "10.23.42.3".parse().unwrap(),
            tag: "hello".into(),
        }
        .bytes();
        assert_eq!(checksum(&p[20..]), 0);

        let (src, dst): (Ipv6Addr, Ipv6Addr) = (
            "fe80::ff:60ff:fecb:4949".parse().unwrap(),
            "ff02::1".parse().unwrap(),
        );
        for packet in [
            Packet::Icmp6Echo {
                src,
                dst,
                tag: "odd".into(),
            },
            Packet::NeighborAdvert {
                src,
                dst,
                target: src,
                flags: NaFlags::default(),
                tll: Some(mac("02:00:00:00:00:01")),
            },
        ] {
            let p = packet.bytes();
            let mut pseudo = p[8..40].to_vec();
            pseudo.extend_from_slice(&((p.len() - 40) as u32).to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, PROTO_ICMPV6]);
            pseudo.extend_from_slice(&p[40..]);
            assert_eq!(checksum(&pseudo), 0, "{packet:?}");
        }
    }

    #[test]
    fn neighbour_advertisement_has_the_rfc_layout() {
        let target: Ipv6Addr = "fd00:23::5".parse().unwrap();
        let p = Packet::NeighborAdvert {
            src: "fd00:23::2".parse().unwrap(),
            dst: "ff02::1".parse().unwrap(),
            target,
            flags: NaFlags {
                override_: true,
                ..NaFlags::default()
            },
            tll: Some(mac("02:aa:00:00:00:05")),
        };
        let b = p.bytes();
        assert_eq!(b[6], PROTO_ICMPV6);
        assert_eq!(b[7], 255, "hop limit");
        assert_eq!(u16::from_be_bytes([b[4], b[5]]), 32, "payload length");
        assert_eq!(&b[40..41], &[136]);
        assert_eq!(b[44], 0x20, "override flag");
        assert_eq!(&b[48..64], &target.octets());
        assert_eq!(&b[64..72], &[2, 1, 0x02, 0xaa, 0, 0, 0, 5]);
        assert_eq!(p.default_dst_mac(), mac("33:33:00:00:00:01"));
    }

    #[test]
    fn frames_are_padded_and_tagged() {
        let arp = Packet::Arp {
            op: ArpOp::Request,
            sender_mac: mac("02:ff:60:cb:49:49"),
            sender_ip: "10.23.42.2".parse().unwrap(),
            target_mac: Mac([0; 6]),
            target_ip: "10.23.42.2".parse().unwrap(),
        };
        let f = frame(&ether(), &arp);
        assert_eq!(f.len(), 60);
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        let tagged = frame(
            &Ether {
                vlan: Some(Vlan::dot1q(42)),
                ..ether()
            },
            &arp,
        );
        assert_eq!(&tagged[12..18], &[0x81, 0x00, 0, 42, 0x08, 0x06]);
        let outer = Vlan {
            tpid: ETHERTYPE_QINQ,
            id: 7,
        };
        let qinq = frame(
            &Ether {
                vlan: Some(outer),
                ..ether()
            },
            &arp,
        );
        assert_eq!(&qinq[12..18], &[0x88, 0xa8, 0, 7, 0x08, 0x06]);
        assert!(describe(&qinq, None).contains(" 802.1ad 7 arp request"));
    }

    #[test]
    fn descriptions_round_trip_what_was_built() {
        let e = ether();
        let cases = [
            (
                Packet::Icmp4Echo {
                    src: "10.23.42.9".parse().unwrap(),
                    dst: "10.23.42.3".parse().unwrap(),
                    tag: "spoof-v4".into(),
                },
                "02:ff:60:cb:49:49 > ff:ff:ff:ff:ff:ff ip 10.23.42.9 > 10.23.42.3 icmp echo-request tag=spoof-v4",
            ),
            (
                Packet::Udp {
                    src: "fd00::9".parse().unwrap(),
                    dst: "fd00::3".parse().unwrap(),
                    sport: 4000,
                    dport: 5000,
                    tag: "u6".into(),
                },
                "ip6 fd00::9 > fd00::3 udp 4000 > 5000 tag=u6",
            ),
            (
                Packet::Arp {
                    op: ArpOp::Reply,
                    sender_mac: mac("02:ff:60:cb:49:49"),
                    sender_ip: "10.23.42.5".parse().unwrap(),
                    target_mac: mac("02:00:00:00:00:03"),
                    target_ip: "10.23.42.3".parse().unwrap(),
                },
                "arp reply 10.23.42.5 is-at 02:ff:60:cb:49:49 to 10.23.42.3 at 02:00:00:00:00:03",
            ),
            (
                Packet::NeighborSolicit {
                    src: "::".parse().unwrap(),
                    dst: "ff02::1:ff00:5".parse().unwrap(),
                    target: "fd00::5".parse().unwrap(),
                    sll: None,
                },
                "ip6 :: > ff02::1:ff00:5 icmp6 ns target fd00::5",
            ),
            (
                Packet::NeighborAdvert {
                    src: "fd00::2".parse().unwrap(),
                    dst: "ff02::1".parse().unwrap(),
                    target: "fd00::5".parse().unwrap(),
                    flags: NaFlags {
                        solicited: false,
                        override_: true,
                        router: false,
                    },
                    tll: Some(mac("02:00:00:00:00:05")),
                },
                "icmp6 na target fd00::5 flags o tll 02:00:00:00:00:05",
            ),
            (
                Packet::RouterAdvert {
                    src: "fe80::1".parse().unwrap(),
                    dst: "ff02::1".parse().unwrap(),
                    prefix: Some(("2001:db8:bad::".parse().unwrap(), 64)),
                    sll: Some(mac("02:ff:60:cb:49:49")),
                },
                "icmp6 ra sll 02:ff:60:cb:49:49 prefix 2001:db8:bad::/64",
            ),
        ];
        for (packet, want) in cases {
            let line = describe(&frame(&e, &packet), None);
            assert!(line.contains(want), "{line}\nshould contain\n{want}");
        }
        assert_eq!(describe(&[1, 2, 3], None), "runt len=3");
    }

    #[test]
    fn a_tag_the_kernel_took_off_is_shown_as_if_it_were_in_the_frame() {
        let ping = Packet::Icmp4Echo {
            src: "10.0.0.1".parse().unwrap(),
            dst: "10.0.0.2".parse().unwrap(),
            tag: "t".into(),
        };
        let tagged = Ether {
            vlan: Some(Vlan::dot1q(42)),
            ..ether()
        };
        let want = "> ff:ff:ff:ff:ff:ff vlan 42 ip 10.0.0.1 > 10.0.0.2 icmp";
        assert!(describe(&frame(&ether(), &ping), Some(Vlan::dot1q(42))).contains(want));
        assert!(describe(&frame(&tagged, &ping), None).contains(want));
    }
}
