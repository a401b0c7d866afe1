//! What each attachment installed, one small file per attachment, each with its own lock.
//!
//! `<stateDir>/<network>/<containerID>:<ifname>` records the port whose filter the attachment
//! owns. `DEL` needs it when `prevResult` is gone, `GC` to know which filters belong to
//! attachments no longer valid, and both to remove exactly that attachment's filter and no
//! other. (`:` never occurs in a container id and never in an interface name, so the file name
//! names one attachment.)
//!
//! The specification lets runtimes run plugins concurrently for different containers. Each
//! command locks the record of its attachment (`flock` on the record file itself) for all it
//! does, so the commands of one attachment are serialized and those of different attachments
//! never wait for each other. A lock belongs to the open file, so a killed plugin leaves
//! nothing locked. A record removed while another process waited for its lock is noticed
//! (the locked file is no longer the one at the path) and the lock is taken again.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::net::IpAddr;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use ioc_cni::config::Attachment;
use ioc_sdk::Mac;
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use serde_json::{json, Value};

/// What one attachment's `ADD` installed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The attachment.
    pub attachment: Attachment,
    /// The host-side port whose table (`ioc-<port>`) is the attachment's filter.
    pub port: String,
    /// The container's MAC, as installed.
    pub mac: Mac,
    /// The addresses allowed, as installed.
    pub addresses: Vec<IpAddr>,
}

impl Record {
    fn to_json(&self) -> String {
        json!({
            "containerID": self.attachment.container_id,
            "ifname": self.attachment.ifname,
            "port": self.port,
            "mac": self.mac.to_string(),
            "addresses": self.addresses.iter().map(IpAddr::to_string).collect::<Vec<_>>(),
        })
        .to_string()
    }

    fn from_json(text: &str) -> Option<Record> {
        let v: Value = serde_json::from_str(text).ok()?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
        Some(Record {
            attachment: Attachment {
                container_id: s("containerID")?,
                ifname: s("ifname")?,
            },
            port: s("port")?,
            mac: s("mac")?.parse().ok()?,
            addresses: v
                .get("addresses")?
                .as_array()?
                .iter()
                .map(|a| a.as_str().and_then(|a| a.parse().ok()))
                .collect::<Option<_>>()?,
        })
    }
}

/// The locked record file of one attachment, present or not; unlocked when dropped.
pub struct Locked {
    file: Flock<File>,
    path: PathBuf,
}

/// The file name of an attachment's record.
pub fn file_name(attachment: &Attachment) -> String {
    format!("{}:{}", attachment.container_id, attachment.ifname)
}

/// Locks the record of `attachment` in `dir` (made if needed, mode 0700), waiting for a
/// command of the same attachment to finish.
pub fn lock(dir: &Path, attachment: &Attachment) -> io::Result<Locked> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    lock_path(dir.join(file_name(attachment)))
}

fn lock_path(path: PathBuf) -> io::Result<Locked> {
    loop {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)?;
        let locked = loop {
            match Flock::lock(file, FlockArg::LockExclusive) {
                Ok(locked) => break locked,
                Err((f, Errno::EINTR)) => file = f,
                Err((_, errno)) => return Err(io::Error::from(errno)),
            }
        };
        // The holder we waited for may have removed the record: then ours is a file nobody
        // else will ever find, and the lock must be taken on the path's current file.
        let same = match fs::symlink_metadata(&path) {
            Ok(m) => m.ino() == locked.metadata()?.ino(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => return Err(e),
        };
        if same {
            return Ok(Locked { file: locked, path });
        }
    }
}

impl Locked {
    /// The record, if the attachment has one (a file left empty or torn by a killed `ADD`
    /// counts as none).
    pub fn read(&mut self) -> io::Result<Option<Record>> {
        let mut text = String::new();
        self.file.rewind()?;
        self.file.read_to_string(&mut text)?;
        Ok(Record::from_json(&text))
    }

    /// Writes the record (before the filter is committed, so a crash leaves a record of a
    /// filter that may exist, never a filter without a record).
    pub fn write(&mut self, record: &Record) -> io::Result<()> {
        self.file.set_len(0)?;
        self.file.rewind()?;
        self.file.write_all(record.to_json().as_bytes())
    }

    /// Removes the record; the lock goes with the guard.
    pub fn remove(self) -> io::Result<()> {
        match fs::remove_file(&self.path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// Every record file of a network's directory (none when it does not exist), each to be
/// locked with [`lock_file`].
pub fn list(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_file() && entry.file_name().to_string_lossy().contains(':') {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// Locks a record file found by [`list`].
pub fn lock_file(path: &Path) -> io::Result<Locked> {
    lock_path(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attachment(id: &str) -> Attachment {
        Attachment {
            container_id: id.into(),
            ifname: "eth0".into(),
        }
    }

    #[test]
    fn records_round_trip_and_go_away() {
        let dir = tempfile::tempdir().unwrap();
        let net = dir.path().join("jails");
        let record = Record {
            attachment: attachment("c-1"),
            port: "veth12345678".into(),
            mac: "02:00:00:00:00:01".parse().unwrap(),
            addresses: vec!["10.0.0.2".parse().unwrap(), "2001:db8::2".parse().unwrap()],
        };
        let mut locked = lock(&net, &record.attachment).unwrap();
        assert_eq!(locked.read().unwrap(), None);
        locked.write(&record).unwrap();
        drop(locked);
        assert_eq!(list(&net).unwrap(), vec![net.join("c-1:eth0")]);
        let mut again = lock_file(&net.join("c-1:eth0")).unwrap();
        assert_eq!(again.read().unwrap(), Some(record));
        again.remove().unwrap();
        assert!(list(&net).unwrap().is_empty());
        assert!(list(&dir.path().join("none")).unwrap().is_empty());
    }

    #[test]
    fn a_waiter_relocks_a_record_removed_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock(dir.path(), &attachment("c")).unwrap();
        let path = dir.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            let mut second = lock(&path, &attachment("c")).unwrap();
            second.read().unwrap()
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        first.remove().unwrap();
        assert_eq!(waiter.join().unwrap(), None);
        assert_eq!(list(dir.path()).unwrap().len(), 1);
    }
}
