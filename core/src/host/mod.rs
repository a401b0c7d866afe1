//! Platform hosts: the only code that changes the system.

mod backend;
pub mod plan;

#[cfg(target_os = "linux")]
pub mod linux;

pub use backend::Backend;
pub use plan::PlanHost;
