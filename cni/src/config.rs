//! Network configuration lists (`*.conflist`, or a single plugin's `*.conf`), and the
//! configuration each plugin of a list reads on stdin.
//!
//! The files come from the administrator's `cni_conf_dir`; they are still parsed defensively
//! (size-limited, every required field checked) because a plugin gets exactly what ioc derives
//! from them.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::version::{self, Version};

/// Larger configuration files are refused rather than read into memory.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The file name endings [`NetworkList::find`] reads, as libcni does.
pub const EXTENSIONS: &[&str] = &["conflist", "conf", "json"];

/// Why a network configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_CONFIG_BYTES`].
    #[error("{0}: larger than {MAX_CONFIG_BYTES} bytes, not a CNI configuration")]
    TooLarge(PathBuf),
    /// The JSON is not a network configuration; the text names the field.
    #[error("{origin}: {message}")]
    Invalid {
        /// Where the configuration came from (a file, or `stdin`).
        origin: String,
        /// What is wrong, naming the field.
        message: String,
    },
    /// No file in the directory defines the network.
    #[error(
        "no CNI network named {name:?} in {dir} (looked at {looked} .conflist/.conf/.json files{skipped})"
    )]
    NotFound {
        /// The network's name.
        name: String,
        /// The directory searched.
        dir: PathBuf,
        /// How many files were read.
        looked: usize,
        /// `; skipped ...` naming files that did not parse, or empty.
        skipped: String,
    },
}

/// One plugin of a network list: its `type` and its whole configuration object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginConfig {
    /// The plugin's `type`: the executable's name in `CNI_PATH`.
    pub kind: String,
    /// The capabilities the plugin declares (`"capabilities": {"portMappings": true}`), those
    /// set to true.
    pub capabilities: Vec<String>,
    /// The plugin's configuration object as written.
    pub raw: Map<String, Value>,
}

/// A container attachment (`cni.dev/valid-attachments` of `GC`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The container's id (`CNI_CONTAINERID` of its `ADD`).
    #[serde(rename = "containerID")]
    pub container_id: String,
    /// The interface name (`CNI_IFNAME` of its `ADD`).
    pub ifname: String,
}

/// The key under which `GC` receives the attachments still valid.
pub const VALID_ATTACHMENTS: &str = "cni.dev/valid-attachments";

/// A network configuration list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkList {
    /// The network's name.
    pub name: String,
    /// The version the list is run with: the newest of `cniVersion` and `cniVersions` that
    /// ioc speaks.
    pub version: Version,
    /// `disableCheck`: `CHECK` is skipped.
    pub disable_check: bool,
    /// `disableGC`: `GC` is skipped.
    pub disable_gc: bool,
    /// The plugins, in `ADD` order.
    pub plugins: Vec<PluginConfig>,
}

