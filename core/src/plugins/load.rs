//! Loading one plugin library and calling its hooks.

use std::fmt;
use std::path::{Path, PathBuf};

use abi_stable::library::{lib_header_from_path, LibraryError};
use abi_stable::std_types::RResult;
use ioc_sdk::{
    Hook, HostError, HostHandle, HostOp, HostReply, Jail, NetworkShape, Platform, PluginKind,
    PluginModRef, SDK_VERSION,
};

use super::checked::{CheckedLayouts, FileId};
use super::logsink;
use super::search::plugin_name_from_file;
use super::trust::{check_trusted, TrustError};

/// Why a library was not loaded. Each renders as one line naming the file.
#[derive(Debug)]
pub enum LoadError {
    Untrusted(TrustError),
    Open {
        path: PathBuf,
        reason: String,
    },
    NotAPlugin {
        path: PathBuf,
    },
    IncompatibleSdk {
        path: PathBuf,
        plugin_sdk: String,
    },
    Abi {
        path: PathBuf,
        reason: String,
    },
    NameMismatch {
        path: PathBuf,
        expected: String,
        found: String,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Untrusted(e) => e.fmt(f),
            LoadError::Open { path, reason } => {
                write!(f, "cannot load plugin {}: {reason}", path.display())
            }
            LoadError::NotAPlugin { path } => write!(
                f,
                "{} is not an ioc plugin (it exports no ioc_sdk root module)",
                path.display()
            ),
            LoadError::IncompatibleSdk { path, plugin_sdk } => write!(
                f,
                "refusing plugin {}: built against ioc-sdk {plugin_sdk}, but this ioc uses ioc-sdk {SDK_VERSION}; rebuild it against ioc-sdk {}",
                path.display(),
                compatible_series(SDK_VERSION)
            ),
            LoadError::Abi { path, reason } => write!(
                f,
                "refusing plugin {}: its ABI does not match this ioc ({reason}); rebuild it against ioc-sdk {SDK_VERSION}",
                path.display()
            ),
            LoadError::NameMismatch { path, expected, found } => write!(
                f,
                "refusing plugin {}: the file promises plugin '{expected}' but the library calls itself '{found}'",
                path.display()
            ),
        }
    }
}

impl std::error::Error for LoadError {}

/// `0.1.3` -> `0.1`, `1.4.0` -> `1`: the versions a plugin must share with ioc.
fn compatible_series(version: &str) -> String {
    let mut parts = version.split('.');
    match (parts.next(), parts.next()) {
        (Some("0"), Some(minor)) => format!("0.{minor}"),
        (Some(major), _) => major.to_string(),
        _ => version.to_string(),
    }
}

/// Same major version, and for 0.x the same minor (semver's rule for 0.x breaking changes).
fn sdk_compatible(plugin: &str, ours: &str) -> bool {
    compatible_series(plugin) == compatible_series(ours)
        && plugin.split('.').count() == 3
        && plugin.split('.').all(|p| p.parse::<u64>().is_ok())
}

/// A hook that failed inside a plugin: `message` is the plugin's own (a panic arrives as one
/// too). Callers add what the plugin was doing for the jail.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HookError {
    pub plugin: String,
    pub hook: &'static str,
    pub message: String,
}

/// A loaded plugin library.
pub struct LoadedPlugin {
    pub name: String,
    pub kind: PluginKind,
    pub version: String,
    pub description: String,
    pub platforms: Vec<Platform>,
    /// The network shapes a mode offers to `network_plugin=auto`.
    pub serves: Vec<NetworkShape>,
    pub sdk_version: String,
    pub path: PathBuf,
    module: PluginModRef,
}

impl fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("version", &self.version)
            .field("path", &self.path)
            .finish()
    }
}

impl LoadedPlugin {
    /// Vets and loads one library on its own. `lib_header_from_path(..).init_root_module()` is
    /// used rather than `RootModule::load_from_file`, which caches one library per root-module
    /// type and would return the first plugin for every file.
    pub fn load(path: &Path) -> Result<LoadedPlugin, LoadError> {
        LoadedPlugin::load_checked(path, None)
    }

