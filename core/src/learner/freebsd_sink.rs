//! Where a FreeBSD learner puts what it learns: ipfw or pf tables, changed with the commands
//! of [`table_update`] (`ipfw -q table NAME add|delete ADDR`, `pfctl -a ANCHOR -t NAME -T
//! add|delete ADDR`), the very lines the dry run documents.
//!
//! Running a command is behind [`Runner`], so the tests check the exact command lines with a
//! fake, and the learner's logic runs on Linux too.

use std::net::IpAddr;
use std::process::{Command as Process, Stdio};

use ioc_sdk::LearnSink;

use super::expiry::Change;
use crate::render::freebsd::learn::{table_update, SinkError, TableChange};
use crate::render::Command;

/// Why a table change failed.
#[derive(Debug, thiserror::Error)]
pub enum SinkFailure {
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error("`{command}` could not run: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("`{command}` failed: {stderr}")]
    Failed { command: String, stderr: String },
}

/// Runs one table command to completion.
pub trait Runner {
    fn run(&mut self, command: &Command) -> Result<(), SinkFailure>;
}

/// Runs the command as a process; a non-zero exit is a failure with its stderr.
pub struct ProcessRunner;

impl Runner for ProcessRunner {
    fn run(&mut self, command: &Command) -> Result<(), SinkFailure> {
        let line = command.shell_line();
        let (program, args) = command
            .argv
            .split_first()
            .ok_or_else(|| SinkFailure::Failed {
                command: line.clone(),
                stderr: "empty command".into(),
            })?;
        let out = Process::new(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|source| SinkFailure::Spawn {
                command: line.clone(),
                source,
            })?;
        if out.status.success() {
            Ok(())
        } else {
            Err(SinkFailure::Failed {
                command: line,
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            })
        }
    }
}

/// A port's two tables and the way to change them.
pub struct Tables<R> {
    sink: LearnSink,
    runner: R,
}

impl<R: Runner> Tables<R> {
    /// Tables of `sink`; an nftables sink is refused (it has no commands on FreeBSD).
    pub fn new(sink: LearnSink, runner: R) -> Result<Tables<R>, SinkError> {
        // Checks the sink once, so a refusal comes before the learner is ready.
        table_update(&sink, TableChange::Add, IpAddr::from([0, 0, 0, 0]))?;
        Ok(Tables { sink, runner })
    }

    /// Makes one change.
    pub fn apply(&mut self, (change, address): Change) -> Result<(), SinkFailure> {
        let command = table_update(&self.sink, change, address)?;
        self.runner.run(&command)
    }

    /// The runner, for the tests to inspect.
    pub fn runner(&self) -> &R {
        &self.runner
    }

    /// The runner, for the tests to set up.
    pub fn runner_mut(&mut self) -> &mut R {
        &mut self.runner
    }
}

#[cfg(test)]
pub(crate) mod fake {
    //! A runner that records command lines and fails the ones it is told to.

    use super::*;

    #[derive(Default)]
    pub struct Recorder {
        pub lines: Vec<String>,
        /// Lines that fail, as a refused ipfw command would.
        pub failing: Vec<String>,
    }

    impl Runner for Recorder {
        fn run(&mut self, command: &Command) -> Result<(), SinkFailure> {
            let line = command.shell_line();
            self.lines.push(line.clone());
            if self.failing.contains(&line) {
                return Err(SinkFailure::Failed {
                    command: line,
                    stderr: "refused".into(),
                });
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::Recorder;
    use super::*;

    #[test]
    fn changes_become_the_backends_table_commands() {
        let ipfw = LearnSink::IpfwTables {
            table4: "ioc-5-vnet0-lease4".into(),
            table6: "ioc-5-vnet0-slaac6".into(),
        };
        let mut tables = Tables::new(ipfw, Recorder::default()).unwrap();
        tables
            .apply((TableChange::Add, "192.0.2.5".parse().unwrap()))
            .unwrap();
        tables
            .apply((TableChange::Delete, "2001:db8::1".parse().unwrap()))
            .unwrap();
        assert_eq!(
            tables.runner().lines,
            [
                "/sbin/ipfw -q table ioc-5-vnet0-lease4 add 192.0.2.5",
                "/sbin/ipfw -q table ioc-5-vnet0-slaac6 delete 2001:db8::1",
            ]
        );
        let nft = LearnSink::NftSets {
            family: ioc_sdk::NftFamily::Netdev,
            table: "t".into(),
            set4: "a".into(),
            set6: "b".into(),
        };
        assert!(Tables::new(nft, Recorder::default()).is_err());
    }

    #[test]
    fn a_failing_command_is_an_error_naming_it() {
        let mut runner = ProcessRunner;
        let e = runner
            .run(&Command::new(["/bin/sh", "-c", "echo nope >&2; exit 3"]))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "`/bin/sh -c \"echo nope >&2; exit 3\"` failed: nope"
        );
        assert!(runner.run(&Command::new(["/bin/true"])).is_ok());
        assert!(matches!(
            runner.run(&Command::new(["/nonexistent/ipfw"])),
            Err(SinkFailure::Spawn { .. })
        ));
    }
}
