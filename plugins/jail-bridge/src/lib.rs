//! The per-jail bridge that the FreeBSD firewall backends (`ipfw`, `pf`) put between a Secure
//! VNET jail and the host bridge, as libioc does:
//!
//! ```text
//! jail vnet0 <-> vnet0:5 -- bridge vnet0:5:net -- vnet0:5:b <-> vnet0:5:a -- bridge0
//! ```
//!
//! Why a second bridge: FreeBSD runs layer-2 firewall hooks (ipfw `layer2` rules and pf `ether`
//! rules alike, given `net.link.bridge.ipfw=1`) only when a bridge *forwards* a frame, on its
//! way out of the destination member. On `bridge0` alone, a frame the host sends to a jail and
//! a frame a jail sends to the host are never forwarded (the bridge hands them over directly),
//! so neither would be filtered. On the per-jail bridge every frame of the jail is forwarded:
//! "out of `vnet0:5:b`" is everything the jail sends, "out of `vnet0:5`" everything it receives.
//!
//! This crate builds and removes that topology through the [`Host`]; each backend adds its
//! rules between [`JailBridge::create_pair`] and [`JailBridge::connect`], so no frame crosses
//! before they are in place.

use ioc_sdk::names::link_name;
use ioc_sdk::{Error, Host, Jail, PairSpec, PortPolicy, Result, Side};

/// The links of one jail port's per-jail bridge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JailBridge {
    /// The host end of the jail's own pair (`vnet0:5`), made by the network mode.
    pub port: String,
    /// The second pair's end on the host bridge (`vnet0:5:a`).
    pub uplink: String,
    /// The second pair's end on the per-jail bridge (`vnet0:5:b`).
    pub inner: String,
    /// The per-jail bridge (`vnet0:5:net`).
    pub bridge: String,
    /// The host bridge (`bridge0`).
    pub host_bridge: String,
    mtu: Option<u32>,
}

impl JailBridge {
    pub fn new(jail: &Jail, policy: &PortPolicy) -> JailBridge {
        let name = |suffix: &str| link_name(jail.platform(), policy.nic(), policy.jid(), &[suffix]);
        JailBridge {
            port: policy.port().to_string(),
            uplink: name("a"),
            inner: name("b"),
            bridge: name("net"),
            host_bridge: policy.bridge().to_string(),
            mtu: policy.mtu(),
        }
    }

    /// The second pair, `uplink` <-> `inner`, with the jail's MTU (`ifconfig epair create`).
    pub fn create_pair(&self, host: &mut Host<'_>) -> Result<()> {
        host.create_pair(&PairSpec {
            host: &self.uplink,
            peer: &self.inner,
            peer_in_jail: false,
            host_mac: None,
            peer_mac: None,
            mtu: self.mtu,
            description: "",
        })?;
        Ok(())
    }

    /// The per-jail bridge with the jail's port and `inner`, then `uplink` on the host bridge.
    pub fn connect(&self, host: &mut Host<'_>) -> Result<()> {
        host.create_bridge(&self.bridge, None)?;
        host.add_bridge_members(&self.bridge, &[&self.port, &self.inner])?;
        host.add_bridge_members(&self.host_bridge, &[&self.uplink])?;
        Ok(())
    }

    /// Destroys the jail's port, the second pair and the per-jail bridge, in libioc's order,
    /// going on past failures (a link already gone is not one). Returns what failed.
    pub fn destroy(&self, host: &mut Host<'_>) -> Vec<String> {
        [&self.port, &self.uplink, &self.bridge]
            .into_iter()
            .filter_map(|link| {
                host.destroy_link(Side::Host, link)
                    .err()
                    .map(|e| format!("destroy {link}: {e}"))
            })
            .collect()
    }
}

/// Fails unless the kernel tunable `key` is 1. `what` starts the message, e.g. "IPFW is
/// disabled", which with the rest gives libioc's "IPFW is disabled: sysctl K is expected to be
/// 1, but was V".
pub fn require_sysctl(host: &mut Host<'_>, key: &str, what: &str, hint: &str) -> Result<()> {
    let hint = if hint.is_empty() {
        String::new()
    } else {
        format!(" ({hint})")
    };
    match host.read_sysctl(key) {
        Ok(value) if value.trim() == "1" => Ok(()),
        Ok(value) => Err(Error::new(format!(
            "{what}: sysctl {key} is expected to be 1, but was {}{hint}",
            value.trim()
        ))),
        Err(e) => Err(Error::new(format!(
            "{what}: sysctl {key} is expected to be 1, but it could not be read ({e}){hint}"
        ))),
    }
}

/// One error out of several failed removal steps, or `Ok` when none failed.
pub fn all_or_errors(errors: Vec<String>) -> Result<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::new(errors.join("; ")))
    }
}

/// The seed's Secure VNET jail `myjail` (JID 5, `vnet0::bridge0`) for the backends' unit tests.
#[cfg(feature = "test-fixtures")]
pub mod fixtures {
    use std::net::IpAddr;

    use ioc_sdk::{Jail, NetworkSpec, Platform, PortPolicy};

    use super::JailBridge;

    /// The links and port policy of `myjail` with these static addresses, for backend `firewall`.
    pub fn myjail(firewall: &str, addresses: &[&str]) -> (JailBridge, PortPolicy) {
        let policy = PortPolicy::new(
            "myjail",
            5,
            "vnet0",
            "vnet0:5",
            "bridge0",
            "02:ff:60:cb:49:49".parse().expect("a valid MAC"),
            addresses
                .iter()
                .map(|a| a.parse::<IpAddr>().expect("a valid address")),
            Some(1500),
        );
        let spec = NetworkSpec {
            vnet: true,
            interfaces: vec![],
            ip4: vec![],
            ip6: vec![],
            ..NetworkSpec::default()
        };
        let jail = Jail::new("myjail", 5, Platform::FreeBsd, spec.into(), firewall, []);
        (JailBridge::new(&jail, &policy), policy)
    }
}
