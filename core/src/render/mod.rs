//! Turning steps into the command lines a platform would run.
//!
//! For FreeBSD these are the commands the host really runs (ifconfig, jail, jexec, route); for
//! Linux, where ioc speaks netlink instead, they are the equivalent iproute2/nsenter commands an
//! admin could paste. A dry run prints them; the FreeBSD host executes them.

pub mod cni;
pub mod freebsd;
pub mod linux;
pub mod nft_text;

use std::collections::HashSet;
use std::path::PathBuf;

use ioc_sdk::Platform;
use serde::Serialize;

use crate::step::{JailParams, Step};

/// One command: its arguments and, if any, what it reads on stdin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Command {
    pub argv: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdin: Option<String>,
}

impl Command {
    pub fn new<I, S>(argv: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Command {
            argv: argv.into_iter().map(Into::into).collect(),
            stdin: None,
        }
    }

    pub fn with_stdin(mut self, stdin: impl Into<String>) -> Command {
        self.stdin = Some(stdin.into());
        self
    }

    /// The command as one shell line, ready to paste. Input becomes `printf '%s\n' ... |`.
    pub fn shell_line(&self) -> String {
        let cmd = self
            .argv
            .iter()
            .map(|a| quote(a))
            .collect::<Vec<_>>()
            .join(" ");
        match &self.stdin {
            None => cmd,
            Some(input) => {
                let lines: Vec<String> = input.lines().map(quote).collect();
                format!("printf '%s\\n' {} | {cmd}", lines.join(" "))
            }
        }
    }
}

/// Shell quoting that leaves plain words alone and prefers double quotes, as the FreeBSD
/// reference writes `description "associated with jail: jail-a"`.
pub fn quote(arg: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !arg.is_empty() && arg.chars().all(plain) {
        return arg.to_string();
    }
    if !arg.chars().any(|c| "\"$`\\!".contains(c)) {
        return format!("\"{arg}\"");
    }
    format!("'{}'", arg.replace('\'', r"'\''"))
}

/// What rendering remembers between steps of one plan.
#[derive(Debug)]
pub struct RenderContext {
    pub platform: Platform,
    /// The runtime dir, where Linux jails' namespaces are pinned.
    pub run_dir: PathBuf,
    /// Next FreeBSD epair unit a plan pretends `ifconfig epair create` returns.
    next_epair: u32,
    /// (jail, link, is_v6) that already have an address: FreeBSD adds further ones as `alias`.
    addressed: HashSet<(String, String, bool)>,
    /// Pair ends created inside their jail (Linux), whose later move renders as nothing.
    pub(crate) born_in_jail: HashSet<String>,
}

impl RenderContext {
    pub fn new(platform: Platform, run_dir: impl Into<PathBuf>) -> RenderContext {
        RenderContext {
            platform,
            run_dir: run_dir.into(),
            next_epair: 0,
            addressed: HashSet::new(),
            born_in_jail: HashSet::new(),
        }
    }

    /// The epair a planned `ifconfig epair create` is assumed to print (`epair0a`, `epair1a`...).
    pub fn next_epair(&mut self) -> String {
        let unit = self.next_epair;
        self.next_epair += 1;
        format!("epair{unit}a")
    }

    /// True for the first address of a family on a jail's link.
    pub fn first_address(&mut self, jail: &str, link: &str, v6: bool) -> bool {
        self.addressed
            .insert((jail.to_string(), link.to_string(), v6))
    }

    /// The commands for one step on this context's platform.
    pub fn render(&mut self, params: &JailParams, step: &Step) -> Vec<Command> {
        match self.platform {
            Platform::FreeBsd => freebsd::render(self, params, step),
            Platform::Linux => linux::render(self, params, step),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_matches_the_reference_style() {
        assert_eq!(quote("vnet0:5"), "vnet0:5");
        assert_eq!(
            quote("associated with jail: jail-a"),
            "\"associated with jail: jail-a\""
        );
        assert_eq!(quote("echo $HOME"), "'echo $HOME'");
        assert_eq!(quote("it's $x"), r"'it'\''s $x'");
        assert_eq!(quote(""), "\"\"");
        let c = Command::new(["nft", "-f", "-"]).with_stdin("add table bridge ioc\nadd chain x");
        assert_eq!(
            c.shell_line(),
            "printf '%s\\n' \"add table bridge ioc\" \"add chain x\" | nft -f -"
        );
    }
}
