//! `ioc restart FILTER...`

use std::io::Write;

use clap::Args;
use ioc_core::actions;
use ioc_core::filter::Filter;

use super::{runtime, CommandResult, Context};

/// What `ioc restart --help` shows last.
const EXAMPLES: &str = "\
Examples:
  ioc restart web
  ioc restart 'web-*'";

#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct RestartArgs {
    /// Jails to stop and start again
    #[arg(value_name = "FILTER", required = true)]
    pub filters: Vec<String>,
}

pub fn run(args: &RestartArgs, context: &Context, out: &mut (dyn Write + Send)) -> CommandResult {
    let filter = Filter::from_args(&args.filters)?;
    let (store, run_dir) = (&context.store, &context.run_dir);
    runtime::run(super::plan::PlanFormat::Text, out, |progress| {
        actions::restart(store, run_dir, &filter, progress)
    })
}
