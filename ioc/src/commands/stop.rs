//! `ioc stop [-f] [--dry-run] FILTER...`, `ioc stop --rc`

use std::io::Write;

use clap::Args;
use ioc_core::actions::{self, PlanKind};
use ioc_core::filter::Filter;

use super::plan::{self, PlanArgs};
use super::{runtime, CommandResult, Context};

/// What `ioc stop --help` shows last.
const EXAMPLES: &str = "\
Examples:
  ioc stop web
  ioc stop -f 'test-*'
  ioc stop --rc                     # every running jail";

#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct StopArgs {
    /// Kill the jail's processes at once and stop even if exec_prestop or exec_stop fail
    #[arg(short, long)]
    pub force: bool,

    #[command(flatten)]
    pub plan: PlanArgs,

    /// Stop every jail that runs (whatever its boot), higher priority first: what the init
    /// system runs at host shutdown
    #[arg(long, conflicts_with_all = ["filters", "dry_run"])]
    pub rc: bool,

    /// Jails to stop, e.g. jail-a,jail-b
    #[arg(value_name = "FILTER", required_unless_present = "rc")]
    pub filters: Vec<String>,
}

pub fn run(args: &StopArgs, context: &Context, out: &mut (dyn Write + Send)) -> CommandResult {
    let format = args.plan.output_format;
    let (store, run_dir, force) = (&context.store, &context.run_dir, args.force);
    if args.rc {
        return runtime::run(format, out, |progress| {
            actions::stop_rc(store, run_dir, force, progress)
        });
    }
    let filter = Filter::from_args(&args.filters)?;
    if args.plan.dry_run {
        return plan::print(&args.plan, PlanKind::Stop, &filter, context, out);
    }
    runtime::run(format, out, |progress| {
        actions::stop(store, run_dir, &filter, force, progress)
    })
}
