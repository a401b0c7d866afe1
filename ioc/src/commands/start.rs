//! `ioc start [--dry-run] FILTER...`, `ioc start --rc`

use std::io::Write;

use clap::Args;
use ioc_core::actions::{self, PlanKind};
use ioc_core::filter::Filter;
use ioc_core::lifecycle::AUTO_JOBS;

use super::plan::{self, PlanArgs};
use super::{runtime, CommandResult, Context};

/// What `ioc start --help` shows last.
const EXAMPLES: &str = "\
Examples:
  ioc start web
  ioc start web,db --jobs 4
  ioc start --dry-run --platform freebsd web
  ioc start --rc                    # every boot=on jail, by priority";

#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct StartArgs {
    #[command(flatten)]
    pub plan: PlanArgs,

    /// Start every jail with boot=on (and the jails they depend on), lower priority first: what
    /// the init system runs at host boot
    #[arg(long, conflicts_with_all = ["filters", "dry_run"])]
    pub rc: bool,

    /// Start at most N jails at the same time (jails of the same priority that do not depend
    /// on each other) [default: the number of CPUs]
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,

    /// Jails to start (and, first, the jails they depend on), e.g. jail-a,jail-b
    #[arg(value_name = "FILTER", required_unless_present = "rc")]
    pub filters: Vec<String>,
}

pub fn run(args: &StartArgs, context: &Context, out: &mut (dyn Write + Send)) -> CommandResult {
    let format = args.plan.output_format;
    // The CPU count is looked up only when jails could start side by side (see AUTO_JOBS).
    let jobs = args.jobs.map_or(AUTO_JOBS, usize::from);
    let (store, run_dir) = (&context.store, &context.run_dir);
    if args.rc {
        return runtime::run(format, out, |progress| {
            actions::start_rc(store, run_dir, jobs, progress)
        });
    }
    let filter = Filter::from_args(&args.filters)?;
    if args.plan.dry_run {
        return plan::print(&args.plan, PlanKind::Start, &filter, context, out);
    }
    runtime::run(format, out, |progress| {
        actions::start_jobs(store, run_dir, &filter, jobs, progress)
    })
}
