//! `ioc create NAME [KEY=VALUE...]`

use clap::Args;
use ioc_core::config::{Assignment, JailName};

use super::{CommandResult, Context};

#[derive(Debug, Args)]
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
