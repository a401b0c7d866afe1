//! The set of plugins a command may use: which are enabled, and loading them on demand.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use ioc_sdk::{NetworkShape, PluginKind};

use super::auto::AutoPicks;
use super::checked::CheckedLayouts;
use super::load::{LoadError, LoadedPlugin};
use super::search::SearchPath;

/// Why a plugin asked for by name cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("plugin '{0}' is disabled; enable it with `ioc plugins enable {0}`")]
    Disabled(String),
    /// No file for it along the search path.
    #[error("plugin '{name}' not found (looked for {file} in {})", dirs.join(", "))]
    NotFound {
        name: String,
        file: String,
        dirs: Vec<String>,
    },
    /// Found but refused (trust, SDK version, ABI...).
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("plugin '{name}' is a {is} plugin, but a {needed} plugin is needed here")]
    WrongKind {
        name: String,
        is: PluginKind,
        needed: PluginKind,
    },
    /// `network_plugin=auto` found no enabled mode that serves the jail's shape. The disabled
    /// plugins and the refused ones are named: one of them may be the mode wanted.
    #[error("property 'network_plugin': no enabled network plugin serves {shape} (network_plugin=auto){}{}",
        disabled.iter().map(|d| format!("; plugin '{d}' is disabled (enable it with `ioc plugins enable {d}`)")).collect::<String>(),
        refused.iter().map(|r| format!("; {r}")).collect::<String>())]
    NoAutoMode {
        shape: NetworkShape,
        disabled: Vec<String>,
        refused: Vec<String>,
    },
    /// `network_plugin=auto` found several enabled modes that serve the jail's shape.
    #[error("property 'network_plugin': network_plugin=auto is ambiguous: plugins {} all serve {shape}; name one with `ioc set network_plugin=NAME`",
        names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", "))]
    AutoAmbiguous {
        shape: NetworkShape,
        names: Vec<String>,
    },
}

/// Plugins that ship with ioc; enabled unless the admin disables them. Any other plugin must be
/// enabled explicitly, because enabling one means running its code as root.
pub const SHIPPED_PLUGINS: &[&str] = &[
    "shared-ip",
    "vnet",
    "secure-vnet",
    "nat",
    "nftables",
    "ipfw",
    "pf",
    "cni",
];

/// What `ioc plugins list` shows for one plugin.
#[derive(Clone, Debug)]
pub struct PluginEntry {
    pub name: String,
    pub kind: Option<PluginKind>,
    pub version: Option<String>,
    pub sdk_version: Option<String>,
    pub file: Option<PathBuf>,
    pub enabled: bool,
    pub status: PluginStatus,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PluginStatus {
    /// Loaded and answered.
    Ok,
    /// Disabled, so not loaded.
    Disabled,
    /// Enabled, but no file for it along the search path.
    Missing,
    /// Found but refused (trust, SDK version, ABI...), with the one-line reason.
    Refused(String),
}

impl PluginStatus {
    pub fn describe(&self) -> String {
        match self {
            PluginStatus::Ok => "ok".into(),
            PluginStatus::Disabled => "disabled".into(),
            PluginStatus::Missing => "missing".into(),
            PluginStatus::Refused(why) => format!("refused: {why}"),
        }
    }
}

/// Loads enabled plugins by name, each at most once per process.
pub struct Registry {
    search: SearchPath,
    enabled: BTreeSet<String>,
    disabled: BTreeSet<String>,
    loaded: BTreeMap<String, Rc<LoadedPlugin>>,
    /// What `network_plugin=auto` picked in this process and where picks are remembered.
    pub(super) auto: AutoPicks,
    /// The layout checks passed before, when a run dir remembers them.
    layouts: Option<CheckedLayouts>,
}

impl Registry {
    /// `enabled` are third-party plugins the admin enabled, `disabled` are plugins (shipped or
    /// not) the admin disabled.
    pub fn new(search: SearchPath, enabled: &[String], disabled: &[String]) -> Registry {
        Registry {
            search,
            enabled: enabled.iter().cloned().collect(),
            disabled: disabled.iter().cloned().collect(),
            loaded: BTreeMap::new(),
            auto: AutoPicks::default(),
            layouts: None,
        }
    }

    /// The plugins the admin disabled.
    pub(super) fn disabled(&self) -> impl Iterator<Item = &String> {
        self.disabled.iter()
    }

    /// Lets loading skip the layout checks that `run_dir` remembers as passed by this very
    /// plugin file and executable, and remember the checks it makes (see [`super::checked`]).
    pub fn remember_checked_layouts(&mut self, run_dir: &Path) {
        self.layouts = Some(CheckedLayouts::in_run_dir(run_dir));
    }

    pub fn search_path(&self) -> &SearchPath {
        &self.search
    }

    pub fn is_enabled(&self, name: &str) -> bool {
        !self.disabled.contains(name)
            && (SHIPPED_PLUGINS.contains(&name) || self.enabled.contains(name))
    }

    /// The plugin called `name`, which must be of `kind`; loaded on first use.
    pub fn get(&mut self, name: &str, kind: PluginKind) -> Result<Rc<LoadedPlugin>, PluginError> {
        if !self.is_enabled(name) {
            return Err(PluginError::Disabled(name.to_string()));
        }
        let plugin = match self.loaded.get(name) {
            Some(p) => p.clone(),
            None => {
                let path = self
                    .search
                    .find(name)
                    .ok_or_else(|| PluginError::NotFound {
                        name: name.to_string(),
                        file: super::file_name_for(name),
                        dirs: self
                            .search
                            .dirs()
                            .iter()
                            .map(|d| d.display().to_string())
                            .collect(),
                    })?;
                let plugin = Rc::new(LoadedPlugin::load_checked(&path, self.layouts.as_mut())?);
                self.loaded.insert(name.to_string(), plugin.clone());
                plugin
            }
        };
        if plugin.kind != kind {
            return Err(PluginError::WrongKind {
                name: name.to_string(),
                is: plugin.kind,
                needed: kind,
            });
        }
        Ok(plugin)
    }

    /// Every plugin known: found along the search path, shipped, or enabled. Enabled ones are
    /// loaded to report their details; disabled ones are never opened.
    pub fn entries(&mut self) -> Vec<PluginEntry> {
        let found = self.search.discover();
        let mut names: BTreeSet<String> = found.keys().cloned().collect();
        names.extend(SHIPPED_PLUGINS.iter().map(|s| s.to_string()));
        names.extend(self.enabled.iter().cloned());
        names
            .into_iter()
            .map(|name| {
                let enabled = self.is_enabled(&name);
                let file = found.get(&name).cloned();
                let mut entry = PluginEntry {
                    name: name.clone(),
                    kind: None,
                    version: None,
                    sdk_version: None,
                    file: file.clone(),
                    enabled,
                    status: PluginStatus::Disabled,
                };
                if !enabled {
                    return entry;
                }
                let Some(file) = file else {
                    entry.status = PluginStatus::Missing;
                    return entry;
                };
                let loaded = match self.loaded.get(&name) {
                    Some(p) => Ok(p.clone()),
                    None => LoadedPlugin::load(&file)
                        .map(Rc::new)
                        .map_err(|e| e.to_string()),
                };
                match loaded {
                    Ok(p) => {
                        entry.kind = Some(p.kind);
                        entry.version = Some(p.version.clone());
                        entry.sdk_version = Some(p.sdk_version.clone());
                        entry.status = PluginStatus::Ok;
                        self.loaded.insert(name, p);
                    }
                    Err(why) => entry.status = PluginStatus::Refused(why),
                }
                entry
            })
            .collect()
    }
}
