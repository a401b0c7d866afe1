//! What the jail gets from the final CNI result: the addresses ioc shows for it, the DNS of
//! its resolv.conf, and, with `cni_secure=on`, the port policy of its host-side interface.

use std::net::IpAddr;

use ioc_cni::CniResult;
use ioc_sdk::{Cidr, Error, JailDns, Mac, Result};

/// The parts of a result the mode acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The addresses of the jail's interface (and those the result gives no interface).
    pub addresses: Vec<Cidr>,
    /// The result's DNS, `None` when it names none.
    pub dns: Option<JailDns>,
    /// The jail interface's MAC as the result names it.
    pub mac: Option<Mac>,
}

/// Reads the final result of `network` for interface `ifname`.
pub fn outcome(network: &str, ifname: &str, text: &str) -> Result<Outcome> {
    let result = parse(network, text)?;
    let sandbox = result.sandbox_interface(ifname);
    let addresses = result
        .addresses_of(sandbox.map(|(index, _)| index))
        .into_iter()
        .map(|(ip, prefix)| Cidr::new(ip, prefix))
        .collect();
    let dns = (!result.dns.is_empty()).then(|| JailDns {
        nameservers: result
            .dns
            .nameservers
            .iter()
            .filter_map(|n| n.parse::<IpAddr>().ok())
            .collect(),
        domain: result.dns.domain.clone(),
        search: result.dns.search.clone(),
        options: result.dns.options.clone(),
    });
    Ok(Outcome {
        addresses,
        dns,
        mac: sandbox.and_then(|(_, i)| i.mac.parse().ok()),
    })
}

/// The host side of a `cni_secure=on` jail: the port to filter (the host interface the result
/// lists last before the jail's, as `bridge` and `ptp` do) and the bridge it is on (a host
/// interface listed before the port, as `bridge` lists its bridge first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostSide {
    pub port: String,
    pub bridge: Option<String>,
}

/// Finds the host side of the jail's interface in the result, refusing when there is none
/// (macvlan, ipvlan: nothing on the host to filter).
pub fn host_side(network: &str, ifname: &str, text: &str) -> Result<HostSide> {
    let result = parse(network, text)?;
    let before = match result.sandbox_interface(ifname) {
        Some((index, _)) => &result.interfaces[..index],
        None => &result.interfaces[..],
    };
    let host: Vec<&str> = before
        .iter()
        .filter(|i| !i.in_sandbox())
        .map(|i| i.name.as_str())
        .collect();
    match host.as_slice() {
        [] => Err(Error::new(format!(
            "property 'cni_secure': expected off for network {network}: its CNI result names no \
             host-side interface for {ifname} to filter (a bridge or ptp network has one; \
             macvlan and ipvlan do not)"
        ))),
        [port] => Ok(HostSide {
            port: port.to_string(),
            bridge: None,
        }),
        [bridge, .., port] => Ok(HostSide {
            port: port.to_string(),
            bridge: Some(bridge.to_string()),
        }),
    }
}

fn parse(network: &str, text: &str) -> Result<CniResult> {
    CniResult::from_json(text)
        .map_err(|e| Error::new(format!("CNI result of network {network}: {e}")))
}
