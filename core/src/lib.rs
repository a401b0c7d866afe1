//! ioc-core: everything ioc does, behind a thin CLI.
//!
//! - [`config`]: the jail configuration model (properties, parsing, resolution, MACs).
//! - [`store`]: the state store (config root, atomic locked writes, host settings).
//! - [`filter`]: selecting jails on the command line.
//! - [`error`]: the error type and exit codes.
//! - [`runtime`]: the runtime directory (JIDs, namespace handles, journals of running jails).
//! - [`plugins`]: finding, vetting and loading plugin libraries.

pub mod config;
pub mod error;
pub mod filter;
pub mod plugins;
pub mod runtime;
pub mod store;

pub use error::{Error, Result};
