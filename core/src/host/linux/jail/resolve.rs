//! Paths inside a jail's root, resolved by the kernel without leaving it (`openat2`), and the
//! mount calls that work on the resulting fds. All of it is raw syscalls on data prepared
//! beforehand, so the forked child that builds a jail's root may call it.

use std::ffi::CStr;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

/// `OPEN_TREE_CLONE` (uapi linux/mount.h): a detached copy of a mount tree.
const OPEN_TREE_CLONE: libc::c_uint = 1;
/// `AT_RECURSIVE` (uapi linux/fcntl.h): the whole tree under the path.
const AT_RECURSIVE: libc::c_uint = 0x8000;
/// `MOVE_MOUNT_F_EMPTY_PATH` and `MOVE_MOUNT_T_EMPTY_PATH`: both ends given as fds.
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x04;
const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;
/// `MOUNT_ATTR_RDONLY` for `mount_setattr`.
const MOUNT_ATTR_RDONLY: u64 = 0x01;

/// How a path inside the root may be resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Within {
    /// No symlink may lead out of the root (`RESOLVE_BENEATH`: an absolute symlink or a `..`
    /// above the root is refused with EXDEV). For the user's `mounts`.
    Beneath,
    /// Symlinks are followed as if the root were `/` (`RESOLVE_IN_ROOT`), so they cannot
    /// leave it; for files a root's own packages make symlinks of (`/etc/resolv.conf`).
    InRoot,
    /// No symlink at all: the directories ioc mounts its own file systems on.
    NoSymlinks,
}

impl Within {
    fn resolve_flags(self) -> u64 {
        let base = libc::RESOLVE_NO_MAGICLINKS;
        base | match self {
            Within::Beneath => libc::RESOLVE_BENEATH,
            Within::InRoot => libc::RESOLVE_IN_ROOT,
            Within::NoSymlinks => libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS,
        }
    }
}

/// `openat2(dir, rel, flags)` resolved `within` the tree under `dir`; a raw fd or -1 (errno
/// set). Async-signal-safe: no allocation.
pub fn open_within(
    dir: libc::c_int,
    rel: &CStr,
    flags: libc::c_int,
    mode: libc::mode_t,
    within: Within,
) -> libc::c_int {
    // SAFETY: open_how is a plain C struct of integers; all zeroes is valid (and required for
    // the fields set below to be the only ones in use).
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.mode = if flags & libc::O_CREAT != 0 {
        u64::from(mode)
    } else {
        0
    };
    how.resolve = within.resolve_flags();
    // SAFETY: `rel` is a NUL-terminated C string and `how` a live struct of the size passed;
    // the kernel keeps neither pointer past the call.
    unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir,
            rel.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        ) as libc::c_int
    }
}

/// [`open_within`] as an owned fd, for checks made before anything changes.
pub fn open_within_owned(dir: libc::c_int, rel: &CStr, within: Within) -> io::Result<OwnedFd> {
    let fd = open_within(dir, rel, libc::O_PATH, 0, within);
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: openat2 succeeded, so `fd` is a fresh fd nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Bind-mounts the host path `source` (a detached recursive copy, read-only if asked) onto the
/// file or directory open as `target`. 0 or -1 (errno set); async-signal-safe.
pub fn bind_onto(source: &CStr, target: libc::c_int, read_only: bool) -> libc::c_int {
    // SAFETY: `source` is a NUL-terminated C string alive for the call; no pointer is kept.
    let tree = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            source.as_ptr(),
            OPEN_TREE_CLONE | AT_RECURSIVE | libc::O_CLOEXEC as libc::c_uint,
        )
    } as libc::c_int;
    if tree < 0 {
        return -1;
    }
    let mut rc = 0;
    if read_only {
        // struct mount_attr { attr_set, attr_clr, propagation, userns_fd }, all u64.
        let attr: [u64; 4] = [MOUNT_ATTR_RDONLY, 0, 0, 0];
        // SAFETY: a live array laid out as struct mount_attr, of the size passed, and an
        // empty C string literal; the kernel keeps neither pointer.
        rc = unsafe {
            libc::syscall(
                libc::SYS_mount_setattr,
                tree,
                c"".as_ptr(),
                libc::AT_EMPTY_PATH as libc::c_uint | AT_RECURSIVE,
                attr.as_ptr(),
                std::mem::size_of_val(&attr),
            )
        } as libc::c_int;
    }
    if rc == 0 {
        // SAFETY: two fds this process holds and empty C string literals.
        rc = unsafe {
            libc::syscall(
                libc::SYS_move_mount,
                tree,
                c"".as_ptr(),
                target,
                c"".as_ptr(),
                MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
            )
        } as libc::c_int;
    }
    let errno = nix::errno::Errno::last_raw();
    // SAFETY: closes the tree fd opened above, which nothing else owns.
    unsafe { libc::close(tree) };
    nix::errno::Errno::set_raw(errno);
    rc
}

/// `/proc/self/fd/N` for `fd`, written into `buf` without allocating: the mount target that
/// names exactly the directory an fd holds, so a symlink swapped in later cannot redirect it.
pub fn fd_path(fd: libc::c_int, buf: &mut [u8; 32]) -> &CStr {
    const PREFIX: &[u8] = b"/proc/self/fd/";
    buf[..PREFIX.len()].copy_from_slice(PREFIX);
    let mut digits = [0u8; 10];
    let mut n = fd.max(0) as u32;
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for i in 0..len {
        buf[PREFIX.len() + i] = digits[len - 1 - i];
    }
    buf[PREFIX.len() + len] = 0;
    CStr::from_bytes_until_nul(&buf[..]).unwrap_or(c"/proc/self/fd/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_paths() {
        let mut buf = [0u8; 32];
        assert_eq!(fd_path(7, &mut buf), c"/proc/self/fd/7");
        assert_eq!(fd_path(1234, &mut buf), c"/proc/self/fd/1234");
        assert_eq!(fd_path(0, &mut buf), c"/proc/self/fd/0");
    }
}
