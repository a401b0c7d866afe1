//! The `secure-vnet` network mode (`interfaces="vnet0::bridge0"`): VNET whose ports only pass
//! the jail's own MAC and addresses, enforced by the host's firewall backend.

use ioc_sdk::{Host, Jail, NetworkMode, Result};
use ioc_vnet_common::{setup, validate, Attach};

#[derive(Default)]
pub struct SecureVnet;

impl NetworkMode for SecureVnet {
    fn validate(&self, jail: &Jail, host: &mut Host<'_>) -> Result<()> {
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
