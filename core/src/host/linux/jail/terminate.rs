//! Removing a jail: ending its processes and unpinning its namespaces.

use std::ffi::CStr;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::fcntl::{open, OFlag};
use nix::mount::{umount2, MntFlags};
use nix::sys::signal::{kill, Signal};
use nix::sys::stat::Mode;
use nix::unistd::Pid;

use super::paths::{ns_inode, JailNs, JailPaths};
use super::KINDS;
use crate::step::JailParams;

/// How long a stop waits for SIGTERM before sending SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(5);

/// A process, the inode of its mount namespace and of its network namespace.
type Entry = (Pid, Option<u64>, Option<u64>);

/// How long a stop may trust a [`ProcessTable`] read for an earlier stop of the same command.
const TABLE_AGE: Duration = Duration::from_millis(20);

/// Every process with the inodes of its mount and network namespaces, read from `/proc`.
///
/// Finding a jail's processes means two `stat`s per process on the host, so a multi-jail stop
/// that read the table for each jail would cost the number of jails times the number of
/// processes. The stops of one command share a table for [`TABLE_AGE`] instead, and only to
/// find that a jail has no process left: a jail with processes is always signalled and
/// watched with fresh reads. Whatever ioc runs inside a jail (hooks, commands, DHCP) drops the
/// table first ([`ProcessTable::invalidate`]); a process entering a jail from outside ioc while
/// it stops is as much a race as with a fresh read, only a wider one (at most `TABLE_AGE`).
#[derive(Debug, Default)]
pub struct ProcessTable {
    read_at: Option<Instant>,
    entries: Vec<Entry>,
}

impl ProcessTable {
    /// Forgets the table: the next stop reads `/proc` again.
    pub fn invalidate(&mut self) {
        self.read_at = None;
    }

    /// The processes of the jail, from a table at most [`TABLE_AGE`] old.
    fn members(&mut self, ns: &JailNs, vnet: bool) -> io::Result<Vec<Pid>> {
        if self.read_at.is_none_or(|at| at.elapsed() > TABLE_AGE) {
            self.entries = read_table()?;
            self.read_at = Some(Instant::now());
        }
        let (mnt, net) = jail_inodes(ns, vnet)?;
        Ok(self
            .entries
            .iter()
            .filter(|(_, m, n)| *m == Some(mnt) || (net.is_some() && *n == net))
            .map(|(pid, _, _)| *pid)
            .collect())
    }
}

/// The inodes of the jail's mount namespace and (VNET) network namespace.
fn jail_inodes(ns: &JailNs, vnet: bool) -> io::Result<(u64, Option<u64>)> {
    let mnt = ns_inode(ns.mnt.as_fd())?;
    let net = if vnet {
        Some(ns_inode(ns.net.as_fd())?)
    } else {
        None
    };
    Ok((mnt, net))
}

/// Every process but this one, with the inodes of its namespaces (`None` when it is gone).
fn read_table() -> io::Result<Vec<Entry>> {
    let own = std::process::id();
    // The links are read relative to /proc: fewer path components for the kernel to look up
    // (this runs for every process on the host).
    let proc = open("/proc", OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty())?;
    let mut table = Vec::new();
    let mut link = String::with_capacity(32);
    for entry in fs::read_dir("/proc")?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if pid as u32 == own {
            continue;
        }
        let mut inode = |kind: &str| {
            link.clear();
            let _ = write!(link, "{pid}/ns/{kind}\0");
            link_inode(&proc, &link)
        };
        table.push((Pid::from_raw(pid), inode("mnt"), inode("net")));
    }
    Ok(table)
}

/// The inode of the namespace a `/proc/PID/ns/KIND` link names (`link`: its path under `dir`
/// with a closing NUL), from the link's text (`mnt:[4026531841]`): reading it costs the kernel
/// much less than a `stat` through it, which makes and drops an nsfs inode. No allocation: this
/// runs twice for every process on the host.
fn link_inode(dir: &OwnedFd, link: &str) -> Option<u64> {
    let link = CStr::from_bytes_with_nul(link.as_bytes()).ok()?;
    let mut target = [0u8; 64];
    // SAFETY: `dir` is an open descriptor and `link` a NUL-terminated path, both alive for the
    // call; readlinkat writes at most `target.len()` bytes into `target` and returns how many.
    let length = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            link.as_ptr(),
            target.as_mut_ptr().cast(),
            target.len(),
        )
    };
    let target = target.get(..usize::try_from(length).ok()?)?;
    let (_, number) = std::str::from_utf8(target)
        .ok()?
        .strip_suffix(']')?
        .split_once(":[")?;
    number.parse().ok()
}