impl NetworkList {
    /// Parses a network list, or a single plugin's configuration (a `.conf` file: an object
    /// with `type`), which becomes a list of one. `source` names where it came from in errors.
    pub fn parse(text: &str, source: &str) -> Result<NetworkList, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            origin: source.to_string(),
            message,
        };
        let value: Value =
            serde_json::from_str(text).map_err(|e| invalid(format!("not JSON: {e}")))?;
        let Value::Object(top) = value else {
            return Err(invalid("expected a JSON object".into()));
        };
        let single = top.contains_key("type") && !top.contains_key("plugins");
        let name = string_field(&top, "name").map_err(invalid)?;
        if !valid_network_name(&name) {
            return Err(invalid(format!(
                "name {name:?}: expected letters, digits, '_', '.' or '-', starting with a letter or digit"
            )));
        }
        let version = list_version(&top).map_err(invalid)?;
        let plugins = if single {
            vec![plugin(top.clone(), 0).map_err(invalid)?]
        } else {
            let Some(Value::Array(list)) = top.get("plugins") else {
                return Err(invalid("plugins: expected a list of plugin objects".into()));
            };
            if list.is_empty() {
                return Err(invalid("plugins: the list is empty".into()));
            }
            list.iter()
                .enumerate()
                .map(|(n, p)| match p {
                    Value::Object(object) => plugin(object.clone(), n),
                    _ => Err(format!("plugins[{n}]: expected an object")),
                })
                .collect::<Result<_, _>>()
                .map_err(invalid)?
        };
        Ok(NetworkList {
            name,
            version,
            disable_check: bool_field(&top, "disableCheck").map_err(invalid)?,
            disable_gc: bool_field(&top, "disableGC").map_err(invalid)?,
            plugins,
        })
    }

    /// Reads the network list called `name` from `dir`: the first file, by file name, among
    /// `*.conflist`, `*.conf` and `*.json` that defines it (libcni's order). Files that do not
    /// parse are skipped and named in the error when no file defines the network.
    pub fn find(dir: &Path, name: &str) -> Result<NetworkList, ConfigError> {
        let read_dir = |e| ConfigError::Read {
            path: dir.to_path_buf(),
            source: e,
        };
        let mut files: Vec<PathBuf> = fs::read_dir(dir)
            .map_err(read_dir)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| {
                path.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| EXTENSIONS.contains(&e))
            })
            .collect();
        files.sort();
        let mut skipped = Vec::new();
        for path in &files {
            match read_limited(path)
                .and_then(|t| NetworkList::parse(&t, &path.display().to_string()))
            {
                Ok(list) if list.name == name => return Ok(list),
                Ok(_) => {}
                Err(e) => skipped.push(e.to_string()),
            }
        }
        Err(ConfigError::NotFound {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            looked: files.len(),
            skipped: if skipped.is_empty() {
                String::new()
            } else {
                format!("; skipped: {}", skipped.join("; "))
            },
        })
    }

    /// The configuration plugin `index` reads on stdin for `ADD`, `DEL` or `CHECK`: its own
    /// object with the list's `name` and `cniVersion`, `prevResult` when given, and
    /// `runtimeConfig` holding those entries of `runtime` the plugin declares a capability for.
    pub fn plugin_stdin(
        &self,
        index: usize,
        prev_result: Option<&Value>,
        runtime: &Map<String, Value>,
    ) -> Value {
        let mut object = self.base(index);
        if let Some(prev) = prev_result {
            object.insert("prevResult".into(), prev.clone());
        }
        let granted: Map<String, Value> = runtime
            .iter()
            .filter(|(key, _)| self.plugins[index].capabilities.iter().any(|c| c == *key))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !granted.is_empty() {
            object.insert("runtimeConfig".into(), Value::Object(granted));
        }
        Value::Object(object)
    }

    /// The configuration plugin `index` reads on stdin for `GC`: its object with the list's
    /// name and version and `cni.dev/valid-attachments`.
    pub fn gc_stdin(&self, index: usize, valid: &[Attachment]) -> Value {
        let mut object = self.base(index);
        let valid = serde_json::to_value(valid).unwrap_or(Value::Array(Vec::new()));
        object.insert(VALID_ATTACHMENTS.into(), valid);
        Value::Object(object)
    }

    /// The configuration plugin `index` reads on stdin for `STATUS`: its object with the
    /// list's name and version.
    pub fn status_stdin(&self, index: usize) -> Value {
        Value::Object(self.base(index))
    }

    /// The list as a network list object that [`NetworkList::parse`] reads back to an equal
    /// list: the version it runs with, its flags and each plugin's object as written. A
    /// runtime records this with an attachment, so `DEL` runs the configuration `ADD` ran even
    /// after the file changed or went.
    pub fn to_value(&self) -> Value {
        let mut object = Map::new();
        object.insert("cniVersion".into(), Value::from(self.version.to_string()));
        object.insert("name".into(), Value::from(self.name.clone()));
        if self.disable_check {
            object.insert("disableCheck".into(), Value::Bool(true));
        }
        if self.disable_gc {
            object.insert("disableGC".into(), Value::Bool(true));
        }
        let plugins = self.plugins.iter().map(|p| Value::Object(p.raw.clone()));
        object.insert("plugins".into(), Value::Array(plugins.collect()));
        Value::Object(object)
    }

    fn base(&self, index: usize) -> Map<String, Value> {
        let mut object = self.plugins[index].raw.clone();
        object.insert("name".into(), Value::from(self.name.clone()));
        object.insert("cniVersion".into(), Value::from(self.version.to_string()));
        object.remove("prevResult");
        object.remove("runtimeConfig");
        object
    }
}

