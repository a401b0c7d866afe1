//! `ioc check FILTER...`: asks each running jail's network mode whether the network is still
//! as it built it (for a CNI jail: `CHECK` through its network list).

use std::io::Write;

use clap::Args;
use ioc_core::filter::Filter;
use ioc_core::Error;

use super::{CommandResult, Context};

/// What `ioc check --help` shows last.
const EXAMPLES: &str = "\
Examples:
  ioc check web
  ioc check 'web-*'";

#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct CheckArgs {
    /// Running jails to check, e.g. jail-a,jail-b
    #[arg(value_name = "FILTER", required = true)]
    pub filters: Vec<String>,
}

pub fn run(args: &CheckArgs, context: &Context, out: &mut dyn Write) -> CommandResult {
    let filter = Filter::from_args(&args.filters)?;
    let report = ioc_core::actions::check(&context.store, &context.run_dir, &filter)?;
    let mut errors = Vec::new();
    for result in report {
        match result {
            Ok(name) => writeln!(out, "{name}: ok")?,
            Err(e) => errors.push(e.into()),
        }
    }
    out.flush()?;
    Error::collect(errors)?;
    Ok(())
}
