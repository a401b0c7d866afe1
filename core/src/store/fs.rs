//! File-system primitives: private directories, bounded reads of untrusted files, atomic
//! writes and exclusive file locks.
//!
//! [`replace_file`] and [`FileLock`] are the only atomic-write and `flock` code in core: the
//! store, the runtime directory and the Linux jail files all use them.
//!
//! Modes are set explicitly after creation (`chmod`/`fchmod` ignore the umask), so a permissive
//! umask can never leave state readable by others.

use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

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
/// mix, and the new file survives a crash (see [`replace_file`]).
pub fn write_atomic(dir: &Path, name: &str, contents: &[u8]) -> Result<()> {
    let target = dir.join(name);
    replace_file(&target, contents, FILE_MODE, Durability::Durable)
        .map_err(|e| Error::io("cannot write", &target, e))
}

/// Whether a replaced file must survive a crash of the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// fsync the file before the rename and the directory after it (configuration).
    Durable,
    /// No fsync: runtime state on tmpfs, which a reboot discards anyway.
    Volatile,
}

/// Temp files of this process get distinct names, so two threads never share one.
static TEMP_SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// Replaces `path` with `contents` (mode `mode`, whatever the umask) through a temp file in the
/// same directory and a rename, so a reader sees the old or the new file, never a mix.
///
/// The temp name carries the pid and a per-process sequence number: two writers of the same
/// file (two ioc processes, or two threads) never write into each other's temp file, and the
/// last rename wins with a whole file. The temp file is created `O_EXCL` and `O_NOFOLLOW`, so a
/// link planted in its place is never followed.
pub fn replace_file(
    path: &Path,
    contents: &[u8],
    mode: u32,
    durability: Durability,
) -> io::Result<()> {
    let tmp = temp_path(path)?;
    let written = (|| -> io::Result<()> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)?;
        file.set_permissions(Permissions::from_mode(mode))?;
        file.write_all(contents)?;
        if durability == Durability::Durable {
            file.sync_all()?;
        }
        fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    match (durability, path.parent()) {
        (Durability::Durable, Some(dir)) => {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            File::open(dir).and_then(|d| d.sync_all())
        }
        _ => Ok(()),
    }
}

/// `DIR/.NAME.PID.N.tmp` beside `path`.
fn temp_path(path: &Path) -> io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} names no file", path.display()),
        )
    })?;
    let sequence = TEMP_SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let mut tmp = std::ffi::OsString::from(".");
    tmp.push(name);
    tmp.push(format!(".{}.{sequence}.tmp", std::process::id()));
    Ok(path.with_file_name(tmp))
}

/// An exclusive `flock` on a file, released when dropped or when the process dies (a killed
/// `ioc` never leaves anything locked): `flock` locks belong to the open file description.
#[derive(Debug)]
pub struct FileLock {
    _flock: Flock<File>,
}

impl FileLock {
    /// Blocks until the lock on `path` is ours, creating the lock file (mode `mode`) if needed.
    pub fn acquire(path: &Path, mode: u32) -> io::Result<FileLock> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)?;
        file.set_permissions(Permissions::from_mode(mode))?;
        loop {
            match Flock::lock(file, FlockArg::LockExclusive) {
                Ok(flock) => return Ok(FileLock { _flock: flock }),
                Err((f, Errno::EINTR)) => file = f,
                Err((_, errno)) => return Err(io::Error::from(errno)),
            }
        }
    }
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
        // SAFETY: as above; restores the mask this test changed.
        unsafe { libc::umask(old) };
        result.unwrap();
        assert_eq!(mode(&dir), DIR_MODE);
        assert_eq!(mode(&dir.join("f.ron")), FILE_MODE);
        assert_eq!(fs::read_to_string(dir.join("f.ron")).unwrap(), "x");
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "a temp file was left"
        );
    }

    #[test]
    fn concurrent_writers_of_one_file_each_leave_a_whole_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("claim");
        let writers: Vec<_> = (0..8u8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let text = vec![b'a' + i; 64 * 1024];
                    for _ in 0..20 {
                        replace_file(&path, &text, 0o600, Durability::Volatile).unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let text = fs::read(&path).unwrap();
        assert_eq!(text.len(), 64 * 1024);
        assert!(text.iter().all(|b| *b == text[0]), "a mix of writers");
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_file_lock_excludes_another_holder_until_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("lock");
        let held = FileLock::acquire(&path, 0o600).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let path = path.clone();
            std::thread::spawn(move || {
                let _lock = FileLock::acquire(&path, 0o600).unwrap();
                tx.send(()).unwrap();
            })
        };
        assert!(rx
            .recv_timeout(std::time::Duration::from_millis(200))
            .is_err());
        drop(held);
        rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        waiter.join().unwrap();
        assert_eq!(mode(&path), 0o600);
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
