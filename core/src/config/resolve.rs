//! Resolution: the lookup chain jail value, then user defaults, then built-in default.
//!
//! [`Resolved`] is the chain applied to one owner (a jail or the defaults themselves);
//! [`ResolvedJail`] adds the jail's identity, which the MAC formula and the `<nic>_mac` keys need,
//! and the typed accessors the lifecycle uses.

use std::collections::BTreeMap;

use ioc_sdk::{Address, Gateway, IpMode, NetworkSpec, Nic};

use super::mac::generated_macs;
use super::names::JailName;
use super::properties::*;
use super::registry::{self, classify, Key, KeyKind, MAC_SUFFIX};
use super::settings::{Owner, Settings};
use super::syntax::{
    Interfaces, MacPair, MacPrefix, NetworkPlugin, PluginName, ResolvConf, ShellCommand, Syntax,
};
use super::value::{Typed, Value};
use crate::error::{Error, Result};
use crate::filter::{Filter, Subject};

/// Every declared property and every `user.*` key, each taken from the first layer that has it.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    values: BTreeMap<&'static str, Value>,
    user: BTreeMap<String, String>,
}

impl Resolved {
    /// Resolves `layers`, highest priority first, over the built-in defaults.
    fn layered(layers: &[&Settings]) -> Resolved {
        let values = registry::all()
            .iter()
            .map(|property| {
                let value = layers
                    .iter()
                    .find_map(|settings| settings.get(property.name).cloned())
                    .unwrap_or_else(|| property.builtin_value());
                (property.name, value)
            })
            .collect();
        let mut user = BTreeMap::new();
        for settings in layers.iter().rev() {
            for (key, value) in settings.iter() {
                if let Some(KeyKind::User) = classify(key) {
                    user.insert(key.to_string(), value.print());
                }
            }
        }
        Resolved { values, user }
    }

    /// What the defaults amount to: the user defaults over the built-ins.
    pub fn defaults(defaults: &Settings) -> Resolved {
        Resolved::layered(&[defaults])
    }

    /// The typed value of a declared property.
    pub fn get<T: Typed>(&self, key: Key<T>) -> T {
        self.values
            .get(key.name())
            .and_then(T::unwrap)
            .cloned()
            // Unreachable: keys and registrations come from one macro with one type.
            .unwrap_or_default()
    }

    /// Replaces the value of a declared property (a NAT jail's pool address as its `ip4_addr`).
    pub(super) fn replace(&mut self, name: &'static str, value: Value) {
        self.values.insert(name, value);
    }

    /// The value of a declared property by name.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// The resolved `user.*` keys.
    pub fn user(&self) -> &BTreeMap<String, String> {
        &self.user
    }

    /// Every declared property and `user.*` key with its printed value, sorted by key.
    pub fn properties_for_display(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = self
            .values
            .iter()
            .map(|(k, v)| (k.to_string(), v.print()))
            .chain(self.user.iter().map(|(k, v)| (k.clone(), v.clone())))
            .collect();
        all.sort();
        all
    }

    /// One key as `ioc get` prints it; `<nic>_mac` keys are a jail's ([`ResolvedJail::display`]).
    pub fn display(&self, owner: Owner<'_>, key: &str) -> Result<String> {
        match classify(key) {
            Some(KeyKind::Static(p)) => Ok(self
                .values
                .get(p.name)
                .map(Value::print)
                .unwrap_or_default()),
            Some(KeyKind::User) => self.user.get(key).cloned().ok_or_else(|| Error::NotSet {
                jail: owner.to_string(),
                property: key.to_string(),
            }),
            Some(KeyKind::NicMac(_)) => Err(Error::PropertyNotAllowed {
                jail: owner.to_string(),
                property: key.to_string(),
                reason: "belongs to a jail: the defaults have no MACs".to_string(),
            }),
            None => Err(Error::UnknownProperty {
                jail: owner.to_string(),
                property: key.to_string(),
            }),
        }
    }
}

/// The `exec_*` hooks, in lifecycle order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hook {
    Prestart,
    Created,
    Start,
    Poststart,
    Prestop,
    Stop,
    Poststop,
}

