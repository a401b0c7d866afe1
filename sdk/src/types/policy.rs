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
        }
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
