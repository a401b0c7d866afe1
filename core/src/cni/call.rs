//! One plugin invocation as data: the program, its whole environment and its stdin. The
//! runner executes it, the dry run prints it, so what a plan shows is what a start runs.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use ioc_cni::config::Attachment;
use ioc_cni::{Command, Invocation, NetworkList};
use ioc_sdk::CniAttachment;
use serde_json::{Map, Value};

use super::CniFailure;

/// The `PATH` a plugin gets (it may run `iptables`, `ip`, `ethtool`...); nothing else of
/// ioc's environment reaches it.
pub const PLUGIN_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// One run of one plugin.
#[derive(Clone, Debug, PartialEq)]
pub struct PluginCall {
    /// The plugin's `type`, for messages.
    pub plugin: String,
    /// The network list's name, for messages.
    pub network: String,
    /// The operation.
    pub command: Command,
    /// The executable.
    pub program: PathBuf,
    /// The complete environment: the `CNI_*` variables and `PATH`.
    pub env: Vec<(String, String)>,
    /// The configuration on stdin (JSON).
    pub stdin: String,
}

/// The first executable file named `kind` in the directories of `path`.
pub fn find_plugin(kind: &str, path: &[String]) -> Option<PathBuf> {
    path.iter().map(|dir| Path::new(dir).join(kind)).find(|p| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// Where the plugin is, or an error naming the directories searched.
pub fn locate(list: &NetworkList, index: usize, path: &[String]) -> Result<PathBuf, CniFailure> {
    let kind = &list.plugins[index].kind;
    find_plugin(kind, path).ok_or_else(|| CniFailure::NotFound {
        plugin: kind.clone(),
        network: list.name.clone(),
        path: path.join(":"),
    })
}

/// Where a plan says the plugin is: the real one when this machine has it, else the first
/// directory of the path (the plan of another machine).
pub fn planned_location(kind: &str, path: &[String]) -> PathBuf {
    find_plugin(kind, path).unwrap_or_else(|| {
        Path::new(path.first().map(String::as_str).unwrap_or("/opt/cni/bin")).join(kind)
    })
}

/// The directories of the attachment's `CNI_PATH`.
pub fn search_path(attachment: &CniAttachment) -> Vec<String> {
    attachment.path.iter().map(|p| p.to_string()).collect()
}

/// The invocation's `CNI_*` parameters: `CNI_ARGS` starts with `IgnoreUnknown=1`.
pub fn invocation(command: Command, attachment: &CniAttachment, netns: &str) -> Invocation {
    let mut args = vec![("IgnoreUnknown".to_string(), "1".to_string())];
    args.extend(
        attachment
            .args
            .iter()
            .filter(|v| v.key.as_str() != "IgnoreUnknown")
            .map(|v| (v.key.to_string(), v.value.to_string())),
    );
    Invocation {
        command,
        container_id: attachment.container_id.to_string(),
        netns: netns.to_string(),
        ifname: attachment.ifname.to_string(),
        args,
        path: search_path(attachment),
    }
}

/// The attachment's `runtime_config`, as an object (empty text is `{}`).
pub fn runtime_config(attachment: &CniAttachment) -> Result<Map<String, Value>, CniFailure> {
    let text = attachment.runtime_config.trim();
    if text.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(bad_runtime(attachment, "expected a JSON object".into())),
        Err(e) => Err(bad_runtime(attachment, format!("not JSON: {e}"))),
    }
}

fn bad_runtime(attachment: &CniAttachment, message: String) -> CniFailure {
    CniFailure::Attachment {
        what: attachment.describe(),
        message: format!("runtime_config: {message}"),
    }
}

fn environment(invocation: &Invocation) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = invocation
        .vars()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    env.push(("PATH".into(), PLUGIN_PATH.into()));
    env
}

impl PluginCall {
    /// `ADD`, `DEL` or `CHECK` of plugin `index` of `list`, at `program`.
    pub fn chain_step(
        list: &NetworkList,
        index: usize,
        program: PathBuf,
        invocation: &Invocation,
        prev_result: Option<&Value>,
        runtime: &Map<String, Value>,
    ) -> PluginCall {
        let stdin = list.plugin_stdin(index, prev_result, runtime);
        PluginCall {
            plugin: list.plugins[index].kind.clone(),
            network: list.name.clone(),
            command: invocation.command,
            program,
            env: environment(invocation),
            stdin: stdin.to_string(),
        }
    }

    /// `GC` of plugin `index` of `list`, keeping `valid`.
    pub fn gc(
        list: &NetworkList,
        index: usize,
        program: PathBuf,
        path: &[String],
        valid: &[Attachment],
    ) -> PluginCall {
        let invocation = Invocation {
            command: Command::Gc,
            container_id: String::new(),
            netns: String::new(),
            ifname: String::new(),
            args: Vec::new(),
            path: path.to_vec(),
        };
        PluginCall {
            plugin: list.plugins[index].kind.clone(),
            network: list.name.clone(),
            command: Command::Gc,
            program,
            env: environment(&invocation),
            stdin: list.gc_stdin(index, valid).to_string(),
        }
    }

    /// `VERSION` of the plugin `kind` at `program`, asked in the list's version.
    pub fn version(
        list: &NetworkList,
        kind: &str,
        program: PathBuf,
        path: &[String],
    ) -> PluginCall {
        let invocation = Invocation {
            command: Command::Version,
            container_id: String::new(),
            netns: String::new(),
            ifname: String::new(),
            args: Vec::new(),
            path: path.to_vec(),
        };
        PluginCall {
            plugin: kind.to_string(),
            network: list.name.clone(),
            command: Command::Version,
            program,
            env: environment(&invocation),
            stdin: serde_json::json!({ "cniVersion": list.version.to_string() }).to_string(),
        }
    }
}
