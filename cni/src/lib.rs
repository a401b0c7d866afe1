//! The Container Network Interface (<https://www.cni.dev/docs/spec/>), as typed Rust.
//!
//! One crate of CNI types for both sides of the protocol: ioc's CNI runtime (the `cni` network
//! mode runs a network list's plugins for a jail) and ioc's own CNI plugin `ioc-secure` (run by
//! containerd, CRI-O, podman or Nomad). Nothing here runs a process or touches the system: it
//! is the data of the protocol and its rules.
//!
//! - [`version`]: the versions ioc speaks and how a version is picked.
//! - [`config`]: network configuration lists, and the configuration each plugin reads on stdin.
//! - [`result`]: what `ADD` returns (interfaces, IPs, routes, DNS), in 0.4.0 and 1.x forms.
//! - [`error`]: the error object and the specification's well-known codes.
//! - [`env`]: the `CNI_*` environment of one invocation, and its validation.
//! - [`plugin`]: a plugin's side of one invocation: read the request, print the answer.
//!
//! Everything parsed here may come from an untrusted file or program: parsing never panics,
//! and a value that breaks the specification's rules is an error naming the field.

#![deny(missing_docs)]

pub mod config;
pub mod env;
pub mod error;
pub mod plugin;
pub mod result;
pub mod version;

pub use config::{NetworkList, PluginConfig};
pub use env::{Command, Invocation};
pub use error::{codes, CniError};
pub use plugin::PluginRequest;
pub use result::{CniResult, Dns, Interface, IpConfig, Route};
pub use version::{Version, SUPPORTED_VERSIONS};
