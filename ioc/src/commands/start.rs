//! `ioc start [--dry-run] FILTER...`

use std::io::Write;

use clap::Args;
use ioc_core::actions::{self, PlanKind};
use ioc_core::filter::Filter;

use super::plan::{self, PlanArgs};
use super::{runtime, CommandResult, Context};

#[derive(Debug, Args)]
pub struct StartArgs {
    #[command(flatten)]
    pub plan: PlanArgs,

    /// Jails to start (and, first, the jails they depend on), e.g. jail-a,jail-b
    #[arg(value_name = "FILTER", required = true)]
    pub filters: Vec<String>,
}

pub fn run(args: &StartArgs, context: &Context, out: &mut dyn Write) -> CommandResult {
    let filter = Filter::from_args(&args.filters)?;
    if args.plan.dry_run {
        return plan::print(&args.plan, PlanKind::Start, &filter, context, out);
    }
    runtime::report(
        actions::start(&context.store, &context.run_dir, &filter)?,
        out,
    )
}
