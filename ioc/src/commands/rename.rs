//! `ioc rename OLD NEW`

use clap::Args;
use ioc_core::config::JailName;
use ioc_core::Error;

use super::{CommandResult, Context};

/// What `ioc rename --help` shows last.
const EXAMPLES: &str = "\
Examples:
  ioc rename web www";

#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct RenameArgs {
    /// The jail's current name
    pub old: String,
    /// Its new name
    pub new: String,
}

pub fn run(args: &RenameArgs, context: &Context) -> CommandResult {
    let old = JailName::new(&args.old)?;
    let new = JailName::new(&args.new)?;
    let locked = context.store.lock()?;
    if let Some(jid) = context.run_dir.jid(old.as_str()) {
        return Err(Error::JailRunning {
            name: old.to_string(),
            jid,
            hint: "stop it before renaming it".to_string(),
        }
        .into());
    }
    locked.rename_jail(&old, &new)?;
    tracing::info!("renamed jail {old} to {new}");
    Ok(())
}
