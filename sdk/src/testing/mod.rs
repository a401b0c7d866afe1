//! A kit for unit-testing plugins in-process, without root and without touching the system
//! (cargo feature `testing`).
//!
//! [`JailBuilder`] makes the [`Jail`](crate::Jail) a hook receives from the property values a
//! user writes; [`RecordingHost`] stands in for ioc: it records every request a hook sends and
//! answers queries from what the test declared. A test then checks what `setup` asks the host
//! to do, or what `validate` refuses:
//!
//! ```
//! use ioc_sdk::testing::{JailBuilder, RecordingHost};
//! use ioc_sdk::{Host, Jail, NetworkMode, Result};
//!
//! struct Loopback;
//! impl NetworkMode for Loopback {
//!     fn setup(&self, _jail: &Jail, host: &mut Host<'_>) -> Result<()> {
//!         host.loopback_up()?;
//!         Ok(())
//!     }
//! }
//!
//! let jail = JailBuilder::new("build").vnet(true).build();
//! let mut host = RecordingHost::new();
//! Loopback.setup(&jail, &mut host.host()).unwrap();
//! assert_eq!(host.names(), ["loopback-up"]);
//!
//! // `validate` may only ask questions: the default one asks nothing.
//! let mut host = RecordingHost::validating();
//! Loopback.validate(&jail, &mut host.host()).unwrap();
//! assert!(host.changes().is_empty());
//! ```
//!
//! Add it to a plugin as a dev-dependency:
//! `ioc-sdk = { version = "...", features = ["testing"] }`.

mod host;
mod jail;
mod parse;
#[cfg(test)]
mod tests;

pub use host::{RecordingHost, DEFAULT_MTU};
pub use jail::JailBuilder;
