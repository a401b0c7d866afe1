//! The data a plugin receives: the jail, its resolved network properties and the platform.
//!
//! These types cross the plugin boundary, so they are `#[repr(C)]` and `StableAbi`; their fields
//! are private and read through accessors that return ordinary Rust types, which keeps
//! abi_stable out of a plugin author's sight. One module per concern: addresses, the network
//! they make up, the jail that owns it, and the port policy a firewall enforces.

mod address;
mod cni;
mod jail;
mod nat;
mod network;
mod policy;

pub use address::{solicited_node, Address, AddressKind, Cidr, Ip, Mac};
pub use cni::{CniAttachment, CniValid, JailDns};
pub use jail::{Jail, Platform};
pub use nat::{Nat, NatRequest, PortForward, Protocol};
pub use network::{Gateway, IpMode, Network, NetworkSpec, Nic};
pub use policy::{PortLearning, PortPolicy};
