//! The data a plugin receives: the jail, its resolved network properties and the platform.
//!
//! These types cross the plugin boundary, so they are `#[repr(C)]` and `StableAbi`; their fields
//! are private and read through accessors that return ordinary Rust types, which keeps
//! abi_stable out of a plugin author's sight.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use abi_stable::std_types::{ROption, RString, RVec};
use abi_stable::StableAbi;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The operating system a jail runs on, which decides how primitives are carried out.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Linux,
    FreeBsd,
}

impl Platform {
    /// The platform this code was compiled for.
    pub const fn current() -> Platform {
        if cfg!(target_os = "freebsd") {
            Platform::FreeBsd
        } else {
            Platform::Linux
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Platform::Linux => "linux",
            Platform::FreeBsd => "freebsd",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Platform {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "linux" => Ok(Platform::Linux),
            "freebsd" => Ok(Platform::FreeBsd),
            _ => Err(format!(
                "unknown platform {s:?} (expected linux or freebsd)"
            )),
        }
    }
}

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
    pub fn get(self) -> IpAddr {
        if self.is_v6 {
            IpAddr::V6(Ipv6Addr::from(self.octets))
        } else {
            let o = self.octets;
            IpAddr::V4(Ipv4Addr::new(o[0], o[1], o[2], o[3]))
        }
    }

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
    pub fn new(ip: impl Into<Ip>, prefix: u8) -> Cidr {
        Cidr {
            ip: ip.into(),
            prefix,
        }
    }
    pub fn ip(&self) -> IpAddr {
        self.ip.get()
    }
    pub fn prefix(&self) -> u8 {
        self.prefix
    }
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

/// One `interfaces` pair: the jail's NIC, the host bridge it joins, and its MACs.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nic {
    name: RString,
    bridge: ROption<RString>,
    secure: bool,
    host_mac: Mac,
    jail_mac: Mac,
}

impl Nic {
    /// Built by ioc from the jail's configuration; `host_mac`/`jail_mac` are already resolved
    /// (pinned `<nic>_mac` or the `mac_prefix` formula).
    pub fn new(
        name: &str,
        bridge: Option<&str>,
        secure: bool,
        host_mac: Mac,
        jail_mac: Mac,
    ) -> Nic {
        Nic {
            name: name.into(),
            bridge: bridge.map(RString::from).into(),
            secure,
            host_mac,
            jail_mac,
        }
    }
    /// The interface name inside the jail, e.g. `vnet0`.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The host bridge, `None` when the pair names no bridge (`vnet0:` or `vnet0:none`).
    pub fn bridge(&self) -> Option<&str> {
        self.bridge.as_ref().map(|b| b.as_str()).into_option()
    }
    /// True for `nic::bridge` (Secure VNET).
    pub fn secure(&self) -> bool {
        self.secure
    }
    pub fn host_mac(&self) -> Mac {
        self.host_mac
    }
    pub fn jail_mac(&self) -> Mac {
        self.jail_mac
    }
}

/// How an `ip4_addr` / `ip6_addr` entry configures its NIC.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressKind {
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

/// `defaultrouter` / `defaultrouter6`: a gateway, optionally bound to a NIC (`IP@NIC`).
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gateway {
    ip: Ip,
    nic: ROption<RString>,
}

impl Gateway {
    pub fn new(ip: IpAddr, nic: Option<&str>) -> Gateway {
        Gateway {
            ip: ip.into(),
            nic: nic.map(RString::from).into(),
        }
    }
    pub fn ip(&self) -> IpAddr {
        self.ip.get()
    }
    pub fn nic(&self) -> Option<&str> {
        self.nic.as_ref().map(|n| n.as_str()).into_option()
    }
}

/// The jail params `ip4` / `ip6`, with the kernel's numbering.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpMode {
    Disable = 0,
    New = 1,
    Inherit = 2,
}

impl IpMode {
    /// The value the kernel's jail params expect (libioc sent `new` as 2: a bug).
    pub fn kernel_value(self) -> u8 {
        self as u8
    }
}

