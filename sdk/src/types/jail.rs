//! The jail a hook is called for, and the platform it runs on.

use std::fmt;
use std::str::FromStr;

use abi_stable::std_types::{RString, RVec};
use abi_stable::StableAbi;
use serde::{Deserialize, Serialize};

use super::network::Network;

/// The operating system a jail runs on, which decides how primitives are carried out.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Linux: namespaces, veth pairs, bridges and nftables, driven through netlink.
    Linux,
    /// FreeBSD: jails, epairs, if_bridge and ipfw or pf, driven through ifconfig and route.
    FreeBsd,
}

impl Platform {
    /// The platform this code was compiled for.
    pub const fn current() -> Platform {
        if cfg!(target_os = "freebsd") {
            Platform::FreeBsd
        } else {
            Platform::Linux
        }
    }

    /// The name as properties and plugin listings spell it (`linux`, `freebsd`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Platform::Linux => "linux",
            Platform::FreeBsd => "freebsd",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Platform {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "linux" => Ok(Platform::Linux),
            "freebsd" => Ok(Platform::FreeBsd),
            _ => Err(format!(
                "unknown platform {s:?} (expected linux or freebsd)"
            )),
        }
    }
}

/// A resolved property, as `ioc get` prints it; lets third-party plugins read `user.*` keys.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Property {
    key: RString,
    value: RString,
}

/// The jail a hook is called for.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jail {
    name: RString,
    jid: u32,
    platform: Platform,
    network: Network,
    firewall: RString,
    properties: RVec<Property>,
}

impl Jail {
    /// Built by ioc; plugins receive it.
    pub fn new(
        name: &str,
        jid: u32,
        platform: Platform,
        network: Network,
        firewall: &str,
        properties: impl IntoIterator<Item = (String, String)>,
    ) -> Jail {
        Jail {
            name: name.into(),
            jid,
            platform,
            network,
            firewall: firewall.into(),
            properties: properties
                .into_iter()
                .map(|(key, value)| Property {
                    key: key.into(),
                    value: value.into(),
                })
                .collect(),
        }
    }
    /// The jail's name, e.g. `jail-a`.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The jail's numeric id (FreeBSD JID; on Linux the lowest free positive number).
    pub fn jid(&self) -> u32 {
        self.jid
    }
    /// The platform the jail runs on; it decides interface naming (see [`crate::names`]).
    pub fn platform(&self) -> Platform {
        self.platform
    }
    /// The jail's resolved network properties, MACs included.
    pub fn network(&self) -> &Network {
        &self.network
    }
    /// The selected firewall backend (`firewall` property), e.g. `nftables`.
    pub fn firewall(&self) -> &str {
        &self.firewall
    }
    /// Any resolved property by name, printed as `ioc get` prints it.
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|p| p.key.as_str() == key)
            .map(|p| p.value.as_str())
    }
    /// All resolved properties as (key, value) pairs.
    pub fn properties(&self) -> impl Iterator<Item = (&str, &str)> {
        self.properties
            .iter()
            .map(|p| (p.key.as_str(), p.value.as_str()))
    }
}
