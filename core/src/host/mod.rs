//! Platform hosts: the only code that changes the system.

mod backend;
pub mod dad;
pub mod exec;
pub mod forwarding;
pub mod freebsd;
pub mod plan;

#[cfg(target_os = "linux")]
pub mod linux;

pub use backend::Backend;
pub use freebsd::FreeBsdHost;
pub use plan::PlanHost;

use crate::runtime::RunDir;

/// The host that really acts on the platform ioc runs on.
pub fn native(run: &RunDir) -> Box<dyn Backend> {
    #[cfg(target_os = "linux")]
    {
        Box::new(linux::LinuxHost::new(run))
    }
    #[cfg(not(target_os = "linux"))]
    {
        Box::new(FreeBsdHost::new(run))
    }
}
