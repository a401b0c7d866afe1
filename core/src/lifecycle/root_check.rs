//! The start-time checks of a jail's own root (`path`, `mounts`, issue 16): what the syntax
//! cannot know, checked for every jail before anything changes.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::{Failure, JailError, JailSpec};
use crate::step::{JailRoot, RootMount};

const PATH_EXPECTED: &str =
    "an existing directory owned by root, not writable by others, that holds none of ioc's state";

/// The problems of every jail's root; empty when all can start.
pub(super) fn check_all(specs: &[JailSpec], run_dir: &Path) -> Vec<JailError> {
    let state = state_dirs(run_dir);
    specs
        .iter()
        .filter_map(|spec| {
            let root = spec.params.root.as_ref()?;
            check(root, &state)
                .err()
                .map(|e| JailError::new(&spec.name, e))
        })
        .collect()
}

/// ioc's own state: the run dir and the configuration root. A jail's root that holds either
/// would let the jail rewrite ioc's journals and configuration.
fn state_dirs(run_dir: &Path) -> Vec<PathBuf> {
    let config = std::env::var_os("IOC_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(crate::store::DEFAULT_ROOT));
    [run_dir.to_path_buf(), config]
        .into_iter()
        .map(|p| p.canonicalize().unwrap_or(p))
        .collect()
}

fn refused(property: &'static str, expected: &'static str, found: String) -> Failure {
    Failure::RootRefused {
        property,
        expected,
        found,
    }
}

/// Checks `path`, then each of `mounts`.
pub(super) fn check(root: &JailRoot, state: &[PathBuf]) -> Result<(), Failure> {
    let path = Path::new(&root.path);
    let bad = |found: String| refused("path", PATH_EXPECTED, found);
    let meta = fs::symlink_metadata(path).map_err(|e| bad(format!("{}: {e}", root.path)))?;
    if meta.file_type().is_symlink() {
        return Err(bad(format!("{} is a symlink", root.path)));
    }
    if !meta.is_dir() {
        return Err(bad(format!("{} is not a directory", root.path)));
    }
    let real = path
        .canonicalize()
        .map_err(|e| bad(format!("{}: {e}", root.path)))?;
    if real != path {
        return Err(bad(format!(
            "{} leads through a symlink to {}",
            root.path,
            real.display()
        )));
    }
    if meta.uid() != 0 {
        return Err(bad(format!("{} is owned by uid {}", root.path, meta.uid())));
    }
    if meta.mode() & 0o002 != 0 {
        return Err(bad(format!("{} is writable by others", root.path)));
    }
    if real == Path::new("/") {
        return Err(bad("it is the host's root /".to_string()));
    }
    if let Some(dir) = state.iter().find(|dir| dir.starts_with(&real)) {
        return Err(bad(format!(
            "{} holds ioc's state in {}",
            root.path,
            dir.display()
        )));
    }
    for mount in &root.mounts {
        check_mount(&real, mount)?;
    }
    Ok(())
}

const MOUNT_EXPECTED: &str =
    "SOURCE:TARGET[:ro] with an existing SOURCE and a TARGET of the same kind inside the jail's root, reached without leaving it";

/// A mount's source exists, and its target is inside the root, found without leaving it
/// through a symlink (the same resolution the jail's init uses).
fn check_mount(root: &Path, mount: &RootMount) -> Result<(), Failure> {
    let bad = |found: String| refused("mounts", MOUNT_EXPECTED, found);
    let source = fs::metadata(&mount.source).map_err(|e| bad(format!("{}: {e}", mount.source)))?;
    let target = target_kind(root, &mount.target).map_err(|e| match e.raw_os_error() {
        Some(libc::EXDEV) | Some(libc::ELOOP) => bad(format!(
            "{} leaves the jail's root through a symlink",
            mount.target
        )),
        Some(libc::ENOENT) => bad(format!(
            "{} does not exist in the jail's root",
            mount.target
        )),
        _ => bad(format!("{}: {e}", mount.target)),
    })?;
    if source.is_dir() != target {
        return Err(bad(format!(
            "{} and {} are not both directories or both files",
            mount.source, mount.target
        )));
    }
    Ok(())
}

/// Whether `target` (absolute inside `root`) is a directory, resolved beneath `root`.
#[cfg(target_os = "linux")]
fn target_kind(root: &Path, target: &str) -> io::Result<bool> {
    use crate::host::linux::jail::resolve::{open_within_owned, Within};
    use std::ffi::CString;
    use std::os::fd::AsRawFd;
    let dir = fs::File::open(root)?;
    let rel = CString::new(target.trim_start_matches('/').as_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let fd = open_within_owned(dir.as_raw_fd(), &rel, Within::Beneath)?;
    Ok(nix::sys::stat::fstat(&fd)?.st_mode & libc::S_IFMT == libc::S_IFDIR)
}

/// Elsewhere a component walk refusing symlinks stands in for `openat2`.
#[cfg(not(target_os = "linux"))]
fn target_kind(root: &Path, target: &str) -> io::Result<bool> {
    let mut here = root.to_path_buf();
    for part in Path::new(target).components().skip(1) {
        here.push(part);
        if fs::symlink_metadata(&here)?.file_type().is_symlink() {
            return Err(io::Error::from_raw_os_error(libc::ELOOP));
        }
    }
    Ok(fs::metadata(&here)?.is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(path: &Path, mounts: Vec<RootMount>) -> JailRoot {
        JailRoot {
            path: path.to_str().unwrap().to_string(),
            mounts,
        }
    }

    fn refusal(result: Result<(), Failure>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn path_must_be_a_safe_directory() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let jail = base.join("jail");
        assert!(refusal(check(&root(&jail, vec![]), &[])).contains("No such file"));
        fs::create_dir(&jail).unwrap();
        fs::set_permissions(&jail, std::os::unix::fs::PermissionsExt::from_mode(0o757)).unwrap();
        let err = refusal(check(&root(&jail, vec![]), &[]));
        assert!(
            err.starts_with("property 'path': expected an existing directory"),
            "{err}"
        );
        assert!(err.contains("writable by others"), "{err}");
        fs::set_permissions(&jail, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        if nix::unistd::geteuid().is_root() {
            check(&root(&jail, vec![]), &[]).unwrap();
        }
        let state = [jail.join("run")];
        assert!(refusal(check(&root(&jail, vec![]), &state)).contains("holds ioc's state"));
        let link = base.join("link");
        std::os::unix::fs::symlink(&jail, &link).unwrap();
        assert!(refusal(check(&root(&link, vec![]), &[])).contains("symlink"));
    }

    #[test]
    fn mount_targets_stay_inside() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let jail = dir.path().canonicalize().unwrap();
        fs::set_permissions(&jail, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        fs::create_dir(jail.join("data")).unwrap();
        std::os::unix::fs::symlink("/etc", jail.join("escape")).unwrap();
        std::os::unix::fs::symlink("../../../..", jail.join("up")).unwrap();
        let m = |target: &str| RootMount {
            source: "/tmp".to_string(),
            target: target.to_string(),
            read_only: false,
        };
        check(&root(&jail, vec![m("/data")]), &[]).unwrap();
        for escape in ["/escape", "/up/etc"] {
            let err = refusal(check(&root(&jail, vec![m(escape)]), &[]));
            assert!(err.contains("leaves the jail's root"), "{err}");
        }
        let err = refusal(check(&root(&jail, vec![m("/missing")]), &[]));
        assert!(err.contains("does not exist"), "{err}");
    }
}
