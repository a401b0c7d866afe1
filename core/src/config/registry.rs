//! The property registry: every property declared once, collected with `inventory`.
//!
//! A [`Property`] carries its name, built-in default, scope, one-line help and parser. That one
//! table drives parsing (`set`, `create`, the state files), `ioc get all`, `ioc help properties`
//! and the README's property table, so they cannot drift apart. The declarations themselves
//! are in [`super::properties`]; besides them, two families of keys are dynamic: `<nic>_mac`
//! and `user.*` ([`classify`]).

use std::marker::PhantomData;
use std::sync::OnceLock;

use ioc_sdk::Platform;

use super::names::check_nic_name;
use super::syntax::{MacPair, Reason, Text};
use super::value::{empty_value, parse_value, Typed, Value};

/// Where a property may be set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// On a jail or on the defaults (which jails inherit).
    Jail,
    /// Host-wide: on the defaults only (`ioc set firewall=NAME defaults`).
    Host,
}

/// A built-in default, as text in the property's own syntax.
#[derive(Clone, Copy, Debug)]
pub enum Builtin {
    Fixed(&'static str),
    /// Differs by platform (the firewall backend).
    PerPlatform {
        linux: &'static str,
        freebsd: &'static str,
    },
}

impl Builtin {
    /// The default on `platform`.
    pub fn text(&self, platform: Platform) -> &'static str {
        match (*self, platform) {
            (Builtin::Fixed(text), _) => text,
            (Builtin::PerPlatform { linux, .. }, Platform::Linux) => linux,
            (Builtin::PerPlatform { freebsd, .. }, Platform::FreeBsd) => freebsd,
        }
    }
}

/// One declared property.
#[derive(Debug)]
pub struct Property {
    pub name: &'static str,
    pub builtin: Builtin,
    pub scope: Scope,
    /// One line for `ioc help properties`: what it does and the accepted forms.
    pub help: &'static str,
    parse: fn(&str) -> Result<Value, Reason>,
    empty: fn() -> Value,
}

inventory::collect!(Property);

impl Property {
    /// Declares a property of syntax `T`; used by the `properties!` macro.
    pub const fn new<T: Typed>(
        name: &'static str,
        builtin: Builtin,
        scope: Scope,
        help: &'static str,
    ) -> Property {
        Property {
            name,
            builtin,
            scope,
            help,
            parse: parse_value::<T>,
            empty: empty_value::<T>,
        }
    }

    /// Parses a value written for this property.
    pub fn parse(&self, text: &str) -> Result<Value, Reason> {
        (self.parse)(text)
    }

    /// The built-in default on this platform. The defaults are tested to parse; should one not,
    /// the syntax's empty value stands in rather than a panic.
    pub fn builtin_value(&self) -> Value {
        self.parse(self.builtin.text(Platform::current()))
            .unwrap_or_else(|_| (self.empty)())
    }
}

/// Every declared property, sorted by name (the order of `get all` and the help table).
pub fn all() -> &'static [&'static Property] {
    static ALL: OnceLock<Vec<&'static Property>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all: Vec<&'static Property> = inventory::iter::<Property>().collect();
        all.sort_by_key(|p| p.name);
        all
    })
}

/// The declared property called `name`.
pub fn find(name: &str) -> Option<&'static Property> {
    all()
        .binary_search_by_key(&name, |p| p.name)
        .ok()
        .map(|i| all()[i])
}

/// The prefix of free-form user properties.
pub const USER_PREFIX: &str = "user.";

/// The suffix of pinned MAC properties, `<nic>_mac`.
pub const MAC_SUFFIX: &str = "_mac";

/// Documentation of the dynamic keys, for the help table (declared here, next to [`classify`]).
pub struct DynamicKey {
    pub pattern: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

pub const DYNAMIC_KEYS: &[DynamicKey] = &[
    DynamicKey {
        pattern: "<nic>_mac",
        default: "generated",
        help: "Pin the MACs of a NIC named in interfaces: HOSTMAC,JAILMAC (12 hex digits each, ':' \
               or '-' allowed); default from mac_prefix and a hash of jail name and NIC; per jail only",
    },
    DynamicKey {
        pattern: "user.*",
        default: "none",
        help: "Free-form user properties (user.NAME with letters, digits, '_', '.' or '-'), \
               never interpreted by ioc",
    },
];

/// What kind of key a property name is.
#[derive(Clone, Copy, Debug)]
pub enum KeyKind<'k> {
    Static(&'static Property),
    /// `<nic>_mac`, with the NIC's name.
    NicMac(&'k str),
    /// `user.<name>`.
    User,
}

impl KeyKind<'_> {
    /// Parses a value written for a key of this kind.
    pub fn parse(&self, text: &str) -> Result<Value, Reason> {
        match self {
            KeyKind::Static(property) => property.parse(text),
            KeyKind::NicMac(_) => parse_value::<MacPair>(text),
            KeyKind::User => parse_value::<Text>(text),
        }
    }
}

/// Classifies a key; `None` for an unknown key.
pub fn classify(key: &str) -> Option<KeyKind<'_>> {
    if let Some(property) = find(key) {
        return Some(KeyKind::Static(property));
    }
    if is_user_key(key) {
        return Some(KeyKind::User);
    }
    let nic = key.strip_suffix(MAC_SUFFIX)?;
    check_nic_name(nic).ok()?;
    Some(KeyKind::NicMac(nic))
}