/// The network-related properties of a jail, resolved (jail value, then defaults, then built-in).
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    vnet: bool,
    interfaces: RVec<Nic>,
    ip4: RVec<Address>,
    ip6: RVec<Address>,
    defaultrouter: ROption<Gateway>,
    defaultrouter6: ROption<Gateway>,
    ip4_mode: IpMode,
    ip6_mode: IpMode,
    ip4_saddrsel: bool,
    ip6_saddrsel: bool,
    allow_raw_sockets: bool,
}

/// Everything needed to build a [`Network`]; a plain struct so core can fill it by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkSpec {
    pub vnet: bool,
    pub interfaces: Vec<Nic>,
    pub ip4: Vec<Address>,
    pub ip6: Vec<Address>,
    pub defaultrouter: Option<Gateway>,
    pub defaultrouter6: Option<Gateway>,
    pub ip4_mode: IpMode,
    pub ip6_mode: IpMode,
    pub ip4_saddrsel: bool,
    pub ip6_saddrsel: bool,
    pub allow_raw_sockets: bool,
}

impl From<NetworkSpec> for Network {
    fn from(s: NetworkSpec) -> Network {
        Network {
            vnet: s.vnet,
            interfaces: s.interfaces.into(),
            ip4: s.ip4.into(),
            ip6: s.ip6.into(),
            defaultrouter: s.defaultrouter.into(),
            defaultrouter6: s.defaultrouter6.into(),
            ip4_mode: s.ip4_mode,
            ip6_mode: s.ip6_mode,
            ip4_saddrsel: s.ip4_saddrsel,
            ip6_saddrsel: s.ip6_saddrsel,
            allow_raw_sockets: s.allow_raw_sockets,
        }
    }
}

impl Network {
    pub fn vnet(&self) -> bool {
        self.vnet
    }
    pub fn interfaces(&self) -> &[Nic] {
        &self.interfaces
    }
    /// The `interfaces` entry for a NIC name.
    pub fn interface(&self, name: &str) -> Option<&Nic> {
        self.interfaces.iter().find(|n| n.name() == name)
    }
    /// `ip4_addr` entries in written order.
    pub fn ip4(&self) -> &[Address] {
        &self.ip4
    }
    /// `ip6_addr` entries in written order.
    pub fn ip6(&self) -> &[Address] {
        &self.ip6
    }
    /// All address entries: IPv4 first, then IPv6, each in written order.
    pub fn addresses(&self) -> impl Iterator<Item = &Address> {
        self.ip4.iter().chain(self.ip6.iter())
    }
    /// The static addresses of one NIC, in written order.
    pub fn static_addresses<'a>(&'a self, nic: &'a str) -> impl Iterator<Item = Cidr> + 'a {
        self.addresses()
            .filter(move |a| a.nic() == nic)
            .filter_map(Address::cidr)
    }
    pub fn defaultrouter(&self) -> Option<&Gateway> {
        self.defaultrouter.as_ref().into_option()
    }
    pub fn defaultrouter6(&self) -> Option<&Gateway> {
        self.defaultrouter6.as_ref().into_option()
    }
    pub fn ip4_mode(&self) -> IpMode {
        self.ip4_mode
    }
    pub fn ip6_mode(&self) -> IpMode {
        self.ip6_mode
    }
    pub fn ip4_saddrsel(&self) -> bool {
        self.ip4_saddrsel
    }
    pub fn ip6_saddrsel(&self) -> bool {
        self.ip6_saddrsel
    }
    pub fn allow_raw_sockets(&self) -> bool {
        self.allow_raw_sockets
    }
}

/// A resolved property, as `ioc get` prints it; lets third-party plugins read `user.*` keys.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Property {
    key: RString,
    value: RString,
}

/// The jail a hook is called for.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jail {
    name: RString,
    jid: u32,
    platform: Platform,
    network: Network,
    firewall: RString,
    properties: RVec<Property>,
}

