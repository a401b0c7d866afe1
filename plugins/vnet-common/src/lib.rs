//! What the `vnet` and `secure-vnet` modes share.
//!
//! Both give the jail one pair per `interfaces` entry: the host end stays on the host, the
//! other end moves into the jail and takes the NIC's name. They differ only in how the host end
//! reaches the bridge: plain VNET adds it to the bridge, Secure VNET hands it to the firewall
//! backend, which filters it and attaches it (see [`Attach`]).

use std::collections::BTreeSet;

use ioc_sdk::names::link_name;
use ioc_sdk::{
    AddressKind, Error, Host, Jail, Network, Nic, PairSpec, PortLearning, PortPolicy, Result, Side,
};

/// How a jail's port reaches its bridge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attach {
    /// `bridge addm port` (vnet).
    Bridge,
    /// Through the firewall backend, with a whitelist of the jail's MAC and addresses.
    Firewall,
}

/// The host-side name of a NIC's pair (`vnet0:5` on FreeBSD, `vnet0.5` on Linux).
pub fn host_end(jail: &Jail, nic: &Nic) -> String {
    link_name(jail.platform(), nic.name(), jail.jid(), &[])
}

/// The jail end's name before it moves into the jail (`vnet0:5:j`).
pub fn jail_end(jail: &Jail, nic: &Nic) -> String {
    link_name(jail.platform(), nic.name(), jail.jid(), &["j"])
}

/// Checks everything a VNET start needs that the config parser cannot know.
pub fn validate(jail: &Jail, host: &mut Host<'_>, attach: Attach) -> Result<()> {
    let net = jail.network();
    if !net.vnet() {
        return Err(Error::new(
            "property 'vnet': this network mode needs vnet=on (vnet=off jails use shared-ip)",
        ));
    }
    if net.interfaces().is_empty() {
        return Err(Error::new(
            "property 'interfaces': VNET is enabled but no interfaces are set (expected e.g. interfaces=\"vnet0:bridge0\")",
        ));
    }
    let mut seen = BTreeSet::new();
    for nic in net.interfaces() {
        if !seen.insert(nic.name()) {
            return Err(Error::new(format!(
                "property 'interfaces': NIC {} is named twice",
                nic.name()
            )));
        }
        let Some(bridge) = nic.bridge() else {
            return Err(Error::new(format!(
                "property 'interfaces': VNET is enabled and requires setting a bridge (NIC {} has none)",
                nic.name()
            )));
        };
        match (attach, nic.secure()) {
            (Attach::Bridge, true) => {
                return Err(Error::new(format!(
                    "property 'interfaces': {}::{bridge} asks for Secure VNET, which the vnet mode does not provide; use network_plugin=auto or secure-vnet",
                    nic.name()
                )))
            }
            (Attach::Firewall, false) => {
                return Err(Error::new(format!(
                    "property 'interfaces': {}:{bridge} is a plain VNET pair; Secure VNET needs {}::{bridge}",
                    nic.name(),
                    nic.name()
                )))
            }
            _ => {}
        }
        if !host.link_exists(Side::Host, bridge)? {
            return Err(Error::new(format!("VNET bridge {bridge} does not exist")));
        }
    }
    for address in net.addresses() {
        if net.interface(address.nic()).is_none() {
            let property = if matches!(address.kind(), AddressKind::Static(c) if c.is_v6())
                || address.kind() == AddressKind::AcceptRtadv
            {
                "ip6_addr"
            } else {
                "ip4_addr"
            };
            return Err(Error::new(format!(
                "property '{property}': NIC {} is not in interfaces",
                address.nic()
            )));
        }
    }
    for (property, gateway, v6) in [
        ("defaultrouter", net.defaultrouter(), false),
        ("defaultrouter6", net.defaultrouter6(), true),
    ] {
        let Some(gateway) = gateway else { continue };
        match gateway.nic() {
            Some(nic) if net.interface(nic).is_none() => {
                return Err(Error::new(format!(
                    "property '{property}': NIC {nic} is not in interfaces"
                )));
            }
            Some(_) => {}
            // Setup adds the default route before DHCP or SLAAC configure anything, so a
            // gateway that no static address puts on a link cannot be reached then: the start
            // would fail half-way. Refuse it now.
            None if !has_static(net, v6) => {
                let (family, learned) = if v6 {
                    ("IPv6", "router advertisements")
                } else {
                    ("IPv4", "DHCP")
                };
                return Err(Error::new(format!(
                    "property '{property}': {} cannot be reached when the jail starts, because no NIC has a static {family} address ({learned} set the default route by themselves); set {property}=none, or name the NIC it is on: {property}={}@NIC",
                    gateway.ip(),
                    gateway.ip()
                )));
            }
            None => {}
        }
    }
    Ok(())
}

