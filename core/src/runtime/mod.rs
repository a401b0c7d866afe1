//! The runtime directory: what is running now.
//!
//! `IOC_RUN_DIR`, else `/run/ioc`. Each jail being started, running or being stopped has
//! `jails/<name>/` holding its `jid` and its `journal` (and, on Linux, its pinned namespaces).
//! Locks live apart in `locks/`, because a jail's directory is deleted when it stops and a lock
//! on a deleted file protects nothing. Nothing here survives a reboot, and nothing needs to: a
//! reboot also ends every jail.
//!
//! JIDs and static addresses are claimed with one file each (`jids/<jid>`, `addresses/<ip>`,
//! holding the owner's name), so allocating a JID or checking an address costs the same with
//! one jail running or with hundreds: no command reads every running jail's state. The host
//! ports NAT jails forward are claimed the same way (`ports/tcp-8080`, see [`ports`]).

mod ports;

pub use ports::HostPort;

use std::fs;
use std::io;
use std::net::IpAddr;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::journal::Journal;
use crate::store::fs::{replace_file, Durability};

/// Default runtime directory.
pub const DEFAULT_RUN_DIR: &str = "/run/ioc";

/// The runtime directory of this ioc.
#[derive(Clone, Debug)]
pub struct RunDir {
    path: PathBuf,
}

/// What the runtime dir says about a jail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JailState {
    Stopped,
    Running {
        jid: u32,
    },
    /// A start or stop did not finish (crash, or a stop that hit errors); the next start or
    /// stop of the jail cleans up from the journal.
    Incomplete {
        jid: Option<u32>,
    },
    /// Started, by its journal, but the jail itself is gone: on Linux its namespace pins were
    /// unmounted behind ioc's back, or made in a mount namespace that has ended (ioc run under
    /// `ip netns exec`, say). The next start or stop cleans up from the journal.
    Vanished {
        jid: u32,
    },
}

impl JailState {
    pub fn jid(self) -> Option<u32> {
        match self {
            JailState::Running { jid } => Some(jid),
            JailState::Incomplete { jid } => jid,
            JailState::Vanished { jid } => Some(jid),
            JailState::Stopped => None,
        }
    }
    pub fn describe(self) -> &'static str {
        match self {
            JailState::Stopped => "down",
            JailState::Running { .. } => "up",
            JailState::Incomplete { .. } => "incomplete",
            JailState::Vanished { .. } => "vanished",
        }
    }
}

/// An exclusive `flock`, released on drop.
pub use crate::store::fs::FileLock as Lock;

