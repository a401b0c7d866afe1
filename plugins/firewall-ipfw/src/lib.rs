//! The `ipfw` firewall backend.

use ioc_sdk::{Error, Firewall, Host, Jail, Platform, PortPolicy, Result};

#[derive(Default)]
pub struct Backend;

impl Firewall for Backend {
    fn check_ready(&self, _jail: &Jail, _host: &mut Host<'_>) -> Result<()> {
        Err(Error::new("the ipfw backend cannot enforce policies yet"))
    }

    fn install(&self, _jail: &Jail, _policy: &PortPolicy, _host: &mut Host<'_>) -> Result<()> {
        Err(Error::new("the ipfw backend cannot enforce policies yet"))
    }

    fn remove(&self, _jail: &Jail, _policy: &PortPolicy, _host: &mut Host<'_>) -> Result<()> {
        Ok(())
    }
}

ioc_sdk::export_firewall! {
    name: "ipfw",
    description: "ipfw layer-2 rules on a per-jail bridge (FreeBSD)",
    backend: Backend,
    platforms: [Platform::FreeBsd],
}
