//! CNI mode (issue 13): the CNI properties through the real `ioc` binary, and CNI jails end to
//! end in sandbox namespaces with Debian's CNI plugins and network lists of the test's own.

mod plans;
mod properties;

#[cfg(target_os = "linux")]
mod bridge;
#[cfg(target_os = "linux")]
mod multihost;
#[cfg(target_os = "linux")]
mod net;
#[cfg(target_os = "linux")]
mod plugins;
#[cfg(target_os = "linux")]
mod secure;
