//! `ioc set KEY[=VALUE]... TARGET`

use clap::Args;
use ioc_core::config::Assignment;
use ioc_core::store::Target;

use super::{CommandResult, Context};

/// What `ioc set --help` shows last.
const EXAMPLES: &str = "\
Examples:
  ioc set vnet=on interfaces=vnet0:bridge0 web
  ioc set defaultrouter=10.0.0.1 defaults
  ioc set boot=on 'web-*'
  ioc set defaultrouter web        # back to the default";

#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct SetArgs {
    /// KEY=VALUE sets a property; a bare KEY removes the value so the default applies again
    #[arg(required = true, value_name = "KEY[=VALUE]")]
    pub assignments: Vec<String>,

    /// `defaults`, or a filter selecting the jails to change (e.g. jail-a, 'jail-*', vnet=on)
    #[arg(value_name = "TARGET")]
    pub target: String,
}

pub fn run(args: &SetArgs, context: &Context) -> CommandResult {
    let assignments = Assignment::parse_all(&args.assignments, true)?;
    let target = Target::parse(&args.target)?;
    let changed = context.store.set(&target, &assignments)?;
    for owner in changed {
        tracing::info!("updated {owner}");
    }
    Ok(())
}