impl Hook {
    pub const ALL: [Hook; 7] = [
        Hook::Prestart,
        Hook::Created,
        Hook::Start,
        Hook::Poststart,
        Hook::Prestop,
        Hook::Stop,
        Hook::Poststop,
    ];

    /// The property holding the hook's command.
    pub fn key(self) -> Key<ShellCommand> {
        match self {
            Hook::Prestart => EXEC_PRESTART,
            Hook::Created => EXEC_CREATED,
            Hook::Start => EXEC_START,
            Hook::Poststart => EXEC_POSTSTART,
            Hook::Prestop => EXEC_PRESTOP,
            Hook::Stop => EXEC_STOP,
            Hook::Poststop => EXEC_POSTSTOP,
        }
    }

    /// `exec_start` and `exec_stop` run inside the jail; the others on the host.
    pub fn runs_in_jail(self) -> bool {
        matches!(self, Hook::Start | Hook::Stop)
    }
}

/// A jail with every property resolved: what the lifecycle, `get`, `list` and filters use.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedJail {
    name: JailName,
    properties: Resolved,
    /// `<nic>_mac` keys set on the jail, by NIC.
    pinned_macs: BTreeMap<String, MacPair>,
    /// The NAT address kept for the jail from its pool (see `config::nat`).
    pub(super) pool_address: Option<std::net::Ipv4Addr>,
}

impl ResolvedJail {
    /// The error of a cross-property check: `property` of this jail is not allowed here, and
    /// `reason` says why and what to do instead.
    pub fn refuse(&self, property: &str, reason: String) -> Error {
        Error::PropertyNotAllowed {
            jail: self.name().to_string(),
            property: property.to_string(),
            reason,
        }
    }

    /// Applies the lookup chain: `jail`, then `defaults`, then the built-ins.
    pub fn resolve(name: &JailName, jail: &Settings, defaults: &Settings) -> ResolvedJail {
        let pinned_macs = jail
            .iter()
            .filter_map(|(key, value)| match (classify(key)?, value) {
                (KeyKind::NicMac(nic), Value::MacPair(pair)) => Some((nic.to_string(), *pair)),
                _ => None,
            })
            .collect();
        ResolvedJail {
            name: name.clone(),
            properties: Resolved::layered(&[jail, defaults]),
            pinned_macs,
            pool_address: None,
        }
    }

    pub fn name(&self) -> &JailName {
        &self.name
    }

    /// The resolved properties without the jail's identity.
    pub fn properties(&self) -> &Resolved {
        &self.properties
    }

    pub(super) fn properties_mut(&mut self) -> &mut Resolved {
        &mut self.properties
    }

    /// The typed value of any declared property (`jail.get(VNET)`).
    pub fn get<T: Typed>(&self, key: Key<T>) -> T {
        self.properties.get(key)
    }

    /// Checks what single values cannot: every pinned `<nic>_mac` names a NIC of `interfaces`.
    pub fn validate(&self) -> Result<()> {
        let interfaces = self.interfaces();
        let mac_nics = self.mac_nics();
        let errors = self
            .pinned_macs
            .keys()
            .filter(|nic| !mac_nics.contains(nic))
            .map(|nic| Error::PropertyNotAllowed {
                jail: self.name.to_string(),
                property: format!("{nic}{MAC_SUFFIX}"),
                reason: format!(
                    "needs the NIC '{nic}' in the jail's interfaces (currently {}); add the NIC or \
                     remove the key with: ioc set {nic}{MAC_SUFFIX} {}{}",
                    interfaces.print(),
                    self.name,
                    super::suggest::mac_hint(&format!("{nic}{MAC_SUFFIX}"), &mac_nics)
                ),
            })
            .chain(super::nat::check(self))
            .chain(super::root_properties::check(self))
            .chain(super::cni::check(self))
            .collect();
        Error::collect(errors)
    }

    pub fn vnet(&self) -> bool {
        self.get(VNET).0
    }

    pub fn interfaces(&self) -> Interfaces {
        self.get(INTERFACES)
    }

    /// `ip4_addr` entries in written order.
    pub fn ip4_addr(&self) -> Vec<Address> {
        self.get(IP4_ADDR).entries
    }

    /// `ip6_addr` entries in written order.
    pub fn ip6_addr(&self) -> Vec<Address> {
        self.get(IP6_ADDR).entries
    }

