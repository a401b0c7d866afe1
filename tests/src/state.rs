//! Proving that a command changed nothing on disk: a byte-for-byte picture of a directory tree.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// One entry of a tree: its type, metadata and, for files, contents. The inode and the
/// modification time are part of it, so a file rewritten with the same bytes, or a directory
/// in which a temporary file came and went, counts as a change too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Dir { meta: Meta },
    File { meta: Meta, bytes: Vec<u8> },
    Other { meta: Meta },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    pub mode: u32,
    pub uid: u32,
    pub ino: u64,
    pub mtime: (i64, i64),
}

/// Every path under a root (relative to it) with its [`Entry`]. A missing root is an empty
/// tree, so "created nothing" compares equal too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tree(BTreeMap<PathBuf, Entry>);

impl Tree {
    pub fn of(root: &Path) -> Tree {
        let mut entries = BTreeMap::new();
        walk(root, root, &mut entries);
        Tree(entries)
    }

    /// The paths that differ between two pictures, for an assertion message.
    pub fn diff(&self, after: &Tree) -> Vec<String> {
        let mut changes = Vec::new();
        for (path, entry) in &self.0 {
            match after.0.get(path) {
                None => changes.push(format!("removed {}", path.display())),
                Some(e) if e != entry => changes.push(format!("changed {}", path.display())),
                _ => {}
            }
        }
        for path in after.0.keys().filter(|p| !self.0.contains_key(*p)) {
            changes.push(format!("added {}", path.display()));
        }
        changes
    }

    /// Asserts that `root` still looks exactly like this picture.
    pub fn assert_unchanged(&self, root: &Path, what: &str) {
        let changes = self.diff(&Tree::of(root));
        assert!(
            changes.is_empty(),
            "{what} changed under {}: {changes:?}",
            root.display()
        );
    }
}

fn walk(root: &Path, dir: &Path, entries: &mut BTreeMap<PathBuf, Entry>) {
    let Ok(list) = fs::read_dir(dir) else {
        return;
    };
    for item in list.flatten() {
        let path = item.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        let info = Meta {
            mode: meta.mode(),
            uid: meta.uid(),
            ino: meta.ino(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
        };
        let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        let entry = if meta.is_dir() {
            walk(root, &path, entries);
            Entry::Dir { meta: info }
        } else if meta.is_file() {
            Entry::File {
                meta: info,
                bytes: fs::read(&path).unwrap_or_default(),
            }
        } else {
            Entry::Other { meta: info }
        };
        entries.insert(rel, entry);
    }
}
