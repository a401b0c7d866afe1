//! The `secure-vnet` network mode (`interfaces="vnet0::bridge0"`): VNET whose ports only pass
//! the jail's own MAC and addresses, enforced by the host's firewall backend. Addresses taken by
//! DHCP or SLAAC are learned by the host at run time and pass for as long as they are valid.

use ioc_sdk::{Host, Jail, NetworkMode, Result};
use ioc_vnet_common::{setup, validate, Attach};

#[derive(Default)]
pub struct SecureVnet;

impl NetworkMode for SecureVnet {
    fn validate(&self, jail: &Jail, host: &mut Host<'_>) -> Result<()> {
        // DHCP leases and SLAAC addresses are learned by the host from the servers' replies
        // toward the port (`PortPolicy::learning`), never from the jail: they are no reason
        // to refuse, the firewall backend says whether it can learn them.
        validate(jail, host, Attach::Firewall)?;
        // Every port goes to the firewall backend: it must be ready before anything changes.
        host.check_firewall()?;
        Ok(())
    }

    fn setup(&self, jail: &Jail, host: &mut Host<'_>) -> Result<()> {
        setup(jail, host, Attach::Firewall)
    }
}

ioc_sdk::export_network_mode! {
    name: "secure-vnet",
    description: "Secure VNET: VNET whose ports pass only the jail's own MAC and IPs",
    mode: SecureVnet,
    serves: [ioc_sdk::NetworkShape::SecureVnet],
}

#[cfg(test)]
mod tests;
