//! # ioc-sdk: write network modes and firewall backends for ioc
//!
//! A plugin is a `cdylib` that depends on this crate only. It implements [`NetworkMode`] or
//! [`Firewall`] as ordinary Rust traits and exports itself with one macro:
//!
//! ```ignore
//! use ioc_sdk::{Host, Jail, NetworkMode, Result};
//!
//! #[derive(Default)]
//! struct Example;
//!
//! impl NetworkMode for Example {
//!     fn setup(&self, jail: &Jail, host: &mut Host<'_>) -> Result<()> {
//!         ioc_sdk::tracing::info!(jail = jail.name(), "setting up");
//!         host.loopback_up()?;
//!         Ok(())
//!     }
//! }
//!
//! ioc_sdk::export_network_mode! {
//!     name: "example",
//!     description: "loopback only",
//!     mode: Example,
//! }
//! ```
//!
//! The library must be named `libioc_plugin_<name>.so` (dashes in the name become underscores),
//! which `[lib] name = "ioc_plugin_<name>"` and `crate-type = ["cdylib"]` give.
//!
//! Plugins never touch the system: every side effect is a request to the [`Host`], which ioc
//! journals, performs or only plans (`--dry-run`), and undoes in reverse on stop or failure.
//! A panic in a plugin becomes an error result for that hook; `tracing` events reach ioc's log.
//!
//! With the cargo feature `testing`, `ioc_sdk::testing` offers a recording host and a jail
//! builder, so a plugin's hooks can be unit-tested in-process, without root.

#![deny(missing_docs)]

mod ffi;
mod host;
mod log;
pub mod names;
pub mod nft;
mod ops;
mod plugin;
#[cfg(feature = "testing")]
pub mod testing;
mod types;

pub use ffi::{
    Hook, LogSink, NetworkShape, PluginInfo, PluginKind, PluginMod, PluginModRef,
    ROOT_MODULE_SYMBOL,
};
pub use host::{Host, HostHandle, PairSpec};
pub use ops::{
    CommandOutput, EnvVar, HostError, HostErrorKind, HostOp, HostReply, LearnSink, NftFamily, Side,
    UndoAction,
};
pub use plugin::{Error, Firewall, NetworkMode, Result};
pub use types::{
    solicited_node, Address, AddressKind, Cidr, CniAttachment, CniValid, Gateway, Ip, IpMode, Jail,
    JailDns, Mac, Nat, NatRequest, Network, NetworkSpec, Nic, Platform, PortForward, PortLearning,
    PortPolicy, Protocol,
};

/// The `tracing` crate plugins log with; its events reach ioc's log.
pub use tracing;

/// The version of this SDK; a plugin built against an incompatible one is refused.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Used by the export macros; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::ffi::{module, Instance, PluginKind, PluginModRef, Registration};
    pub use abi_stable;
}
