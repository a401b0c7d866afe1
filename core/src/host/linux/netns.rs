//! Network namespaces for the Linux host: which one this thread is in, running code inside
//! another one, and reading or writing sysctls as seen from inside one.
//!
//! Namespaces here are *per thread*: `setns(CLONE_NEWNET)` moves only the calling thread, so
//! everything in this module acts on the current thread and never on the whole process. That is
//! what lets one ioc process work in many jails at once, and it is why the handle of the current
//! namespace is `/proc/thread-self/ns/net`: `/proc/self` names the main thread, which may be
//! somewhere else.

use std::fs::File;
use std::io::{self, Read, Write};
use std::marker::PhantomData;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;

use nix::sched::{setns, CloneFlags};

/// Opens a handle on the network namespace of the calling thread.
///
/// The handle keeps the namespace alive and can be given to [`with_netns`], to
/// [`NetnsGuard::enter`] or to netlink (`IFLA_NET_NS_FD`) later, from any thread.
pub fn current_netns() -> io::Result<OwnedFd> {
    File::open("/proc/thread-self/ns/net").map(OwnedFd::from)
}

/// While alive, the calling thread is in another network namespace; dropping it returns the
/// thread to the namespace it was in before.
///
/// The guard is deliberately not `Send`: it must be dropped on the thread that entered.
///
/// If the thread cannot be returned (setns into a namespace we hold a handle on fails only when
/// the process lost `CAP_SYS_ADMIN` or the kernel is out of memory), the process aborts. Going on
/// would be worse than stopping: every later operation of this thread would silently act on the
/// wrong network, for example on a jail's instead of the host's.
pub struct NetnsGuard {
    original: OwnedFd,
    _not_send: PhantomData<*const ()>,
}

impl NetnsGuard {
    /// Moves the calling thread into `ns`, remembering where it was.
    pub fn enter(ns: BorrowedFd<'_>) -> io::Result<NetnsGuard> {
        let original = current_netns()?;
        setns(ns, CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
        Ok(NetnsGuard {
            original,
            _not_send: PhantomData,
        })
    }
}

impl Drop for NetnsGuard {
    fn drop(&mut self) {
        if let Err(errno) = setns(self.original.as_fd(), CloneFlags::CLONE_NEWNET) {
            eprintln!(
                "ioc: cannot return a thread to its network namespace ({errno}); aborting \
                 rather than acting on the wrong network"
            );
            std::process::abort();
        }
    }
}

/// Runs `f` with the calling thread inside `ns`, and returns the thread to its own namespace
/// afterwards, also when `f` panics.
///
/// Only the namespace change can fail here; `f`'s own errors are in its `T`.
pub fn with_netns<T>(ns: BorrowedFd<'_>, f: impl FnOnce() -> T) -> io::Result<T> {
    let _guard = NetnsGuard::enter(ns)?;
    Ok(f())
}

/// Splits a sysctl(8) name into the path segments under `/proc/sys`.
///
/// Dots separate the levels, except inside an interface name: `net.ipv6.conf.vnet0.5.accept_ra`
/// is `net/ipv6/conf/vnet0.5/accept_ra`, because VLAN-style names like `vnet0.5` are common and
/// the keys below an interface never contain a dot. For the per-interface trees (`conf` and
/// `neigh` of IPv4, IPv6 and MPLS) the interface is everything between the tree and the last dot.
/// As in sysctl(8), a name that contains a `/` is taken as a path, and its dots are literal.
pub fn sysctl_key(name: &str) -> Vec<&str> {
    if name.contains('/') {
        return name.split('/').filter(|s| !s.is_empty()).collect();
    }
    const PER_INTERFACE: [&str; 5] = [
        "net.ipv4.conf.",
        "net.ipv6.conf.",
        "net.ipv4.neigh.",
        "net.ipv6.neigh.",
        "net.mpls.conf.",
    ];
    for prefix in PER_INTERFACE {
        if let Some(rest) = name.strip_prefix(prefix) {
            if let Some((interface, key)) = rest.rsplit_once('.') {
                let mut segments: Vec<&str> = prefix.trim_end_matches('.').split('.').collect();
                segments.extend([interface, key]);
                return segments;
            }
        }
    }
    name.split('.').collect()
}

/// Builds `/proc/sys/<segments>`, refusing segments that would leave that tree or that no
/// sysctl can have (empty, `.`, `..`, or containing `/` or NUL).
fn sysctl_path(key: &[&str]) -> io::Result<PathBuf> {
    let bad = |s: &&str| s.is_empty() || *s == "." || *s == ".." || s.contains(['/', '\0']);
    if key.is_empty() || key.iter().any(bad) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid sysctl name {:?}", key.join(".")),
        ));
    }
    let mut path = PathBuf::from("/proc/sys");
    path.extend(key);
    Ok(path)
}

