//! The runtime directory: what is running now.
//!
//! `IOC_RUN_DIR`, else `/run/ioc`. Each running jail has `jails/<name>/` holding its `jid`, its
//! journal and (on Linux) its pinned namespaces. Nothing here survives a reboot, and nothing
//! needs to: a reboot also ends every jail.

use std::fs;
use std::path::{Path, PathBuf};

/// Default runtime directory.
pub const DEFAULT_RUN_DIR: &str = "/run/ioc";

/// The runtime directory of this ioc.
#[derive(Clone, Debug)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    pub fn new(path: impl Into<PathBuf>) -> RunDir {
        RunDir { path: path.into() }
    }

    /// `IOC_RUN_DIR`, else `/run/ioc`.
    pub fn from_env() -> RunDir {
        match std::env::var_os("IOC_RUN_DIR") {
            Some(p) if !p.is_empty() => RunDir::new(p),
            _ => RunDir::new(DEFAULT_RUN_DIR),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory of one jail's runtime state.
    pub fn jail_dir(&self, name: &str) -> PathBuf {
        self.path.join("jails").join(name)
    }

    /// The JID of a running jail, `None` when it is not running.
    pub fn jid(&self, name: &str) -> Option<u32> {
        fs::read_to_string(self.jail_dir(name).join("jid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }
}
