//! What `ADD` returns: the interfaces a chain made, their IP addresses, routes and DNS.
//!
//! Results come from plugins, so they are untrusted: [`CniResult::from_value`] checks every
//! address, prefix length and interface index, and reads both the 0.4.0 form (each IP has a
//! `version`) and the 1.x form. [`CniResult::to_value`] writes the form of a given version.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::version::Version;

/// Why a result is not a valid CNI result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResultError {
    /// The JSON does not have the result's shape.
    #[error("the result is not a CNI result: {0}")]
    Shape(String),
    /// `cniVersion` is missing or not a version.
    #[error("the result's cniVersion {0:?} is not a CNI version")]
    Version(String),
    /// An address is not `IP/PREFIX` (`ips[N].address`, `routes[N].dst`).
    #[error(
        "{field}: {value:?} is not an address with a prefix length (expected e.g. 10.1.0.5/24)"
    )]
    Cidr {
        /// Which field, e.g. `ips[0].address`.
        field: String,
        /// What it held.
        value: String,
    },
    /// An address is not an IP (`gateway`, `gw`, `dns.nameservers[N]`).
    #[error("{field}: {value:?} is not an IP address")]
    Ip {
        /// Which field.
        field: String,
        /// What it held.
        value: String,
    },
    /// `ips[N].interface` points past the `interfaces` list.
    #[error("ips[{ip}].interface is {index}, but the result has {count} interfaces")]
    InterfaceIndex {
        /// The IP's index.
        ip: usize,
        /// The interface index it names.
        index: usize,
        /// How many interfaces there are.
        count: usize,
    },
}

/// An interface a plugin created or configured.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interface {
    /// The interface's name (in the sandbox when `sandbox` is set).
    pub name: String,
    /// Its MAC address, when it has one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac: String,
    /// Its MTU (1.1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// The network namespace path (or, on FreeBSD, the jail's name) it is in; empty for an
    /// interface on the host.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sandbox: String,
    /// A vhost-user socket path (1.1.0).
    #[serde(
        rename = "socketPath",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub socket_path: String,
    /// A PCI device id (1.1.0).
    #[serde(rename = "pciID", default, skip_serializing_if = "String::is_empty")]
    pub pci_id: String,
}

impl Interface {
    /// Is this interface inside the container (as opposed to on the host)?
    pub fn in_sandbox(&self) -> bool {
        !self.sandbox.is_empty()
    }
}

/// One IP address of the result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpConfig {
    /// `IP/PREFIX`.
    pub address: String,
    /// The default gateway of this subnet, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// The index in `interfaces` of the interface that has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<usize>,
}

impl IpConfig {
    /// The address and its prefix length (checked by [`CniResult::from_value`]).
    pub fn cidr(&self) -> Option<(IpAddr, u8)> {
        parse_cidr(&self.address)
    }

    /// The gateway, if any and valid.
    pub fn gateway_ip(&self) -> Option<IpAddr> {
        self.gateway.as_deref().and_then(|g| g.parse().ok())
    }
}

/// A route the result asks for in the sandbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// The destination, `IP/PREFIX` (`0.0.0.0/0` for the default route).
    pub dst: String,
    /// The next hop; absent means the gateway of the matching IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gw: Option<String>,
    /// The route's MTU (1.1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// TCP advertised MSS (1.1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advmss: Option<u32>,
    /// The route's priority (1.1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
    /// The routing table (1.1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<u32>,
    /// The route's scope (1.1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<u32>,
}

impl Route {
    /// The destination and prefix length (checked by [`CniResult::from_value`]).
    pub fn destination(&self) -> Option<(IpAddr, u8)> {
        parse_cidr(&self.dst)
    }

    /// Is this a default route (prefix length 0)?
    pub fn is_default(&self) -> bool {
        self.destination().is_some_and(|(_, len)| len == 0)
    }
}

/// DNS settings for the sandbox.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dns {
    /// Name servers, in order of preference.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nameservers: Vec<String>,
    /// The local domain.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub domain: String,
    /// Search domains.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub search: Vec<String>,
    /// resolv.conf options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

impl Dns {
    /// No DNS settings at all.
    pub fn is_empty(&self) -> bool {
        self.nameservers.is_empty()
            && self.domain.is_empty()
            && self.search.is_empty()
            && self.options.is_empty()
    }
}