/// Adds the sysctl's name to an error, so "No such file or directory" says which one.
fn sysctl_error(key: &[&str], e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("sysctl {}: {e}", key.join("/")))
}

/// Writes a sysctl as seen from inside the network namespace `ns`.
///
/// `/proc/sys/net` shows the namespace of the thread that *opens* the file, whatever the
/// namespace of the process that mounted /proc, so the file is opened inside `ns`. `key` is the
/// list of path segments (see [`sysctl_key`] to split a dotted name).
pub fn write_sysctl_in(ns: BorrowedFd<'_>, key: &[&str], value: &str) -> io::Result<()> {
    with_netns(ns, || write_sysctl_through(key, value, open_sysctl))?
}

/// Writes a sysctl of the namespace this process runs in (the host's), through the process's
/// own proc instance (see [`super::jail::open_own_proc_file`]). Never from a thread that
/// entered another namespace.
pub fn write_own_sysctl(key: &[&str], value: &str) -> io::Result<()> {
    write_sysctl_through(key, value, |path, write| {
        let relative = path.strip_prefix("/proc").unwrap_or(path);
        super::jail::open_own_proc_file(&relative.to_string_lossy(), write)
    })
}

/// Writes a sysctl through a file `open` opens (for writing).
fn write_sysctl_through(
    key: &[&str],
    value: &str,
    open: impl FnOnce(&std::path::Path, bool) -> io::Result<File>,
) -> io::Result<()> {
    let path = sysctl_path(key)?;
    let write = || {
        let mut file = open(&path, true)?;
        // One write: proc sysctl handlers parse each write on its own.
        let written = file.write(value.as_bytes())?;
        if written != value.len() {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "short write"));
        }
        Ok(())
    };
    write().map_err(|e| sysctl_error(key, e))
}

/// Opens a `/proc/sys` file through a private proc instance: a `/proc/sys/net` lookup walks
/// every network namespace's entries (see `jail::sysctl`).
fn open_sysctl(path: &std::path::Path, write: bool) -> io::Result<File> {
    let relative = path.strip_prefix("/proc").unwrap_or(path);
    super::jail::open_proc_file(&relative.to_string_lossy(), write)
}

