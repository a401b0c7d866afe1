//! `ioc plugins list|enable|disable|check`

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use ioc_core::actions::{self, PluginRow};

use super::{CommandResult, Context};
use crate::output::{Cell, Format, Table};

/// What `ioc plugins --help` shows last.
const EXAMPLES: &str = "\
Examples:
  ioc plugins list
  ioc plugins list --output-format json
  ioc plugins enable my-mode
  ioc plugins check ./libmy_mode.so";

#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct PluginsArgs {
    #[command(subcommand)]
    pub command: PluginsCommand,
}

#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// Every plugin found, shipped or enabled: kind, versions, file, state
    #[command(
        after_help = "Examples:\n  ioc plugins list\n  ioc plugins list --output-format json"
    )]
    List {
        #[arg(long, value_enum, default_value_t = Format::Table, value_name = "FORMAT")]
        output_format: Format,
    },
    /// Allow a plugin to be loaded (third-party plugins start disabled)
    #[command(after_help = "Examples:\n  ioc plugins enable my-mode")]
    Enable { name: String },
    /// Never load a plugin
    #[command(after_help = "Examples:\n  ioc plugins disable cni")]
    Disable { name: String },
    /// Load one library file as ioc would and describe it
    #[command(after_help = "Examples:\n  ioc plugins check ./target/release/libmy_mode.so")]
    Check { file: PathBuf },
}

fn optional(value: &Option<String>) -> Cell {
    Cell::optional(value.clone().unwrap_or_else(|| "-".into()), value.clone())
}

fn table(rows: &[PluginRow]) -> Table<'static> {
    let mut table = Table {
        columns: vec![
            "name",
            "kind",
            "version",
            "sdk_version",
            "file",
            "enabled",
            "active",
            "status",
        ],
        rows: Vec::new(),
    };
    for r in rows {
        let file = r.file.as_ref().map(|f| f.display().to_string());
        table.rows.push(vec![
            Cell::text(&r.name),
            optional(&r.kind),
            optional(&r.version),
            optional(&r.sdk_version),
            optional(&file),
            Cell::boolean(r.enabled, if r.enabled { "yes" } else { "no" }),
            Cell::boolean(r.active, if r.active { "yes" } else { "-" }),
            Cell::text(&r.status),
        ]);
    }
    table
}

pub fn run(args: &PluginsArgs, context: &Context, out: &mut dyn Write) -> CommandResult {
    match &args.command {
        PluginsCommand::List { output_format } => {
            let rows = actions::list_plugins(&context.store)?;
            table(&rows).write(*output_format, out)?;
        }
        PluginsCommand::Enable { name } => {
            actions::set_plugin_enabled(&context.store, &context.run_dir, name, true)?;
            writeln!(out, "plugin {name}: enabled")?;
        }
        PluginsCommand::Disable { name } => {
            actions::set_plugin_enabled(&context.store, &context.run_dir, name, false)?;
            writeln!(out, "plugin {name}: disabled")?;
        }
        PluginsCommand::Check { file } => {
            let row = actions::check_plugin(file)?;
            table(std::slice::from_ref(&row)).write(Format::Table, out)?;
        }
    }
    Ok(())
}
