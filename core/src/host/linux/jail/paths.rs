//! Where a jail's runtime state lives, and open handles on its pinned namespaces.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::sched::{setns, CloneFlags};

/// Paths of one jail's runtime state.
#[derive(Clone, Debug)]
pub struct JailPaths {
    pub dir: PathBuf,
}

impl JailPaths {
    pub fn new(run_dir: &Path, name: &str) -> JailPaths {
        JailPaths {
            dir: run_dir.join("jails").join(name),
        }
    }
    pub fn ns_dir(&self) -> PathBuf {
        self.dir.join("ns")
    }
    pub fn pin(&self, kind: &str) -> PathBuf {
        self.ns_dir().join(kind)
    }
    pub fn resolv_conf(&self) -> PathBuf {
        self.dir.join("resolv.conf")
    }
}

/// Open handles on a jail's namespaces.
#[derive(Debug)]
pub struct JailNs {
    pub net: OwnedFd,
    pub uts: OwnedFd,
    pub mnt: OwnedFd,
    /// The PID namespace of a jail with its own root (issue 16); `None` for one that shares
    /// the host's root and process table.
    pub pid: Option<OwnedFd>,
}

impl JailNs {
    /// Opens the pins of a running jail.
    pub fn open(paths: &JailPaths) -> io::Result<JailNs> {
        let open = |kind: &str| -> io::Result<OwnedFd> {
            File::open(paths.pin(kind)).map(OwnedFd::from).map_err(|e| {
                io::Error::new(e.kind(), format!("{}: {e}", paths.pin(kind).display()))
            })
        };
        let ns = JailNs {
            net: open("net")?,
            uts: open("uts")?,
            mnt: open("mnt")?,
            pid: match File::open(paths.pin(super::PID_KIND)) {
                Ok(file) => Some(OwnedFd::from(file)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                Err(e) => return Err(e),
            },
        };
        if let Some(pid) = &ns.pid {
            ns_inode(pid.as_fd())?;
        }
        // An unmounted pin is an empty regular file, not a namespace: the jail is gone.
        ns_inode(ns.mnt.as_fd())?;
        Ok(ns)
    }

    /// Whether the jail has its own root and process table.
    pub fn has_root(&self) -> bool {
        self.pid.is_some()
    }

    /// Enters all of the jail's namespaces on the calling thread. Must run in a single-threaded
    /// process (setns of a mount namespace requires it), e.g. a forked child. A PID namespace
    /// holds only the children forked after this: see [`JailNs::has_root`].
    pub fn enter(&self) -> nix::Result<()> {
        if let Some(pid) = &self.pid {
            setns(pid.as_fd(), CloneFlags::CLONE_NEWPID)?;
        }
        setns(self.net.as_fd(), CloneFlags::CLONE_NEWNET)?;
        setns(self.uts.as_fd(), CloneFlags::CLONE_NEWUTS)?;
        setns(self.mnt.as_fd(), CloneFlags::CLONE_NEWNS)
    }

    /// A `Command` that starts inside the jail: in its namespaces, and for a jail with its own
    /// root, in its PID namespace and root, from `/`.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        let (net, uts, mnt) = (
            self.net.as_raw_fd(),
            self.uts.as_raw_fd(),
            self.mnt.as_raw_fd(),
        );
        let pid = self.pid.as_ref().map_or(-1, |fd| fd.as_raw_fd());
        // SAFETY: the closure runs in the forked child before exec, where only async-signal-safe
        // calls are allowed: it calls only setns (a raw syscall) and reads errno, allocating
        // nothing until an error is returned (which std handles). The fds are plain integers
        // copied in, and stay open in the parent, hence in the child, until spawn returns.
        unsafe {
            cmd.pre_exec(move || {
                for (fd, flag) in [
                    (net, libc::CLONE_NEWNET),
                    (uts, libc::CLONE_NEWUTS),
                    (mnt, libc::CLONE_NEWNS),
                ] {
                    if libc::setns(fd, flag) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                }
                if pid >= 0 {
                    if libc::setns(pid, libc::CLONE_NEWPID) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    super::enter::fork_into_pid_namespace()?;
                }
                Ok(())
            });
        }
        cmd
    }
}

/// The namespace inode behind an fd; fails for anything that is not a namespace.
pub(super) fn ns_inode(fd: BorrowedFd<'_>) -> io::Result<u64> {
    let st = nix::sys::stat::fstat(fd)?;
    let nsfs_dev = fs::metadata("/proc/self/ns/net")?.dev();
    if st.st_dev != nsfs_dev {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            "namespace pin is not mounted",
        ));
    }
    Ok(st.st_ino)
}
