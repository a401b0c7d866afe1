//! `ioc plugins list|enable|disable|check`.

use std::path::{Path, PathBuf};

use ioc_sdk::{PluginKind, SDK_VERSION};
use serde::Serialize;

use crate::config::names::check_plugin_name;
use crate::error::{Error, Result};
use crate::lifecycle::running_snapshot;
use crate::plugins::{LoadedPlugin, PluginEntry};
use crate::runtime::RunDir;
use crate::store::Store;

/// One line of `ioc plugins list`.
#[derive(Clone, Debug, Serialize)]
pub struct PluginRow {
    pub name: String,
    pub kind: Option<String>,
    pub version: Option<String>,
    pub sdk_version: Option<String>,
    pub file: Option<PathBuf>,
    pub enabled: bool,
    pub status: String,
    /// For firewall backends: the one the `firewall` setting selects.
    pub active: bool,
}

fn row(entry: PluginEntry, active_firewall: &str) -> PluginRow {
    PluginRow {
        active: entry.kind == Some(PluginKind::Firewall) && entry.name == active_firewall,
        name: entry.name,
        kind: entry.kind.map(|k| k.to_string()),
        version: entry.version,
        sdk_version: entry.sdk_version,
        file: entry.file,
        enabled: entry.enabled,
        status: entry.status.describe(),
    }
}

/// Every plugin ioc knows about; enabled ones are loaded to report themselves.
pub fn list_plugins(store: &Store) -> Result<Vec<PluginRow>> {
    let mut registry = super::registry(store)?;
    let defaults = crate::config::Resolved::defaults(&store.defaults()?);
    let firewall = defaults.get(crate::config::properties::FIREWALL);
    let firewall = firewall.as_str();
    Ok(registry
        .entries()
        .into_iter()
        .map(|e| row(e, firewall))
        .collect())
}

/// Enables or disables a plugin in the host settings. A plugin a running jail uses cannot be
/// disabled: stopping that jail needs it.
pub fn set_plugin_enabled(store: &Store, run: &RunDir, name: &str, enabled: bool) -> Result<()> {
    check_plugin_name(name)
        .map_err(|reason| Error::Usage(format!("invalid plugin name '{name}': {reason}")))?;
    if !enabled {
        for jail in run.active_jails() {
            let Some(snapshot) = running_snapshot(run, &jail) else {
                continue;
            };
            if snapshot.mode == name || snapshot.jail.firewall() == name {
                return Err(Error::PluginInUse {
                    jail,
                    plugin: name.to_string(),
                });
            }
        }
    }
    let locked = store.lock()?;
    let mut settings = locked.host_settings()?;
    if enabled {
        settings.enable(name);
    } else {
        settings.disable(name);
    }
    locked.write_host_settings(&settings)
}

/// Loads one library file the way ioc would and reports what it is.
pub fn check_plugin(path: &Path) -> Result<PluginRow> {
    let plugin = LoadedPlugin::load(path).map_err(|e| Error::Unsupported(e.to_string()))?;
    Ok(PluginRow {
        name: plugin.name.clone(),
        kind: Some(plugin.kind.to_string()),
        version: Some(plugin.version.clone()),
        sdk_version: Some(plugin.sdk_version.clone()),
        file: Some(plugin.path.clone()),
        enabled: true,
        status: format!("ok (ioc uses ioc-sdk {SDK_VERSION})"),
        active: false,
    })
}
