//! The store lock: one exclusive `flock` on `<root>/.lock`, held for a whole read-modify-write.
//!
//! `flock` locks belong to the open file description, so the lock is released when the guard is
//! dropped or the process dies (a killed `ioc` never leaves the store locked).

use std::path::Path;

use super::fs::{FileLock, FILE_MODE};
use crate::error::{Error, Result};

/// Holds the exclusive store lock until dropped.
pub struct StoreLock {
    _lock: FileLock,
}

impl StoreLock {
    /// Blocks until the lock on `path` is ours, creating the lock file if needed.
    pub fn acquire(path: &Path) -> Result<StoreLock> {
        FileLock::acquire(path, FILE_MODE)
            .map(|lock| StoreLock { _lock: lock })
            .map_err(|e| Error::io("cannot lock", path, e))
    }
}
