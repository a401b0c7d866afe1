//! Link-layer and IP addresses as they cross the plugin boundary, and the `ip4_addr` /
//! `ip6_addr` entries built from them.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use abi_stable::std_types::RString;
use abi_stable::StableAbi;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A 48-bit Ethernet address.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// The address as a 48-bit number, for the `jail_mac = host_mac + 1` rule.
    pub fn to_u64(self) -> u64 {
        self.0
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
    }

    /// Builds an address from the low 48 bits of `value` (higher bits wrap away).
    pub fn from_u64(value: u64) -> Mac {
        let b = value.to_be_bytes();
        Mac([b[2], b[3], b[4], b[5], b[6], b[7]])
    }

    /// The modified EUI-64 IPv6 link-local address a kernel derives from this MAC.
    pub fn link_local(self) -> Ipv6Addr {
        let m = self.0;
        Ipv6Addr::from([
            0xfe,
            0x80,
            0,
            0,
            0,
            0,
            0,
            0,
            m[0] ^ 0x02,
            m[1],
            m[2],
            0xff,
            0xfe,
            m[3],
            m[4],
            m[5],
        ])
    }
}

/// The solicited-node multicast group (`ff02::1:ffXX:XXXX`) a node joins to hear neighbour
/// discovery for `addr`.
pub fn solicited_node(addr: &Ipv6Addr) -> Ipv6Addr {
    let o = addr.octets();
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

impl Mac {
    /// The Ethernet group address of an IPv6 multicast group: `33:33` + its low 32 bits.
    pub fn ipv6_multicast(group: &Ipv6Addr) -> Mac {
        let o = group.octets();
        Mac([0x33, 0x33, o[12], o[13], o[14], o[15]])
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Mac {
    type Err = String;
    /// Accepts 12 hex digits, optionally separated by `:` or `-` between byte pairs.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits: String = s.chars().filter(|c| *c != ':' && *c != '-').collect();
        let separators_ok = s
            .split([':', '-'])
            .all(|part| !part.is_empty() && part.len() % 2 == 0);
        if digits.len() != 12 || !digits.chars().all(|c| c.is_ascii_hexdigit()) || !separators_ok {
            return Err(format!("invalid mac address: \"{s}\""));
        }
        let mut out = [0u8; 6];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16)
                .map_err(|_| format!("invalid mac address: \"{s}\""))?;
        }
        Ok(Mac(out))
    }
}

impl Serialize for Mac {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Mac {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// An IPv4 or IPv6 address in a form that can cross the plugin boundary.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ip {
    is_v6: bool,
    octets: [u8; 16],
}

impl Ip {
    /// The address as the standard library's type, to compare, print or match on.
    pub fn get(self) -> IpAddr {
        if self.is_v6 {
            IpAddr::V6(Ipv6Addr::from(self.octets))
        } else {
            let o = self.octets;
            IpAddr::V4(Ipv4Addr::new(o[0], o[1], o[2], o[3]))
        }
    }

    /// True for IPv6, which decides the family of the route, alias or rule built from it.
    pub fn is_v6(self) -> bool {
        self.is_v6
    }
}

impl From<IpAddr> for Ip {
    fn from(addr: IpAddr) -> Ip {
        match addr {
            IpAddr::V4(v4) => {
                let mut octets = [0u8; 16];
                octets[..4].copy_from_slice(&v4.octets());
                Ip {
                    is_v6: false,
                    octets,
                }
            }
            IpAddr::V6(v6) => Ip {
                is_v6: true,
                octets: v6.octets(),
            },
        }
    }
}

impl From<Ipv4Addr> for Ip {
    fn from(addr: Ipv4Addr) -> Ip {
        Ip::from(IpAddr::V4(addr))
    }
}

impl From<Ipv6Addr> for Ip {
    fn from(addr: Ipv6Addr) -> Ip {
        Ip::from(IpAddr::V6(addr))
    }
}

impl fmt::Display for Ip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.get(), f)
    }
}

impl fmt::Debug for Ip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.get(), f)
    }
}

impl Serialize for Ip {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse::<IpAddr>()
            .map(Ip::from)
            .map_err(serde::de::Error::custom)
    }
}

