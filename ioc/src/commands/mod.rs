//! One module per command; [`run`] dispatches. Each module defines its clap arguments and a
//! `run` function taking the [`Context`] and the output.

pub mod check;
pub mod complete;
mod completion;
pub mod create;
pub mod destroy;
pub mod docs;
pub mod exec;
pub mod gc;
pub mod get;
pub mod help;
pub mod import;
pub mod learn;
pub mod list;
pub mod plan;
pub mod plugins;
pub mod rename;
pub mod restart;
mod runtime;
pub mod set;
pub mod start;
pub mod stop;

use std::fmt;
use std::io::{self, Write};

use ioc_core::runtime::RunDir;
use ioc_core::store::Store;

use crate::cli::{Command, GlobalArgs};

/// What every command works with.
pub struct Context {
    pub store: Store,
    pub run_dir: RunDir,
}

impl Context {
    pub fn new(global: &GlobalArgs) -> Context {
        Context {
            store: Store::from_cli(global.root.as_deref()),
            run_dir: RunDir::from_env(),
        }
    }
}

/// Why a command failed: an error from ioc-core, or output that could not be written.
#[derive(Debug)]
pub enum Failure {
    Core(ioc_core::Error),
    Output(io::Error),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Core(e) => u8::try_from(e.exit_code()).unwrap_or(1),
            Failure::Output(_) => 1,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Core(e) => write!(f, "{e}"),
            Failure::Output(e) => write!(f, "cannot write output: {e}"),
        }
    }
}

impl From<ioc_core::Error> for Failure {
    fn from(e: ioc_core::Error) -> Failure {
        Failure::Core(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Output(e)
    }
}

pub type CommandResult = Result<(), Failure>;

pub fn run(command: &Command, context: &Context, out: &mut (dyn Write + Send)) -> CommandResult {
    match command {
        Command::Create(args) => create::run(args, context),
        Command::Set(args) => set::run(args, context),
        Command::Get(args) => get::run(args, context, out),
        Command::List(args) => list::run(args, context, out),
        Command::Destroy(args) => destroy::run(args, context),
        Command::Rename(args) => rename::run(args, context),
        Command::Help(args) => help::run(args, out),
        Command::Start(args) => start::run(args, context, out),
        Command::Stop(args) => stop::run(args, context, out),
        Command::Restart(args) => restart::run(args, context, out),
        Command::Exec(args) => exec::run(args, context),
        Command::Plugins(args) => plugins::run(args, context, out),
        Command::Check(args) => check::run(args, context, out),
        Command::Gc(args) => gc::run(args, context),
        Command::Complete(args) => complete::run(args, context, out),
        Command::Completions(args) => docs::completions(args, out),
        Command::Man(args) => docs::man(args),
        Command::Import(args) => import::run(args, context, out),
        // Handled by `main` before anything else: it needs no store.
        Command::Learn(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every visible command and subcommand ends its help with examples of itself.
    fn assert_examples(command: &clap::Command, path: &str) {
        let after = command
            .get_after_help()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(
            after.starts_with("Examples:\n") && after.contains(&format!("  {path}")),
            "`{path} --help` shows no example of itself: {after:?}"
        );
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            assert_examples(sub, &format!("{path} {}", sub.get_name()));
        }
    }

    #[test]
    fn every_command_has_examples() {
        assert_examples(&crate::cli::Cli::command(), "ioc");
    }
}
