//! File-system primitives of the store: private directories, bounded reads of untrusted files,
//! and atomic durable writes.
//!
//! Modes are set explicitly after creation (`chmod`/`fchmod` ignore the umask), so a permissive
//! umask can never leave state readable by others.

use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::error::{Error, Result};

/// Mode of every directory the store creates.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file the store writes.
pub const FILE_MODE: u32 = 0o600;
/// State files are small; anything larger is not ours and is refused rather than read.
pub const MAX_FILE_SIZE: u64 = 1024 * 1024;

/// Creates `dir` (and missing parents) as a private directory. An existing directory is left as
/// it is; an existing non-directory is an error.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    match fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => return Ok(()),
        Ok(_) => {
            return Err(Error::io(
                "cannot use",
                dir,
                io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "exists and is not a directory",
                ),
            ))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("cannot inspect", dir, e)),
    }
    match DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::io("cannot create directory", dir, e)),
    }
    fs::set_permissions(dir, Permissions::from_mode(DIR_MODE))
        .map_err(|e| Error::io("cannot set permissions of", dir, e))
}

/// Reads a state file that may have been edited or damaged by anyone with root: `Ok(None)` when
/// it does not exist; an error naming the file when it is a symlink, not a regular file, too
/// large or not UTF-8.
pub fn read_state_file(path: &Path) -> Result<Option<String>> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path);
    let file = match file {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("cannot read", path, e)),
    };
    let corrupt = |reason: &str| Error::CorruptFile {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let meta = file
        .metadata()
        .map_err(|e| Error::io("cannot read", path, e))?;
    if !meta.is_file() {
        return Err(corrupt("not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("cannot read", path, e))?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(corrupt(&format!("larger than {MAX_FILE_SIZE} bytes")));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| corrupt("not valid UTF-8"))
}

/// Replaces `dir/name` with `contents` so that a reader sees the old or the new file, never a
/// mix, and the new file survives a crash: temp file in the same directory, fsync, rename,
/// fsync of the directory. The caller holds the store lock, so the temp name cannot collide.
pub fn write_atomic(dir: &Path, name: &str, contents: &[u8]) -> Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let target = dir.join(name);
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("cannot remove stale", &tmp, e)),
    }
    let written = (|| -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(FILE_MODE)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)?;
        file.set_permissions(Permissions::from_mode(FILE_MODE))?;
        file.write_all(contents)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io("cannot write", &tmp, e));
    }
    if let Err(e) = fs::rename(&tmp, &target) {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io("cannot replace", &target, e));
    }
    sync_dir(dir)
}

/// Makes a directory's entries (a rename, a new file) durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("cannot sync directory", dir, e))
}

/// Removes a directory tree if it exists.
pub fn remove_tree(dir: &Path) -> Result<()> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("cannot remove", dir, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn modes_ignore_the_umask() {
        let tmp = tempfile::tempdir().unwrap();
        // SAFETY: umask only changes this process's file-creation mask.
        let old = unsafe { libc::umask(0) };
        let dir = tmp.path().join("a/b");
        let result = ensure_private_dir(&dir).and_then(|_| write_atomic(&dir, "f.ron", b"x"));
        unsafe { libc::umask(old) };
        result.unwrap();
        assert_eq!(mode(&dir), DIR_MODE);
        assert_eq!(mode(&dir.join("f.ron")), FILE_MODE);
        assert_eq!(fs::read_to_string(dir.join("f.ron")).unwrap(), "x");
        assert!(!dir.join(".f.ron.tmp").exists());
    }

    #[test]
    fn reads_refuse_what_is_not_a_small_regular_file() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path();
        assert_eq!(read_state_file(&p.join("missing")).unwrap(), None);
        fs::write(p.join("ok"), "hello").unwrap();
        assert_eq!(
            read_state_file(&p.join("ok")).unwrap().as_deref(),
            Some("hello")
        );
        std::os::unix::fs::symlink(p.join("ok"), p.join("link")).unwrap();
        assert!(read_state_file(&p.join("link")).is_err());
        fs::create_dir(p.join("dir")).unwrap();
        assert!(read_state_file(&p.join("dir")).is_err());
        fs::write(p.join("big"), vec![b'x'; MAX_FILE_SIZE as usize + 1]).unwrap();
        let err = read_state_file(&p.join("big")).unwrap_err().to_string();
        assert!(err.contains("larger than"), "{err}");
        fs::write(p.join("bin"), [0xff, 0xfe]).unwrap();
        let err = read_state_file(&p.join("bin")).unwrap_err().to_string();
        assert!(err.contains("not valid UTF-8"), "{err}");
    }

    #[test]
    fn a_file_in_the_way_of_a_directory_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("f");
        fs::write(&f, "").unwrap();
        assert!(ensure_private_dir(&f).is_err());
    }
}
