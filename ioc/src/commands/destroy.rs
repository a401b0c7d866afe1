//! `ioc destroy [-f] FILTER...`

use clap::Args;
use ioc_core::config::JailName;
use ioc_core::filter::Filter;
use ioc_core::Error;

use super::{CommandResult, Context};

/// What `ioc destroy --help` shows last.
const EXAMPLES: &str = "\
Examples:
  ioc destroy web
  ioc destroy -f 'test-*'";

#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct DestroyArgs {
    /// Also destroy running jails (stopping them first)
    #[arg(short, long)]
    pub force: bool,

    /// Select jails (see `ioc list --help`)
    #[arg(required = true, value_name = "FILTER")]
    pub filters: Vec<String>,
}

pub fn run(args: &DestroyArgs, context: &Context) -> CommandResult {
    let filter = Filter::from_args(&args.filters)?;
    let names = context.store.select_names(&filter)?;
    // Refuse (or stop) running jails before touching any jail, and without the store lock:
    // stopping takes locks of its own.
    let mut refused = Vec::new();
    for name in &names {
        if let Some(jid) = context.run_dir.jid(name.as_str()) {
            match args.force {
                true => stop_for_destroy(context, name, jid)?,
                false => refused.push(running(name, jid, "stop it first, or use ioc destroy -f")),
            }
        }
    }
    Error::collect(refused)?;
    let locked = context.store.lock()?;
    for name in &names {
        // A jail may have started since the check above.
        if let Some(jid) = context.run_dir.jid(name.as_str()) {
            return Err(running(name, jid, "it started while being destroyed").into());
        }
        locked.destroy_jail(name)?;
        tracing::info!("destroyed jail {name}");
    }
    Ok(())
}

fn running(name: &JailName, jid: u32, hint: &str) -> Error {
    Error::JailRunning {
        name: name.to_string(),
        jid,
        hint: hint.to_string(),
    }
}

/// Stops a running jail so `destroy -f` can remove it.
/// `destroy -f` of a running jail stops it first (forcefully), like `ioc stop -f`.
fn stop_for_destroy(context: &Context, name: &JailName, _jid: u32) -> CommandResult {
    let filter = ioc_core::filter::Filter::from_args(&[name.as_str()])?;
    let report = ioc_core::actions::stop(
        &context.store,
        &context.run_dir,
        &filter,
        true,
        &ioc_core::lifecycle::silent,
    )?;
    super::runtime::report(
        report,
        super::plan::PlanFormat::Text,
        0,
        &mut std::io::sink(),
    )
}
