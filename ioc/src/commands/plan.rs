//! `--dry-run` output for start and stop: one shell-quoted command a line, or JSON.

use std::io::Write;

use clap::{Args, ValueEnum};
use ioc_core::actions::{self, PlanKind};
use ioc_core::filter::Filter;
use ioc_sdk::Platform;

use super::{CommandResult, Context};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PlatformArg {
    Linux,
    Freebsd,
}

impl From<PlatformArg> for Platform {
    fn from(p: PlatformArg) -> Platform {
        match p {
            PlatformArg::Linux => Platform::Linux,
            PlatformArg::Freebsd => Platform::FreeBsd,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// One command a line, ready to paste
    #[default]
    Text,
    /// An array of {jail, jid, platform, commands: [{argv, stdin?}]}
    Json,
}

/// Options of `start` and `stop` that show a plan instead of acting.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Print the commands instead of running them (no root needed, nothing changes)
    #[arg(long)]
    pub dry_run: bool,

    /// Platform to render the plan for [default: this one]
    #[arg(long, value_enum, requires = "dry_run")]
    pub platform: Option<PlatformArg>,

    /// With --dry-run, the plan's format; otherwise that of the per-jail outcomes (json: an
    /// array of {jail, outcome, jid, error})
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub output_format: PlanFormat,
}

pub fn print(
    args: &PlanArgs,
    kind: PlanKind,
    filter: &Filter,
    context: &Context,
    out: &mut dyn Write,
) -> CommandResult {
    let platform = args.platform.map_or(Platform::current(), Platform::from);
    let plans = actions::plan(&context.store, &context.run_dir, filter, kind, platform)?;
    match args.output_format {
        PlanFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &plans).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        PlanFormat::Text => {
            for plan in &plans {
                writeln!(out, "# {} (JID {}, {})", plan.jail, plan.jid, plan.platform)?;
                for command in &plan.commands {
                    writeln!(out, "{}", command.shell_line())?;
                }
            }
        }
    }
    Ok(())
}
