//! The `pf` firewall backend.

use ioc_sdk::{Error, Firewall, Host, Jail, Platform, PortPolicy, Result};

#[derive(Default)]
pub struct Backend;

impl Firewall for Backend {
    fn check_ready(&self, _jail: &Jail, _host: &mut Host<'_>) -> Result<()> {
        Err(Error::new("the pf backend cannot enforce policies yet"))
    }

    fn install(&self, _jail: &Jail, _policy: &PortPolicy, _host: &mut Host<'_>) -> Result<()> {
        Err(Error::new("the pf backend cannot enforce policies yet"))
    }

    fn remove(&self, _jail: &Jail, _policy: &PortPolicy, _host: &mut Host<'_>) -> Result<()> {
        Ok(())
    }
}

ioc_sdk::export_firewall! {
    name: "pf",
    description: "pf ether rules in a per-jail anchor (FreeBSD 14+)",
    backend: Backend,
    platforms: [Platform::FreeBsd],
}
