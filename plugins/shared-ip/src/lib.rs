//! The `shared-ip` network mode (`vnet=off`): the jail shares the host's network stack, and
//! each `ip4_addr` / `ip6_addr` entry `IFACE|ADDRESS/PREFIX` is added to that host interface
//! while the jail runs.
//!
//! Only addresses ioc added are removed on stop: an address the host already had is used but
//! left in place (the established tool removed it, taking the host's own address away).

use ioc_sdk::{AddressKind, Error, Host, Jail, NetworkMode, Result, Side};

#[derive(Default)]
pub struct SharedIp;

fn property(kind: AddressKind, v6: bool) -> &'static str {
    match kind {
        AddressKind::Dhcp => "ip4_addr",
        AddressKind::AcceptRtadv => "ip6_addr",
        AddressKind::Static(_) if v6 => "ip6_addr",
        AddressKind::Static(_) => "ip4_addr",
    }
}

impl NetworkMode for SharedIp {
    fn validate(&self, jail: &Jail, host: &mut Host<'_>) -> Result<()> {
        let net = jail.network();
        if net.vnet() {
            return Err(Error::new(
                "property 'vnet': the shared-ip mode needs vnet=off (VNET jails use vnet or secure-vnet)",
            ));
        }
        for address in net.addresses() {
            let v6 = address.cidr().is_some_and(|c| c.is_v6());
            let prop = property(address.kind(), v6);
            match address.kind() {
                AddressKind::Dhcp | AddressKind::AcceptRtadv => {
                    let what = if address.kind() == AddressKind::Dhcp {
                        "dhcp"
                    } else {
                        "accept_rtadv"
                    };
                    return Err(Error::new(format!(
                        "property '{prop}': {}|{what} is not possible with vnet=off: a shared-IP jail uses the host's interfaces, so give a static address (or use VNET)",
                        address.nic()
                    )));
                }
                AddressKind::Static(_) => {
                    if !host.link_exists(Side::Host, address.nic())? {
                        return Err(Error::new(format!(
                            "property '{prop}': host interface {} does not exist",
                            address.nic()
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    fn setup(&self, jail: &Jail, host: &mut Host<'_>) -> Result<()> {
        for address in jail.network().addresses() {
            if let Some(cidr) = address.cidr() {
                let added = host.add_host_alias(address.nic(), cidr)?;
                if !added {
                    ioc_sdk::tracing::info!(
                        jail = jail.name(),
                        "{cidr} is already on {}; it stays there when the jail stops",
                        address.nic()
                    );
                }
            }
        }
        Ok(())
    }
}

ioc_sdk::export_network_mode! {
    name: "shared-ip",
    description: "Shared IP (vnet=off): addresses aliased on host interfaces, host network stack",
    mode: SharedIp,
    serves: [ioc_sdk::NetworkShape::SharedIp],
}

#[cfg(test)]
mod tests;
