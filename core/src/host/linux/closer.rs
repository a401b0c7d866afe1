//! A process that holds one descriptor until it exits, made as cheaply as Linux allows.
//!
//! It is a `vm_child` nobody waits for: it shares the caller's memory, so nothing is copied but
//! the descriptor table, which is what it is for: its copy of the descriptor keeps the socket
//! open after the caller closed its own. It closes every other descriptor at once, so it holds
//! no pipe of the caller (a caller reading ioc's output sees its end when ioc exits), and
//! exits; its exit is what waits for the kernel.

use std::io;
use std::os::fd::RawFd;

/// Starts the process that holds `keep`; returns once it exists.
pub fn spawn(keep: RawFd) -> io::Result<()> {
    if keep < 0 {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    // SAFETY: `hold` makes raw system calls on its argument only (a descriptor number, copied
    // into the child's data), as `spawn_unreaped` asks.
    unsafe { crate::host::linux::vm_child::spawn_unreaped(keep, hold) }
}

/// The child: closes every descriptor but `keep`, and returns (which exits). Its signals are
/// blocked by `vm_child`.
fn hold(keep: &RawFd) -> libc::c_int {
    let keep = *keep as libc::c_long;
    // SAFETY: raw system calls on descriptor ranges (close_range exists since Linux 5.9, below
    // the 5.16 the netdev egress hook needs, so it does not fail and writes no errno).
    unsafe {
        if keep > 0 {
            libc::syscall(libc::SYS_close_range, 0u32, (keep - 1) as u32, 0u32);
        }
        libc::syscall(libc::SYS_close_range, (keep + 1) as u32, u32::MAX, 0u32);
    }
    0
}
