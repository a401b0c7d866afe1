//! Received frames decoded into one-line summaries, in the spirit of tcpdump's.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::*;

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