    pub fn defaultrouter(&self) -> Option<Gateway> {
        self.get(DEFAULTROUTER).gateway
    }

    pub fn defaultrouter6(&self) -> Option<Gateway> {
        self.get(DEFAULTROUTER6).gateway
    }

    pub fn mac_prefix(&self) -> MacPrefix {
        self.get(MAC_PREFIX)
    }

    pub fn ip4_mode(&self) -> IpMode {
        self.get(IP4).0
    }

    pub fn ip6_mode(&self) -> IpMode {
        self.get(IP6).0
    }

    pub fn ip4_saddrsel(&self) -> bool {
        self.get(IP4_SADDRSEL).0
    }

    pub fn ip6_saddrsel(&self) -> bool {
        self.get(IP6_SADDRSEL).0
    }

    pub fn allow_raw_sockets(&self) -> bool {
        self.get(ALLOW_RAW_SOCKETS).0
    }

    /// `dhcp_server`: the jail is its network's DHCP server.
    pub fn dhcp_server(&self) -> bool {
        self.get(DHCP_SERVER).0
    }

    pub fn resolver(&self) -> ResolvConf {
        self.get(RESOLVER)
    }

    /// A hook's shell command, `None` when unset.
    pub fn hook(&self, hook: Hook) -> Option<String> {
        self.get(hook.key()).0
    }

    /// The jails to start first (the empty filter when none).
    pub fn depends(&self) -> Filter {
        self.get(DEPENDS)
    }

    pub fn network_plugin(&self) -> NetworkPlugin {
        self.get(NETWORK_PLUGIN)
    }

    /// The host-wide firewall backend (always from the defaults or the built-in).
    pub fn firewall(&self) -> PluginName {
        self.get(FIREWALL)
    }

    /// The MACs of one NIC: pinned by `<nic>_mac`, else generated from `mac_prefix`.
    pub fn macs(&self, nic: &str) -> MacPair {
        self.pinned_macs
            .get(nic)
            .copied()
            .unwrap_or_else(|| generated_macs(&self.mac_prefix(), self.name.as_str(), nic))
    }

    /// The network properties for plugins, MACs resolved.
    pub fn network_spec(&self) -> NetworkSpec {
        let interfaces = self
            .interfaces()
            .0
            .iter()
            .map(|pair| {
                let macs = self.macs(&pair.nic);
                Nic::new(
                    &pair.nic,
                    pair.bridge.as_deref(),
                    pair.secure,
                    macs.host,
                    macs.jail,
                )
            })
            .collect();
        NetworkSpec {
            vnet: self.vnet(),
            interfaces,
            ip4: self.ip4_addr(),
            ip6: self.ip6_addr(),
            defaultrouter: self.defaultrouter(),
            defaultrouter6: self.defaultrouter6(),
            ip4_mode: self.ip4_mode(),
            ip6_mode: self.ip6_mode(),
            ip4_saddrsel: self.ip4_saddrsel(),
            ip6_saddrsel: self.ip6_saddrsel(),
            allow_raw_sockets: self.allow_raw_sockets(),
            dhcp_server: self.dhcp_server(),
        }
    }

    /// One key as `ioc get` prints it.
    pub fn display(&self, key: &str) -> Result<String> {
        match classify(key) {
            Some(KeyKind::NicMac(nic)) => {
                if self.mac_nics().iter().any(|n| n == nic) {
                    Ok(self.macs(nic).print())
                } else {
                    Err(Error::PropertyNotAllowed {
                        jail: self.name.to_string(),
                        property: key.to_string(),
                        reason: format!(
                            "does not apply: '{nic}' is not in the jail's interfaces{}",
                            super::suggest::mac_hint(key, &self.mac_nics())
                        ),
                    })
                }
            }
            _ => self.properties.display(Owner::Jail(&self.name), key),
        }
    }

    /// Every property as `ioc get all` prints it, sorted by key: the declared ones, `<nic>_mac`
    /// for each NIC in `interfaces` (pinned or generated), and the `user.*` keys.
    pub fn properties_for_display(&self) -> Vec<(String, String)> {
        let mut all = self.properties.properties_for_display();
        for nic in self.mac_nics() {
            all.push((format!("{nic}{MAC_SUFFIX}"), self.macs(&nic).print()));
        }
        all.sort();
        all
    }