/// A network name as libcni accepts it.
pub fn valid_network_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn read_limited(path: &Path) -> Result<String, ConfigError> {
    let read = |e| ConfigError::Read {
        path: path.to_path_buf(),
        source: e,
    };
    let file = fs::File::open(path).map_err(read)?;
    let mut text = String::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(read)?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(ConfigError::TooLarge(path.to_path_buf()));
    }
    Ok(text)
}

fn string_field(object: &Map<String, Value>, key: &str) -> Result<String, String> {
    match object.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(_) => Err(format!("{key}: expected a non-empty string")),
        None => Err(format!("{key}: missing")),
    }
}

fn bool_field(object: &Map<String, Value>, key: &str) -> Result<bool, String> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        // libcni also accepts the strings "true" and "false" here.
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
        Some(_) => Err(format!("{key}: expected true or false")),
    }
}

fn list_version(object: &Map<String, Value>) -> Result<Version, String> {
    let main = string_field(object, "cniVersion")?;
    let mut candidates = vec![main
        .parse::<Version>()
        .map_err(|e| format!("cniVersion: {e}"))?];
    match object.get("cniVersions") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for (n, v) in list.iter().enumerate() {
                let text = v
                    .as_str()
                    .ok_or(format!("cniVersions[{n}]: expected a string"))?;
                candidates.push(text.parse().map_err(|e| format!("cniVersions[{n}]: {e}"))?);
            }
        }
        Some(_) => return Err("cniVersions: expected a list of versions".into()),
    }
    version::pick(&candidates).ok_or_else(|| {
        format!(
            "cniVersion {main}: ioc speaks CNI {}",
            version::SUPPORTED_VERSIONS.join(", ")
        )
    })
}

