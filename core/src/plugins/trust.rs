//! Refusing plugin files that someone other than root could have written.
//!
//! ioc runs as root and executes a plugin's code in its own process, so a plugin file, or the
//! directory holding it (which lets one replace the file), that is writable by group or others or
//! not owned by root would hand root to whoever can write it.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Why a plugin file is not trusted. `plugin` is the path as asked for, `target` the file or
/// directory (after following symlinks) that failed the check.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The file or its directory cannot be examined.
    #[error("plugin {}: {source}", plugin.display())]
    Unreadable {
        plugin: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("refusing plugin {}: its {what} {} is owned by uid {uid}, not root", plugin.display(), target.display())]
    NotOwnedByRoot {
        plugin: PathBuf,
        what: &'static str,
        target: PathBuf,
        uid: u32,
    },
    #[error("refusing plugin {}: its {what} {} is writable by {} (mode {:o}); run `chmod go-w {}`",
        plugin.display(), target.display(),
        if mode & 0o002 != 0 { "others" } else { "group" }, mode & 0o7777, target.display())]
    Writable {
        plugin: PathBuf,
        what: &'static str,
        target: PathBuf,
        mode: u32,
    },
}

/// Checks the file (after following symlinks) and its directory. Only enforced when ioc runs as
/// root: an unprivileged user can only hurt themselves.
pub fn check_trusted(path: &Path) -> Result<(), TrustError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    let unreadable = |source| TrustError::Unreadable {
        plugin: path.into(),
        source,
    };
    let real = path.canonicalize().map_err(unreadable)?;
    check_one(&real, "file", path)?;
    if let Some(dir) = real.parent() {
        check_one(dir, "directory", path)?;
    }
    Ok(())
}

fn check_one(target: &Path, what: &'static str, plugin: &Path) -> Result<(), TrustError> {
    let meta = fs::metadata(target).map_err(|source| TrustError::Unreadable {
        plugin: plugin.into(),
        source,
    })?;
    if meta.uid() != 0 {
        return Err(TrustError::NotOwnedByRoot {
            plugin: plugin.into(),
            what,
            target: target.into(),
            uid: meta.uid(),
        });
    }
    let mode = meta.mode();
    if mode & 0o022 != 0 {
        return Err(TrustError::Writable {
            plugin: plugin.into(),
            what,
            target: target.into(),
            mode,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn world_writable_files_and_dirs_are_refused_for_root() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: needs root (the check only applies to root)");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("libioc_plugin_x.so");
        fs::write(&file, b"").unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(check_trusted(&file).is_ok());

        fs::set_permissions(&file, fs::Permissions::from_mode(0o666)).unwrap();
        let err = check_trusted(&file).unwrap_err().to_string();
        assert!(err.contains("writable by others"), "{err}");

        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o775)).unwrap();
        let err = check_trusted(&file).unwrap_err().to_string();
        assert!(err.contains("directory") && err.contains("group"), "{err}");

        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        nix::unistd::chown(&file, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
        let err = check_trusted(&file).unwrap_err().to_string();
        assert!(err.contains("owned by uid 65534"), "{err}");
    }
}
