//! The `cni` network mode (issue 13): the jail joins a CNI network list (`cni_network`).
//!
//! The mode decides, the host does: it builds the jail's [`ioc_sdk::CniAttachment`] (the
//! list, `CNI_CONTAINERID` `ioc-<jail>`, `cni_ifname`, and the runtimeConfig of ioc's values:
//! `portMappings` from `nat_forwards`, `mac` from `<cni_ifname>_mac`, `ips` from static
//! `ip4_addr`/`ip6_addr`, `bandwidth` from `cni_bandwidth`) and asks the host to run it
//! ([`Host::cni_add`]); the host runs the plugins, journals the list and the result, and runs
//! `DEL` on stop, rollback and crash recovery. From the final result the mode reports the
//! jail's addresses (shown by `ioc list` and `ioc get`), writes its resolv.conf when `resolver`
//! is the default and the result has DNS, and with `cni_secure=on` hands the result's
//! host-side port to the firewall backend with the jail's MAC and the result's addresses.
//!
//! The mode never serves `network_plugin=auto`: a jail names it.

mod attachment;
mod result;
mod settings;

use std::collections::BTreeMap;

use ioc_sdk::{CniValid, Error, Host, Jail, NetworkMode, PortPolicy, Result};

pub use attachment::{attachment, container_id, runtime_config};
pub use result::{host_side, outcome, HostSide, Outcome};
pub use settings::{bandwidth, forwards, Forward, Rate, Settings};

/// The `cni` mode.
#[derive(Default)]
pub struct CniMode;

impl NetworkMode for CniMode {
    fn validate(&self, jail: &Jail, host: &mut Host<'_>) -> Result<()> {
        let settings = Settings::of(jail)?;
        // The list is there and parses: a missing or broken one stops the start before
        // anything changes.
        host.cni_find_list(&attachment(jail, &settings)?)?;
        if settings.secure {
            host.check_firewall()?;
        }
        Ok(())
    }

    fn setup(&self, jail: &Jail, host: &mut Host<'_>) -> Result<()> {
        let settings = Settings::of(jail)?;
        let text = host.cni_add(&attachment(jail, &settings)?)?;
        let outcome = outcome(&settings.network, &settings.ifname, &text)?;
        if !outcome.addresses.is_empty() {
            host.report_addresses(&settings.ifname, &outcome.addresses)?;
        }
        if let (true, Some(dns)) = (settings.default_resolver, &outcome.dns) {
            host.set_jail_dns(dns)?;
        }
        if settings.secure {
            protect(jail, &settings, &outcome, &text, host)?;
        }
        ioc_sdk::tracing::debug!(
            jail = jail.name(),
            network = settings.network.as_str(),
            "CNI network ready"
        );
        Ok(())
    }

    fn check(&self, jail: &Jail, host: &mut Host<'_>) -> Result<()> {
        let settings = Settings::of(jail)?;
        host.cni_check(&attachment(jail, &settings)?)?;
        Ok(())
    }

    /// One `GC` per network list the host's CNI jails use, naming the running jails'
    /// attachments as valid.
    fn gc(&self, jails: &[Jail], host: &mut Host<'_>) -> Result<()> {
        let mut lists: BTreeMap<(String, String), (ioc_sdk::CniAttachment, Vec<CniValid>)> =
            BTreeMap::new();
        for jail in jails {
            let Ok(settings) = Settings::of(jail) else {
                continue;
            };
            let attachment = attachment(jail, &settings)?;
            let key = (settings.conf_dir.clone(), settings.network.clone());
            let entry = lists
                .entry(key)
                .or_insert_with(|| (attachment.clone(), Vec::new()));
            if jail.jid() != 0 {
                entry.1.push(CniValid {
                    container_id: attachment.container_id.clone(),
                    ifname: attachment.ifname.clone(),
                });
            }
        }
        for (attachment, valid) in lists.values() {
            host.cni_gc(attachment, valid)?;
        }
        Ok(())
    }
}

/// `cni_secure=on`: the firewall backend filters the result's host-side port so only the
/// jail's MAC and the result's addresses pass.
fn protect(
    jail: &Jail,
    settings: &Settings,
    outcome: &Outcome,
    text: &str,
    host: &mut Host<'_>,
) -> Result<()> {
    let side = host_side(&settings.network, &settings.ifname, text)?;
    let Some(bridge) = side.bridge else {
        return Err(Error::new(format!(
            "property 'cni_secure': expected off for network {}: its CNI result names no \
             bridge for port {} (the firewall backend filters bridge ports; use a bridge network)",
            settings.network, side.port
        )));
    };
    let Some(mac) = outcome.mac.or(settings.mac) else {
        return Err(Error::new(format!(
            "property 'cni_secure': the CNI result of network {} names no MAC for {}",
            settings.network, settings.ifname
        )));
    };
    let addresses = outcome.addresses.iter().map(|c| c.ip());
    host.protect_port(PortPolicy::new(
        jail.name(),
        jail.jid(),
        &settings.ifname,
        &side.port,
        &bridge,
        mac,
        addresses,
        None,
    ))?;
    Ok(())
}

ioc_sdk::export_network_mode! {
    name: "cni",
    description: "A CNI network list (cni_network) run for the jail: any chain of CNI plugins (bridge, ptp, macvlan, bandwidth, portmap...)",
    mode: CniMode,
}

#[cfg(test)]
mod tests;
