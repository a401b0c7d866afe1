//! From a jail's resolved configuration to what the lifecycle needs to start it.

use std::net::IpAddr;

use ioc_sdk::{AddressKind, Network};

use super::spec::{JailSpec, ModeChoice};
use crate::config::syntax::{NetworkPlugin, ResolvConf};
use crate::config::{root_properties, Hook, ResolvedJail};
use crate::step::{HookPoint, JailParams, JailRoot, RootMount};

/// The host file a `resolver=/etc/resolv.conf` jail gets a copy of.
const HOST_RESOLV_CONF: &str = "/etc/resolv.conf";

/// Every exec_* property with the point where it runs.
const HOOKS: [(Hook, HookPoint); 7] = [
    (Hook::Prestart, HookPoint::ExecPrestart),
    (Hook::Created, HookPoint::ExecCreated),
    (Hook::Start, HookPoint::ExecStart),
    (Hook::Poststart, HookPoint::ExecPoststart),
    (Hook::Prestop, HookPoint::ExecPrestop),
    (Hook::Stop, HookPoint::ExecStop),
    (Hook::Poststop, HookPoint::ExecPoststop),
];

/// Builds the start description of `jail`. `all` is every configured jail, to resolve
/// `depends` filters into names.
pub fn spec_for(jail: &ResolvedJail, all: &[ResolvedJail]) -> JailSpec {
    let network: Network = crate::pool::with_nat(jail, jail.network_spec().into());
    let name = jail.name().as_str().to_string();
    let mode = match jail.network_plugin() {
        NetworkPlugin::Auto => ModeChoice::Auto,
        NetworkPlugin::Named(plugin) => ModeChoice::Named(plugin.as_str().to_string()),
    };
    let depends_filter = jail.depends();
    let depends = if depends_filter.is_empty() {
        Vec::new()
    } else {
        depends_filter
            .select(all)
            .into_iter()
            .map(|j| j.name().as_str().to_string())
            .filter(|n| *n != name)
            .collect()
    };
    let hooks = HOOKS
        .iter()
        .filter_map(|(hook, point)| jail.hook(*hook).map(|cmd| (*point, cmd)))
        .collect();
    let params = JailParams {
        name: name.clone(),
        jid: 0,
        hostname: name.clone(),
        vnet: network.vnet(),
        ip4_addresses: shared_addresses(&network, false),
        ip6_addresses: shared_addresses(&network, true),
        ip4: network.ip4_mode(),
        ip6: network.ip6_mode(),
        ip4_saddrsel: network.ip4_saddrsel(),
        ip6_saddrsel: network.ip6_saddrsel(),
        allow_raw_sockets: network.allow_raw_sockets(),
        resolv_conf: resolv_conf(&jail.resolver(), &network),
        root: jail_root(jail),
    };
    JailSpec {
        name,
        firewall: jail.firewall().as_str().to_string(),
        properties: jail.properties_for_display(),
        params,
        mode,
        hooks,
        hook_env: jail.hook_env(),
        depends,
        network,
        priority: jail.priority(),
    }
}

/// The jail's own root from `path` and `mounts`; `mounts` means nothing without a `path`.
fn jail_root(jail: &ResolvedJail) -> Option<JailRoot> {
    let path = jail.get(root_properties::PATH).0?;
    let mounts = jail
        .get(root_properties::MOUNTS)
        .0
        .into_iter()
        .map(|m| RootMount {
            source: m.source,
            target: m.target,
            read_only: m.read_only,
        })
        .collect();
    Some(JailRoot { path, mounts })
}

/// The addresses a shared-IP jail is given by the kernel (FreeBSD `ip4.addr`); none for VNET.
fn shared_addresses(network: &Network, v6: bool) -> Vec<IpAddr> {
    if network.vnet() {
        return Vec::new();
    }
    let entries = if v6 { network.ip6() } else { network.ip4() };
    entries
        .iter()
        .filter_map(|a| a.cidr())
        .map(|c| c.ip())
        .collect()
}

/// The content of the jail's private resolv.conf. A jail running a DHCP client always gets a
/// private copy: the client rewrites resolv.conf, and on Linux the jail shares the host's file
/// system, so without one it would rewrite the host's.
fn resolv_conf(resolver: &ResolvConf, network: &Network) -> Option<String> {
    let host_copy = || std::fs::read_to_string(HOST_RESOLV_CONF).unwrap_or_default();
    let dhcp = network.addresses().any(|a| a.kind() == AddressKind::Dhcp);
    match resolver {
        ResolvConf::CopyHost => Some(host_copy()),
        ResolvConf::Keep if dhcp => Some(host_copy()),
        ResolvConf::Keep => None,
        ResolvConf::Lines(lines) => {
            let mut text: String = lines.iter().map(|l| l.print() + "\n").collect();
            if text.is_empty() {
                text.push('\n');
            }
            Some(text)
        }
    }
}