/// Does any NIC of the jail have a static address of that family?
fn has_static(net: &Network, v6: bool) -> bool {
    net.addresses()
        .any(|a| matches!(a.kind(), AddressKind::Static(c) if c.is_v6() == v6))
}

/// Builds the jail's network: pairs, bridge or firewall, addresses in written order, loopback,
/// default routes, then DHCP and router advertisements.
pub fn setup(jail: &Jail, host: &mut Host<'_>, attach: Attach) -> Result<()> {
    let net = jail.network();
    for nic in net.interfaces() {
        let bridge = nic.bridge().unwrap_or_default();
        let mtu = host
            .link_mtu(bridge)?
            .ok_or_else(|| Error::new(format!("VNET bridge {bridge} does not exist")))?;
        let (host_if, peer) = (host_end(jail, nic), jail_end(jail, nic));
        host.create_pair(&PairSpec {
            host: &host_if,
            peer: &peer,
            peer_in_jail: true,
            host_mac: Some(nic.host_mac()),
            peer_mac: Some(nic.jail_mac()),
            mtu: Some(mtu),
            description: &format!("associated with jail: {}", jail.name()),
        })?;
        match attach {
            Attach::Bridge => host.add_bridge_members(bridge, &[&host_if])?,
            Attach::Firewall => host.protect_port(
                PortPolicy::new(
                    jail.name(),
                    jail.jid(),
                    nic.name(),
                    &host_if,
                    bridge,
                    nic.jail_mac(),
                    net.static_addresses(nic.name()).map(|c| c.ip()),
                    Some(mtu),
                )
                .with_learning(learning(net, nic.name())),
            )?,
        }
        host.move_to_jail(&peer)?;
        if !wants_ipv6(net, nic.name()) {
            host.disable_ipv6(&peer)?;
        }
        host.rename_link(Side::Jail, &peer, nic.name())?;
        for cidr in net.static_addresses(nic.name()) {
            host.add_address(nic.name(), cidr)?;
        }
    }
    host.loopback_up()?;
    for gateway in [net.defaultrouter(), net.defaultrouter6()]
        .into_iter()
        .flatten()
    {
        if let Some(nic) = gateway.nic() {
            host.add_link_route(gateway.ip(), nic)?;
        }
        host.add_default_route(gateway.ip(), gateway.nic())?;
    }
    for address in net.addresses() {
        match address.kind() {
            AddressKind::Dhcp => host.start_dhcp(address.nic())?,
            AddressKind::AcceptRtadv => host.accept_router_advertisements(address.nic())?,
            AddressKind::Static(_) => {}
        }
    }
    ioc_sdk::tracing::debug!(jail = jail.name(), jid = jail.jid(), "network ready");
    Ok(())
}

/// Whether the jail uses IPv6 on NIC `nic`: a static IPv6 address or `accept_rtadv` on it, or
/// `defaultrouter6` through it. A NIC without any keeps IPv6 off, as FreeBSD does by default
/// (`ipv6_activate_all_interfaces=NO`): no link-local address, so none of the duplicate address
/// detection, multicast listener reports and router solicitations that a bridge floods to all
/// its ports, which would make every start cost more the more jails share the bridge.
pub fn wants_ipv6(net: &Network, nic: &str) -> bool {
    let addressed = net.addresses().filter(|a| a.nic() == nic).any(|a| {
        matches!(a.kind(), AddressKind::AcceptRtadv)
            || matches!(a.kind(), AddressKind::Static(c) if c.is_v6())
    });
    // A gateway without a NIC is reached through a NIC with a static IPv6 address (validate
    // refuses it otherwise), which keeps IPv6 anyway.
    let routed = net.defaultrouter6().and_then(|g| g.nic()) == Some(nic);
    addressed || routed
}

/// What the host learns for a Secure VNET port: a DHCP lease when the NIC takes its IPv4
/// address by DHCP, SLAAC addresses when it accepts router advertisements. The jail itself
/// runs its DHCP client and takes RAs exactly as on plain VNET; the host only watches the
/// servers' replies to let the learned addresses through.
pub fn learning(net: &Network, nic: &str) -> PortLearning {
    let kinds: Vec<AddressKind> = net
        .addresses()
        .filter(|a| a.nic() == nic)
        .map(|a| a.kind())
        .collect();
    PortLearning {
        dhcp4: kinds.contains(&AddressKind::Dhcp),
        slaac: kinds.contains(&AddressKind::AcceptRtadv),
        dhcp_server: net.dhcp_server(),
    }
}

#[cfg(test)]
mod tests;