/// An `ADD` result, in the 1.x shape whatever version it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CniResult {
    /// The version the result was written in.
    pub cni_version: Version,
    /// Interfaces created or configured.
    pub interfaces: Vec<Interface>,
    /// Addresses assigned.
    pub ips: Vec<IpConfig>,
    /// Routes for the sandbox.
    pub routes: Vec<Route>,
    /// DNS settings.
    pub dns: Dns,
}

/// The JSON shape, both versions: 0.4.0 adds `version` to each IP, which is ignored on
/// reading (the address says its family).
#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "cniVersion")]
    cni_version: String,
    #[serde(default)]
    interfaces: Vec<Interface>,
    #[serde(default)]
    ips: Vec<IpConfig>,
    #[serde(default)]
    routes: Vec<Route>,
    #[serde(default)]
    dns: Dns,
}

impl CniResult {
    /// Reads and checks a result printed by a plugin (or a `prevResult`).
    pub fn from_value(value: &Value) -> Result<CniResult, ResultError> {
        let raw = Raw::deserialize(value).map_err(|e| ResultError::Shape(e.to_string()))?;
        let cni_version = raw
            .cni_version
            .parse()
            .map_err(|_| ResultError::Version(raw.cni_version.clone()))?;
        let result = CniResult {
            cni_version,
            interfaces: raw.interfaces,
            ips: raw.ips,
            routes: raw.routes,
            dns: raw.dns,
        };
        result.check()?;
        Ok(result)
    }

    /// Reads and checks a result from its JSON text.
    pub fn from_json(text: &str) -> Result<CniResult, ResultError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| ResultError::Shape(e.to_string()))?;
        CniResult::from_value(&value)
    }

    fn check(&self) -> Result<(), ResultError> {
        let cidr = |field: String, value: &str| {
            parse_cidr(value).map(|_| ()).ok_or(ResultError::Cidr {
                field,
                value: value.to_string(),
            })
        };
        let ip = |field: String, value: &str| {
            value
                .parse::<IpAddr>()
                .map(|_| ())
                .map_err(|_| ResultError::Ip {
                    field,
                    value: value.to_string(),
                })
        };
        for (n, config) in self.ips.iter().enumerate() {
            cidr(format!("ips[{n}].address"), &config.address)?;
            if let Some(gateway) = &config.gateway {
                ip(format!("ips[{n}].gateway"), gateway)?;
            }
            if let Some(index) = config.interface {
                if index >= self.interfaces.len() {
                    return Err(ResultError::InterfaceIndex {
                        ip: n,
                        index,
                        count: self.interfaces.len(),
                    });
                }
            }
        }
        for (n, route) in self.routes.iter().enumerate() {
            cidr(format!("routes[{n}].dst"), &route.dst)?;
            if let Some(gw) = &route.gw {
                ip(format!("routes[{n}].gw"), gw)?;
            }
        }
        for (n, server) in self.dns.nameservers.iter().enumerate() {
            ip(format!("dns.nameservers[{n}]"), server)?;
        }
        Ok(())
    }

    /// The result as JSON of `version`: 0.4.0 gets each IP's `version` and loses the 1.1.0-only
    /// fields; 1.x gets the 1.x shape.
    pub fn to_value(&self, version: Version) -> Value {
        let mut interfaces = self.interfaces.clone();
        let mut routes = self.routes.clone();
        if version < Version::V1_1_0 {
            for i in &mut interfaces {
                i.mtu = None;
                i.socket_path.clear();
                i.pci_id.clear();
            }
            for r in &mut routes {
                (r.mtu, r.advmss, r.priority, r.table, r.scope) = (None, None, None, None, None);
            }
        }
        let ips: Vec<Value> = self
            .ips
            .iter()
            .map(|config| {
                // IpConfig serializes to an object of strings and numbers.
                let mut value = serde_json::to_value(config).unwrap_or(Value::Null);
                if let (true, Some(object), Some((addr, _))) =
                    (version.is_pre_1(), value.as_object_mut(), config.cidr())
                {
                    let family = if addr.is_ipv4() { "4" } else { "6" };
                    object.insert("version".into(), Value::from(family));
                }
                value
            })
            .collect();
        let mut object = serde_json::Map::new();
        object.insert("cniVersion".into(), Value::from(version.to_string()));
        if !interfaces.is_empty() {
            object.insert("interfaces".into(), json(&interfaces));
        }
        if !ips.is_empty() {
            object.insert("ips".into(), Value::Array(ips));
        }
        if !routes.is_empty() {
            object.insert("routes".into(), json(&routes));
        }
        object.insert("dns".into(), json(&self.dns));
        Value::Object(object)
    }

    /// The interfaces on the host side (no `sandbox`): where a filter on the container's port
    /// goes.
    pub fn host_interfaces(&self) -> impl Iterator<Item = &Interface> {
        self.interfaces.iter().filter(|i| !i.in_sandbox())
    }

    /// The interface of `ifname` inside the sandbox, if the result names it.
    pub fn sandbox_interface(&self, ifname: &str) -> Option<(usize, &Interface)> {
        self.interfaces
            .iter()
            .enumerate()
            .find(|(_, i)| i.in_sandbox() && i.name == ifname)
    }

    /// The addresses (with prefix lengths) of interface `index`: those the result assigns to
    /// it and those it assigns to no interface. `None` gives every address of the result.
    pub fn addresses_of(&self, index: Option<usize>) -> Vec<(IpAddr, u8)> {
        self.ips
            .iter()
            .filter(|c| index.is_none() || c.interface.is_none() || c.interface == index)
            .filter_map(IpConfig::cidr)
            .collect()
    }
}

