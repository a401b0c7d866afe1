//! NAT mode (issue 12): the NAT properties through the real `ioc` binary, and NAT jails end
//! to end in a sandbox host whose uplink leads to a peer namespace playing the outside world.

#[cfg(target_os = "linux")]
mod lifecycle;
mod plans;
mod properties;
#[cfg(target_os = "linux")]
mod traffic;