/// `user.` followed by at least one letter, digit, `_`, `.` or `-`; the rest of the key maps
/// cleanly to an `IOC_USER_...` environment variable.
pub fn is_user_key(key: &str) -> bool {
    key.strip_prefix(USER_PREFIX).is_some_and(|rest| {
        !rest.is_empty()
            && rest.len() <= 64
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    })
}

/// The canonical filter item for `text` written as a value of `key`, when it parses to exactly
/// one item (so filters compare canonical forms: `vnet=yes` finds `vnet=on`).
pub fn canonical_item(key: &str, text: &str) -> Option<String> {
    let value = classify(key)?.parse(text).ok()?;
    match value.items().as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// A typed handle on one declared property, for typed lookups (`resolved.get(VNET)`).
///
/// Only the `properties!` macro creates keys, next to the registration with the same type,
/// so a key's type always matches the values stored under its name.
pub struct Key<T> {
    name: &'static str,
    syntax: PhantomData<fn() -> T>,
}

impl<T> Clone for Key<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Key<T> {}

impl<T: Typed> Key<T> {
    pub(crate) const fn new(name: &'static str) -> Key<T> {
        Key {
            name,
            syntax: PhantomData,
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// Declares properties: a typed [`Key`] constant and an `inventory` registration for each, from
/// one line per property.
macro_rules! properties {
    ($(
        $(#[$meta:meta])*
        $key:ident: $ty:ty = $name:literal, $builtin:expr, $scope:ident, $help:literal;
    )*) => {
        $(
            $(#[$meta])*
            pub const $key: $crate::config::registry::Key<$ty> =
                $crate::config::registry::Key::new($name);
            inventory::submit! {
                $crate::config::registry::Property::new::<$ty>(
                    $name,
                    $builtin,
                    $crate::config::registry::Scope::$scope,
                    $help,
                )
            }
        )*
    };
}

pub(crate) use properties;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_default_parses_to_its_canonical_form() {
        for property in all() {
            for platform in [Platform::Linux, Platform::FreeBsd] {
                let text = property.builtin.text(platform);
                let value = property
                    .parse(text)
                    .unwrap_or_else(|e| panic!("default of {}: {e}", property.name));
                assert_eq!(
                    value.print(),
                    text,
                    "default of {} is not canonical",
                    property.name
                );
            }
        }
    }

    #[test]
    fn the_reference_table_is_complete() {
        let names: Vec<&str> = all().iter().map(|p| p.name).collect();
        for name in [
            "vnet",
            "interfaces",
            "ip4_addr",
            "ip6_addr",
            "defaultrouter",
            "defaultrouter6",
            "mac_prefix",
            "ip4",
            "ip6",
            "ip4_saddrsel",
            "ip6_saddrsel",
            "allow_raw_sockets",
            "dhcp_server",
            "resolver",
            "exec_prestart",
            "exec_created",
            "exec_start",
            "exec_poststart",
            "exec_prestop",
            "exec_stop",
            "exec_poststop",
            "depends",
            "network_plugin",
            "firewall",
        ] {
            assert!(names.contains(&name), "{name} is not declared");
        }
        let mut sorted = names.clone();
        sorted.dedup();
        assert_eq!(sorted, names, "a property is declared twice");
    }

    #[test]
    fn classify_keys() {
        assert!(matches!(classify("vnet"), Some(KeyKind::Static(p)) if p.name == "vnet"));
        assert!(matches!(
            classify("vnet0_mac"),
            Some(KeyKind::NicMac("vnet0"))
        ));
        assert!(matches!(classify("user.x-y.z_1"), Some(KeyKind::User)));
        for unknown in [
            "", "bogus", "user.", "user.a b", "_mac", "0x_mac", "a:b_mac", "VNET",
        ] {
            assert!(classify(unknown).is_none(), "{unknown}");
        }
    }

    #[test]
    fn firewall_default_depends_on_the_platform() {
        let firewall = find("firewall").unwrap();
        assert_eq!(firewall.builtin.text(Platform::Linux), "nftables");
        assert_eq!(firewall.builtin.text(Platform::FreeBsd), "ipfw");
        assert_eq!(firewall.scope, Scope::Host);
    }
}
