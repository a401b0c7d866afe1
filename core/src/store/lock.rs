//! The store lock: one exclusive `flock` on `<root>/.lock`, held for a whole read-modify-write.
//!
//! `flock` locks belong to the open file description, so the lock is released when the guard is
//! dropped or the process dies (a killed `ioc` never leaves the store locked).

use std::fs::{File, OpenOptions, Permissions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use super::fs::FILE_MODE;
use crate::error::{Error, Result};

/// Holds the exclusive store lock until dropped.
pub struct StoreLock {
    _flock: Flock<File>,
}

impl StoreLock {
    /// Blocks until the lock on `path` is ours, creating the lock file if needed.
    pub fn acquire(path: &Path) -> Result<StoreLock> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(FILE_MODE)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| Error::io("cannot open lock file", path, e))?;
        file.set_permissions(Permissions::from_mode(FILE_MODE))
            .map_err(|e| Error::io("cannot set permissions of", path, e))?;
        let mut file = file;
        loop {
            match Flock::lock(file, FlockArg::LockExclusive) {
                Ok(flock) => return Ok(StoreLock { _flock: flock }),
                Err((f, Errno::EINTR)) => file = f,
                Err((_, errno)) => {
                    return Err(Error::io("cannot lock", path, std::io::Error::from(errno)))
                }
            }
        }
    }
}
