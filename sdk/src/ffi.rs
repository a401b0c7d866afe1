//! The stable ABI between ioc and a plugin library.
//!
//! A plugin exports one abi_stable root module, [`PluginModRef`], with three functions: `info`,
//! `init` (hands over the log sink) and `call` (runs one hook). The surface is deliberately
//! narrow: hooks and host operations are data ([`Hook`], [`HostOp`](crate::HostOp)), so the ABI
//! stays the same while the traits grow default methods. abi_stable checks the layout of every
//! type here when ioc loads a library.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use abi_stable::library::RootModule;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RResult, RStr, RString, RVec};
use abi_stable::{declare_root_module_statics, package_version_strings, StableAbi};

use crate::host::{Host, HostHandle};
use crate::log;
use crate::plugin::{Firewall, NetworkMode};
use crate::types::{Jail, NatRequest, Network, Platform, PortPolicy};

/// What a plugin provides.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PluginKind {
    /// A network mode ([`NetworkMode`]): builds a jail's network.
    Network,
    /// A firewall backend ([`Firewall`]): enforces Secure VNET port policies.
    Firewall,
}

impl PluginKind {
    /// The kind as `ioc plugins list` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Network => "network",
            PluginKind::Firewall => "firewall",
        }
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The shape of a jail's network that a network mode serves, as `network_plugin=auto` sees
/// it. A mode declares the shapes it serves in its export macro (`serves: [...]`); for a jail
/// with `network_plugin=auto`, ioc picks the one enabled mode that serves the jail's shape.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NetworkShape {
    /// `vnet=off`: the jail shares the host's network stack.
    SharedIp,
    /// `vnet=on` with plain interfaces only (`nic:bridge`, or none).
    Vnet,
    /// `vnet=on` with at least one secure interface (`nic::bridge`).
    SecureVnet,
    /// `nat=on`: behind the host's address, with or without VNET (issue 12).
    Nat,
}

impl NetworkShape {
    /// The shape of `network`.
    pub fn of(network: &Network) -> NetworkShape {
        if network.nat().is_some() {
            NetworkShape::Nat
        } else if !network.vnet() {
            NetworkShape::SharedIp
        } else if network.interfaces().iter().any(|n| n.secure()) {
            NetworkShape::SecureVnet
        } else {
            NetworkShape::Vnet
        }
    }

    /// How the shape is written in a jail's configuration, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            NetworkShape::SharedIp => "vnet=off",
            NetworkShape::Vnet => "vnet=on with plain interfaces (nic:bridge)",
            NetworkShape::SecureVnet => "vnet=on with a secure interface (nic::bridge)",
            NetworkShape::Nat => "nat=on",
        }
    }
}

impl fmt::Display for NetworkShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// How a plugin describes itself.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct PluginInfo {
    /// The name jails select it by (`network_plugin`, `firewall`); must match the library's
    /// file name, `libioc_plugin_<name>.so`.
    pub name: RString,
    /// Which trait the plugin implements, so ioc never calls a hook it does not have.
    pub kind: PluginKind,
    /// The plugin crate's own version.
    pub version: RString,
    /// One line for `ioc plugins list`.
    pub description: RString,
    /// Platforms the plugin can run on.
    pub platforms: RVec<Platform>,
    /// The network shapes a mode serves for `network_plugin=auto`; empty for a mode that is
    /// only used when named, and for firewall backends.
    pub serves: RVec<NetworkShape>,
}

/// One hook call into a plugin.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub enum Hook {
    /// [`NetworkMode::validate`]: check before anything changes; only queries allowed.
    Validate,
    /// [`NetworkMode::setup`]: build the jail's network.
    Setup,
    /// [`NetworkMode::teardown`]: extra work on stop, before the jail is removed.
    Teardown,
    /// [`NetworkMode::pre_start`]: before the jail is created.
    PreStart,
    /// [`NetworkMode::post_start`]: last step of a start.
    PostStart,
    /// [`NetworkMode::pre_stop`]: first step of a stop.
    PreStop,
    /// [`NetworkMode::post_stop`]: last step of a stop.
    PostStop,
    /// [`Firewall::check_ready`]: can the host enforce policies at all?
    FirewallReady,
    /// [`Firewall::install`] for this policy.
    FirewallInstall(PortPolicy),
    /// [`Firewall::remove`] for this policy, on stop or rollback.
    FirewallRemove(PortPolicy),
    /// [`Firewall::install_nat`] for this jail.
    FirewallNat(NatRequest),
    /// [`Firewall::remove_nat`] for this jail, on stop or rollback.
    FirewallNatRemove(NatRequest),
    /// [`NetworkMode::check`]: `ioc check` of a running jail.
    Check,
    /// [`NetworkMode::gc`] with every jail of this mode (the hook's own jail argument is one
    /// of them, or any jail when there are none, and is not used).
    Gc(RVec<Jail>),
}

