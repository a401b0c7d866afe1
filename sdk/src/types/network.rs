//! A jail's resolved network properties: its NICs, addresses, gateways and kernel IP modes.

use std::net::IpAddr;

use abi_stable::std_types::{ROption, RString, RVec};
use abi_stable::StableAbi;
use serde::{Deserialize, Serialize};

use super::address::{Address, Cidr, Ip, Mac};
use super::nat::Nat;

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
    /// The MAC of the pair's host end (pinned `<nic>_mac` or generated from `mac_prefix`).
    pub fn host_mac(&self) -> Mac {
        self.host_mac
    }
    /// The MAC of the jail's end; the only source MAC Secure VNET lets out of the port.
    pub fn jail_mac(&self) -> Mac {
        self.jail_mac
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
    /// A gateway `ip`, reached through `nic` when given (`IP@NIC`).
    pub fn new(ip: IpAddr, nic: Option<&str>) -> Gateway {
        Gateway {
            ip: ip.into(),
            nic: nic.map(RString::from).into(),
        }
    }
    /// The gateway's address.
    pub fn ip(&self) -> IpAddr {
        self.ip.get()
    }
    /// The NIC the gateway is reached through (`IP@NIC`); then an interface route to the
    /// gateway comes before the default route.
    pub fn nic(&self) -> Option<&str> {
        self.nic.as_ref().map(|n| n.as_str()).into_option()
    }
}

/// The jail params `ip4` / `ip6`, with the kernel's numbering.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IpMode {
    /// `disable`: the jail has no addresses of this family.
    Disable = 0,
    /// `new`: the jail gets its own addresses of this family (from `ip4_addr` / `ip6_addr`).
    New = 1,
    /// `inherit`: the jail sees every address of the host in this family.
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
    /// Set for a NAT jail (`nat=on`); absent in journals written before NAT existed.
    #[serde(default)]
    nat: ROption<Nat>,
    /// `dhcp_server`: the jail is its network's DHCP server.
    #[serde(default)]
    dhcp_server: bool,
}

/// Everything needed to build a [`Network`]; a plain struct so core can fill it by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkSpec {
    /// `vnet`: the jail has its own network stack.
    pub vnet: bool,
    /// `interfaces`, in written order, MACs resolved.
    pub interfaces: Vec<Nic>,
    /// `ip4_addr` entries, in written order.
    pub ip4: Vec<Address>,
    /// `ip6_addr` entries, in written order.
    pub ip6: Vec<Address>,
    /// `defaultrouter`, `None` when unset.
    pub defaultrouter: Option<Gateway>,
    /// `defaultrouter6`, `None` when unset.
    pub defaultrouter6: Option<Gateway>,
    /// The kernel param `ip4`.
    pub ip4_mode: IpMode,
    /// The kernel param `ip6`.
    pub ip6_mode: IpMode,
    /// The kernel param `ip4.saddrsel` (source address selection of a shared-IP jail).
    pub ip4_saddrsel: bool,
    /// The kernel param `ip6.saddrsel`.
    pub ip6_saddrsel: bool,
    /// The kernel param `allow.raw_sockets`.
    pub allow_raw_sockets: bool,
    /// `dhcp_server`: the jail is its network's DHCP server.
    pub dhcp_server: bool,
}

/// ioc's built-in defaults: no VNET, no interfaces or addresses, no routers, `ip4=new`,
/// `ip6=new`, source address selection on, raw sockets off, not a DHCP server. Lets a test or
/// a plugin name only the fields it cares about (`..NetworkSpec::default()`).
impl Default for NetworkSpec {
    fn default() -> NetworkSpec {
        NetworkSpec {
            vnet: false,
            interfaces: Vec::new(),
            ip4: Vec::new(),
            ip6: Vec::new(),
            defaultrouter: None,
            defaultrouter6: None,
            ip4_mode: IpMode::New,
            ip6_mode: IpMode::New,
            ip4_saddrsel: true,
            ip6_saddrsel: true,
            allow_raw_sockets: false,
            dhcp_server: false,
        }
    }
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
            nat: ROption::RNone,
            dhcp_server: s.dhcp_server,
        }
    }
}

impl Network {
    /// `vnet`: true when the jail has its own network stack, false when it shares the host's.
    pub fn vnet(&self) -> bool {
        self.vnet
    }
    /// `interfaces`: the jail's NICs with their bridges and MACs, in written order.
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
    /// `defaultrouter`: the IPv4 default gateway inside a VNET jail, if set.
    pub fn defaultrouter(&self) -> Option<&Gateway> {
        self.defaultrouter.as_ref().into_option()
    }
    /// `defaultrouter6`: the IPv6 default gateway inside a VNET jail, if set.
    pub fn defaultrouter6(&self) -> Option<&Gateway> {
        self.defaultrouter6.as_ref().into_option()
    }
    /// The kernel param `ip4`: whether the jail has its own, the host's or no IPv4 addresses.
    pub fn ip4_mode(&self) -> IpMode {
        self.ip4_mode
    }
    /// The kernel param `ip6`: whether the jail has its own, the host's or no IPv6 addresses.
    pub fn ip6_mode(&self) -> IpMode {
        self.ip6_mode
    }
    /// The kernel param `ip4.saddrsel`: whether a shared-IP jail may pick its IPv4 source
    /// address, or always uses its first one.
    pub fn ip4_saddrsel(&self) -> bool {
        self.ip4_saddrsel
    }
    /// The kernel param `ip6.saddrsel`, as [`ip4_saddrsel`](Self::ip4_saddrsel) for IPv6.
    pub fn ip6_saddrsel(&self) -> bool {
        self.ip6_saddrsel
    }
    /// The kernel param `allow.raw_sockets`: whether the jail may open raw sockets (ping).
    pub fn allow_raw_sockets(&self) -> bool {
        self.allow_raw_sockets
    }
    /// The NAT part of a NAT jail's network (`nat=on`).
    pub fn nat(&self) -> Option<&Nat> {
        self.nat.as_ref().into_option()
    }
    /// The network with `nat` as its NAT part (ioc sets it for `nat=on`).
    pub fn with_nat(mut self, nat: Nat) -> Network {
        self.nat = ROption::RSome(nat);
        self
    }
    /// `dhcp_server`: the jail is its network's DHCP server, so its Secure VNET ports let its
    /// DHCP server replies out ([`PortLearning::dhcp_server`](crate::PortLearning)).
    pub fn dhcp_server(&self) -> bool {
        self.dhcp_server
    }
}
