//! The NAT properties' syntaxes: `nat_prefix`, `nat_interface`, `nat_forwards`, `nat_backend`.
//!
//! They follow iocage's property language: `nat_prefix` is written as the leading octets of a
//! private range (`172.16` is `172.16.0.0/16`), `nat_forwards` as `PROTO(JAILPORT:HOSTPORT)`
//! entries. ioc also accepts a CIDR prefix (`10.9.0.0/29`) so a small pool can be chosen.

use std::net::Ipv4Addr;

use super::{is_none_word, list_items, print_list, Reason, Syntax, NONE};
use crate::config::names::{check_nic_name, check_plugin_name};

/// The private IPv4 range NAT jail addresses are taken from, in /30 blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NatPrefix {
    network: Ipv4Addr,
    len: u8,
}

impl Default for NatPrefix {
    fn default() -> Self {
        NatPrefix {
            network: Ipv4Addr::new(172, 16, 0, 0),
            len: 16,
        }
    }
}

/// The longest accepted prefix: one /30 block.
const MAX_POOL_LEN: u8 = 30;

impl NatPrefix {
    /// The first address of the range.
    pub fn network(&self) -> Ipv4Addr {
        self.network
    }

    /// The prefix length of the range.
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Whether `addr` lies inside the range.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        let mask = u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0);
        u32::from(addr) & mask == u32::from(self.network)
    }

    fn expected(text: &str) -> Reason {
        format!(
            "expected the leading octets of a private IPv4 range (172.16 is 172.16.0.0/16) or \
             ADDRESS/LEN with LEN 8 to {MAX_POOL_LEN} and no host bits, but got \"{text}\""
        )
    }
}

impl Syntax for NatPrefix {
    fn parse(text: &str) -> Result<Self, Reason> {
        let trimmed = text.trim();
        let (network, len) = match trimmed.split_once('/') {
            Some((addr, len)) => {
                let addr: Ipv4Addr = addr.parse().map_err(|_| Self::expected(text))?;
                let len = plain_number(len)
                    .and_then(|n| u8::try_from(n).ok())
                    .ok_or_else(|| Self::expected(text))?;
                (addr, len)
            }
            None => {
                let octets = trimmed
                    .split('.')
                    .map(|o| plain_number(o).and_then(|n| u8::try_from(n).ok()))
                    .collect::<Option<Vec<u8>>>()
                    .filter(|o| (1..=3).contains(&o.len()))
                    .ok_or_else(|| Self::expected(text))?;
                let mut four = [0u8; 4];
                four[..octets.len()].copy_from_slice(&octets);
                (Ipv4Addr::from(four), 8 * octets.len() as u8)
            }
        };
        let prefix = NatPrefix { network, len };
        if !(8..=MAX_POOL_LEN).contains(&len) || !prefix.contains(network) {
            return Err(Self::expected(text));
        }
        Ok(prefix)
    }

    fn print(&self) -> String {
        let octets = self.network.octets();
        let whole = usize::from(self.len / 8);
        if self.len % 8 == 0 && octets[whole..].iter().all(|&o| o == 0) {
            let lead: Vec<String> = octets[..whole].iter().map(u8::to_string).collect();
            lead.join(".")
        } else {
            format!("{}/{}", self.network, self.len)
        }
    }
}

/// A decimal number without sign or leading zeros (they would not print back).
fn plain_number(text: &str) -> Option<u32> {
    let digits = !text.is_empty() && text.chars().all(|c| c.is_ascii_digit());
    let canonical = text == "0" || !text.starts_with('0');
    if digits && canonical && text.len() <= 5 {
        text.parse().ok()
    } else {
        None
    }
}

/// `nat_interface`: the uplink whose address NAT jails share, or none (the interface of the
/// host's IPv4 default route, looked up at start).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NatInterface(pub Option<String>);

impl Syntax for NatInterface {
    fn parse(text: &str) -> Result<Self, Reason> {
        if is_none_word(text) {
            return Ok(NatInterface(None));
        }
        let name = text.trim();
        check_nic_name(name).map_err(|_| {
            format!(
                "expected none (the interface of the IPv4 default route) or a host interface \
                 name (a letter, then letters, digits, '_', '.' or '-', at most 15 characters) \
                 but got \"{text}\""
            )
        })?;
        Ok(NatInterface(Some(name.to_string())))
    }