impl Hook {
    /// The hook's name as the trait method is called, for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Hook::Validate => "validate",
            Hook::Setup => "setup",
            Hook::Teardown => "teardown",
            Hook::PreStart => "pre_start",
            Hook::PostStart => "post_start",
            Hook::PreStop => "pre_stop",
            Hook::PostStop => "post_stop",
            Hook::FirewallReady => "check_ready",
            Hook::FirewallInstall(_) => "install",
            Hook::FirewallRemove(_) => "remove",
            Hook::FirewallNat(_) => "install_nat",
            Hook::FirewallNatRemove(_) => "remove_nat",
            Hook::Check => "check",
            Hook::Gc(_) => "gc",
        }
    }
}

/// Where a plugin's tracing events go: a level filter and a function in ioc.
#[repr(C)]
#[derive(StableAbi, Clone, Copy)]
pub struct LogSink {
    /// 0 = off, 1 = error, 2 = warn, 3 = info, 4 = debug, 5 = trace.
    pub max_level: u8,
    /// Called once per event with its level, the plugin's name and the rendered message.
    pub emit: extern "C" fn(level: u8, target: RStr<'_>, message: RStr<'_>),
}

/// The root module every plugin library exports.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
#[sabi(missing_field(panic))]
pub struct PluginMod {
    /// Describes the plugin; ioc checks it against the file name and its platform.
    pub info: extern "C" fn() -> PluginInfo,
    /// Hands over the log sink; called once, before any hook.
    pub init: extern "C" fn(sink: LogSink),
    #[sabi(last_prefix_field)]
    /// Runs one hook for a jail, with the host handle the hook sends its requests to; an
    /// error is the message for the user.
    pub call: extern "C" fn(hook: Hook, jail: &Jail, host: HostHandle<'_>) -> RResult<(), RString>,
}

impl RootModule for PluginModRef {
    declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = "ioc_plugin";
    const NAME: &'static str = "ioc plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

/// The symbol abi_stable looks up in a library; the export macros define it.
pub const ROOT_MODULE_SYMBOL: &str = "_1as_0lib_1header_0root_bmodule_bloader";

/// The plugin object a library registers.
pub enum Instance {
    /// A network mode.
    Network(Box<dyn NetworkMode>),
    /// A firewall backend.
    Firewall(Box<dyn Firewall>),
}

impl Instance {
    fn kind(&self) -> PluginKind {
        match self {
            Instance::Network(_) => PluginKind::Network,
            Instance::Firewall(_) => PluginKind::Firewall,
        }
    }
}

/// What the export macros record about the plugin in its own library.
pub struct Registration {
    /// The plugin's name (see [`PluginInfo::name`]).
    pub name: &'static str,
    /// The plugin crate's version, from its `Cargo.toml`.
    pub version: &'static str,
    /// One line for `ioc plugins list`.
    pub description: &'static str,
    /// The platforms the plugin runs on.
    pub platforms: &'static [Platform],
    /// The jail shapes this mode serves for `network_plugin=auto` (see [`PluginInfo::serves`]).
    pub serves: &'static [NetworkShape],
    /// What [`make`](Self::make) builds, checked when the instance is first made.
    pub kind: PluginKind,
    /// Builds the plugin object, once, on the first hook call.
    pub make: fn() -> Instance,
}

/// Each plugin library links its own copy of this crate, so these statics are per plugin.
static REGISTRATION: OnceLock<&'static Registration> = OnceLock::new();
static INSTANCE: OnceLock<Instance> = OnceLock::new();

/// Called by the export macros from the root-module constructor.
pub fn module(registration: &'static Registration) -> PluginModRef {
    use abi_stable::prefix_type::PrefixTypeTrait;
    // A library has exactly one registration; a second call keeps the first.
    let _ = REGISTRATION.set(registration);
    PluginMod {
        info: plugin_info,
        init: plugin_init,
        call: plugin_call,
    }
    .leak_into_prefix()
}

fn registration() -> Option<&'static Registration> {
    REGISTRATION.get().copied()
}

/// The name this library registered under (for log records).
pub(crate) fn plugin_name() -> Option<&'static str> {
    registration().map(|r| r.name)
}