/// Reads a sysctl as seen from inside the network namespace `ns`, without the trailing newline.
pub fn read_sysctl_in(ns: BorrowedFd<'_>, key: &[&str]) -> io::Result<String> {
    let path = sysctl_path(key)?;
    let mut value = with_netns(ns, || {
        let mut value = String::new();
        open_sysctl(&path, false)?.read_to_string(&mut value)?;
        Ok(value)
    })?
    .map_err(|e| sysctl_error(key, e))?;
    value.truncate(value.trim_end_matches('\n').len());
    Ok(value)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use nix::sched::unshare;

    /// Whether the tests that need namespaces can run; prints why not when they cannot.
    pub(crate) fn can_unshare(test: &str) -> bool {
        if nix::unistd::geteuid().is_root() {
            return true;
        }
        eprintln!("skipping {test}: needs root to create network namespaces");
        false
    }

    /// Runs `f` on a fresh thread inside a new, private network namespace, which disappears with
    /// the thread: nothing the test does can reach the host's network.
    pub(crate) fn in_new_netns<T: Send>(f: impl FnOnce() -> T + Send) -> T {
        std::thread::scope(|scope| {
            let thread = scope.spawn(|| {
                unshare(CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET)");
                f()
            });
            thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    /// A new network namespace that lives as long as the returned handle (the helper thread that
    /// created it is already gone).
    pub(crate) fn new_netns() -> OwnedFd {
        in_new_netns(|| current_netns().expect("open own netns"))
    }

    /// The inode that identifies a namespace.
    fn ns_id(fd: BorrowedFd<'_>) -> u64 {
        nix::sys::stat::fstat(fd).expect("fstat").st_ino
    }

    #[test]
    fn sysctl_key_keeps_dots_in_interface_names() {
        assert_eq!(
            sysctl_key("net.ipv6.conf.vnet0.5.accept_ra"),
            ["net", "ipv6", "conf", "vnet0.5", "accept_ra"]
        );
        assert_eq!(
            sysctl_key("net.ipv4.conf.all.forwarding"),
            ["net", "ipv4", "conf", "all", "forwarding"]
        );
        assert_eq!(
            sysctl_key("net.ipv6.neigh.br0.100.retrans_time_ms"),
            ["net", "ipv6", "neigh", "br0.100", "retrans_time_ms"]
        );
        assert_eq!(
            sysctl_key("net.ipv4.ip_forward"),
            ["net", "ipv4", "ip_forward"]
        );
        assert_eq!(
            sysctl_key("net/ipv6/conf/vnet0.5/accept_ra"),
            ["net", "ipv6", "conf", "vnet0.5", "accept_ra"]
        );
    }

    #[test]
    fn sysctl_path_refuses_escapes() {
        assert!(sysctl_path(&["net", "..", "..", "etc", "passwd"]).is_err());
        assert!(sysctl_path(&["net", "a/b"]).is_err());
        assert!(sysctl_path(&["net", ""]).is_err());
        assert!(sysctl_path(&[]).is_err());
        assert_eq!(
            sysctl_path(&["net", "ipv6", "conf", "vnet0.5", "accept_ra"]).unwrap(),
            PathBuf::from("/proc/sys/net/ipv6/conf/vnet0.5/accept_ra")
        );
    }

    #[test]
    fn with_netns_enters_and_returns() {
        if !can_unshare("with_netns_enters_and_returns") {
            return;
        }
        let other = new_netns();
        in_new_netns(|| {
            let own = current_netns().unwrap();
            let inside = with_netns(other.as_fd(), || ns_id(current_netns().unwrap().as_fd()));
            assert_eq!(inside.unwrap(), ns_id(other.as_fd()));
            assert_eq!(ns_id(current_netns().unwrap().as_fd()), ns_id(own.as_fd()));
        });
    }

    #[test]
    fn with_netns_returns_after_a_panic() {
        if !can_unshare("with_netns_returns_after_a_panic") {
            return;
        }
        let other = new_netns();
        in_new_netns(|| {
            let own = ns_id(current_netns().unwrap().as_fd());
            let caught = std::panic::catch_unwind(|| {
                with_netns(other.as_fd(), || panic!("inside")).unwrap();
            });
            assert!(caught.is_err());
            assert_eq!(ns_id(current_netns().unwrap().as_fd()), own);
        });
    }

    #[test]
    fn with_netns_fails_on_a_handle_that_is_no_namespace() {
        let file = File::open("/proc/self/status").unwrap();
        let before = current_netns().unwrap();
        assert!(with_netns(file.as_fd(), || ()).is_err());
        let after = current_netns().unwrap();
        assert_eq!(ns_id(before.as_fd()), ns_id(after.as_fd()));
    }

    #[test]
    fn sysctl_written_in_a_namespace_stays_there() {
        if !can_unshare("sysctl_written_in_a_namespace_stays_there") {
            return;
        }
        let key = sysctl_key("net.ipv6.conf.all.forwarding");
        let host_before = std::fs::read_to_string("/proc/sys/net/ipv6/conf/all/forwarding");
        let jail = new_netns();
        let old = read_sysctl_in(jail.as_fd(), &key).unwrap();
        let new = if old == "1" { "0" } else { "1" };
        write_sysctl_in(jail.as_fd(), &key, new).unwrap();
        assert_eq!(read_sysctl_in(jail.as_fd(), &key).unwrap(), new);
        // A second namespace, and the host, still see their own value.
        let other = new_netns();
        assert_eq!(read_sysctl_in(other.as_fd(), &key).unwrap(), old);
        let host_after = std::fs::read_to_string("/proc/sys/net/ipv6/conf/all/forwarding");
        assert_eq!(host_before.ok(), host_after.ok());

        let missing = read_sysctl_in(
            jail.as_fd(),
            &sysctl_key("net.ipv6.conf.nosuch0.5.accept_ra"),
        );
        let err = missing.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(
            err.to_string()
                .contains("net/ipv6/conf/nosuch0.5/accept_ra"),
            "{err}"
        );
    }
}