fn plugin(raw: Map<String, Value>, n: usize) -> Result<PluginConfig, String> {
    let kind = string_field(&raw, "type").map_err(|e| format!("plugins[{n}].{e}"))?;
    // The type names an executable in CNI_PATH: a path would escape it.
    if kind.contains('/') || kind == "." || kind == ".." || kind.starts_with('.') {
        return Err(format!(
            "plugins[{n}].type {kind:?}: expected a plugin name, not a path"
        ));
    }
    let capabilities = match raw.get("capabilities") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(caps)) => caps
            .iter()
            .filter(|(_, on)| on.as_bool() == Some(true))
            .map(|(k, _)| k.clone())
            .collect(),
        Some(_) => {
            return Err(format!(
                "plugins[{n}].capabilities: expected an object of booleans"
            ))
        }
    };
    Ok(PluginConfig {
        kind,
        capabilities,
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LIST: &str = r#"{
        "cniVersion": "1.0.0",
        "cniVersions": ["0.4.0", "1.1.0", "9.0.0"],
        "name": "jails",
        "plugins": [
            {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local", "subnet": "10.22.0.0/16"}},
            {"type": "portmap", "capabilities": {"portMappings": true, "bandwidth": false}},
            {"type": "ioc-secure"}
        ]
    }"#;

    #[test]
    fn a_recorded_list_reads_back_equal() {
        let text = r#"{"cniVersions": ["0.4.0", "1.0.0"], "cniVersion": "0.4.0", "name": "jails",
            "disableGC": true, "plugins": [{"type": "bridge", "bridge": "cni0"},
            {"type": "portmap", "capabilities": {"portMappings": true}}]}"#;
        let list = NetworkList::parse(text, "test").unwrap();
        let again = NetworkList::parse(&list.to_value().to_string(), "recorded").unwrap();
        assert_eq!(again, list);
    }

    #[test]
    fn lists_take_the_newest_version_ioc_speaks() {
        let list = NetworkList::parse(LIST, "jails.conflist").unwrap();
        assert_eq!(list.version, Version::V1_1_0);
        assert_eq!(list.plugins.len(), 3);
        assert_eq!(
            list.plugins[1].capabilities,
            vec!["portMappings".to_string()]
        );
    }

    #[test]
    fn plugin_stdin_carries_name_version_prev_result_and_granted_capabilities() {
        let list = NetworkList::parse(LIST, "jails.conflist").unwrap();
        let runtime =
            json!({"portMappings": [{"hostPort": 8080}], "bandwidth": {"ingressRate": 1}});
        let runtime = runtime.as_object().unwrap();
        let prev = json!({"cniVersion": "1.1.0"});
        let first = list.plugin_stdin(0, None, runtime);
        assert_eq!(first["name"], "jails");
        assert_eq!(first["cniVersion"], "1.1.0");
        assert!(first.get("runtimeConfig").is_none() && first.get("prevResult").is_none());
        let second = list.plugin_stdin(1, Some(&prev), runtime);
        assert_eq!(
            second["runtimeConfig"],
            json!({"portMappings": [{"hostPort": 8080}]})
        );
        assert_eq!(second["prevResult"], prev);
        let gc = list.gc_stdin(
            2,
            &[Attachment {
                container_id: "ioc-web".into(),
                ifname: "eth0".into(),
            }],
        );
        assert_eq!(gc[VALID_ATTACHMENTS][0]["containerID"], "ioc-web");
    }

    #[test]
    fn a_single_plugin_conf_becomes_a_list_of_one() {
        let list = NetworkList::parse(
            r#"{"cniVersion":"0.4.0","name":"old","type":"ptp","ipam":{"type":"host-local"}}"#,
            "old.conf",
        )
        .unwrap();
        assert_eq!(list.plugins.len(), 1);
        assert_eq!(list.plugins[0].kind, "ptp");
        assert_eq!(list.version, Version::V0_4_0);
    }

    #[test]
    fn bad_lists_name_the_source_and_field() {
        let cases = [
            ("[]", "expected a JSON object"),
            (
                r#"{"cniVersion":"1.0.0","plugins":[{"type":"x"}]}"#,
                "name: missing",
            ),
            (
                r#"{"cniVersion":"1.0.0","name":"-x","plugins":[{"type":"x"}]}"#,
                "name \"-x\"",
            ),
            (
                r#"{"cniVersion":"0.2.0","name":"n","plugins":[{"type":"x"}]}"#,
                "ioc speaks CNI",
            ),
            (
                r#"{"cniVersion":"1.0.0","name":"n","plugins":[]}"#,
                "the list is empty",
            ),
            (
                r#"{"cniVersion":"1.0.0","name":"n","plugins":[{}]}"#,
                "plugins[0].type: missing",
            ),
            (
                r#"{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"../sbin/x"}]}"#,
                "not a path",
            ),
            (
                r#"{"cniVersion":"1.0.0","name":"n","disableCheck":3,"plugins":[{"type":"x"}]}"#,
                "disableCheck",
            ),
        ];
        for (text, expected) in cases {
            let e = NetworkList::parse(text, "f.conflist")
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("f.conflist: ") && e.contains(expected),
                "{text}: {e}"
            );
        }
    }

    #[test]
    fn find_reads_the_first_file_defining_the_network_and_names_broken_ones() {
        let dir = std::env::temp_dir().join(format!("ioc-cni-find-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("10-broken.conflist"), "{").unwrap();
        fs::write(dir.join("20-jails.conflist"), LIST).unwrap();
        fs::write(dir.join("30-jails.conf"), LIST.replace("bridge", "macvlan")).unwrap();
        fs::write(dir.join("notes.txt"), "not read").unwrap();
        let list = NetworkList::find(&dir, "jails").unwrap();
        assert_eq!(list.plugins[0].kind, "bridge");
        let e = NetworkList::find(&dir, "other").unwrap_err().to_string();
        assert!(e.contains("no CNI network named \"other\""), "{e}");
        assert!(
            e.contains("looked at 3") && e.contains("10-broken.conflist"),
            "{e}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
