//! Probe tables for the Secure VNET tests: crafted frames (in `ioc-frame send` words), each
//! with the line that shows it arrived in `ioc-frame listen` output, and the report that sets
//! what reached a secure jail beside what reached a plain one.
//!
//! The nodes live on the seed's LAN, 10.23.42.0/24 and fd00:23::/64 ([`node`]).

mod delivery;
mod spoofing;

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use ioc_sdk::Mac;

pub use delivery::{addressed_to, not_addressed_to};
pub use spoofing::{attacks_from, honest_from};

/// A MAC no node has, for frames that lie about their source.
pub const FAKE_MAC: &str = "02:66:66:66:66:66";
/// A MAC no node has, for frames the bridge floods because it never learned the destination.
pub const UNKNOWN_MAC: &str = "02:77:77:77:77:77";
/// Prefixes offered by rogue router advertisements: from a jail, and toward one.
pub const ROGUE_PREFIX: &str = "2001:db8:bad::";
pub const ROGUE_PREFIX_IN: &str = "2001:db8:bad2::";

/// An address nobody holds: what a node joining the LAN might probe for, and an attacker
/// could claim to deny it.
pub const DAD_TARGET: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x23, 0, 0, 0, 0, 0, 0x66);

/// One node of the LAN, as the frames see it.
#[derive(Clone, Debug)]
pub struct Node {
    pub mac: Mac,
    pub ip4: Ipv4Addr,
    pub ip6: Ipv6Addr,
}

impl Node {
    /// The EUI-64 link-local address its kernel derives from its MAC.
    pub fn ll(&self) -> Ipv6Addr {
        self.mac.link_local()
    }
}

/// The Ethernet group of an IPv6 multicast address: `33:33` + its low 32 bits.
pub fn group_mac(a: Ipv6Addr) -> Mac {
    let o = a.octets();
    Mac([0x33, 0x33, o[12], o[13], o[14], o[15]])
}

/// `ff02::1:ffXX:XXXX`, where neighbour solicitations for `a` go.
pub fn solicited_node(a: Ipv6Addr) -> Ipv6Addr {
    let o = a.octets();
    Ipv6Addr::new(
        0xff02,
        0,
        0,
        0,
        0,
        1,
        0xff00 | u16::from(o[13]),
        u16::from_be_bytes([o[14], o[15]]),
    )
}

/// The node with `mac` at 10.23.42.N and fd00:23::N.
pub fn node(mac: &str, n: u8) -> Node {
    Node {
        mac: mac.parse().expect("MAC"),
        ip4: Ipv4Addr::new(10, 23, 42, n),
        ip6: Ipv6Addr::new(0xfd00, 0x23, 0, 0, 0, 0, 0, u16::from(n)),
    }
}

/// One crafted frame and the line that shows it arrived.
pub struct Probe {
    /// What the frame tries, for the report.
    pub name: &'static str,
    /// `ioc-frame send LINK` arguments.
    pub frame: Vec<String>,
    /// Text that only this frame produces in the receiver's `ioc-frame listen` output.
    pub seen_as: String,
}

/// `ioc-frame` arguments from one line of text.
pub fn words(text: String) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

/// A probe whose frame is written as one line of `ioc-frame send` words.
pub fn probe(name: &'static str, frame: String, seen_as: String) -> Probe {
    Probe {
        name,
        frame: words(frame),
        seen_as,
    }
}

/// Which probes arrived, as `(name, arrived)`.
pub fn arrivals(probes: &[Probe], seen: &[String]) -> Vec<(&'static str, bool)> {
    probes
        .iter()
        .map(|p| (p.name, seen.iter().any(|l| l.contains(&p.seen_as))))
        .collect()
}

/// The secure jail's arrivals (`rows[0]`) beside the plain jail's (`rows[1]`).
pub fn side_by_side(rows: &[Vec<(&'static str, bool)>]) -> Vec<(&'static str, bool, bool)> {
    rows[0]
        .iter()
        .zip(&rows[1])
        .map(|(&(name, secure), &(_, plain))| (name, secure, plain))
        .collect()
}

/// The matrix as a table, for the test's output and its failure messages.
pub fn table(title: &str, rows: &[(&str, bool, bool)]) -> String {
    let mut s = format!("{title}\n{:<66} {:>8} {:>8}\n", "", "secure", "plain");
    let word = |arrived: bool| if arrived { "passed" } else { "dropped" };
    for (name, secure, plain) in rows {
        let _ = writeln!(s, "{name:<66} {:>8} {:>8}", word(*secure), word(*plain));
    }
    s
}

/// The end marker of a batch: an honest echo from `from` to `to`.
pub fn marker(from: &Node, to: &Node, tag: &str) -> Vec<String> {
    words(format!(
        "icmp4 dst-mac={} src={} dst={} tag={tag}",
        to.mac, from.ip4, to.ip4
    ))
}
