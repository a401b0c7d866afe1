//! ioc-core: everything ioc does, behind a thin CLI.
//!
//! - [`runtime`]: the runtime directory (JIDs, namespace handles, journals of running jails).

pub mod plugins;
pub mod runtime;
