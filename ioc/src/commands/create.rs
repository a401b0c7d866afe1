//! `ioc create NAME [KEY=VALUE...]`

use clap::Args;
use ioc_core::config::{Assignment, JailName};

use super::{CommandResult, Context};

/// What `ioc create --help` shows last.
const EXAMPLES: &str = "\
Examples:
  ioc create web
  ioc create web vnet=on interfaces=vnet0:bridge0 'ip4_addr=vnet0|10.0.0.5/24' defaultrouter=10.0.0.1
  ioc create db nat=on boot=on priority=10";

#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct CreateArgs {
    /// The jail's name: at most 31 letters, digits, '-', '_' or '.'
    pub name: String,

    /// Properties to set, checked together before anything is written
    #[arg(value_name = "KEY=VALUE")]
    pub properties: Vec<String>,
}

pub fn run(args: &CreateArgs, context: &Context) -> CommandResult {
    let name = JailName::new(&args.name)?;
    let assignments = Assignment::parse_all(&args.properties, false)?;
    context.store.create(&name, &assignments)?;
    tracing::info!("created jail {name}");
    Ok(())
}