    /// [`LoadedPlugin::load`], skipping abi_stable's layout check when `layouts` remembers
    /// that this very file passed it for this very executable (see [`super::checked`]), and
    /// remembering a check it passes.
    pub fn load_checked(
        path: &Path,
        mut layouts: Option<&mut CheckedLayouts>,
    ) -> Result<LoadedPlugin, LoadError> {
        check_trusted(path).map_err(LoadError::Untrusted)?;
        // Taken before the library is opened and compared after: the file opened is the one
        // this identity names (a file swapped in between has another inode or change time).
        let id = layouts.as_ref().and_then(|_| FileId::of(path));
        let header = lib_header_from_path(path).map_err(|e| match e {
            LibraryError::OpenError { err, .. } => LoadError::Open {
                path: path.into(),
                reason: first_line(&err.to_string()),
            },
            LibraryError::GetSymbolError { .. } => LoadError::NotAPlugin { path: path.into() },
            other => LoadError::Abi {
                path: path.into(),
                reason: first_line(&other.to_string()),
            },
        })?;
        let plugin_sdk = header.version_strings().version.as_str().to_string();
        if !sdk_compatible(&plugin_sdk, SDK_VERSION) {
            return Err(LoadError::IncompatibleSdk {
                path: path.into(),
                plugin_sdk,
            });
        }
        let unchanged = id.is_some() && FileId::of(path) == id;
        let known =
            unchanged && matches!((&layouts, &id), (Some(l), Some(id)) if l.passed(path, id));
        let module = if known {
            // SAFETY: this file (same device, inode, size, modification and change time)
            // passed the layout check against this executable before; the version check
            // still runs.
            unsafe { header.init_root_module_with_unchecked_layout::<PluginModRef>() }
        } else {
            header.init_root_module::<PluginModRef>()
        }
        .map_err(|e| LoadError::Abi {
            path: path.into(),
            reason: summarize_library_error(&e),
        })?;
        if let (false, true, Some(layouts), Some(id)) = (known, unchanged, layouts.as_mut(), id) {
            layouts.remember(path, id);
        }
        (module.init())(logsink::sink());
        let info = (module.info())();
        let plugin = LoadedPlugin {
            name: info.name.to_string(),
            kind: info.kind,
            version: info.version.to_string(),
            description: info.description.to_string(),
            platforms: info.platforms.to_vec(),
            serves: info.serves.to_vec(),
            sdk_version: plugin_sdk,
            path: path.into(),
            module,
        };
        if let Some(expected) = plugin_name_from_file(path) {
            if expected != plugin.name {
                return Err(LoadError::NameMismatch {
                    path: path.into(),
                    expected,
                    found: plugin.name,
                });
            }
        }
        Ok(plugin)
    }

    /// True when the plugin declares it can run on `platform`.
    pub fn supports(&self, platform: Platform) -> bool {
        self.platforms.contains(&platform)
    }

    /// Runs one hook. `perform` carries out the plugin's host requests.
    pub fn call<F>(&self, hook: Hook, jail: &Jail, perform: &mut F) -> Result<(), HookError>
    where
        F: FnMut(&HostOp) -> Result<HostReply, HostError>,
    {
        let hook_name = hook.name();
        let handle = HostHandle::new(perform);
        match (self.module.call())(hook, jail, handle) {
            RResult::ROk(()) => Ok(()),
            RResult::RErr(e) => Err(HookError {
                plugin: self.name.clone(),
                hook: hook_name,
                message: e.into_string(),
            }),
        }
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("unknown error")
        .to_string()
}

/// abi_stable's layout errors are multi-page dumps; users need one line.
fn summarize_library_error(e: &LibraryError) -> String {
    match e {
        LibraryError::AbiInstability(_) => {
            "the types it was compiled with differ from this ioc's".to_string()
        }
        LibraryError::IncompatibleVersionNumber {
            expected_version,
            actual_version,
            ..
        } => format!(
            "abi_stable module version {actual_version} where {expected_version} was expected"
        ),
        other => first_line(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_versions_must_share_their_series() {
        assert!(sdk_compatible("0.1.0", "0.1.7"));
        assert!(!sdk_compatible("0.0.1", "0.1.0"));
        assert!(!sdk_compatible("0.2.0", "0.1.0"));
        assert!(sdk_compatible("1.0.0", "1.3.0"));
        assert!(!sdk_compatible("2.0.0", "1.3.0"));
        assert!(!sdk_compatible("garbage", "0.1.0"));
    }
}
