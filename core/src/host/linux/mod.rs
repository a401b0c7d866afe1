//! The Linux host: rtnetlink and network namespaces.

pub mod jail;
pub mod netlink;
pub mod netns;
pub mod nft;

mod backend;
mod cni;
mod detached;
mod gone;
mod learn;
mod vm_child;
pub use backend::LinuxHost;

mod probe;
pub use probe::LinuxProbe;