/// Processes living in the jail: in its mount namespace or (VNET) its network namespace.
pub fn processes(ns: &JailNs, vnet: bool) -> io::Result<Vec<Pid>> {
    ProcessTable::default().members(ns, vnet)
}

/// Ends the jail's processes (SIGTERM, then SIGKILL after a grace period; SIGKILL at once when
/// forced) and removes the pins. A jail whose pins are already gone is not an error. `table`
/// may hold the processes read for an earlier stop of this command (see [`ProcessTable`]).
pub fn remove(
    run_dir: &Path,
    params: &JailParams,
    force: bool,
    table: &mut ProcessTable,
) -> io::Result<()> {
    let paths = JailPaths::new(run_dir, &params.name);
    if let Ok(ns) = JailNs::open(&paths) {
        terminate(&ns, params.vnet, force, table)?;
    }
    unpin(&paths)
}

fn terminate(ns: &JailNs, vnet: bool, force: bool, table: &mut ProcessTable) -> io::Result<()> {
    let first = if force {
        Signal::SIGKILL
    } else {
        Signal::SIGTERM
    };
    let mut pids = table.members(ns, vnet)?;
    if !pids.is_empty() {
        // Signalled processes die and may fork first: read afresh from now on.
        table.invalidate();
    }
    for pid in &pids {
        let _ = kill(*pid, first);
    }
    let mut deadline = Instant::now()
        + if force {
            Duration::from_secs(2)
        } else {
            TERM_GRACE
        };
    let mut escalated = force;
    // Polls soon at first: a jail's init leaves within a millisecond or two once its
    // processes are gone, and a stop should not wait a full period for it.
    let mut pause = Duration::from_millis(1);
    while !pids.is_empty() {
        sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
        pids = processes(ns, vnet)?;
        if pids.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            if escalated {
                return Err(io::Error::other(format!(
                    "{} process(es) of the jail survived SIGKILL",
                    pids.len()
                )));
            }
            for pid in &pids {
                let _ = kill(*pid, Signal::SIGKILL);
            }
            escalated = true;
            // SIGKILL takes effect at once, but a dying process stays listed a moment.
            deadline = Instant::now() + Duration::from_secs(2);
        }
    }
    Ok(())
}

/// Unmounts and deletes the pins and the resolv.conf copy. The `ns` dir is a mount holding
/// the pins (see `pin::create`): one lazy unmount takes them all, for one RCU grace period
/// instead of one per pin. The pins are then unmounted one by one, which finds nothing left to
/// unmount unless the jail was started by an ioc that did not mount its `ns` dir.
pub(super) fn unpin(paths: &JailPaths) -> io::Result<()> {
    let dir = paths.ns_dir();
    // Until it is no mount point any more (a start killed between two mounts may stack them).
    loop {
        match umount2(&dir, MntFlags::MNT_DETACH) {
            Ok(()) => continue,
            Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => break,
            Err(e) => return Err(io::Error::other(format!("unmount {}: {e}", dir.display()))),
        }
    }
    for (kind, _) in KINDS {
        let pin = paths.pin(kind);
        match umount2(&pin, MntFlags::MNT_DETACH) {
            Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
            Err(e) => return Err(io::Error::other(format!("unmount {}: {e}", pin.display()))),
        }
        match fs::remove_file(&pin) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    let pid = paths.pin(super::PID_KIND);
    match umount2(&pid, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(e) => return Err(io::Error::other(format!("unmount {}: {e}", pid.display()))),
    }
    match fs::remove_file(&pid) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    match fs::remove_dir(paths.ns_dir()) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    match fs::remove_file(paths.resolv_conf()) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;

    /// The inode read from a namespace link's text is the one a `stat` through it finds.
    #[test]
    fn link_inode_is_the_namespace_inode() {
        let proc = open("/proc", OFlag::O_PATH | OFlag::O_DIRECTORY, Mode::empty()).unwrap();
        for kind in ["mnt", "net"] {
            let stat = fs::metadata(format!("/proc/self/ns/{kind}")).unwrap().ino();
            assert_eq!(link_inode(&proc, &format!("self/ns/{kind}\0")), Some(stat));
        }
        assert_eq!(link_inode(&proc, "self/ns/no-such-kind\0"), None);
        assert_eq!(link_inode(&proc, "self/ns/net"), None, "no closing NUL");
    }
}
