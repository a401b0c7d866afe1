//! A new network namespace's sysctls ([`LINUX_JAIL_NET_SYSCTLS`]), written by the namespace
//! helper child through a private proc instance.
//!
//! Why not `/proc/sys`: the dentries of every network namespace's `/proc/sys/net/ipv6` (and
//! `ipv4`, ...) hang off the one `/proc/sys/net` dentry with the same name, so they share one
//! dcache hash chain, and a lookup skips the other namespaces' entries one by one. The first
//! lookup in a new namespace finds nothing and walks the whole chain: measured 1.2 ms with
//! 1,000 VNET jails running, 2-9 ms with a few thousand namespaces on the machine, growing
//! with each jail. A proc instance of our own (`fsopen("proc")`, `fsmount`, never attached
//! to any mount namespace) has its own dentries: the same lookup costs some 40 µs whatever
//! runs, and the instance goes when its descriptor is closed. A kernel without the mount API
//! (before 5.2) or refusing it gets the old path.
//!
//! IPv6 device settings cannot go through netlink instead: `RTM_SETLINK` takes only the
//! address generation mode and token of `IFLA_INET6`, not `accept_ra` or the DAD settings.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::OnceLock;

use crate::step::LINUX_JAIL_NET_SYSCTLS;

/// `fsopen`'s close-on-exec flag (linux/mount.h).
const FSOPEN_CLOEXEC: libc::c_uint = 1;
/// `fsconfig`'s "create the superblock" command (linux/mount.h).
const FSCONFIG_CMD_CREATE: libc::c_uint = 6;
/// `fsmount`'s close-on-exec flag (linux/mount.h).
const FSMOUNT_CLOEXEC: libc::c_uint = 1;
/// `MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC` (linux/mount.h).
const MOUNT_ATTR_SAFE: libc::c_uint = 0x2 | 0x4 | 0x8;

