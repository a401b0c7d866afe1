//! `example`: an isolated network mode, written as a third party would write one.
//!
//! The jail gets its own network stack with only the loopback interface up: useful for build
//! or batch jails that must not reach any network. Use it with
//! `ioc set vnet=on network_plugin=example JAIL` after `ioc plugins enable example`.
//!
//! It reads an optional free-form property, `user.example.greeting`, to show how a plugin
//! takes its own settings, and logs through `tracing`, which reaches ioc's log.

use ioc_sdk::{tracing, Error, Host, Jail, NetworkMode, Result};

#[derive(Default)]
pub struct Isolated;

impl NetworkMode for Isolated {
    fn validate(&self, jail: &Jail, _host: &mut Host<'_>) -> Result<()> {
        let net = jail.network();
        if !net.vnet() {
            return Err(Error::new(
                "property 'vnet': the example mode gives the jail its own network stack; set vnet=on",
            ));
        }
        if !net.interfaces().is_empty() || net.addresses().next().is_some() {
            return Err(Error::new(
                "property 'interfaces': the example mode is isolated; leave interfaces, ip4_addr and ip6_addr empty",
            ));
        }
        Ok(())
    }

    fn setup(&self, jail: &Jail, host: &mut Host<'_>) -> Result<()> {
        let greeting = jail.property("user.example.greeting").unwrap_or("hello");
        tracing::info!(
            jail = jail.name(),
            jid = jail.jid(),
            "{greeting} from the example plugin"
        );
        host.loopback_up()?;
        Ok(())
    }
}

ioc_sdk::export_network_mode! {
    name: "example",
    description: "isolated: own network stack with loopback only (example third-party plugin)",
    mode: Isolated,
}

#[cfg(test)]
mod tests;
