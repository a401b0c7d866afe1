//! A Linux jail: new mount + UTS (+ network, for VNET) namespaces, pinned by bind mounts.
//!
//! The pins live in `<run>/jails/<name>/ns/{mnt,uts,net}`. A shared-IP jail pins the network
//! namespace it was started from, so `ioc exec` lands in the right stack even when called from
//! elsewhere. The run dir is made a private mount first: a mount-namespace file may only be
//! pinned on a mount that does not propagate (otherwise the namespace could end up holding a
//! reference to itself). Jails' mount namespaces are made from a base namespace without the
//! run dir's mounts (see [`ensure_base_namespace`]), so no jail holds another one's namespaces.
//!
//! - `paths`: where a jail's runtime state lives, and handles on its pinned namespaces;
//! - `mounts`: the run dir's own mount, mount-point checks;
//! - `pin`: fork a child into new namespaces and pin them: each jail, and the base namespace;
//! - `reap`: reaping the helpers of `pin` after the start, not while it waits;
//! - `sysctl`: a new network namespace's sysctls, through a private proc instance;
//! - `terminate`: removing a jail: end its processes, unpin its namespaces;
//! - `rootfs`, `init`, `resolve`: a jail's own root (issue 16): a PID namespace whose init
//!   builds the root (proc, dev, sys, tmp, the user's mounts) and pivots into it, then reaps.

mod enter;
mod init;
mod mounts;
mod paths;
mod pin;
mod reap;
pub mod resolve;
mod rootfs;
mod sysctl;
mod sysfs;
mod terminate;

use std::ffi::{CString, OsStr};
use std::io;
use std::os::unix::ffi::OsStrExt;

use nix::sched::CloneFlags;

pub use enter::wait_status;
pub use mounts::{
    ensure_private_run_dir, in_transient_mount_namespace, is_pinned, release_run_dir,
};
pub use paths::{JailNs, JailPaths};
pub use pin::{create, ensure_base_namespace};
pub use reap::reap_all as reap_helpers;
pub(crate) use sysctl::{open_own_proc_file, open_proc_file};
pub use sysfs::SysfsPending;
pub use terminate::{processes, remove, ProcessTable};

/// The namespace kinds a jail pins, with the `/proc/PID/ns` entry and setns flag of each.
const KINDS: [(&str, CloneFlags); 3] = [
    ("net", CloneFlags::CLONE_NEWNET),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("mnt", CloneFlags::CLONE_NEWNS),
];

/// The pin of a jail's PID namespace; only a jail with its own root has one.
const PID_KIND: &str = "pid";

use init::{start as init_start, INIT_FAILED, INIT_READY, INIT_STARTED};

/// A path or name as a C string for a raw syscall; a NUL byte in it is an error.
fn cstring(s: &OsStr) -> io::Result<CString> {
    CString::new(s.as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL byte in path or name"))
}
