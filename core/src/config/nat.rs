//! The NAT mode's view of a jail's configuration ([`NatConfig`]) and the checks that
//! single values cannot make ([`check`]), run with the other cross-property checks on every
//! change and before every start.

use std::net::{IpAddr, Ipv4Addr};

use super::nat_properties::{NAT, NAT_BACKEND, NAT_FORWARDS, NAT_INTERFACE, NAT_PREFIX};
use super::properties::{DEFAULTROUTER, INTERFACES, IP4_ADDR};
use super::resolve::ResolvedJail;
use super::syntax::{Forward, Ip4Addrs, NatBackend, NatPrefix, Syntax};
use super::value::Typed;
use crate::error::Error;

/// The NAT properties of a jail with `nat=on`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatConfig {
    /// The range /30 blocks are taken from.
    pub prefix: NatPrefix,
    /// The uplink, `None` for the interface of the IPv4 default route.
    pub interface: Option<String>,
    /// The forwarded ports.
    pub forwards: Vec<Forward>,
    /// The firewall plugin that does the NAT, `None` for the host's `firewall`.
    pub backend: Option<String>,
    /// The jail's address (the second of its /30): the one the user set or the one kept from
    /// the pool; `None` before the first start.
    pub address: Option<Ipv4Addr>,
    /// Whether the user set the address (`ip4_addr`) rather than the pool.
    pub user_set: bool,
}

/// The jail end of the /30 block holding `addr`: the block's second usable address.
pub fn jail_end(addr: Ipv4Addr) -> Ipv4Addr {
    Ipv4Addr::from((u32::from(addr) & !3) + 2)
}

/// The host end of the /30 block holding `addr`: the block's first usable address.
pub fn host_end(addr: Ipv4Addr) -> Ipv4Addr {
    Ipv4Addr::from((u32::from(addr) & !3) + 1)
}

impl ResolvedJail {
    /// The jail's NAT configuration, `None` when `nat=off`.
    pub fn nat(&self) -> Option<NatConfig> {
        if !self.get(NAT).0 {
            return None;
        }
        let address = self.ip4_addr().iter().find_map(|a| match a.cidr()?.ip() {
            IpAddr::V4(v4) => Some(v4),
            IpAddr::V6(_) => None,
        });
        Some(NatConfig {
            prefix: self.get(NAT_PREFIX),
            interface: self.get(NAT_INTERFACE).0,
            forwards: self.get(NAT_FORWARDS).0,
            backend: match self.get(NAT_BACKEND) {
                NatBackend::Firewall => None,
                NatBackend::Named(name) => Some(name),
            },
            address,
            user_set: address.is_some() && address != self.pool_address,
        })
    }
}

/// The NIC name of a NAT jail's pool address in `ip4_addr` (the jail end of its pair).
pub const NAT_NIC: &str = "vnet0";

/// The host interface a shared-IP NAT jail's alias lives on (a loopback: the address is
/// reached only through the NAT backend's forwards).
pub fn shared_nic(platform: ioc_sdk::Platform) -> &'static str {
    match platform {
        ioc_sdk::Platform::Linux => "lo",
        ioc_sdk::Platform::FreeBsd => "lo0",
    }
}

impl ResolvedJail {
    /// Shows the address kept for the jail in pool block `block` as its `ip4_addr`, when the
    /// jail is NATed, set no address itself and the block is still inside its `nat_prefix`
    /// (otherwise the next start allocates a new one).
    pub fn with_pool_block(mut self, block: Ipv4Addr) -> ResolvedJail {
        let fits = self
            .nat()
            .is_some_and(|nat| nat.address.is_none() && nat.prefix.contains(block));
        if fits {
            let address = jail_end(block);
            let text = if self.vnet() {
                format!("{NAT_NIC}|{address}/30")
            } else {
                format!("{}|{address}/32", shared_nic(ioc_sdk::Platform::current()))
            };
            if let Ok(value) = Ip4Addrs::parse(&text) {
                self.properties_mut().replace(IP4_ADDR.name(), value.wrap());
                self.pool_address = Some(address);
            }
        }
        self
    }
}

/// The cross-property checks of a NAT jail: no bridge or gateway of its own (the mode builds a
/// routed pair and routes through its host end), and a user-set address inside `nat_prefix`
/// at the jail end of a /30 block.
pub fn check(jail: &ResolvedJail) -> Vec<Error> {
    let Some(nat) = jail.nat() else {
        return Vec::new();
    };
    let refuse = |property: &str, reason: String| jail.refuse(property, reason);
    let mut errors = Vec::new();
    if !jail.interfaces().0.is_empty() {
        errors.push(refuse(
            INTERFACES.name(),
            format!(
                "expected none with nat=on (the NAT mode builds a routed pair, no bridge) but \
                 got {}",
                jail.interfaces().print()
            ),
        ));
    }
    if jail.defaultrouter().is_some() {
        errors.push(refuse(
            DEFAULTROUTER.name(),
            "expected none with nat=on (the jail's default route is the host end of its pair)"
                .to_string(),
        ));
    }
    let ip4 = jail.ip4_addr();
    let statics: Vec<_> = ip4.iter().filter_map(|a| a.cidr()).collect();
    if ip4.len() != statics.len() || statics.len() > 1 {
        errors.push(refuse(
            IP4_ADDR.name(),
            "expected none (an address from nat_prefix) or one static address inside nat_prefix \
             with nat=on"
                .to_string(),
        ));
    } else if let Some(IpAddr::V4(addr)) = statics.first().map(|c| c.ip()) {
        if !nat.prefix.contains(addr) || addr != jail_end(addr) {
            errors.push(refuse(
                IP4_ADDR.name(),
                format!(
                    "expected the jail end (second address) of a /30 inside nat_prefix {} such \
                     as {} but got {addr}",
                    nat.prefix.print(),
                    jail_end(nat.prefix.network())
                ),
            ));
        }
    }
    errors
}
