//! What the CNI tests share: test plugins written as shell scripts, network lists in a
//! temporary directory, and attachments.

#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use ioc_sdk::{CniAttachment, EnvVar};

/// A directory with plugins and network lists of a test.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn bin(&self) -> PathBuf {
        let bin = self.path().join("bin");
        fs::create_dir_all(&bin).unwrap();
        bin
    }

    pub fn conf(&self) -> PathBuf {
        let conf = self.path().join("net.d");
        fs::create_dir_all(&conf).unwrap();
        conf
    }

    pub fn log(&self) -> PathBuf {
        self.path().join("calls.log")
    }

    /// The calls the script plugins logged, one `PLUGIN COMMAND` a line.
    pub fn calls(&self) -> Vec<String> {
        fs::read_to_string(self.log())
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    /// A plugin script named `name`: logs `name $CNI_COMMAND`, keeps its stdin and
    /// environment of the last call in `<name>.<command>.{stdin,env}`, answers `VERSION`
    /// with `versions`, and runs `body` for the other commands (its stdin is in `$IN`).
    pub fn plugin(&self, name: &str, versions: &[&str], body: &str) {
        let supported: Vec<String> = versions.iter().map(|v| format!("\"{v}\"")).collect();
        let dir = self.path().display();
        let script = format!(
            r#"#!/bin/sh
IN=$(cat)
echo "{name} $CNI_COMMAND" >> {dir}/calls.log
printf '%s' "$IN" > {dir}/{name}.$CNI_COMMAND.stdin
env > {dir}/{name}.$CNI_COMMAND.env
if [ "$CNI_COMMAND" = VERSION ]; then
  echo '{{"cniVersion":"1.0.0","supportedVersions":[{supported}]}}'
  exit 0
fi
{body}
"#,
            supported = supported.join(",")
        );
        let path = self.bin().join(name);
        fs::write(&path, script).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// A plugin that answers `ADD` with a result naming address `address` (and succeeds
    /// for every other command).
    pub fn passing_plugin(&self, name: &str, versions: &[&str], address: &str) {
        self.plugin(
            name,
            versions,
            &format!(
                r#"if [ "$CNI_COMMAND" = ADD ]; then
  echo '{{"cniVersion":"1.0.0","interfaces":[{{"name":"eth0","sandbox":"x"}}],"ips":[{{"address":"{address}","interface":0}}]}}'
fi
exit 0"#
            ),
        );
    }

    /// Writes a network list `NAME.conflist`.
    pub fn list(&self, name: &str, text: &str) {
        fs::write(self.conf().join(format!("{name}.conflist")), text).unwrap();
    }

    /// What the script plugin `name` read on stdin for `command`.
    pub fn stdin_of(&self, name: &str, command: &str) -> serde_json::Value {
        let text = fs::read_to_string(self.path().join(format!("{name}.{command}.stdin")))
            .unwrap_or_else(|e| panic!("{name} {command} never ran: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    /// The environment the script plugin `name` had for `command`.
    pub fn env_of(&self, name: &str, command: &str) -> Vec<String> {
        let text = fs::read_to_string(self.path().join(format!("{name}.{command}.env"))).unwrap();
        let mut vars: Vec<String> = text
            .lines()
            .map(String::from)
            // What sh itself sets.
            .filter(|l| !l.starts_with("PWD=") && !l.starts_with("SHLVL=") && !l.starts_with("_="))
            .collect();
        vars.sort();
        vars
    }

    /// An attachment of network `network` with this sandbox's plugin dir first in the path.
    pub fn attachment(&self, network: &str, extra_path: &[&str]) -> CniAttachment {
        let mut path = vec![self.bin().display().to_string().into()];
        path.extend(extra_path.iter().map(|p| (*p).into()));
        CniAttachment {
            network: network.into(),
            conf_dir: self.conf().display().to_string().into(),
            path: path.into(),
            container_id: "ioc-test1".into(),
            ifname: "eth0".into(),
            args: vec![EnvVar {
                key: "K8S_POD_NAME".into(),
                value: "x".into(),
            }]
            .into(),
            runtime_config: "".into(),
        }
    }
}