    /// The environment of hooks: `IOC_<PROPERTY>` for every displayed property (upper-cased,
    /// characters other than letters and digits as `_`) and `IOC_NAME`. The lifecycle adds
    /// `IOC_JID` and `IOC_JAIL_PATH`, which are not properties.
    pub fn hook_env(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = self
            .properties_for_display()
            .into_iter()
            .map(|(key, value)| (env_name(&key), value))
            .collect();
        env.push(("IOC_NAME".to_string(), self.name.to_string()));
        env
    }
}

/// `user.web-port` becomes `IOC_USER_WEB_PORT`.
fn env_name(key: &str) -> String {
    let mut name = String::from("IOC_");
    name.extend(key.chars().map(|c| {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        }
    }));
    name
}

impl Subject for ResolvedJail {
    fn name(&self) -> &str {
        self.name.as_str()
    }

    fn items(&self, key: &str) -> Option<Vec<String>> {
        match classify(key)? {
            KeyKind::Static(p) => self.properties.value(p.name).map(Value::items),
            KeyKind::User => self.properties.user().get(key).map(|v| vec![v.clone()]),
            KeyKind::NicMac(_) => self.display(key).ok().map(|v| vec![v]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(owner: Owner<'_>, pairs: &[(&str, &str)]) -> Settings {
        let mut s = Settings::default();
        for (k, v) in pairs {
            s.set(owner, k, v).unwrap();
        }
        s
    }

    fn seed_jail() -> ResolvedJail {
        let name = JailName::new("jail-a").unwrap();
        let defaults = settings(Owner::Defaults, &[("vnet", "on"), ("user.site", "lab")]);
        let jail = settings(
            Owner::Jail(&name),
            &[
                ("interfaces", "vnet0:bridge0"),
                ("ip4_addr", "vnet0|10.23.42.2/24"),
                ("defaultrouter", "10.23.42.1"),
            ],
        );
        ResolvedJail::resolve(&name, &jail, &defaults)
    }

    #[test]
    fn lookup_order_jail_then_defaults_then_builtin() {
        let name = JailName::new("j").unwrap();
        let defaults = settings(Owner::Defaults, &[("vnet", "on"), ("ip4", "inherit")]);
        let jail = settings(Owner::Jail(&name), &[("ip4", "disable")]);
        let r = ResolvedJail::resolve(&name, &jail, &defaults);
        assert!(r.vnet());
        assert_eq!(r.ip4_mode(), IpMode::Disable);
        assert_eq!(r.ip6_mode(), IpMode::New);
        assert_eq!(
            r.firewall().as_str(),
            if cfg!(target_os = "freebsd") {
                "ipfw"
            } else {
                "nftables"
            }
        );
    }

    #[test]
    fn seed_network_spec_uses_the_reference_macs() {
        let spec = seed_jail().network_spec();
        assert!(spec.vnet);
        let nic = &spec.interfaces[0];
        assert_eq!(
            (nic.name(), nic.bridge(), nic.secure()),
            ("vnet0", Some("bridge0"), false)
        );
        assert_eq!(nic.host_mac().to_string(), "02:ff:60:e7:93:9d");
        assert_eq!(nic.jail_mac().to_string(), "02:ff:60:e7:93:9e");
        assert_eq!(spec.ip4[0].cidr().unwrap().to_string(), "10.23.42.2/24");
        assert_eq!(spec.defaultrouter.unwrap().ip().to_string(), "10.23.42.1");
        assert_eq!(spec.ip4_mode.kernel_value(), 1);
        assert!(spec.ip4_saddrsel && !spec.allow_raw_sockets);
    }

    #[test]
    fn pinned_macs_override_and_must_name_a_nic() {
        let name = JailName::new("jail-a").unwrap();
        let owner = Owner::Jail(&name);
        let jail = settings(
            owner,
            &[
                ("interfaces", "vnet0:bridge0"),
                ("vnet0_mac", "02:00:00:00:00:0a,02:00:00:00:00:0b"),
            ],
        );
        let r = ResolvedJail::resolve(&name, &jail, &Settings::default());
        r.validate().unwrap();
        assert_eq!(
            r.network_spec().interfaces[0].jail_mac().to_string(),
            "02:00:00:00:00:0b"
        );
        assert_eq!(
            r.display("vnet0_mac").unwrap(),
            "02:00:00:00:00:0a,02:00:00:00:00:0b"
        );

        let jail = settings(
            owner,
            &[("vnet1_mac", "02:00:00:00:00:0a,02:00:00:00:00:0b")],
        );
        let r = ResolvedJail::resolve(&name, &jail, &Settings::default());
        let err = r.validate().unwrap_err().to_string();
        assert!(
            err.starts_with(
                "The config property 'vnet1_mac' of jail 'jail-a' needs the NIC 'vnet1'"
            ),
            "{err}"
        );
        assert!(r.display("vnet1_mac").is_err());
    }

    #[test]
    fn display_and_get_all() {
        let r = seed_jail();
        assert_eq!(r.display("vnet").unwrap(), "on");
        assert_eq!(r.display("ip4_addr").unwrap(), "vnet0|10.23.42.2/24");
        assert_eq!(r.display("ip6_addr").unwrap(), "none");
        assert_eq!(r.display("user.site").unwrap(), "lab");
        assert_eq!(
            r.display("vnet0_mac").unwrap(),
            "02:ff:60:e7:93:9d,02:ff:60:e7:93:9e"
        );
        assert_eq!(
            r.display("user.other").unwrap_err().to_string(),
            "The config property 'user.other' of jail 'jail-a' is not set"
        );
        assert_eq!(
            r.display("nope").unwrap_err().to_string(),
            "The config property 'nope' of jail 'jail-a' is unknown"
        );
        let all = r.properties_for_display();
        let keys: Vec<&str> = all.iter().map(|(k, _)| k.as_str()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(keys.len(), registry::all().len() + 2);
        assert!(keys.contains(&"vnet0_mac") && keys.contains(&"user.site"));
        // What `get all` prints, `set` accepts, and it prints the same again.
        let name = JailName::new("jail-a").unwrap();
        let mut again = Settings::default();
        for (k, v) in &all {
            if k != "firewall" {
                again.set(Owner::Jail(&name), k, v).unwrap();
            }
        }
        let r2 = ResolvedJail::resolve(&name, &again, &Settings::default());
        let all2: Vec<_> = r2
            .properties_for_display()
            .into_iter()
            .filter(|(k, _)| k != "firewall")
            .collect();
        let all1: Vec<_> = all.into_iter().filter(|(k, _)| k != "firewall").collect();
        assert_eq!(all1, all2);
    }

    #[test]
    fn hook_env_and_hooks() {
        let name = JailName::new("j").unwrap();
        let jail = settings(
            Owner::Jail(&name),
            &[("exec_start", "/bin/sh /etc/rc"), ("user.web-port", "80")],
        );
        let r = ResolvedJail::resolve(&name, &jail, &Settings::default());
        assert_eq!(r.hook(Hook::Start).as_deref(), Some("/bin/sh /etc/rc"));
        assert_eq!(r.hook(Hook::Stop), None);
        assert!(Hook::Start.runs_in_jail() && !Hook::Prestart.runs_in_jail());
        let env: BTreeMap<String, String> = r.hook_env().into_iter().collect();
        assert_eq!(env["IOC_EXEC_START"], "/bin/sh /etc/rc");
        assert_eq!(env["IOC_USER_WEB_PORT"], "80");
        assert_eq!(env["IOC_VNET"], "off");
        assert_eq!(env["IOC_NAME"], "j");
    }

    #[test]
    fn defaults_view() {
        let defaults = settings(Owner::Defaults, &[("vnet", "on"), ("firewall", "pf")]);
        let r = Resolved::defaults(&defaults);
        assert_eq!(r.display(Owner::Defaults, "vnet").unwrap(), "on");
        assert_eq!(r.display(Owner::Defaults, "firewall").unwrap(), "pf");
        assert_eq!(r.display(Owner::Defaults, "ip4").unwrap(), "new");
        assert!(r.display(Owner::Defaults, "vnet0_mac").is_err());
    }
}