    fn print(&self) -> String {
        self.0.clone().unwrap_or_else(|| NONE.to_string())
    }
}

/// `nat_backend`: the firewall plugin that does the NAT; `firewall` means the host's
/// `firewall` property.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum NatBackend {
    /// The host-wide `firewall` backend.
    #[default]
    Firewall,
    /// A named firewall plugin.
    Named(String),
}

/// The word for [`NatBackend::Firewall`].
const FIREWALL_WORD: &str = "firewall";

impl Syntax for NatBackend {
    fn parse(text: &str) -> Result<Self, Reason> {
        match text.trim() {
            FIREWALL_WORD => Ok(NatBackend::Firewall),
            name => check_plugin_name(name)
                .map(|()| NatBackend::Named(name.to_string()))
                .map_err(|_| {
                    format!(
                        "expected firewall (the host's firewall backend) or a firewall plugin \
                         name such as nftables, pf or ipfw but got \"{text}\""
                    )
                }),
        }
    }

    fn print(&self) -> String {
        match self {
            NatBackend::Firewall => FIREWALL_WORD.to_string(),
            NatBackend::Named(name) => name.clone(),
        }
    }
}

/// A transport protocol a port can be forwarded for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    /// `tcp` or `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// An inclusive port range `first-last` (one port when equal).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    /// How many ports the range holds.
    pub fn count(&self) -> u32 {
        u32::from(self.last) - u32::from(self.first) + 1
    }

    /// Whether the two ranges share a port.
    pub fn overlaps(&self, other: &PortRange) -> bool {
        self.first <= other.last && other.first <= self.last
    }

    fn print(&self) -> String {
        if self.first == self.last {
            self.first.to_string()
        } else {
            format!("{}-{}", self.first, self.last)
        }
    }
}

/// One port forward: `PROTO(JAILPORT:HOSTPORT)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Forward {
    pub proto: Proto,
    pub jail: PortRange,
    pub host: PortRange,
}

impl Forward {
    fn print(&self) -> String {
        if self.jail == self.host {
            format!("{}({})", self.proto.as_str(), self.jail.print())
        } else {
            format!(
                "{}({}:{})",
                self.proto.as_str(),
                self.jail.print(),
                self.host.print()
            )
        }
    }

    fn parse(entry: &str) -> Result<Forward, Reason> {
        let expected = || {
            format!(
                "expected PROTO(JAILPORT:HOSTPORT) entries separated by commas, PROTO tcp or \
                 udp, a port 1-65535 or a range FIRST-LAST of equal length on both sides \
                 (tcp(80) forwards the same port), but got \"{entry}\""
            )
        };
        let (proto, rest) = entry.split_once('(').ok_or_else(expected)?;
        let inner = rest.strip_suffix(')').ok_or_else(expected)?;
        let proto = match proto.trim().to_ascii_lowercase().as_str() {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            _ => return Err(expected()),
        };
        let range = |text: &str| -> Option<PortRange> {
            let port = |t: &str| plain_number(t.trim()).and_then(|n| u16::try_from(n).ok());
            let (first, last) = match text.split_once('-') {
                Some((a, b)) => (port(a)?, port(b)?),
                None => (port(text)?, port(text)?),
            };
            (first >= 1 && first <= last).then_some(PortRange { first, last })
        };
        let (jail, host) = match inner.split_once(':') {
            Some((j, h)) => (range(j), range(h)),
            None => (range(inner), range(inner)),
        };
        let (jail, host) = jail.zip(host).ok_or_else(expected)?;
        if jail.count() != host.count() {
            return Err(format!(
                "the port ranges of \"{entry}\" differ in length ({} jail ports, {} host \
                 ports); expected ranges of equal length",
                jail.count(),
                host.count()
            ));
        }
        Ok(Forward { proto, jail, host })
    }
}

