//! `ioc exec JAIL -- CMD...`: the command replaces ioc, so its exit code is ioc's.

use clap::Args;
use ioc_core::actions;
use ioc_core::config::JailName;

use super::{CommandResult, Context};

/// What `ioc exec --help` shows last.
const EXAMPLES: &str = "\
Examples:
  ioc exec web -- ip addr
  ioc exec web -- sh -c 'ping -c1 10.0.0.1'";

#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct ExecArgs {
    /// The running jail
    pub jail: String,

    /// The command and its arguments (after --)
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

pub fn run(args: &ExecArgs, context: &Context) -> CommandResult {
    let name = JailName::new(&args.jail)?;
    if !context.store.jail_exists(&name) {
        return Err(ioc_core::Error::NoSuchJail(name.to_string()).into());
    }
    match actions::exec(&context.run_dir, name.as_str(), &args.command)? {}
}
