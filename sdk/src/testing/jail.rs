//! [`JailBuilder`]: the [`Jail`] a plugin receives, built from the property values a user writes.

use std::collections::BTreeMap;

use super::parse;
use crate::types::{
    Address, AddressKind, Gateway, IpMode, Jail, Mac, Nat, Network, NetworkSpec, Nic, Platform,
};

/// Builds the [`Jail`] ioc hands a plugin, with ioc's built-in defaults for everything a test
/// does not state.
///
/// Network properties are given as a user writes them (`interfaces("vnet0:bridge0")`,
/// `ip4_addr("vnet0|10.0.0.2/24")`, `defaultrouter("10.0.0.1@vnet0")`...); a value ioc would
/// refuse panics at the builder call, naming the property.
///
/// Defaults: JID 1, [`Platform::Linux`] (so interface names do not depend on the machine the
/// tests run on), `vnet=off`, no interfaces or addresses, `ip4`/`ip6` `new`, saddrsel on, raw
/// sockets off, and the platform's default firewall (`nftables` on Linux, `ipfw` on FreeBSD).
/// A NIC's MACs are derived from the jail and NIC names with the default `mac_prefix`
/// (`02:ff:60`) and the jail end one above the host end, like ioc's; they are not the exact
/// values ioc generates, so pin them with [`mac`](Self::mac) when a test needs those.
///
/// ```
/// use ioc_sdk::testing::JailBuilder;
///
/// let jail = JailBuilder::new("web")
///     .jid(5)
///     .vnet(true)
///     .interfaces("vnet0:bridge0")
///     .ip4_addr("vnet0|10.0.0.2/24")
///     .defaultrouter("10.0.0.1")
///     .build();
/// assert_eq!(jail.network().interfaces()[0].bridge(), Some("bridge0"));
/// ```
#[derive(Clone, Debug)]
pub struct JailBuilder {
    name: String,
    jid: u32,
    platform: Platform,
    firewall: Option<String>,
    interfaces: Vec<parse::Pair>,
    extra_nics: Vec<Nic>,
    macs: BTreeMap<String, (Mac, Mac)>,
    spec: NetworkSpec,
    properties: Vec<(String, String)>,
    nat: Option<Nat>,
}

impl JailBuilder {
    /// A jail named `name` with every other property at its default.
    pub fn new(name: &str) -> JailBuilder {
        JailBuilder {
            name: name.to_string(),
            jid: 1,
            platform: Platform::Linux,
            firewall: None,
            interfaces: Vec::new(),
            extra_nics: Vec::new(),
            macs: BTreeMap::new(),
            spec: NetworkSpec {
                vnet: false,
                interfaces: Vec::new(),
                ip4: Vec::new(),
                ip6: Vec::new(),
                ..NetworkSpec::default()
            },
            properties: Vec::new(),
            nat: None,
        }
    }

    /// The NAT part of the jail's network (`nat=on`), as ioc resolves it.
    pub fn nat(mut self, nat: Nat) -> JailBuilder {
        self.nat = Some(nat);
        self
    }

    /// The JID the hook sees (interface names of VNET modes contain it).
    pub fn jid(mut self, jid: u32) -> JailBuilder {
        self.jid = jid;
        self
    }

    /// The platform the jail runs on, which decides interface naming and primitives.
    pub fn platform(mut self, platform: Platform) -> JailBuilder {
        self.platform = platform;
        self
    }

    /// `vnet`: whether the jail has its own network stack.
    pub fn vnet(mut self, on: bool) -> JailBuilder {
        self.spec.vnet = on;
        self
    }

    /// `firewall`: the host-wide firewall backend the jail's ports are handed to.
    pub fn firewall(mut self, backend: &str) -> JailBuilder {
        self.firewall = Some(backend.to_string());
        self
    }

    /// `interfaces`, as written: `vnet0:bridge0` pairs separated by commas or spaces,
    /// `vnet0::bridge0` for Secure VNET, `vnet0:none` for a NIC without a bridge. Replaces
    /// earlier pairs.
    #[track_caller]
    pub fn interfaces(mut self, value: &str) -> JailBuilder {
        self.interfaces = expect("interfaces", value, parse::interfaces(value));
        self
    }

    /// Adds a NIC built by hand, after the `interfaces` pairs; for cases the syntax cannot
    /// express.
    pub fn nic(mut self, nic: Nic) -> JailBuilder {
        self.extra_nics.push(nic);
        self
    }

    /// `<nic>_mac`, as written: `HOSTMAC,JAILMAC`, or only the host end's MAC (the jail end
    /// is then the next address).
    #[track_caller]
    pub fn mac(mut self, nic: &str, value: &str) -> JailBuilder {
        let pair = expect(&format!("{nic}_mac"), value, parse::mac_pair(value));
        self.macs.insert(nic.to_string(), pair);
        self
    }

    /// `ip4_addr`, as written: `vnet0|10.0.0.2/24` or `vnet0|dhcp`, comma-separated, kept in
    /// written order. Replaces earlier entries.
    #[track_caller]
    pub fn ip4_addr(mut self, value: &str) -> JailBuilder {
        self.spec.ip4 = expect("ip4_addr", value, parse::addresses(value, false));
        self
    }

