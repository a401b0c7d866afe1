//! `VERSION` negotiation: every plugin of a list must speak the list's version. The answers
//! are cached per plugin binary (its path, inode, size, modification and change times), in
//! memory and in the runtime dir, so a start does not ask again; a replaced binary is asked
//! afresh. The inode and change time catch what size and mtime miss: a package upgrade renames
//! a new file into place (a new inode) and `cp -p`/`install -p` keep the mtime, but nothing
//! short of resetting the clock keeps the change time of a rewritten file.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

/// What identifies one plugin binary.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BinaryKey {
    /// The binary's path.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Its modification time, in nanoseconds since the epoch.
    pub mtime_ns: u64,
    /// Its inode number (a file renamed into place is another inode).
    #[serde(default)]
    pub inode: u64,
    /// Its inode change time, in nanoseconds since the epoch (set by every write, rename or
    /// `touch`, and not settable by them).
    #[serde(default)]
    pub ctime_ns: i64,
}

impl BinaryKey {
    /// The key of the binary at `path` now; `None` when it cannot be read.
    pub fn of(path: &Path) -> Option<BinaryKey> {
        let meta = fs::metadata(path).ok()?;
        let mtime = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
        Some(BinaryKey {
            path: path.to_path_buf(),
            size: meta.len(),
            mtime_ns: u64::try_from(mtime.as_nanos()).unwrap_or(u64::MAX),
            inode: meta.ino(),
            ctime_ns: meta
                .ctime()
                .saturating_mul(1_000_000_000)
                .saturating_add(meta.ctime_nsec()),
        })
    }
}

#[derive(Serialize, Deserialize)]
struct Entry {
    #[serde(flatten)]
    key: BinaryKey,
    supported: Vec<String>,
}

/// The versions each known binary speaks.
#[derive(Debug, Default)]
pub struct VersionCache {
    entries: HashMap<BinaryKey, Vec<String>>,
    file: Option<PathBuf>,
}

impl VersionCache {
    /// A cache kept only for this process.
    pub fn in_memory() -> VersionCache {
        VersionCache::default()
    }

    /// A cache kept in `file` too (read now if it exists; an unreadable file is an empty
    /// cache, since every answer can be asked again).
    pub fn persistent(file: PathBuf) -> VersionCache {
        let entries = fs::read(&file)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Vec<Entry>>(&bytes).ok())
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.key, e.supported))
            .collect();
        VersionCache {
            entries,
            file: Some(file),
        }
    }

    /// The versions the binary speaks, if known for its current size and modification time.
    pub fn get(&self, key: &BinaryKey) -> Option<&[String]> {
        self.entries.get(key).map(Vec::as_slice)
    }

    /// Remembers an answer (and writes the file, atomically; a failure to write only costs
    /// the next command a `VERSION` call).
    pub fn insert(&mut self, key: BinaryKey, supported: Vec<String>) {
        self.entries.retain(|k, _| k.path != key.path);
        self.entries.insert(key, supported);
        if let Some(file) = &self.file {
            if let Err(e) = self.save(file) {
                tracing::debug!("cannot write the CNI version cache {}: {e}", file.display());
            }
        }
    }

    fn save(&self, file: &Path) -> io::Result<()> {
        let entries: Vec<Entry> = self
            .entries
            .iter()
            .map(|(key, supported)| Entry {
                key: key.clone(),
                supported: supported.clone(),
            })
            .collect();
        let text = serde_json::to_vec(&entries).map_err(io::Error::other)?;
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        fs::write(&tmp, text)?;
        fs::rename(&tmp, file)
    }
}
