//! What a network mode asks a firewall backend to enforce on a jail's port.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use abi_stable::std_types::{ROption, RString, RVec};
use abi_stable::StableAbi;
use serde::{Deserialize, Serialize};

use super::address::{Ip, Mac};

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
    learn: PortLearning,
}

/// Addresses a Secure VNET port may use that are not known before the jail runs: learned by the
/// host from what servers on the bridge's other ports send toward the jail's MAC, never from
/// anything the jail sends (see [`HostOp::LearnAddresses`](crate::HostOp::LearnAddresses)).
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortLearning {
    /// The NIC takes its IPv4 address by DHCP (`ip4_addr="vnet0|dhcp"`): until it has a lease
    /// the jail may send only DHCP client traffic, and then only from its leased address.
    pub dhcp4: bool,
    /// The NIC takes IPv6 addresses by SLAAC (`ip6_addr="vnet0|accept_rtadv"`): router
    /// advertisements reach the jail, and it may use the EUI-64 address of its MAC in each
    /// advertised prefix, for the prefix's valid lifetime.
    pub slaac: bool,
    /// The jail is the network's DHCP server (property `dhcp_server`): its port may send DHCP
    /// server replies, which every other Secure VNET port drops.
    pub dhcp_server: bool,
}

impl PortLearning {
    /// True when the host must learn addresses for the port (DHCP or SLAAC).
    pub fn any(&self) -> bool {
        self.dhcp4 || self.slaac
    }
}

impl PortPolicy {
    #[allow(clippy::too_many_arguments)]
    /// Built by a network mode for [`Host::protect_port`](crate::Host::protect_port); the
    /// addresses are split by family here so each backend gets per-family lists.
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
            learn: PortLearning::default(),
        }
    }
    /// The same policy, with addresses learned at run time as `learn` says.
    pub fn with_learning(mut self, learn: PortLearning) -> PortPolicy {
        self.learn = learn;
        self
    }
    /// What the host learns for this port, beyond its static addresses.
    pub fn learning(&self) -> PortLearning {
        self.learn
    }
    /// The jail's name, for rule comments and table names.
    pub fn jail(&self) -> &str {
        &self.jail
    }
    /// The jail's JID, which keeps per-jail rule numbers and names unique (ipfw uses it).
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
    /// The only IPv4 source (and ARP sender) addresses allowed from the jail.
    pub fn ipv4(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.ipv4.iter().filter_map(|ip| match ip.get() {
            IpAddr::V4(v4) => Some(v4),
            IpAddr::V6(_) => None,
        })
    }
    /// The only IPv6 source addresses allowed from the jail (its link-local address is
    /// derived from [`mac`](Self::mac) by the backend).
    pub fn ipv6(&self) -> impl Iterator<Item = Ipv6Addr> + '_ {
        self.ipv6.iter().filter_map(|ip| match ip.get() {
            IpAddr::V6(v6) => Some(v6),
            IpAddr::V4(_) => None,
        })
    }
    /// The MTU of the port, for backends that create interfaces of their own on the path.
    pub fn mtu(&self) -> Option<u32> {
        self.mtu.into_option()
    }
}
