//! ioc-core: everything ioc does, behind a thin CLI.
//!
//! - [`actions`]: the runtime commands end to end (start, stop, exec, plans, plugins).
//! - [`config`]: the jail configuration model (properties, parsing, resolution, MACs).
//! - [`store`]: the state store (config root, atomic locked writes, host settings).
//! - [`filter`]: selecting jails on the command line.
//! - [`error`]: the error type and exit codes.
//! - [`runtime`]: the runtime directory (JIDs, namespace handles, journals of running jails).
//! - [`plugins`]: finding, vetting and loading plugin libraries.
//! - [`lifecycle`]: starting and stopping jails with journal and rollback.
//! - [`step`], [`journal`], [`snapshot`]: what a start changes, recorded before it happens.
//! - [`host`]: the platform hosts that carry the changes out (Linux, FreeBSD, plan).
//! - [`learner`]: the address learner of Secure VNET ports (`ioc __learn`).
//! - [`render`]: steps as the command lines a platform would run (dry runs, FreeBSD).

pub mod actions;
pub mod cni;
pub mod config;
pub mod error;
pub mod filter;
pub mod host;
pub mod import;
pub mod journal;
pub mod learner;
pub mod lifecycle;
pub mod plugins;
pub mod pool;
pub mod render;
pub mod runtime;
pub mod snapshot;
pub mod step;
pub mod store;

pub use error::{Error, Result};
