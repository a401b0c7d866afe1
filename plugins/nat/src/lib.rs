//! The `nat` network mode (issue 12): a jail behind the host's uplink address.
//!
//! With `vnet=on` the jail gets a routed pair and no bridge (iocage's layout): the host end
//! takes the first address of the jail's /30 (allocated by ioc from `nat_prefix`, kept across
//! restarts), the jail end the second, and the jail's default route points at the host end.
//! With `vnet=off` the second address is an alias on the host's loopback ([`setup_shared`]).
//! IPv4 forwarding is held on for the host end and the uplink ([`Host::enable_forwarding`]:
//! ioc counts the holders and switches back off only what it switched on). The masquerade and
//! the port forwards are the NAT backend's (`nat_backend`, by default the host's `firewall`),
//! asked for with [`Host::nat_jail`].
//! Everything is journaled by ioc, so stop, rollback and crash cleanup take it back.

use std::net::IpAddr;

use ioc_sdk::names::link_name;
use ioc_sdk::{
    Cidr, Error, Host, Jail, Nat, NatRequest, NetworkMode, PairSpec, Platform, Result, Side,
};

/// The jail-side name of the pair when `ip4_addr` names none (the pool address is `vnet0|...`).
const DEFAULT_NIC: &str = "vnet0";

/// The `nat` mode.
#[derive(Default)]
pub struct NatMode;

fn nat_of(jail: &Jail) -> Result<&Nat> {
    jail.network()
        .nat()
        .ok_or_else(|| Error::new("property 'nat': the nat network mode needs nat=on"))
}

/// The jail's NIC: the one its address is written for.
fn nic_of(jail: &Jail) -> &str {
    jail.network()
        .ip4()
        .first()
        .map(|a| a.nic())
        .unwrap_or(DEFAULT_NIC)
}

impl NetworkMode for NatMode {
    fn validate(&self, jail: &Jail, host: &mut Host<'_>) -> Result<()> {
        let nat = nat_of(jail)?;
        let Some(uplink) = nat.uplink() else {
            return Err(Error::new(
                "property 'nat_interface': none is set and the host has no IPv4 default route; \
                 expected the uplink interface, e.g. nat_interface=eth0",
            ));
        };
        if !host.link_exists(Side::Host, uplink)? {
            return Err(Error::new(format!(
                "property 'nat_interface': the uplink {uplink} does not exist on the host"
            )));
        }
        Ok(())
    }

    fn setup(&self, jail: &Jail, host: &mut Host<'_>) -> Result<()> {
        let nat = nat_of(jail)?;
        if !jail.network().vnet() {
            return setup_shared(jail, nat, host);
        }
        let nic = nic_of(jail);
        let host_if = link_name(jail.platform(), nic, jail.jid(), &[]);
        let peer = link_name(jail.platform(), nic, jail.jid(), &["j"]);
        host.create_pair(&PairSpec {
            host: &host_if,
            peer: &peer,
            peer_in_jail: true,
            description: &format!("NAT pair of jail: {}", jail.name()),
            ..PairSpec::default()
        })?;
        host.add_host_alias(&host_if, Cidr::new(nat.host_address(), 30))?;
        host.move_to_jail(&peer)?;
        host.rename_link(Side::Jail, &peer, nic)?;
        host.add_address(nic, Cidr::new(nat.jail_address(), 30))?;
        host.loopback_up()?;
        host.add_default_route(IpAddr::V4(nat.host_address()), Some(nic))?;
        // Forwarding for packets from the jail (its host end) and back in (the uplink); on
        // FreeBSD the switch is host-wide, so once is enough.
        if jail.platform() == Platform::Linux {
            host.enable_forwarding(&host_if)?;
        }
        if let Some(uplink) = nat.uplink() {
            host.enable_forwarding(uplink)?;
        }
        host.nat_jail(NatRequest {
            jail: jail.name().into(),
            jid: jail.jid(),
            link: host_if.as_str().into(),
            nat: nat.clone(),
        })?;
        ioc_sdk::tracing::debug!(jail = jail.name(), jid = jail.jid(), "NAT network ready");
        Ok(())
    }
}

/// A shared-IP NAT jail (`vnet=off`): its address is an alias on the host's loopback (the
/// jail's `ip4.addr` on FreeBSD), masqueraded and forwarded to like a VNET NAT jail's. Its
/// traffic never crosses a routed interface, so no forwarding switch is needed.
fn setup_shared(jail: &Jail, nat: &Nat, host: &mut Host<'_>) -> Result<()> {
    let loopback = match jail.platform() {
        Platform::Linux => "lo",
        Platform::FreeBsd => "lo0",
    };
    host.add_host_alias(loopback, Cidr::new(nat.jail_address(), 32))?;
    host.nat_jail(NatRequest {
        jail: jail.name().into(),
        jid: jail.jid(),
        link: loopback.into(),
        nat: nat.clone(),
    })?;
    ioc_sdk::tracing::debug!(jail = jail.name(), "shared-IP NAT ready");
    Ok(())
}

ioc_sdk::export_network_mode! {
    name: "nat",
    description: "NAT behind the host's uplink: a routed pair from nat_prefix, masquerade and port forwards through the NAT backend",
    mode: NatMode,
    serves: [ioc_sdk::NetworkShape::Nat],
}

#[cfg(test)]
mod tests;