fn json<T: Serialize>(value: &T) -> Value {
    // The result's parts serialize to plain objects.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// `IP/PREFIX` with a prefix length valid for the family.
pub fn parse_cidr(text: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = text.split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let len: u8 = len.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((addr, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BRIDGE_040: &str = r#"{
        "cniVersion": "0.4.0",
        "interfaces": [
            {"name": "cni0", "mac": "aa:bb:cc:00:00:01"},
            {"name": "veth1234", "mac": "aa:bb:cc:00:00:02"},
            {"name": "eth0", "mac": "02:00:00:00:00:05", "sandbox": "/var/run/netns/j1"}
        ],
        "ips": [{"version": "4", "interface": 2, "address": "10.22.0.5/16", "gateway": "10.22.0.1"}],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dns": {"nameservers": ["10.22.0.1"], "search": ["example.org"]}
    }"#;

    #[test]
    fn a_040_result_reads_into_the_1x_shape() {
        let r = CniResult::from_json(BRIDGE_040).unwrap();
        assert_eq!(r.cni_version, Version::V0_4_0);
        let (index, eth0) = r.sandbox_interface("eth0").unwrap();
        assert_eq!((index, eth0.mac.as_str()), (2, "02:00:00:00:00:05"));
        assert_eq!(r.host_interfaces().count(), 2);
        assert_eq!(
            r.addresses_of(Some(2)),
            vec![("10.22.0.5".parse().unwrap(), 16)]
        );
        assert!(r.routes[0].is_default());
        assert_eq!(r.ips[0].gateway_ip(), Some("10.22.0.1".parse().unwrap()));
    }

    #[test]
    fn writing_040_adds_ip_versions_and_1x_drops_them() {
        let r = CniResult::from_json(BRIDGE_040).unwrap();
        let old = r.to_value(Version::V0_4_0);
        assert_eq!(old["ips"][0]["version"], "4");
        let new = r.to_value(Version::V1_0_0);
        assert!(new["ips"][0].get("version").is_none());
        assert_eq!(new["cniVersion"], "1.0.0");
        assert_eq!(CniResult::from_value(&new).unwrap().ips, r.ips);
    }

    #[test]
    fn bad_results_name_the_field() {
        let cases = [
            (
                r#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1"}]}"#,
                "ips[0].address",
            ),
            (
                r#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/33"}]}"#,
                "ips[0].address",
            ),
            (
                r#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/8","gateway":"x"}]}"#,
                "ips[0].gateway",
            ),
            (
                r#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/8","interface":0}]}"#,
                "ips[0].interface is 0",
            ),
            (
                r#"{"cniVersion":"1.0.0","routes":[{"dst":"default"}]}"#,
                "routes[0].dst",
            ),
            (
                r#"{"cniVersion":"1.0.0","dns":{"nameservers":["ns1"]}}"#,
                "dns.nameservers[0]",
            ),
            (r#"{"cniVersion":"one"}"#, "cniVersion"),
            (r#"{"ips":[]}"#, "not a CNI result"),
        ];
        for (text, field) in cases {
            let e = CniResult::from_json(text).unwrap_err().to_string();
            assert!(e.contains(field), "{text}: {e}");
        }
    }

    #[test]
    fn cidrs_are_checked_per_family() {
        assert_eq!(parse_cidr("fd00::1/64").map(|c| c.1), Some(64));
        assert!(parse_cidr("fd00::1/129").is_none());
        assert!(parse_cidr("10.0.0.1/").is_none());
        assert!(parse_cidr("10.0.0.1/+8").is_none());
    }
}
