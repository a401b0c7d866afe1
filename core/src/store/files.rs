//! The on-disk formats: human-readable RON, validated on every read.
//!
//! A jail's `config.ron` and `defaults.ron` hold only the user-set keys, each as its canonical
//! text (the form `ioc get` prints), and are parsed back through the same checks as `ioc set`.
//! `host.ron` holds host-wide settings that are not properties (enabled plugins).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::names::check_plugin_name;
use crate::config::{Owner, Settings};
use crate::error::{Error, Result};

/// `config.ron` / `defaults.ron`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PropertiesFile {
    #[serde(default)]
    properties: BTreeMap<String, String>,
}

const HEADER: &str = "// Written by ioc. Change it with `ioc set KEY=VALUE TARGET`.\n";

fn pretty() -> ron::ser::PrettyConfig {
    ron::ser::PrettyConfig::new().indentor("    ".to_string())
}

fn corrupt(path: &Path, reason: impl ToString) -> Error {
    Error::CorruptFile {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

/// Serializes settings for `path` (named in the error should serialization fail).
pub fn encode_settings(path: &Path, settings: &Settings) -> Result<String> {
    let file = PropertiesFile {
        properties: settings.to_texts(),
    };
    let body = ron::ser::to_string_pretty(&file, pretty()).map_err(|e| corrupt(path, e))?;
    Ok(format!("{HEADER}{body}\n"))
}

/// Parses the settings file at `path` of `owner`.
pub fn decode_settings(path: &Path, owner: Owner<'_>, text: &str) -> Result<Settings> {
    let file: PropertiesFile = ron::from_str(text).map_err(|e| corrupt(path, e))?;
    Settings::from_texts(owner, &file.properties).map_err(|e| corrupt(path, e))
}

/// Host-wide settings that are not jail properties: which plugins are explicitly enabled or
/// disabled (everything shipped is enabled unless disabled).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSettings {
    #[serde(default)]
    pub enabled: Vec<String>,
    #[serde(default)]
    pub disabled: Vec<String>,
}

impl HostSettings {
    /// Marks a plugin enabled (and no longer disabled).
    pub fn enable(&mut self, plugin: &str) {
        self.disabled.retain(|p| p != plugin);
        if !self.enabled.iter().any(|p| p == plugin) {
            self.enabled.push(plugin.to_string());
        }
    }

    /// Marks a plugin disabled (and no longer enabled).
    pub fn disable(&mut self, plugin: &str) {
        self.enabled.retain(|p| p != plugin);
        if !self.disabled.iter().any(|p| p == plugin) {
            self.disabled.push(plugin.to_string());
        }
    }

    /// Whether a plugin may be loaded; `default` applies when neither list names it.
    pub fn is_enabled(&self, plugin: &str, default: bool) -> bool {
        if self.disabled.iter().any(|p| p == plugin) {
            false
        } else if self.enabled.iter().any(|p| p == plugin) {
            true
        } else {
            default
        }
    }

    /// Every plugin name is one ioc could load; `path` is the file named in the error.
    fn check(&self, path: &Path) -> Result<()> {
        for name in self.enabled.iter().chain(&self.disabled) {
            check_plugin_name(name)
                .map_err(|reason| corrupt(path, format!("plugin {name:?}: {reason}")))?;
        }
        Ok(())
    }
}

pub fn encode_host(path: &Path, host: &HostSettings) -> Result<String> {
    host.check(path)?;
    let body = ron::ser::to_string_pretty(host, pretty()).map_err(|e| corrupt(path, e))?;
    Ok(format!("{HEADER}{body}\n"))
}

pub fn decode_host(path: &Path, text: &str) -> Result<HostSettings> {
    let host: HostSettings = ron::from_str(text).map_err(|e| corrupt(path, e))?;
    host.check(path)?;
    Ok(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::JailName;

    #[test]
    fn settings_files_are_readable_and_round_trip() {
        let name = JailName::new("jail-a").unwrap();
        let owner = Owner::Jail(&name);
        let mut s = Settings::default();
        s.set(owner, "vnet", "on").unwrap();
        s.set(owner, "ip4_addr", "vnet0|10.23.42.2/24").unwrap();
        s.set(owner, "user.quote", "say \"hi\"\n").unwrap();
        let path = Path::new("/x/config.ron");
        let text = encode_settings(path, &s).unwrap();
        assert!(text.contains("\"vnet\": \"on\""), "{text}");
        assert_eq!(decode_settings(path, owner, &text).unwrap(), s);
    }

    #[test]
    fn bad_files_name_the_file() {
        let name = JailName::new("jail-a").unwrap();
        let owner = Owner::Jail(&name);
        let path = Path::new("/x/config.ron");
        for bad in [
            "",
            "(",
            "garbage",
            "(properties: {\"vnet\": 1})",
            "(other: {})",
            "(properties: {\"vnet\": \"maybe\"})",
            "(properties: {\"bogus\": \"1\"})",
            "(properties: {\"firewall\": \"pf\"})",
            &"[".repeat(10_000),
        ] {
            let err = decode_settings(path, owner, bad).unwrap_err().to_string();
            assert!(
                err.starts_with("Cannot use /x/config.ron: "),
                "{bad:?}: {err}"
            );
        }
        assert!(decode_settings(path, owner, "()").unwrap().is_empty());
    }

    #[test]
    fn host_settings() {
        let mut h = HostSettings::default();
        h.disable("vnet");
        h.enable("example");
        h.enable("example");
        assert!(!h.is_enabled("vnet", true));
        assert!(h.is_enabled("example", false));
        assert!(h.is_enabled("shared-ip", true));
        h.enable("vnet");
        assert!(h.is_enabled("vnet", false));
        assert_eq!(h.enabled, ["example", "vnet"]);
        let path = Path::new("/x/host.ron");
        let text = encode_host(path, &h).unwrap();
        assert_eq!(decode_host(path, &text).unwrap(), h);
        assert!(decode_host(path, "(enabled: [\"../evil\"])").is_err());
        assert!(decode_host(path, "(enabled: 3)").is_err());
    }
}
