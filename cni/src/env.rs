//! The environment of one plugin invocation (`CNI_COMMAND`, `CNI_CONTAINERID`, `CNI_NETNS`,
//! `CNI_IFNAME`, `CNI_ARGS`, `CNI_PATH`), for the runtime that sets it and the plugin that
//! reads it, with the specification's rules on container ids and interface names.

use std::fmt;
use std::str::FromStr;

use crate::error::{codes, CniError};

/// A CNI operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// Attach the container to the network.
    Add,
    /// Detach it; must succeed when parts are already gone.
    Del,
    /// Check that the attachment is as `ADD` left it.
    Check,
    /// Remove what belongs to attachments no longer valid (1.1.0).
    Gc,
    /// Is the plugin ready to serve `ADD`? (1.1.0)
    Status,
    /// Which versions does the plugin speak?
    Version,
}

impl Command {
    /// Every command, in the specification's order.
    pub const ALL: [Command; 6] = [
        Command::Add,
        Command::Del,
        Command::Check,
        Command::Gc,
        Command::Status,
        Command::Version,
    ];

    /// The value of `CNI_COMMAND`.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Add => "ADD",
            Command::Del => "DEL",
            Command::Check => "CHECK",
            Command::Gc => "GC",
            Command::Status => "STATUS",
            Command::Version => "VERSION",
        }
    }

    /// Does this command concern one container (and so need its id, netns and ifname)?
    pub fn per_container(self) -> bool {
        matches!(self, Command::Add | Command::Del | Command::Check)
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Command {
    type Err = CniError;
    fn from_str(s: &str) -> Result<Command, CniError> {
        Command::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                invalid(format!(
                    "CNI_COMMAND {s:?}: expected one of ADD, DEL, CHECK, GC, STATUS, VERSION"
                ))
            })
    }
}

/// One invocation's parameters: what a runtime puts in the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// The operation.
    pub command: Command,
    /// The container's id (per-container commands).
    pub container_id: String,
    /// The network namespace's path; on FreeBSD, the jail's name. Empty for a `DEL` whose
    /// namespace is gone, and for `GC`/`STATUS`/`VERSION`.
    pub netns: String,
    /// The interface name inside the container.
    pub ifname: String,
    /// `CNI_ARGS`: `KEY=VALUE` pairs; runtimes add `IgnoreUnknown=1`.
    pub args: Vec<(String, String)>,
    /// Where plugins are searched, in order (`CNI_PATH`).
    pub path: Vec<String>,
}

impl Invocation {
    /// The `CNI_*` variables for this invocation. A plugin gets only these (and no other
    /// environment of the runtime), so nothing of ioc's environment leaks into it.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        let mut vars = vec![
            ("CNI_COMMAND", self.command.as_str().to_string()),
            ("CNI_PATH", self.path.join(":")),
        ];
        if self.command.per_container() {
            vars.push(("CNI_CONTAINERID", self.container_id.clone()));
            vars.push(("CNI_NETNS", self.netns.clone()));
            vars.push(("CNI_IFNAME", self.ifname.clone()));
            let args: Vec<String> = self.args.iter().map(|(k, v)| format!("{k}={v}")).collect();
            vars.push(("CNI_ARGS", args.join(";")));
        }
        vars
    }

    /// Reads an invocation from the environment, as a plugin does; `lookup` is
    /// `std::env::var` in a plugin and a map in tests. The errors are CNI error objects with
    /// code 4 (invalid environment), in the newest version (the config is not read yet).
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Invocation, CniError> {
        let command: Command = lookup("CNI_COMMAND")
            .ok_or_else(|| invalid("CNI_COMMAND is not set".into()))?
            .parse()?;
        let get = |key: &str| lookup(key).unwrap_or_default();
        let invocation = Invocation {
            command,
            container_id: get("CNI_CONTAINERID"),
            netns: get("CNI_NETNS"),
            ifname: get("CNI_IFNAME"),
            args: parse_args(&get("CNI_ARGS"))?,
            path: get("CNI_PATH")
                .split(':')
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect(),
        };
        if command.per_container() {
            check_container_id(&invocation.container_id).map_err(invalid)?;
            check_ifname(&invocation.ifname).map_err(invalid)?;
            if command == Command::Add && invocation.netns.is_empty() {
                return Err(invalid("CNI_NETNS is not set".into()));
            }
        }
        Ok(invocation)
    }
}

