//! What an attachment's filter protects, found from `prevResult` and the host: the host-side
//! bridge port, the container's MAC, and the addresses it may use.

use std::fs::File;
use std::net::IpAddr;
use std::os::fd::AsFd;

use ioc_cni::{codes, CniError, CniResult, PluginRequest};
use ioc_core::host::linux::netlink::{LinkInfo, Netlink};
use ioc_sdk::Mac;

use crate::config::SecureConfig;

/// One attachment's port and what may cross it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The host-side interface (a bridge port) the filter hooks.
    pub port: String,
    /// The bridge it is a port of.
    pub bridge: String,
    /// The container interface's MAC: the only source it may use.
    pub mac: Mac,
    /// Its addresses (the result's, then `allowedAddresses`), without duplicates.
    pub addresses: Vec<IpAddr>,
}

/// Finds the target of `result` for the request's container interface. Everything that does
/// not fit (no host-side interface on a bridge, no MAC) is CNI error 7 naming what was found.
pub fn resolve(
    request: &PluginRequest,
    result: &CniResult,
    config: &SecureConfig,
) -> Result<Target, CniError> {
    let invalid = |msg: String| request.error(codes::INVALID_CONFIG, msg);
    let io = |what: &str, e: &dyn std::fmt::Display| {
        request.error(codes::IO_FAILURE, format!("{what}: {e}"))
    };
    let mut netlink = Netlink::open().map_err(|e| io("open rtnetlink", &e))?;
    let mut ports = Vec::new();
    let mut seen = Vec::new();
    for interface in result.host_interfaces() {
        let link = netlink
            .link(&interface.name)
            .map_err(|e| io("look up the host-side interfaces", &e))?;
        let bridge = match &link {
            Some(LinkInfo {
                master: Some(master),
                ..
            }) => netlink
                .link_by_index(*master)
                .map_err(|e| io("look up the host-side interfaces", &e))?
                .filter(|m| m.kind.as_deref() == Some("bridge")),
            _ => None,
        };
        let what = match (&link, &bridge) {
            (None, _) => "absent",
            (Some(l), _) if l.kind.as_deref() == Some("bridge") => "a bridge",
            (Some(_), None) => "not a bridge port",
            (Some(_), Some(_)) => "a bridge port",
        };
        seen.push(format!("{} ({what})", interface.name));
        if let Some(bridge) = bridge {
            ports.push((interface.name.clone(), bridge.name));
        }
    }
    let (port, bridge) = match ports.len() {
        1 => ports.remove(0),
        0 => {
            return Err(invalid(format!(
                "prevResult names no host-side interface that is a bridge port (found: {}); ioc-secure follows a plugin such as bridge that returns the container's host-side port",
                if seen.is_empty() { "none".to_string() } else { seen.join(", ") }
            )))
        }
        _ => {
            return Err(invalid(format!(
                "prevResult names several host-side bridge ports ({}); ioc-secure protects one port per attachment",
                seen.join(", ")
            )))
        }
    };
    ioc_plugin_nftables::layout::table(&port).map_err(|e| invalid(e.to_string()))?;
    let ifname = &request.invocation.ifname;
    let sandbox = result.sandbox_interface(ifname);
    let mac = match sandbox
        .map(|(_, i)| i.mac.as_str())
        .filter(|m| !m.is_empty())
    {
        Some(text) => text
            .parse::<Mac>()
            .map_err(|e| invalid(format!("prevResult: interface {ifname}: {e}")))?,
        None => container_mac(request).map_err(invalid)?,
    };
    let mut addresses: Vec<IpAddr> = Vec::new();
    let from_result = result.addresses_of(sandbox.map(|(index, _)| index));
    for address in from_result
        .into_iter()
        .map(|(a, _)| a)
        .chain(config.allowed.iter().copied())
    {
        if !addresses.contains(&address) {
            addresses.push(address);
        }
    }
    Ok(Target {
        port,
        bridge,
        mac,
        addresses,
    })
}

/// The MAC of the container's interface, read in its namespace, for results that do not say.
fn container_mac(request: &PluginRequest) -> Result<Mac, String> {
    let (netns, ifname) = (&request.invocation.netns, &request.invocation.ifname);
    let unknown = |why: String| {
        format!("prevResult gives no MAC for interface {ifname}, and it cannot be read from {netns}: {why}")
    };
    let ns = File::open(netns).map_err(|e| unknown(e.to_string()))?;
    let mut netlink = Netlink::open_in(ns.as_fd()).map_err(|e| unknown(e.to_string()))?;
    let link = netlink
        .link(ifname)
        .map_err(|e| unknown(e.to_string()))?
        .ok_or_else(|| unknown("no such interface".into()))?;
    link.mac
        .map(Mac)
        .ok_or_else(|| unknown("it has no Ethernet address".into()))
}