/// An address with its prefix length, as in `10.23.42.2/24`.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cidr {
    ip: Ip,
    prefix: u8,
}

impl Cidr {
    /// An address with its prefix length; `prefix` is not checked against the family, ioc's
    /// parser does that before a plugin sees one.
    pub fn new(ip: impl Into<Ip>, prefix: u8) -> Cidr {
        Cidr {
            ip: ip.into(),
            prefix,
        }
    }
    /// The address part, without the prefix.
    pub fn ip(&self) -> IpAddr {
        self.ip.get()
    }
    /// The prefix length: how many leading bits name the network the address is on.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }
    /// True for IPv6, so a plugin can pick the family-specific primitive or property name.
    pub fn is_v6(&self) -> bool {
        self.ip.is_v6()
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.ip, self.prefix)
    }
}

impl fmt::Debug for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// How an `ip4_addr` / `ip6_addr` entry configures its NIC.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressKind {
    /// `NIC|ADDRESS/PREFIX`: a fixed address the plugin adds (and a firewall can whitelist).
    Static(Cidr),
    /// `NIC|dhcp` (IPv4 only).
    Dhcp,
    /// `NIC|accept_rtadv` (IPv6 only): SLAAC from router advertisements.
    AcceptRtadv,
}

/// One entry of `ip4_addr` or `ip6_addr`, in the order the user wrote them.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    nic: RString,
    kind: AddressKind,
}

impl Address {
    /// An entry for `nic`; ioc builds these from `ip4_addr` / `ip6_addr`, tests from the kit.
    pub fn new(nic: &str, kind: AddressKind) -> Address {
        Address {
            nic: nic.into(),
            kind,
        }
    }
    /// The interface the address belongs to (jail NIC for VNET, host interface for shared IP).
    pub fn nic(&self) -> &str {
        &self.nic
    }
    /// Whether the entry is a static address or is learned at run time (DHCP, SLAAC).
    pub fn kind(&self) -> AddressKind {
        self.kind
    }
    /// The static address, if this entry is one.
    pub fn cidr(&self) -> Option<Cidr> {
        match self.kind {
            AddressKind::Static(c) => Some(c),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_parses_all_separator_styles() {
        let want = Mac([0x02, 0xff, 0x60, 0xe7, 0x93, 0x9d]);
        for text in ["02ff60e7939d", "02:ff:60:e7:93:9d", "02-FF-60-E7-93-9D"] {
            assert_eq!(text.parse::<Mac>().unwrap(), want, "{text}");
        }
        for bad in [
            "",
            "02ff60e7939",
            "02ff60e7939dd",
            "zzff60e7939d",
            "0:2ff60e7939d",
            "02::ff60e7939d",
        ] {
            assert_eq!(
                bad.parse::<Mac>().unwrap_err(),
                format!("invalid mac address: \"{bad}\"")
            );
        }
    }

    #[test]
    fn mac_arithmetic_and_link_local() {
        let m: Mac = "02:ff:60:e7:93:9d".parse().unwrap();
        assert_eq!(
            Mac::from_u64(m.to_u64() + 1).to_string(),
            "02:ff:60:e7:93:9e"
        );
        assert_eq!(
            Mac::from_u64(0xffff_ffff_ffff + 1).to_string(),
            "00:00:00:00:00:00"
        );
        assert_eq!(m.link_local().to_string(), "fe80::ff:60ff:fee7:939d");
        let a: Ipv6Addr = "2001:db8::12:3456".parse().unwrap();
        assert_eq!(solicited_node(&a).to_string(), "ff02::1:ff12:3456");
        assert_eq!(
            Mac::ipv6_multicast(&solicited_node(&a)).to_string(),
            "33:33:ff:12:34:56"
        );
    }

    #[test]
    fn ip_round_trips_through_serde() {
        for text in ["10.23.42.2", "2001:db8::2"] {
            let ip = Ip::from(text.parse::<IpAddr>().unwrap());
            let json = serde_json::to_string(&ip).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<Ip>(&json).unwrap(), ip);
        }
    }
}