extern "C" fn plugin_info() -> PluginInfo {
    // Without a registration (a library built by hand, not by the export macros) the plugin
    // describes itself as nameless, which the loader refuses for not matching its file name.
    let Some(reg) = registration() else {
        return PluginInfo {
            name: "".into(),
            kind: PluginKind::Network,
            version: "".into(),
            description: "".into(),
            platforms: RVec::new(),
            serves: RVec::new(),
        };
    };
    PluginInfo {
        name: reg.name.into(),
        kind: reg.kind,
        version: reg.version.into(),
        description: reg.description.into(),
        platforms: reg.platforms.iter().copied().collect(),
        serves: reg.serves.iter().copied().collect(),
    }
}

extern "C" fn plugin_init(sink: LogSink) {
    log::install(sink);
}

extern "C" fn plugin_call(hook: Hook, jail: &Jail, handle: HostHandle<'_>) -> RResult<(), RString> {
    let hook_name = hook.name();
    let outcome = catch_unwind(AssertUnwindSafe(|| dispatch(hook, jail, handle)));
    match outcome {
        Ok(Ok(())) => RResult::ROk(()),
        Ok(Err(message)) => RResult::RErr(message.into()),
        Err(payload) => {
            let detail = log::take_panic_message().unwrap_or_else(|| panic_text(&*payload));
            RResult::RErr(format!("plugin panicked in {hook_name}: {detail}").into())
        }
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

fn instance() -> Result<&'static Instance, String> {
    let reg = registration().ok_or("plugin library has no registration")?;
    let inst = INSTANCE.get_or_init(reg.make);
    if inst.kind() != reg.kind {
        return Err(format!(
            "plugin {} registered as {} but built a {}",
            reg.name,
            reg.kind,
            inst.kind()
        ));
    }
    Ok(inst)
}

fn dispatch(hook: Hook, jail: &Jail, handle: HostHandle<'_>) -> Result<(), String> {
    let mut host = Host::from_handle(handle);
    let host = &mut host;
    let result = match (instance()?, hook) {
        (Instance::Network(m), Hook::Validate) => m.validate(jail, host),
        (Instance::Network(m), Hook::Setup) => m.setup(jail, host),
        (Instance::Network(m), Hook::Teardown) => m.teardown(jail, host),
        (Instance::Network(m), Hook::PreStart) => m.pre_start(jail, host),
        (Instance::Network(m), Hook::PostStart) => m.post_start(jail, host),
        (Instance::Network(m), Hook::PreStop) => m.pre_stop(jail, host),
        (Instance::Network(m), Hook::PostStop) => m.post_stop(jail, host),
        (Instance::Firewall(f), Hook::FirewallReady) => f.check_ready(jail, host),
        (Instance::Firewall(f), Hook::FirewallInstall(p)) => f.install(jail, &p, host),
        (Instance::Firewall(f), Hook::FirewallRemove(p)) => f.remove(jail, &p, host),
        (Instance::Firewall(f), Hook::FirewallNat(r)) => f.install_nat(jail, &r, host),
        (Instance::Firewall(f), Hook::FirewallNatRemove(r)) => f.remove_nat(jail, &r, host),
        (Instance::Network(m), Hook::Check) => m.check(jail, host),
        (Instance::Network(m), Hook::Gc(jails)) => m.gc(&jails, host),
        (inst, hook) => {
            return Err(format!(
                "a {} plugin has no {} hook",
                inst.kind(),
                hook.name()
            ))
        }
    };
    result.map_err(|e| e.to_string())
}

/// Exports a [`NetworkMode`] from a plugin library (a `cdylib`).
///
/// ```ignore
/// ioc_sdk::export_network_mode! {
///     name: "example",
///     description: "what it does, in one line",
///     mode: ExampleMode::default(),
/// }
/// ```
/// `serves: [NetworkShape::Vnet]` may follow to offer the mode to `network_plugin=auto` for
/// jails of that shape (see [`NetworkShape`]; default: none, so the mode runs only where a
/// jail names it). Then `platforms: [Platform::Linux]` may follow to restrict where it runs
/// (default: everywhere).
#[macro_export]
macro_rules! export_network_mode {
    (name: $name:expr, description: $desc:expr, mode: $make:expr
        $(, serves: [$($s:expr),* $(,)?])?
        $(, platforms: [$($p:expr),* $(,)?])? $(,)?) => {
        $crate::__export_plugin!($name, $desc, $crate::__private::PluginKind::Network,
            $crate::__private::Instance::Network(::std::boxed::Box::new($make)),
            [$($($s),*)?]
            $(, [$($p),*])?);
    };
}

/// Exports a [`Firewall`] backend from a plugin library (a `cdylib`). Same form as
/// [`export_network_mode!`] with `backend:` in place of `mode:`.
#[macro_export]
macro_rules! export_firewall {
    (name: $name:expr, description: $desc:expr, backend: $make:expr $(, platforms: [$($p:expr),* $(,)?])? $(,)?) => {
        $crate::__export_plugin!($name, $desc, $crate::__private::PluginKind::Firewall,
            $crate::__private::Instance::Firewall(::std::boxed::Box::new($make)), []
            $(, [$($p),*])?);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_plugin {
    ($name:expr, $desc:expr, $kind:expr, $make:expr, [$($s:expr),*]) => {
        $crate::__export_plugin!($name, $desc, $kind, $make, [$($s),*],
            [$crate::Platform::Linux, $crate::Platform::FreeBsd]);
    };
    ($name:expr, $desc:expr, $kind:expr, $make:expr, [$($s:expr),*], [$($p:expr),*]) => {
        /// The root module of this plugin library, found by ioc through abi_stable.
        #[no_mangle]
        #[allow(non_upper_case_globals)]
        pub static _1as_0lib_1header_0root_bmodule_bloader:
            $crate::__private::abi_stable::library::LibHeader = {
            static REGISTRATION: $crate::__private::Registration = $crate::__private::Registration {
                name: $name,
                version: ::std::env!("CARGO_PKG_VERSION"),
                description: $desc,
                platforms: &[$($p),*],
                serves: &[$($s),*],
                kind: $kind,
                make: || $make,
            };
            fn root_module() -> $crate::__private::PluginModRef {
                $crate::__private::module(&REGISTRATION)
            }
            extern "C" fn erased_root_module() -> $crate::__private::abi_stable::library::RootModuleResult {
                $crate::__private::abi_stable::library::__call_root_module_loader(root_module)
            }
            // SAFETY: `erased_root_module` returns the `PluginModRef` built by `root_module`.
            unsafe {
                $crate::__private::abi_stable::library::LibHeader::from_constructor::<$crate::__private::PluginModRef>(
                    erased_root_module,
                    $crate::__private::abi_stable::library::CheckTypeLayout::Yes,
                )
            }
        };
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn root_module_symbol_matches_abi_stable() {
        assert_eq!(
            super::ROOT_MODULE_SYMBOL,
            abi_stable::library::ROOT_MODULE_LOADER_NAME
        );
    }

    #[test]
    fn a_network_has_the_shape_its_vnet_and_interfaces_make() {
        use super::NetworkShape;
        use crate::types::{Network, NetworkSpec, Nic};
        let network = |vnet: bool, secure: &[bool]| -> Network {
            let mac = "02:00:00:00:00:01".parse().unwrap();
            NetworkSpec {
                vnet,
                interfaces: secure
                    .iter()
                    .enumerate()
                    .map(|(i, s)| Nic::new(&format!("vnet{i}"), Some("bridge0"), *s, mac, mac))
                    .collect(),
                ip4: Vec::new(),
                ip6: Vec::new(),
                ..NetworkSpec::default()
            }
            .into()
        };
        assert_eq!(
            NetworkShape::of(&network(false, &[])),
            NetworkShape::SharedIp
        );
        assert_eq!(NetworkShape::of(&network(true, &[])), NetworkShape::Vnet);
        assert_eq!(
            NetworkShape::of(&network(true, &[false])),
            NetworkShape::Vnet
        );
        assert_eq!(
            NetworkShape::of(&network(true, &[false, true])),
            NetworkShape::SecureVnet
        );
    }
}
