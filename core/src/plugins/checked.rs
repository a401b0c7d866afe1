//! Remembered layout checks. abi_stable's check that a plugin's types have the layouts ioc
//! was built with is about a third of the CPU an `ioc start` spends in its own code (some
//! 1.2 million instructions for the cni plugin), and its answer changes only when the plugin
//! file or ioc itself changes. So a passed check is remembered in the run dir (root's own, like
//! the journals), keyed by the identity of both files: device, inode, size, modification and
//! change time. Any change to either, including a rebuilt file with its old mtime put back
//! (its change time and inode still differ), is another key and the check runs again. A failed
//! check is never remembered, and the SDK version and trust checks run on every load.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file in the run dir that remembers passed checks.
pub const CHECKED_FILE: &str = "plugin-layouts.json";

/// What identifies one file's contents without reading them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileId {
    dev: u64,
    inode: u64,
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
}

impl FileId {
    /// The identity of the file at `path` now (symlinks followed); `None` when unreadable.
    pub fn of(path: &Path) -> Option<FileId> {
        let meta = fs::metadata(path).ok()?;
        let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
        Some(FileId {
            dev: meta.dev(),
            inode: meta.ino(),
            size: meta.size(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
        })
    }
}

#[derive(Default, Serialize, Deserialize)]
struct Known {
    /// The ioc executable the checks were made by (its layouts are the expected ones).
    exe: Option<FileId>,
    plugins: Vec<(PathBuf, FileId)>,
}

/// The checks passed by this ioc executable, as remembered in a run dir.
pub struct CheckedLayouts {
    file: PathBuf,
    exe: Option<FileId>,
    known: Known,
}

impl CheckedLayouts {
    /// The checks remembered in `run_dir` for the running executable (an unreadable or stale
    /// file is an empty memory: every check can be made again).
    pub fn in_run_dir(run_dir: &Path) -> CheckedLayouts {
        CheckedLayouts::for_exe(
            run_dir.join(CHECKED_FILE),
            FileId::of(Path::new("/proc/self/exe"))
                .or_else(|| std::env::current_exe().ok().and_then(|p| FileId::of(&p))),
        )
    }

    /// The checks remembered in `file` by the executable `exe` (`None`: unknown, so nothing
    /// is ever taken as checked).
    pub fn for_exe(file: PathBuf, exe: Option<FileId>) -> CheckedLayouts {
        let known = fs::read(&file)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Known>(&bytes).ok())
            .filter(|k| exe.is_some() && k.exe == exe)
            .unwrap_or_default();
        CheckedLayouts { file, exe, known }
    }

    /// Did the plugin file at `path`, with identity `id`, pass the check before?
    pub fn passed(&self, path: &Path, id: &FileId) -> bool {
        self.exe.is_some() && self.known.plugins.iter().any(|(p, i)| p == path && i == id)
    }

    /// Remembers a passed check (written atomically; a failure to write only costs the next
    /// command the check).
    pub fn remember(&mut self, path: &Path, id: FileId) {
        if self.exe.is_none() {
            return;
        }
        self.known.exe = self.exe.clone();
        self.known.plugins.retain(|(p, _)| p != path);
        self.known.plugins.push((path.to_path_buf(), id));
        let Ok(text) = serde_json::to_vec(&self.known) else {
            return;
        };
        // Concurrent starts (workers of one command, or several commands) each write a whole
        // file of their own and rename it into place.
        let tmp = self.file.with_extension(format!(
            "tmp.{}.{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let written = fs::write(&tmp, text).and_then(|()| fs::rename(&tmp, &self.file));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            tracing::debug!(
                "cannot remember plugin layouts in {}: {e}",
                self.file.display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exe_id(dir: &Path, name: &str) -> Option<FileId> {
        let path = dir.join(name);
        fs::write(&path, name).unwrap();
        FileId::of(&path)
    }

    #[test]
    fn a_passed_check_is_known_to_the_same_exe_only_and_until_the_plugin_changes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(CHECKED_FILE);
        let exe = exe_id(dir.path(), "ioc");
        let plugin = dir.path().join("libioc_plugin_x.so");
        fs::write(&plugin, "one").unwrap();
        let id = FileId::of(&plugin).unwrap();
        let mut checked = CheckedLayouts::for_exe(file.clone(), exe.clone());
        assert!(!checked.passed(&plugin, &id));
        checked.remember(&plugin, id.clone());
        assert!(CheckedLayouts::for_exe(file.clone(), exe.clone()).passed(&plugin, &id));
        // Another ioc build: its layouts may differ, nothing is known.
        let other = exe_id(dir.path(), "ioc-rebuilt");
        assert!(!CheckedLayouts::for_exe(file.clone(), other).passed(&plugin, &id));
        // An unknown executable never skips a check.
        assert!(!CheckedLayouts::for_exe(file.clone(), None).passed(&plugin, &id));
        // The plugin rewritten in place with the same size and its mtime put back.
        let before = fs::metadata(&plugin).unwrap();
        // Past the file system's timestamp granularity (coarse on kernels before 6.13).
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(&plugin, "two").unwrap();
        fs::File::options()
            .write(true)
            .open(&plugin)
            .unwrap()
            .set_modified(before.modified().unwrap())
            .unwrap();
        let rewritten = FileId::of(&plugin).unwrap();
        assert_ne!(rewritten, id);
        assert!(!CheckedLayouts::for_exe(file, exe).passed(&plugin, &rewritten));
    }

    #[test]
    fn a_garbled_file_is_an_empty_memory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(CHECKED_FILE);
        fs::write(&file, "{not json").unwrap();
        let exe = exe_id(dir.path(), "ioc");
        let plugin = dir.path().join("p.so");
        fs::write(&plugin, "p").unwrap();
        let id = FileId::of(&plugin).unwrap();
        let mut checked = CheckedLayouts::for_exe(file.clone(), exe.clone());
        assert!(!checked.passed(&plugin, &id));
        checked.remember(&plugin, id.clone());
        assert!(CheckedLayouts::for_exe(file, exe).passed(&plugin, &id));
    }
}
