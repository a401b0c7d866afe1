//! The `vnet` network mode: a pair per `interfaces` entry, host end on the bridge.

use ioc_sdk::{Host, Jail, NetworkMode, Result};
use ioc_vnet_common::{setup, validate, Attach};

#[derive(Default)]
pub struct Vnet;

impl NetworkMode for Vnet {
    fn validate(&self, jail: &Jail, host: &mut Host<'_>) -> Result<()> {
        validate(jail, host, Attach::Bridge)
    }

    fn setup(&self, jail: &Jail, host: &mut Host<'_>) -> Result<()> {
        setup(jail, host, Attach::Bridge)
    }
}

ioc_sdk::export_network_mode! {
    name: "vnet",
    description: "VNET on a bridge: a pair per interface, host end on the bridge",
    mode: Vnet,
    serves: [ioc_sdk::NetworkShape::Vnet],
}

#[cfg(test)]
mod tests;
