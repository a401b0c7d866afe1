//! `ioc gc`: lets every network mode release what none of the host's jails uses any more (for
//! CNI networks: `GC` with the running jails' attachments as the valid ones).

use clap::Args;

use super::{CommandResult, Context};

/// What `ioc gc --help` shows last.
const EXAMPLES: &str = "\
Examples:
  ioc gc";

#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct GcArgs {}

pub fn run(_args: &GcArgs, context: &Context) -> CommandResult {
    ioc_core::actions::gc(&context.store, &context.run_dir)?;
    Ok(())
}
