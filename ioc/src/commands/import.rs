//! `ioc import PATH...`: jails from iocage's and libioc's configuration files.
//!
//! The work is in [`ioc_core::import`]; this prints one block per jail as it finishes (what is
//! set, what is not imported and why) and the errors of the jails that failed on stderr, and
//! fails at the end if any did, so the exit code says so.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;
use ioc_core::import::{self, source, ImportError, JailReport, Options};

use super::{CommandResult, Context};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  ioc import --dry-run /iocage/jails       show what every iocage jail would become
  ioc import /iocage/jails/www             import one jail (config.json or legacy config)
  ioc import --replace /iocage/jails/www   import it again over the existing jail")]
pub struct ImportArgs {
    /// config.json or legacy config files, jail directories holding one, directories of jail
    /// directories (/iocage/jails) or an iocage root
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Replace the configuration of jails that exist already (they must be stopped)
    #[arg(long)]
    pub replace: bool,

    /// Check everything and show what would be created; write nothing
    #[arg(short = 'n', long)]
    pub dry_run: bool,
}

pub fn run(args: &ImportArgs, context: &Context, out: &mut dyn Write) -> CommandResult {
    let options = Options {
        replace: args.replace,
        dry_run: args.dry_run,
    };
    let mut written = Ok(());
    let mut report = |result: &Result<JailReport, ImportError>| {
        if written.is_ok() {
            written = show(out, result);
        }
    };
    let failures = import::import(
        &context.store,
        &context.run_dir,
        &args.paths,
        options,
        &mut report,
    );
    written?;
    if failures.is_empty() {
        return Ok(());
    }
    Err(ioc_core::Error::from(ImportError::Incomplete {
        failed: failures.len(),
    })
    .into())
}

/// One jail's block on stdout, or its error on stderr, written at once so progress shows.
fn show(out: &mut dyn Write, result: &Result<JailReport, ImportError>) -> io::Result<()> {
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            out.flush()?;
            let mut err = io::stderr().lock();
            for line in e.to_string().lines() {
                // A closed stderr is not worth failing the other jails for.
                let _ = writeln!(err, "ioc: {line}");
            }
            return Ok(());
        }
    };
    let plan = &report.plan;
    writeln!(
        out,
        "{} jail {} from {} ({})",
        report.outcome.verb(),
        plan.name,
        plan.file.display(),
        plan.format
    )?;
    let defaults = |inherited: bool| match inherited {
        true => format!("{}: ", source::DEFAULTS_FILE),
        false => String::new(),
    };
    for m in &plan.properties {
        let written = format!("{}={}", m.key, m.value);
        let source = format!("{}={}", m.source_key, m.source_value);
        if written == source && !m.inherited {
            writeln!(out, "  set {written}")?;
        } else {
            writeln!(
                out,
                "  set {written}  (from {}{source})",
                defaults(m.inherited)
            )?;
        }
    }
    for s in &plan.skipped {
        let from = defaults(s.inherited);
        writeln!(
            out,
            "  not imported: {from}{}={}: {}",
            s.key, s.value, s.reason
        )?;
    }
    out.flush()
}
