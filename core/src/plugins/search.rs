//! Where plugin libraries are looked for, and how names map to files.

use std::collections::BTreeMap;
use std::env;
use std::fs;
use std::path::{Path, PathBuf};

const PREFIX: &str = "libioc_plugin_";

/// Shared library extension of this platform.
fn dylib_suffix() -> &'static str {
    env::consts::DLL_SUFFIX
}

/// `vnet` -> `libioc_plugin_vnet.so`, `shared-ip` -> `libioc_plugin_shared_ip.so`.
pub fn file_name_for(name: &str) -> String {
    format!("{PREFIX}{}{}", name.replace('-', "_"), dylib_suffix())
}

/// The plugin name a file name promises (`_` read back as `-`), if it follows the convention.
pub fn plugin_name_from_file(file: &Path) -> Option<String> {
    let base = file.file_name()?.to_str()?;
    let stem = base.strip_prefix(PREFIX)?.strip_suffix(dylib_suffix())?;
    let valid = !stem.is_empty()
        && stem
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    valid.then(|| stem.replace('_', "-"))
}

/// The ordered list of directories searched for plugins; earlier ones win.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchPath {
    dirs: Vec<PathBuf>,
}

impl SearchPath {
    pub fn new(dirs: Vec<PathBuf>) -> SearchPath {
        SearchPath { dirs }
    }

    /// The executable's directory, then each entry of `IOC_PLUGIN_PATH`, then
    /// `<prefix>/lib/ioc/plugins` where `<prefix>` is the parent of the executable's directory.
    pub fn from_env() -> SearchPath {
        let mut dirs = Vec::new();
        let exe_dir = env::current_exe()
            .ok()
            .and_then(|p| p.canonicalize().ok())
            .and_then(|p| p.parent().map(Path::to_path_buf));
        if let Some(dir) = &exe_dir {
            dirs.push(dir.clone());
        }
        if let Some(extra) = env::var_os("IOC_PLUGIN_PATH") {
            dirs.extend(env::split_paths(&extra).filter(|p| !p.as_os_str().is_empty()));
        }
        if let Some(prefix) = exe_dir.as_deref().and_then(Path::parent) {
            dirs.push(prefix.join("lib/ioc/plugins"));
        }
        let mut seen = Vec::new();
        dirs.retain(|d| {
            let fresh = !seen.contains(d);
            seen.push(d.clone());
            fresh
        });
        SearchPath { dirs }
    }

    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// The first file for `name` along the path.
    pub fn find(&self, name: &str) -> Option<PathBuf> {
        let file = file_name_for(name);
        self.dirs
            .iter()
            .map(|d| d.join(&file))
            .find(|p| p.is_file())
    }

    /// Every plugin file along the path, by name; the first directory holding a name wins.
    pub fn discover(&self) -> BTreeMap<String, PathBuf> {
        let mut found = BTreeMap::new();
        for dir in &self.dirs {
            let Ok(entries) = fs::read_dir(dir) else {
                continue;
            };
            let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            files.sort();
            for path in files {
                if let Some(name) = plugin_name_from_file(&path) {
                    found.entry(name).or_insert(path);
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_files_map_both_ways() {
        let f = file_name_for("shared-ip");
        assert_eq!(f, format!("libioc_plugin_shared_ip{}", dylib_suffix()));
        assert_eq!(
            plugin_name_from_file(Path::new(&f)).as_deref(),
            Some("shared-ip")
        );
        assert_eq!(plugin_name_from_file(Path::new("libfoo.so")), None);
        assert_eq!(
            plugin_name_from_file(Path::new(&format!("libioc_plugin_Bad{}", dylib_suffix()))),
            None
        );
    }

    #[test]
    fn first_directory_wins() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        for d in [a.path(), b.path()] {
            fs::write(d.join(file_name_for("vnet")), b"").unwrap();
        }
        fs::write(b.path().join(file_name_for("pf")), b"").unwrap();
        let sp = SearchPath::new(vec![a.path().into(), b.path().into()]);
        assert_eq!(sp.find("vnet").unwrap().parent().unwrap(), a.path());
        let all = sp.discover();
        assert_eq!(all.len(), 2);
        assert_eq!(all["pf"].parent().unwrap(), b.path());
    }
}
