//! `network_plugin=auto`: the one enabled network mode that declares it serves a jail's
//! network shape (`serves` in its export macro). Core names no mode here.
//!
//! Reading the declarations means loading every enabled plugin along the search path, which
//! would make every start pay for plugins it does not use. So a start remembers its pick in the
//! run dir, keyed by the identity of every candidate file (device, inode, size, times): while
//! none of them changes, the next start loads only the mode picked, and still checks that its
//! declaration matches. Any change to the candidates (a plugin added, enabled, disabled,
//! rebuilt) changes the key and the declarations are read again.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use ioc_sdk::{NetworkShape, Platform, PluginKind};

use super::load::LoadedPlugin;
use super::registry::{PluginError, Registry};

/// The file in the run dir that remembers picks, one `KEY<TAB>MODE` line each.
const PICKS_FILE: &str = "auto-modes";

/// The picks of this process, and where they are remembered across processes.
#[derive(Default)]
pub struct AutoPicks {
    made: Vec<(NetworkShape, Platform, Rc<LoadedPlugin>)>,
    /// The run dir, and whether this command may write there (a dry run may not).
    store: Option<(PathBuf, bool)>,
}

impl Registry {
    /// Lets `network_plugin=auto` read earlier picks from `run_dir`, and remember its own
    /// there when `write` (a real start; a dry run changes nothing on disk).
    pub fn remember_auto_picks(&mut self, run_dir: &Path, write: bool) {
        self.auto.store = Some((run_dir.to_path_buf(), write));
    }

    /// The one enabled network mode that declares it serves `shape` on `platform`: what
    /// `network_plugin=auto` means. Disabled plugins are never opened.
    pub fn auto_mode(
        &mut self,
        shape: NetworkShape,
        platform: Platform,
    ) -> Result<Rc<LoadedPlugin>, PluginError> {
        if let Some((_, _, mode)) = self
            .auto
            .made
            .iter()
            .find(|(s, p, _)| *s == shape && *p == platform)
        {
            return Ok(mode.clone());
        }
        let candidates: Vec<(String, PathBuf)> = self
            .search_path()
            .discover()
            .into_iter()
            .filter(|(name, _)| self.is_enabled(name))
            .collect();
        let key = pick_key(shape, platform, &candidates);
        let remembered = key
            .as_deref()
            .and_then(|key| self.remembered(key))
            .and_then(|name| self.get(&name, PluginKind::Network).ok())
            .filter(|mode| serves(mode, shape, platform));
        let mode = match remembered {
            Some(mode) => mode,
            None => {
                let mode = self.read_declarations(shape, platform, &candidates)?;
                if let Some(key) = &key {
                    self.remember(key, &mode.name);
                }
                mode
            }
        };
        self.auto.made.push((shape, platform, mode.clone()));
        Ok(mode)
    }

    /// Loads every candidate and keeps the modes that serve `shape`: exactly one must.
    fn read_declarations(
        &mut self,
        shape: NetworkShape,
        platform: Platform,
        candidates: &[(String, PathBuf)],
    ) -> Result<Rc<LoadedPlugin>, PluginError> {
        let mut matching = Vec::new();
        let mut refused = Vec::new();
        for (name, _) in candidates {
            match self.get(name, PluginKind::Network) {
                Ok(p) if serves(&p, shape, platform) => matching.push(p),
                Ok(_) | Err(PluginError::WrongKind { .. }) => {}
                Err(e) => refused.push(e.to_string()),
            }
        }
        match matching.len() {
            1 => Ok(matching.remove(0)),
            0 => Err(PluginError::NoAutoMode {
                shape,
                disabled: self.disabled().cloned().collect(),
                refused,
            }),
            _ => Err(PluginError::AutoAmbiguous {
                shape,
                names: matching.iter().map(|p| p.name.clone()).collect(),
            }),
        }
    }

    fn remembered(&self, key: &str) -> Option<String> {
        let (dir, _) = self.auto.store.as_ref()?;
        let text = fs::read_to_string(dir.join(PICKS_FILE)).ok()?;
        text.lines()
            .filter_map(|line| line.split_once('\t'))
            .find(|(k, _)| *k == key)
            .map(|(_, name)| name.to_string())
    }

    /// Best effort: a pick that is not remembered is only read again next time.
    fn remember(&self, key: &str, mode: &str) {
        let Some((dir, true)) = &self.auto.store else {
            return;
        };
        let path = dir.join(PICKS_FILE);
        let prefix = key.split_once(' ').map_or(key, |(p, _)| p);
        let mut lines: Vec<String> = fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .filter(|line| !line.starts_with(&format!("{prefix} ")))
            .map(str::to_string)
            .collect();
        lines.push(format!("{key}\t{mode}"));
        let tmp = dir.join(format!(".{PICKS_FILE}.{}", std::process::id()));
        let written =
            fs::write(&tmp, lines.join("\n") + "\n").and_then(|()| fs::rename(&tmp, &path));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            tracing::debug!(
                "cannot remember the network_plugin=auto pick in {}: {e}",
                path.display()
            );
        }
    }
}

fn serves(mode: &LoadedPlugin, shape: NetworkShape, platform: Platform) -> bool {
    mode.kind == PluginKind::Network && mode.supports(platform) && mode.serves.contains(&shape)
}

/// `SHAPE/PLATFORM name=dev:ino:size:mtime:ctime ...`, or `None` when a candidate cannot be
/// examined (then nothing is remembered).
fn pick_key(
    shape: NetworkShape,
    platform: Platform,
    candidates: &[(String, PathBuf)],
) -> Option<String> {
    let mut key = format!("{shape:?}/{platform}");
    for (name, path) in candidates {
        let m = fs::metadata(path).ok()?;
        key.push_str(&format!(
            " {name}={}:{}:{}:{}.{}:{}.{}",
            m.dev(),
            m.ino(),
            m.size(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec()
        ));
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_candidate_changes_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("libioc_plugin_x.so");
        fs::write(&file, b"one").unwrap();
        let candidates = vec![("x".to_string(), file.clone())];
        let key = |shape| pick_key(shape, Platform::Linux, &candidates).unwrap();
        let before = key(NetworkShape::Vnet);
        assert_eq!(before, key(NetworkShape::Vnet), "the key is stable");
        assert_ne!(
            before,
            key(NetworkShape::SharedIp),
            "the shape is in the key"
        );
        assert!(before.starts_with("Vnet/linux x="), "{before}");
        fs::write(&file, b"rebuilt").unwrap();
        assert_ne!(
            before,
            key(NetworkShape::Vnet),
            "a rebuilt plugin is read again"
        );
        let gone = vec![("x".to_string(), dir.path().join("missing.so"))];
        assert_eq!(pick_key(NetworkShape::Vnet, Platform::Linux, &gone), None);
    }
}
