//! IPv4 forwarding held for NAT jails (issue 12): `HostOp::EnableForwarding` and its undo
//! `HostOp::ReleaseForwarding`.
//!
//! A forwarding switch can be shared (the uplink of every NAT jail; on FreeBSD the one
//! host-wide switch), so ioc counts the jails holding it: one file per holder under
//! `<run>/forwarding/<key>/`. The first holder that finds the switch off turns it on and
//! leaves a `changed` marker; the last holder to release it turns it off again, and only with
//! the marker, so a switch the admin turned on is never touched. Every step is under one
//! `flock`, and each is idempotent, so a crash at any point is repaired by the journal's undo.

use std::io;
use std::path::{Path, PathBuf};

use crate::store::fs::{ensure_private_dir, FileLock, FILE_MODE};

/// How a platform reads and writes one switch.
pub trait Switch {
    /// The switch's value (`0` or `1`).
    fn read(&mut self, key: &str) -> io::Result<String>;
    /// Sets the switch.
    fn write(&mut self, key: &str, value: &str) -> io::Result<()>;
}

/// The sysctl key of IPv4 forwarding for `link` on Linux (slash form: interface names may hold
/// dots).
pub fn linux_key(link: &str) -> String {
    format!("net/ipv4/conf/{link}/forwarding")
}

/// FreeBSD's host-wide IPv4 forwarding switch.
pub const FREEBSD_KEY: &str = "net.inet.ip.forwarding";

const CHANGED: &str = "changed";
const HOLDER: &str = "holder.";

fn state_dir(run: &Path, key: &str) -> PathBuf {
    run.join("forwarding").join(key.replace('/', "_"))
}

fn lock(run: &Path) -> io::Result<FileLock> {
    let dir = run.join("forwarding");
    ensure_private_dir(&dir).map_err(|e| io::Error::other(e.to_string()))?;
    FileLock::acquire(&dir.join(".lock"), FILE_MODE)
}

/// `jail` holds the switch `key`: on from now until its release.
pub fn hold(run: &Path, jail: &str, key: &str, switch: &mut dyn Switch) -> io::Result<()> {
    let _lock = lock(run)?;
    let dir = state_dir(run, key);
    ensure_private_dir(&dir).map_err(|e| io::Error::other(e.to_string()))?;
    std::fs::write(dir.join(format!("{HOLDER}{jail}")), b"")?;
    if switch.read(key)?.trim() != "1" {
        std::fs::write(dir.join(CHANGED), b"")?;
        switch.write(key, "1")?;
    }
    Ok(())
}

/// `jail` no longer holds `key`; the last holder switches it back off when ioc switched it on.
/// A switch that is gone (the jail's own interface, destroyed) counts as released.
pub fn release(run: &Path, jail: &str, key: &str, switch: &mut dyn Switch) -> io::Result<()> {
    let _lock = lock(run)?;
    let dir = state_dir(run, key);
    match std::fs::remove_file(dir.join(format!("{HOLDER}{jail}"))) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    // Whether anyone else holds it: the first holder found ends the look.
    let held = match std::fs::read_dir(&dir) {
        Ok(mut entries) => {
            entries.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with(HOLDER)))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if held || !dir.join(CHANGED).exists() {
        return Ok(());
    }
    match switch.write(key, "0") {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::fs::remove_file(dir.join(CHANGED))?;
    let _ = std::fs::remove_dir(&dir);
    Ok(())
}

/// Linux: the switches are files under `/proc/sys` (of the network namespace ioc runs in).
pub struct ProcSys;

impl Switch for ProcSys {
    fn read(&mut self, key: &str) -> io::Result<String> {
        std::fs::read_to_string(Path::new("/proc/sys").join(key))
    }
    fn write(&mut self, key: &str, value: &str) -> io::Result<()> {
        std::fs::write(Path::new("/proc/sys").join(key), value)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[derive(Default)]
    struct Fake(BTreeMap<String, String>);

    impl Switch for Fake {
        fn read(&mut self, key: &str) -> io::Result<String> {
            Ok(self.0.get(key).cloned().unwrap_or_else(|| "0".into()))
        }
        fn write(&mut self, key: &str, value: &str) -> io::Result<()> {
            self.0.insert(key.into(), value.into());
            Ok(())
        }
    }

    #[test]
    fn the_last_holder_switches_off_what_ioc_switched_on() {
        let run = tempfile::tempdir().unwrap();
        let mut sw = Fake::default();
        let key = linux_key("em0");
        hold(run.path(), "a", &key, &mut sw).unwrap();
        hold(run.path(), "b", &key, &mut sw).unwrap();
        assert_eq!(sw.0[&key], "1");
        release(run.path(), "a", &key, &mut sw).unwrap();
        assert_eq!(sw.0[&key], "1", "b still holds it");
        release(run.path(), "b", &key, &mut sw).unwrap();
        assert_eq!(sw.0[&key], "0");
        // Released twice (an undo after a crash): nothing happens.
        release(run.path(), "b", &key, &mut sw).unwrap();
    }

    #[test]
    fn a_switch_the_admin_turned_on_stays_on() {
        let run = tempfile::tempdir().unwrap();
        let mut sw = Fake::default();
        sw.0.insert(FREEBSD_KEY.into(), "1".into());
        hold(run.path(), "a", FREEBSD_KEY, &mut sw).unwrap();
        release(run.path(), "a", FREEBSD_KEY, &mut sw).unwrap();
        assert_eq!(sw.0[FREEBSD_KEY], "1");
    }
}