/// Takes the lock on `path`, naming the file in an error.
fn lock(path: &Path) -> io::Result<Lock> {
    Lock::acquire(path, 0o600)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

fn private_dir(path: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
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

    pub fn journal_path(&self, name: &str) -> PathBuf {
        self.jail_dir(name).join("journal")
    }

    fn jid_path(&self, name: &str) -> PathBuf {
        self.jail_dir(name).join("jid")
    }

    /// The JID of a jail that is running (or half-started), `None` when it is not.
    pub fn jid(&self, name: &str) -> Option<u32> {
        fs::read_to_string(self.jid_path(name))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    /// Running, stopped, or left incomplete by a crash or failed stop.
    pub fn state(&self, name: &str) -> JailState {
        let jid = self.jid(name);
        match Journal::read(&self.journal_path(name)) {
            Ok(Some(j)) if j.started() && !j.stopping() => match jid {
                Some(jid) if self.still_there(name) => JailState::Running { jid },
                Some(jid) => JailState::Vanished { jid },
                None => JailState::Incomplete { jid },
            },
            Ok(Some(_)) => JailState::Incomplete { jid },
            _ if self.jail_dir(name).exists() => JailState::Incomplete { jid },
            _ => JailState::Stopped,
        }
    }

    /// Whether a started jail still exists in the kernel. On Linux: its UTS namespace (which
    /// every jail has) is still pinned; one `statx`. Elsewhere the journal is the only record.
    fn still_there(&self, name: &str) -> bool {
        #[cfg(target_os = "linux")]
        {
            crate::host::linux::jail::is_pinned(&self.path, name)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = name;
            true
        }
    }

    /// Names of jails with runtime state (running or incomplete).
    pub fn active_jails(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.path.join("jails"))
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Serialises changes to one jail (start, stop) across ioc processes.
    pub fn lock_jail(&self, name: &str) -> io::Result<Lock> {
        let dir = self.path.join("locks");
        private_dir(&dir)?;
        lock(&dir.join(format!("{name}.lock")))
    }

    /// Serialises JID allocation and run-dir mount handling.
    pub fn lock_global(&self) -> io::Result<Lock> {
        private_dir(&self.path)?;
        lock(&self.path.join("lock"))
    }

    fn claims(&self, kind: &str) -> PathBuf {
        self.path.join(kind)
    }

    /// The JIDs claimed by jails with runtime state.
    pub fn used_jids(&self) -> Vec<u32> {
        fs::read_dir(self.claims(JIDS))
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.file_name().to_str()?.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The lowest positive JID not claimed: the first one from the hint on whose claim file
    /// does not exist (one `statx` when jails start in order), instead of a read of every
    /// running jail's claim.
    pub fn next_free_jid(&self) -> u32 {
        let claims = self.claims(JIDS);
        let taken = |jid: u32| fs::symlink_metadata(claims.join(jid.to_string())).is_ok();
        (self.jid_hint()..=u32::MAX)
            .find(|&jid| !taken(jid))
            .unwrap_or(1)
    }

    /// Where JIDs below which every one is claimed is kept ([`RunDir::next_free_jid`]): every
    /// allocation raises it past the JID it hands out, every release lowers it to the JID it
    /// frees, both under the global lock. A hint too low only costs a few more probes; one too
    /// high (a claim removed by hand) only skips a free JID until a release lowers it.
    fn jid_hint_path(&self) -> PathBuf {
        self.path.join("jid-hint")
    }

    fn jid_hint(&self) -> u32 {
        fs::read_to_string(self.jid_hint_path())
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .filter(|&jid| jid > 0)
            .unwrap_or(1)
    }

    fn set_jid_hint(&self, jid: u32) -> io::Result<()> {
        write_atomic(&self.jid_hint_path(), &format!("{jid}\n"))
    }

    /// The jail that holds `ip` while it runs (or is being started or stopped), if any.
    pub fn address_owner(&self, ip: IpAddr) -> Option<String> {
        let owner = fs::read_to_string(self.claims(ADDRESSES).join(ip.to_string())).ok()?;
        let owner = owner.trim().to_string();
        // A claim whose jail has no runtime state any more is stale (a crash mid-release).
        self.jail_dir(&owner).exists().then_some(owner)
    }

    /// The jail that forwards host port `port` while it runs (or is being started or
    /// stopped), if any.
    pub fn port_owner(&self, port: HostPort) -> Option<String> {
        let owner = fs::read_to_string(self.claims(PORTS).join(port.key())).ok()?;
        let owner = owner.trim().to_string();
        // As for addresses: a claim whose jail has no runtime state any more is stale.
        self.jail_dir(&owner).exists().then_some(owner)
    }

    /// Creates the jail's runtime dir, reserves the lowest free JID and claims the jail's
    /// static addresses, all under the global lock. An address another jail holds is an error
    /// naming it, and nothing is left reserved.
    pub fn allocate(&self, name: &str, addresses: &[IpAddr]) -> io::Result<u32> {
        self.allocate_with_ports(name, addresses, &[])
    }

    /// [`RunDir::allocate`], also claiming the host ports the jail forwards (NAT): a port
    /// another jail holds is an error naming it, and nothing is left reserved.
    pub fn allocate_with_ports(
        &self,
        name: &str,
        addresses: &[IpAddr],
        ports: &[HostPort],
    ) -> io::Result<u32> {
        let _global = self.lock_global()?;
        for ip in addresses {
            if let Some(owner) = self.address_owner(*ip).filter(|o| o != name) {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("address {ip} is already used by jail '{owner}'"),
                ));
            }
        }
        for port in ports {
            if let Some(owner) = self.port_owner(*port).filter(|o| o != name) {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    port.taken_by(&owner),
                ));
            }
        }
        let jid = self.next_free_jid();
        private_dir(&self.jail_dir(name))?;
        claim(&self.claims(JIDS), &jid.to_string(), name)?;
        self.set_jid_hint(jid.saturating_add(1))?;
        write_atomic(&self.jid_path(name), &format!("{jid}\n"))?;
        let mut list = String::new();
        for ip in addresses {
            claim(&self.claims(ADDRESSES), &ip.to_string(), name)?;
            list.push_str(&format!("{ip}\n"));
        }
        write_atomic(&self.jail_dir(name).join(ADDRESSES), &list)?;
        if !ports.is_empty() {
            let mut list = String::new();
            for port in ports {
                claim(&self.claims(PORTS), &port.key(), name)?;
                list.push_str(&format!("{}\n", port.key()));
            }
            write_atomic(&self.jail_dir(name).join(PORTS), &list)?;
        }
        Ok(jid)
    }

    /// Deletes a jail's runtime dir and its claims once its journal is fully undone.
    pub fn release(&self, name: &str) -> io::Result<()> {
        let _global = self.lock_global()?;
        let dir = self.jail_dir(name);
        let addresses = fs::read_to_string(dir.join(ADDRESSES)).unwrap_or_default();
        let mut claims: Vec<(&str, String)> = addresses
            .lines()
            .map(|ip| (ADDRESSES, ip.trim().to_string()))
            .collect();
        let ports = fs::read_to_string(dir.join(PORTS)).unwrap_or_default();
        claims.extend(ports.lines().map(|key| (PORTS, key.trim().to_string())));
        let jid = self.jid(name);
        if let Some(jid) = jid {
            claims.push((JIDS, jid.to_string()));
        }
        for (kind, key) in claims {
            let path = self.claims(kind).join(&key);
            if fs::read_to_string(&path).is_ok_and(|owner| owner.trim() == name) {
                remove_if_present(&path)?;
            }
        }
        if let Some(jid) = jid.filter(|&jid| jid < self.jid_hint()) {
            self.set_jid_hint(jid)?;
        }
        match fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

const JIDS: &str = "jids";
const ADDRESSES: &str = "addresses";
const PORTS: &str = "ports";

/// Writes `owner` into `dir/key` (replacing a stale claim).
fn claim(dir: &Path, key: &str, owner: &str) -> io::Result<()> {
    private_dir(dir)?;
    write_atomic(&dir.join(key), owner)
}

/// Writes through a temp file and a rename, so a reader never sees half a claim. No fsync: the
/// run dir is runtime state that a reboot discards anyway.
fn write_atomic(path: &Path, content: &str) -> io::Result<()> {
    replace_file(path, content.as_bytes(), 0o600, Durability::Volatile)
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jids_are_the_lowest_free_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path());
        assert_eq!(run.allocate("a", &[]).unwrap(), 1);
        assert_eq!(run.allocate("b", &[]).unwrap(), 2);
        assert_eq!(run.allocate("c", &[]).unwrap(), 3);
        run.release("b").unwrap();
        assert_eq!(run.next_free_jid(), 2);
        assert_eq!(run.allocate("d", &[]).unwrap(), 2);
        assert_eq!(run.allocate("e", &[]).unwrap(), 4);
        // A lost or damaged hint only means probing from 1.
        fs::write(run.jid_hint_path(), "garbage").unwrap();
        assert_eq!(run.next_free_jid(), 5);
        run.release("d").unwrap();
        run.release("e").unwrap();
        assert_eq!(run.jid("c"), Some(3));
        assert_eq!(run.state("c"), JailState::Incomplete { jid: Some(3) });
        assert_eq!(run.state("b"), JailState::Stopped);
        assert_eq!(run.active_jails(), vec!["a".to_string(), "c".to_string()]);
    }

    #[test]
    fn addresses_are_claimed_once_and_released_with_the_jail() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::new(dir.path());
        let ip: IpAddr = "10.23.42.2".parse().unwrap();
        run.allocate("a", &[ip]).unwrap();
        assert_eq!(run.address_owner(ip).as_deref(), Some("a"));
        let err = run.allocate("b", &[ip]).unwrap_err();
        assert!(
            err.to_string().contains("already used by jail 'a'"),
            "{err}"
        );
        assert!(
            !run.jail_dir("b").exists(),
            "a refused allocation leaves nothing"
        );
        run.release("a").unwrap();
        assert_eq!(run.address_owner(ip), None);
        assert_eq!(run.allocate("b", &[ip]).unwrap(), 1);
    }
}