impl Jail {
    /// Built by ioc; plugins receive it.
    pub fn new(
        name: &str,
        jid: u32,
        platform: Platform,
        network: Network,
        firewall: &str,
        properties: impl IntoIterator<Item = (String, String)>,
    ) -> Jail {
        Jail {
            name: name.into(),
            jid,
            platform,
            network,
            firewall: firewall.into(),
            properties: properties
                .into_iter()
                .map(|(key, value)| Property {
                    key: key.into(),
                    value: value.into(),
                })
                .collect(),
        }
    }
    /// The jail's name, e.g. `jail-a`.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The jail's numeric id (FreeBSD JID; on Linux the lowest free positive number).
    pub fn jid(&self) -> u32 {
        self.jid
    }
    pub fn platform(&self) -> Platform {
        self.platform
    }
    pub fn network(&self) -> &Network {
        &self.network
    }
    /// The selected firewall backend (`firewall` property), e.g. `nftables`.
    pub fn firewall(&self) -> &str {
        &self.firewall
    }
    /// Any resolved property by name, printed as `ioc get` prints it.
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|p| p.key.as_str() == key)
            .map(|p| p.value.as_str())
    }
    /// All resolved properties as (key, value) pairs.
    pub fn properties(&self) -> impl Iterator<Item = (&str, &str)> {
        self.properties
            .iter()
            .map(|p| (p.key.as_str(), p.value.as_str()))
    }
}

/// What a network mode asks a firewall backend for: on `port`, let through only frames of the
/// jail's `mac` carrying the jail's own addresses, in both directions, and join `bridge`.
///
/// The backend attaches the port to the bridge itself, because its topology decides how
/// (nftables filters on the port; ipfw inserts a per-jail bridge and a second pair).
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortPolicy {
    jail: RString,
    jid: u32,
    nic: RString,
    port: RString,
    bridge: RString,
    mac: Mac,
    ipv4: RVec<Ip>,
    ipv6: RVec<Ip>,
    mtu: ROption<u32>,
}

impl PortPolicy {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        jail: &str,
        jid: u32,
        nic: &str,
        port: &str,
        bridge: &str,
        mac: Mac,
        addresses: impl IntoIterator<Item = IpAddr>,
        mtu: Option<u32>,
    ) -> PortPolicy {
        let (mut ipv4, mut ipv6) = (RVec::new(), RVec::new());
        for a in addresses {
            match a {
                IpAddr::V4(_) => ipv4.push(Ip::from(a)),
                IpAddr::V6(_) => ipv6.push(Ip::from(a)),
            }
        }
        PortPolicy {
            jail: jail.into(),
            jid,
            nic: nic.into(),
            port: port.into(),
            bridge: bridge.into(),
            mac,
            ipv4,
            ipv6,
            mtu: mtu.into(),
        }
    }
    pub fn jail(&self) -> &str {
        &self.jail
    }
    pub fn jid(&self) -> u32 {
        self.jid
    }
    /// The jail's NIC name (`vnet0`).
    pub fn nic(&self) -> &str {
        &self.nic
    }
    /// The host-side interface of the jail's pair.
    pub fn port(&self) -> &str {
        &self.port
    }
    /// The host bridge the port must end up on.
    pub fn bridge(&self) -> &str {
        &self.bridge
    }
    /// The only source MAC allowed from the jail.
    pub fn mac(&self) -> Mac {
        self.mac
    }
    pub fn ipv4(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.ipv4.iter().filter_map(|ip| match ip.get() {
            IpAddr::V4(v4) => Some(v4),
            IpAddr::V6(_) => None,
        })
    }
    pub fn ipv6(&self) -> impl Iterator<Item = Ipv6Addr> + '_ {
        self.ipv6.iter().filter_map(|ip| match ip.get() {
            IpAddr::V6(v6) => Some(v6),
            IpAddr::V4(_) => None,
        })
    }
    pub fn mtu(&self) -> Option<u32> {
        self.mtu.into_option()
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