/// Sysctl files relative to a proc root (`sys/net/...`) and their values.
pub(super) type Sysctls = Vec<(CString, &'static str)>;

/// [`LINUX_JAIL_NET_SYSCTLS`] as paths relative to a proc root, made before the fork (the
/// child may not allocate).
pub(super) fn jail_net_sysctls() -> io::Result<Sysctls> {
    LINUX_JAIL_NET_SYSCTLS
        .iter()
        .map(|(key, value)| {
            let path = format!("sys/{}", key.replace('.', "/"));
            CString::new(path)
                .map(|path| (path, *value))
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in a sysctl"))
        })
        .collect()
}

/// Writes `sysctls` in the calling thread's network namespace. Best effort: a kernel without
/// optimistic DAD lacks those files, and the jail still works (see `LINUX_JAIL_NET_SYSCTLS`).
/// Async-signal-safe: raw system calls on strings made before the fork.
///
/// Returns the proc root it wrote through (-1 for none), for the caller to close once it has
/// reported ready: the last close of a private proc instance tears its superblock down, 0.1-0.9
/// ms that need not delay the start (the helper's exit does it, reaped later; see `reap`).
pub(super) fn write_in_child(sysctls: &Sysctls) -> libc::c_int {
    if sysctls.is_empty() {
        return -1;
    }
    let root = private_proc().unwrap_or_else(|| {
        // SAFETY: a string literal, alive for the call.
        unsafe {
            libc::open(
                c"/proc".as_ptr(),
                libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        }
    });
    if root < 0 {
        return -1;
    }
    for (path, value) in sysctls {
        // SAFETY: `root` is a directory fd this function opened; `path` a C string owned by
        // the caller's plan.
        let fd = unsafe { libc::openat(root, path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
        if fd >= 0 {
            // SAFETY: writes `value.len()` bytes of a `&'static str` to the fd just opened,
            // then closes that fd, which nothing else owns.
            unsafe {
                libc::write(fd, value.as_ptr().cast(), value.len());
                libc::close(fd);
            }
        }
    }
    root
}

/// Opens `/proc/<relative>` for reading or writing through a private proc instance (see the
/// module documentation), else through `/proc`. For sysctls read or written outside the
/// namespace helper (`crate::host::linux::netns`).
pub(crate) fn open_proc_file(relative: &str, write: bool) -> io::Result<std::fs::File> {
    let root = private_proc().map(|fd| {
        // SAFETY: `fd` is the mount fd just made, which nothing else owns. The file opened
        // through it keeps the instance alive once it is closed.
        unsafe { OwnedFd::from_raw_fd(fd) }
    });
    open_under(root.as_ref(), relative, write)
}

/// Like [`open_proc_file`], through one private proc instance made on first use and kept for
/// the process: for the sysctls of the namespace ioc runs in (the host's), which a bulk start
/// writes for every jail's port (making and dissolving an instance costs some 70 µs). Only
/// from that namespace: a lookup from another would add that namespace's entries to the
/// instance's dentries, the walk a private instance is there to avoid.
pub(crate) fn open_own_proc_file(relative: &str, write: bool) -> io::Result<std::fs::File> {
    static OWN: OnceLock<Option<OwnedFd>> = OnceLock::new();
    let root = OWN.get_or_init(|| {
        // SAFETY: as in `open_proc_file`; this one is kept for the process.
        private_proc().map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
    });
    open_under(root.as_ref(), relative, write)
}

/// Opens `relative` under the proc root `root`, else under `/proc`.
fn open_under(root: Option<&OwnedFd>, relative: &str, write: bool) -> io::Result<std::fs::File> {
    let path = CString::new(relative)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in a /proc path"))?;
    let flags = libc::O_CLOEXEC
        | if write {
            libc::O_WRONLY
        } else {
            libc::O_RDONLY
        };
    if let Some(root) = root {
        // SAFETY: `root` is a live proc mount fd; `path` a live C string.
        let fd = unsafe { libc::openat(root.as_raw_fd(), path.as_ptr(), flags) };
        if fd >= 0 {
            // SAFETY: `fd` was just opened and nothing else owns it.
            return Ok(unsafe { std::fs::File::from_raw_fd(fd) });
        }
    }
    std::fs::OpenOptions::new()
        .read(!write)
        .write(write)
        .open(std::path::Path::new("/proc").join(relative))
}

/// A detached mount of a new proc instance (see the module documentation); `None` when the
/// kernel refuses.
fn private_proc() -> Option<libc::c_int> {
    // SAFETY: fsopen with a string literal and a flag; returns a new fd or -1.
    let context = unsafe { libc::syscall(libc::SYS_fsopen, c"proc".as_ptr(), FSOPEN_CLOEXEC) };
    let context = libc::c_int::try_from(context).ok().filter(|fd| *fd >= 0)?;
    let null = std::ptr::null::<libc::c_char>();
    // SAFETY: fsconfig's create command on the context fd just opened; key and value must be
    // null for it.
    let created = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            context,
            FSCONFIG_CMD_CREATE,
            null,
            null,
            0,
        )
    };
    let mount = if created == 0 {
        // SAFETY: fsmount on the configured context fd; returns a new fd or -1.
        unsafe { libc::syscall(libc::SYS_fsmount, context, FSMOUNT_CLOEXEC, MOUNT_ATTR_SAFE) }
    } else {
        -1
    };
    // SAFETY: closes the context fd opened above, which nothing else uses.
    unsafe { libc::close(context) };
    libc::c_int::try_from(mount).ok().filter(|fd| *fd >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysctl_paths_are_relative_to_a_proc_root() {
        let sysctls = jail_net_sysctls().unwrap();
        assert_eq!(
            sysctls[0].0.to_str().unwrap(),
            "sys/net/ipv6/conf/default/accept_ra"
        );
        assert_eq!(sysctls.len(), LINUX_JAIL_NET_SYSCTLS.len());
    }

    #[test]
    fn a_new_namespace_gets_its_sysctls_through_a_private_proc() {
        use crate::host::linux::netns::tests::{can_unshare, in_new_netns};
        if !can_unshare("a_new_namespace_gets_its_sysctls_through_a_private_proc") {
            return;
        }
        // This kernel has the mount API (5.2+): the private instance, not the fallback.
        let fd = private_proc().expect("fsopen/fsmount of proc");
        // SAFETY: closes the fd just opened.
        unsafe { libc::close(fd) };
        let sysctls = jail_net_sysctls().unwrap();
        let read = |key: &str| {
            std::fs::read_to_string(format!("/proc/sys/net/ipv6/conf/default/{key}"))
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        let written = in_new_netns(|| {
            let root = write_in_child(&sysctls);
            // SAFETY: closes the proc root the call above opened and returned.
            unsafe { libc::close(root) };
            ["accept_ra", "optimistic_dad", "use_optimistic"].map(read)
        });
        assert_eq!(written, ["0", "1", "1"]);
        // The host's own namespace is untouched.
        assert_ne!(read("optimistic_dad"), "");
    }
}
