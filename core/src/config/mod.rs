//! The jail configuration model.
//!
//! - [`syntax`]: the typed value syntaxes (parse user text, print a canonical form).
//! - [`registry`] and [`properties`]: every property declared once (name, default, scope, help,
//!   parser), collected with `inventory`; typed [`Key`]s such as [`properties::VNET`].
//! - [`settings`]: what a user set on a jail or on the defaults, and the checks on every change.
//! - [`resolve`]: the lookup chain (jail, user defaults, built-in) and [`ResolvedJail`], the
//!   typed view the lifecycle, `get`, `list` and filters use.
//! - [`mac`]: the MAC formula.
//! - [`names`]: jail, interface and plugin names.

pub mod boot;
pub mod cni;
pub mod cni_properties;
pub mod mac;
pub mod names;
pub mod nat;
pub mod nat_properties;
pub mod properties;
pub mod registry;
pub mod resolve;
pub mod root_properties;
pub mod settings;
pub mod suggest;
pub mod syntax;
pub mod value;

pub use names::{JailName, DEFAULTS};
pub use registry::{Key, Property, Scope};
pub use resolve::{Hook, Resolved, ResolvedJail};
pub use settings::{Assignment, Owner, Settings};
pub use value::Value;

#[cfg(test)]
mod fuzz_tests;
