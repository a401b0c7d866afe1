//! The `cni` mode's view of a jail's configuration ([`CniConfig`]) and the checks that
//! single values cannot make ([`check`]), run with the other cross-property checks on every
//! change and before every start.

use super::cni_properties::{
    CNI_BANDWIDTH, CNI_CONF_DIR, CNI_IFNAME, CNI_NETWORK, CNI_PATH, CNI_SECURE,
};
use super::nat_properties::NAT;
use super::properties::{DEFAULTROUTER, DEFAULTROUTER6, INTERFACES, IP4_ADDR, IP6_ADDR, VNET};
use super::resolve::ResolvedJail;
use super::syntax::{CniBandwidth, Ip4Addrs, Ip6Addrs, NetworkPlugin, Syntax};
use super::value::Typed;
use crate::error::Error;

/// The name of the CNI mode plugin (`network_plugin=cni`).
pub const CNI_MODE: &str = "cni";

/// The CNI properties of a `network_plugin=cni` jail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CniConfig {
    /// The network list's name; `None` only in a configuration [`check`] refuses.
    pub network: Option<String>,
    pub conf_dir: String,
    pub path: Vec<String>,
    pub ifname: String,
    pub secure: bool,
    pub bandwidth: CniBandwidth,
}

impl ResolvedJail {
    /// Whether the jail's network mode is the CNI one.
    pub fn is_cni(&self) -> bool {
        matches!(self.network_plugin(), NetworkPlugin::Named(name) if name.as_str() == CNI_MODE)
    }

    /// The jail's CNI configuration, `None` unless `network_plugin=cni`.
    pub fn cni(&self) -> Option<CniConfig> {
        if !self.is_cni() {
            return None;
        }
        Some(CniConfig {
            network: self.get(CNI_NETWORK).0,
            conf_dir: self.get(CNI_CONF_DIR).0,
            path: self.get(CNI_PATH).0,
            ifname: self.get(CNI_IFNAME).0,
            secure: self.get(CNI_SECURE).0,
            bandwidth: self.get(CNI_BANDWIDTH),
        })
    }

    /// The NICs that have MACs (`<nic>_mac`): those of `interfaces`, and `cni_ifname` for a
    /// CNI jail (its MAC goes to the plugins as runtimeConfig `mac`).
    pub fn mac_nics(&self) -> Vec<String> {
        let mut nics: Vec<String> = self.interfaces().0.into_iter().map(|p| p.nic).collect();
        if let Some(cni) = self.cni() {
            if !nics.contains(&cni.ifname) {
                nics.push(cni.ifname);
            }
        }
        nics
    }
}

/// The cross-property checks of a CNI jail: a network list named, its own network stack
/// (`vnet=on`), and nothing another mode would build (bridges, NAT, gateways: the network list
/// does it); static addresses only, each on `cni_ifname` (they become runtimeConfig `ips`).
pub fn check(jail: &ResolvedJail) -> Vec<Error> {
    let Some(cni) = jail.cni() else {
        return Vec::new();
    };
    let refuse = |property: &str, reason: String| jail.refuse(property, reason);
    let mut errors = Vec::new();
    if cni.network.is_none() {
        errors.push(refuse(
            CNI_NETWORK.name(),
            "expected the name of a CNI network list in cni_conf_dir with network_plugin=cni \
             but got none, e.g. ioc set cni_network=mynet JAIL"
                .to_string(),
        ));
    }
    if !jail.vnet() {
        errors.push(refuse(
            VNET.name(),
            "expected on with network_plugin=cni (CNI plugins attach the jail's own network \
             stack) but got off"
                .to_string(),
        ));
    }
    if !jail.interfaces().0.is_empty() {
        errors.push(refuse(
            INTERFACES.name(),
            format!(
                "expected none with network_plugin=cni (the CNI network creates cni_ifname) but \
                 got {}",
                jail.interfaces().print()
            ),
        ));
    }
    if jail.get(NAT).0 {
        errors.push(refuse(
            NAT.name(),
            "expected off with network_plugin=cni (port forwards of nat_forwards go to the \
             portmap plugin)"
                .to_string(),
        ));
    }
    for (key, set) in [
        (DEFAULTROUTER.name(), jail.defaultrouter().is_some()),
        (DEFAULTROUTER6.name(), jail.defaultrouter6().is_some()),
    ] {
        if set {
            errors.push(refuse(
                key,
                "expected none with network_plugin=cni (routes come from the CNI result)"
                    .to_string(),
            ));
        }
    }
    for (key, addresses, printed) in [
        (IP4_ADDR.name(), jail.ip4_addr(), jail.get(IP4_ADDR).print()),
        (IP6_ADDR.name(), jail.ip6_addr(), jail.get(IP6_ADDR).print()),
    ] {
        let wrong = addresses
            .iter()
            .any(|a| a.cidr().is_none() || a.nic() != cni.ifname);
        if wrong {
            errors.push(refuse(
                key,
                format!(
                    "expected none (the IPAM plugin's address) or static addresses on \
                     cni_ifname written {}|ADDRESS/PREFIX with network_plugin=cni but got {}",
                    cni.ifname, printed
                ),
            ));
        }
    }
    errors
}

impl ResolvedJail {
    /// The jail with the addresses it really has while it runs shown as its
    /// `ip4_addr`/`ip6_addr` (see [`crate::cni::reported`]): those its modes reported (a CNI
    /// result's) in place of the `none` it was configured with, the learned ones (DHCP leases,
    /// SLAAC addresses of a Secure VNET port) in front of their `dhcp`/`accept_rtadv`;
    /// unchanged when it is not running or nothing was reported or learned.
    pub fn with_reported(mut self, run: &crate::runtime::RunDir) -> ResolvedJail {
        let Some(observed) = crate::cni::reported::observe(run, self.name().as_str()) else {
            return self;
        };
        for (v6, key) in [(false, IP4_ADDR.name()), (true, IP6_ADDR.name())] {
            let configured = if v6 { self.ip6_addr() } else { self.ip4_addr() };
            let Some(entries) = observed.entries(&configured, v6) else {
                continue;
            };
            let text = entries.join(",");
            let value = if v6 {
                Ip6Addrs::parse(&text).map(Typed::wrap)
            } else {
                Ip4Addrs::parse(&text).map(Typed::wrap)
            };
            if let Ok(value) = value {
                self.properties_mut().replace(key, value);
            }
        }
        self
    }
}
