//! Finding, vetting and loading plugin libraries.
//!
//! A plugin is a shared library named `libioc_plugin_<name>.so` (`-` in the name becomes `_`).
//! The name is in the file name, so ioc loads only the plugins a command needs without opening
//! the others. Loading is refused for files an attacker could have written (see [`trust`]) and
//! for libraries built against another SDK (see [`load`]).

mod auto;
pub mod checked;
mod load;
mod logsink;
mod registry;
mod search;
mod trust;

pub use load::{HookError, LoadError, LoadedPlugin};
pub use registry::{PluginEntry, PluginError, PluginStatus, Registry, SHIPPED_PLUGINS};
pub use search::{file_name_for, plugin_name_from_file, SearchPath};
pub use trust::{check_trusted, TrustError};