/// `nat_forwards`: the ports forwarded from the host's uplink address to the jail.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NatForwards(pub Vec<Forward>);

impl Syntax for NatForwards {
    fn parse(text: &str) -> Result<Self, Reason> {
        if is_none_word(text) {
            return Ok(NatForwards(Vec::new()));
        }
        // Split on commas outside parentheses only: none occur inside an entry.
        let forwards = text
            .split(',')
            .map(|entry| Forward::parse(entry.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, a) in forwards.iter().enumerate() {
            if let Some(b) = forwards[..i]
                .iter()
                .find(|b| b.proto == a.proto && b.host.overlaps(&a.host))
            {
                return Err(format!(
                    "the host ports of {} and {} overlap; each host port can be forwarded once",
                    b.print(),
                    a.print()
                ));
            }
        }
        Ok(NatForwards(forwards))
    }

    fn print(&self) -> String {
        print_list(&self.0, Forward::print)
    }

    fn items(&self) -> Vec<String> {
        list_items(&self.0, Forward::print)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{refused_with, round_trip};
    use super::*;

    #[test]
    fn prefixes_are_written_as_iocage_does() {
        round_trip::<NatPrefix>("172.16", "172.16");
        round_trip::<NatPrefix>(" 10 ", "10");
        round_trip::<NatPrefix>("192.168.7", "192.168.7");
        round_trip::<NatPrefix>("172.16.0.0/16", "172.16");
        round_trip::<NatPrefix>("10.9.0.0/29", "10.9.0.0/29");
        let p = NatPrefix::parse("10.9.0.8/29").unwrap();
        assert!(p.contains(Ipv4Addr::new(10, 9, 0, 15)));
        assert!(!p.contains(Ipv4Addr::new(10, 9, 0, 16)));
        assert_eq!(NatPrefix::default().print(), "172.16");
        for bad in [
            "",
            "none",
            "172.16.0.0",
            "172.16.1.0/16",
            "10.0.0.0/31",
            "10.0.0.0/7",
            "a.b",
            "172.016",
            "10.0.0.0/x",
            "300.1",
        ] {
            refused_with::<NatPrefix>(bad, "expected the leading octets of a private IPv4 range");
        }
    }

    #[test]
    fn interfaces_and_backends() {
        round_trip::<NatInterface>("none", "none");
        round_trip::<NatInterface>("", "none");
        round_trip::<NatInterface>("eth0", "eth0");
        refused_with::<NatInterface>("0eth", "expected none (the interface of the IPv4");
        refused_with::<NatInterface>("a-very-long-interface", "at most 15 characters");
        round_trip::<NatBackend>("firewall", "firewall");
        round_trip::<NatBackend>("pf", "pf");
        refused_with::<NatBackend>("PF", "expected firewall (the host's firewall backend)");
    }

    #[test]
    fn forwards_follow_iocage() {
        round_trip::<NatForwards>("none", "none");
        round_trip::<NatForwards>("tcp(80)", "tcp(80)");
        round_trip::<NatForwards>("TCP(80:80)", "tcp(80)");
        round_trip::<NatForwards>("tcp(80:8080), udp(53)", "tcp(80:8080),udp(53)");
        round_trip::<NatForwards>("tcp(8000-8010:9000-9010)", "tcp(8000-8010:9000-9010)");
        // The same host port for both protocols is two forwards.
        round_trip::<NatForwards>("tcp(53),udp(53)", "tcp(53),udp(53)");
        for bad in [
            "sctp(80)",
            "tcp80",
            "tcp(80",
            "tcp()",
            "tcp(0)",
            "tcp(65536)",
            "tcp(80:)",
            "tcp(9-8)",
            "tcp(080)",
            "tcp(a:b)",
        ] {
            refused_with::<NatForwards>(bad, "expected PROTO(JAILPORT:HOSTPORT)");
        }
        refused_with::<NatForwards>("tcp(8000-8010:9000-9001)", "differ in length");
        refused_with::<NatForwards>("tcp(80:8080),tcp(81:8080)", "overlap");
        refused_with::<NatForwards>("tcp(1-10:100-109),tcp(105)", "overlap");
    }
}