fn invalid(message: String) -> CniError {
    CniError::new(crate::version::LATEST, codes::INVALID_ENVIRONMENT, message)
}

/// `CNI_ARGS`: `K=V;K=V`.
pub fn parse_args(text: &str) -> Result<Vec<(String, String)>, CniError> {
    text.split(';')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| invalid(format!("CNI_ARGS: {pair:?} is not KEY=VALUE")))
        })
        .collect()
}

/// The specification's rule for container ids: at least one character, letters, digits,
/// `_`, `.` and `-`, starting with a letter or digit.
pub fn check_container_id(id: &str) -> Result<(), String> {
    if crate::config::valid_network_name(id) {
        Ok(())
    } else {
        Err(format!(
            "CNI_CONTAINERID {id:?}: expected letters, digits, '_', '.' or '-', starting with a letter or digit"
        ))
    }
}

/// The specification's rule for interface names: 1 to 15 bytes, not `.` or `..`, no `/`,
/// `:` or whitespace.
pub fn check_ifname(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 15
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "CNI_IFNAME {name:?}: expected 1 to 15 characters, not '.' or '..', without '/', ':' or spaces"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn an_add_round_trips_through_the_environment() {
        let add = Invocation {
            command: Command::Add,
            container_id: "ioc-web".into(),
            netns: "/run/netns/ioc-web".into(),
            ifname: "eth0".into(),
            args: vec![
                ("IgnoreUnknown".into(), "1".into()),
                ("K8S_POD_NAME".into(), "web".into()),
            ],
            path: vec!["/opt/cni/bin".into(), "/usr/lib/cni".into()],
        };
        let vars = add.vars();
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert!(pairs.contains(&("CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAME=web")));
        assert_eq!(Invocation::from_env(env(&pairs)).unwrap(), add);
    }

    #[test]
    fn gc_needs_no_container() {
        let vars = Invocation::from_env(env(&[("CNI_COMMAND", "GC"), ("CNI_PATH", "/x")])).unwrap();
        assert_eq!(vars.command, Command::Gc);
        assert_eq!(vars.path, vec!["/x".to_string()]);
    }

    #[test]
    fn bad_environments_are_code_4_naming_the_variable() {
        let cases: [&[(&str, &str)]; 5] = [
            &[],
            &[("CNI_COMMAND", "ATTACH")],
            &[
                ("CNI_COMMAND", "ADD"),
                ("CNI_CONTAINERID", "-x"),
                ("CNI_IFNAME", "eth0"),
                ("CNI_NETNS", "/n"),
            ],
            &[
                ("CNI_COMMAND", "DEL"),
                ("CNI_CONTAINERID", "c"),
                ("CNI_IFNAME", "a/b"),
            ],
            &[
                ("CNI_COMMAND", "ADD"),
                ("CNI_CONTAINERID", "c"),
                ("CNI_IFNAME", "eth0"),
            ],
        ];
        let names = [
            "CNI_COMMAND",
            "CNI_COMMAND",
            "CNI_CONTAINERID",
            "CNI_IFNAME",
            "CNI_NETNS",
        ];
        for (pairs, name) in cases.iter().zip(names) {
            let e = Invocation::from_env(env(pairs)).unwrap_err();
            assert_eq!(e.code, codes::INVALID_ENVIRONMENT);
            assert!(e.msg.contains(name), "{pairs:?}: {e}");
        }
        assert!(check_ifname("sixteen-chars-xx").is_err());
        assert!(check_ifname("eth0.100").is_ok());
    }
}
