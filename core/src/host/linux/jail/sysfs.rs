//! The jail's own `/sys`, mounted by the namespace helper while ioc goes on with the start.
//!
//! `/sys` shows the network devices of the namespace that mounted it, so a VNET jail without a
//! root of its own gets a sysfs mounted over the copy of the host's (with its submounts, hidden
//! and gone with the namespace). Mounting it costs what grows with every jail: the kernel
//! compares the new namespace with every sysfs superblock there is, one per network namespace
//! that mounted one (0.4 ms at 1,000 jails with cold caches, more with two modes' jails on the
//! host). None of the start's netlink work needs it, so the helper mounts it after it has told
//! ioc its namespaces are ready to pin, on the other CPU while ioc pins them and builds the
//! network, and reports when it is done. ioc waits for that report ([`SysfsPending::wait`])
//! before anything runs in the jail and before the start is done.
//!
//! Best effort, as before: a jail whose sysfs did not mount still works, with the host's.

use std::fs::File;
use std::io::Read;

/// What the helper reports on its `ready` pipe once the jail's sysfs is mounted (or failed
/// to), after its readiness report; the second byte is the mount's errno (0 when it worked).
pub(super) const SYSFS_MOUNTED: u8 = 0xFB;

/// Mounts sysfs on `/sys` in the calling process's namespaces and reports it on `ready`.
/// Async-signal-safe: raw system calls on string literals and a stack buffer.
pub(super) fn mount_in_child(ready: libc::c_int) {
    // SAFETY: string literals; null data is allowed for sysfs.
    let mounted = unsafe {
        libc::mount(
            c"sysfs".as_ptr(),
            c"/sys".as_ptr(),
            c"sysfs".as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    let errno = if mounted == 0 {
        0
    } else {
        nix::errno::Errno::last_raw() as u8
    };
    let report = [SYSFS_MOUNTED, errno];
    // SAFETY: writes 2 bytes from a live stack buffer to the pipe fd `ready`.
    unsafe { libc::write(ready, report.as_ptr().cast(), 2) };
}

/// A jail whose helper may still be mounting its sysfs: the read end of the helper's `ready`
/// pipe, past its readiness report.
#[derive(Debug)]
pub struct SysfsPending(pub(super) File);

impl SysfsPending {
    /// Waits until the helper has mounted the jail's sysfs (or failed to, which the jail
    /// survives), or is gone. Microseconds when it is done already, which it nearly always
    /// is by the time a start has built the jail's network.
    pub fn wait(mut self) {
        let mut report = [0u8; 2];
        if let Err(e) = self.0.read_exact(&mut report) {
            tracing::debug!("the namespace helper left without reporting /sys: {e}");
            return;
        }
        if report[0] == SYSFS_MOUNTED && report[1] != 0 {
            let errno = nix::errno::Errno::from_raw(i32::from(report[1]));
            tracing::debug!("the jail's /sys did not mount ({errno}); it shows the host's");
        }
    }
}