    /// `ip6_addr`, as written: `vnet0|2001:db8::2/64` or `vnet0|accept_rtadv`, comma-separated.
    /// Replaces earlier entries.
    #[track_caller]
    pub fn ip6_addr(mut self, value: &str) -> JailBuilder {
        self.spec.ip6 = expect("ip6_addr", value, parse::addresses(value, true));
        self
    }

    /// `defaultrouter`, as written: `10.0.0.1` or `10.0.0.1@vnet0`.
    #[track_caller]
    pub fn defaultrouter(mut self, value: &str) -> JailBuilder {
        self.spec.defaultrouter = expect("defaultrouter", value, parse::gateway(value, false));
        self
    }

    /// `defaultrouter6`, as written: `2001:db8::1` or `fe80::1@vnet0`.
    #[track_caller]
    pub fn defaultrouter6(mut self, value: &str) -> JailBuilder {
        self.spec.defaultrouter6 = expect("defaultrouter6", value, parse::gateway(value, true));
        self
    }

    /// Adds an address entry built by hand, to `ip6_addr` when it is IPv6 (a static IPv6
    /// address or `accept_rtadv`), else to `ip4_addr`.
    pub fn address(mut self, address: Address) -> JailBuilder {
        let v6 = match address.kind() {
            AddressKind::Static(cidr) => cidr.is_v6(),
            AddressKind::Dhcp => false,
            AddressKind::AcceptRtadv => true,
        };
        if v6 {
            self.spec.ip6.push(address);
        } else {
            self.spec.ip4.push(address);
        }
        self
    }

    /// Sets a gateway built by hand: `defaultrouter6` when it is IPv6, else `defaultrouter`.
    pub fn gateway(mut self, gateway: Gateway) -> JailBuilder {
        if gateway.ip().is_ipv6() {
            self.spec.defaultrouter6 = Some(gateway);
        } else {
            self.spec.defaultrouter = Some(gateway);
        }
        self
    }

    /// The kernel params `ip4` and `ip6` (`new`, `inherit` or `disable`).
    pub fn ip_modes(mut self, ip4: IpMode, ip6: IpMode) -> JailBuilder {
        self.spec.ip4_mode = ip4;
        self.spec.ip6_mode = ip6;
        self
    }

    /// The kernel params `ip4.saddrsel` and `ip6.saddrsel` of a shared-IP jail.
    pub fn saddrsel(mut self, ip4: bool, ip6: bool) -> JailBuilder {
        self.spec.ip4_saddrsel = ip4;
        self.spec.ip6_saddrsel = ip6;
        self
    }

    /// The kernel param `allow.raw_sockets`.
    pub fn allow_raw_sockets(mut self, on: bool) -> JailBuilder {
        self.spec.allow_raw_sockets = on;
        self
    }

    /// `dhcp_server`: the jail is its network's DHCP server.
    pub fn dhcp_server(mut self, on: bool) -> JailBuilder {
        self.spec.dhcp_server = on;
        self
    }

    /// Any other resolved property, as `ioc get` prints it, for [`Jail::property`]; typically
    /// a plugin's own `user.*` settings. Network properties are read through
    /// [`Jail::network`] and are not repeated here.
    pub fn property(mut self, key: &str, value: &str) -> JailBuilder {
        self.properties.push((key.to_string(), value.to_string()));
        self
    }

    /// The jail, as a hook receives it.
    pub fn build(self) -> Jail {
        let mut spec = self.spec;
        spec.interfaces = self
            .interfaces
            .iter()
            .map(|(nic, bridge, secure)| {
                let (host_mac, jail_mac) = self
                    .macs
                    .get(nic)
                    .copied()
                    .unwrap_or_else(|| derived_macs(&self.name, nic));
                Nic::new(nic, bridge.as_deref(), *secure, host_mac, jail_mac)
            })
            .chain(self.extra_nics)
            .collect();
        let firewall = self.firewall.unwrap_or_else(|| {
            match self.platform {
                Platform::Linux => "nftables",
                Platform::FreeBsd => "ipfw",
            }
            .to_string()
        });
        let network: Network = spec.into();
        let network = match self.nat {
            Some(nat) => network.with_nat(nat),
            None => network,
        };
        Jail::new(
            &self.name,
            self.jid,
            self.platform,
            network,
            &firewall,
            self.properties,
        )
    }
}

/// Panics, at the test's builder call, with the property and value that did not parse.
#[track_caller]
fn expect<T>(property: &str, value: &str, parsed: Result<T, String>) -> T {
    parsed.unwrap_or_else(|e| panic!("JailBuilder: property '{property}' = {value:?}: {e}"))
}

/// Stable, distinct MACs per jail and NIC under the default prefix `02:ff:60`, the jail end one
/// above the host end.
fn derived_macs(jail: &str, nic: &str) -> (Mac, Mac) {
    let hash = format!("{jail}{nic}").bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    // Even, so that host + 1 never carries into the prefix.
    let low = u64::from(hash & 0x00ff_fffe);
    let host = Mac::from_u64(0x02ff_6000_0000 | low);
    (host, Mac::from_u64(host.to_u64() + 1))
}
