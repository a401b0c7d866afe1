//! The `vnet` network mode: a pair per `interfaces` entry, host end on the bridge.

use ioc_sdk::{Host, Jail, NetworkMode, Result};

#[derive(Default)]
pub struct Vnet;

impl NetworkMode for Vnet {
    fn setup(&self, jail: &Jail, _host: &mut Host<'_>) -> Result<()> {
        ioc_sdk::tracing::info!(jail = jail.name(), "vnet setup");
        Ok(())
    }
}

ioc_sdk::export_network_mode! {
    name: "vnet",
    description: "VNET on a bridge: a pair per interface, host end on the bridge",
    mode: Vnet,
}
