//! `ioc help [COMMAND | properties [--markdown]]`

use std::io::Write;

use clap::{Args, CommandFactory};
use ioc_core::config::registry::{self, Builtin, Scope, DYNAMIC_KEYS};
use ioc_core::Error;

use super::CommandResult;
use crate::cli::Cli;
use crate::output::{Cell, Format, Table};

/// The topic that prints the property table.
const PROPERTIES: &str = "properties";

/// What `ioc help --help` shows last.
const EXAMPLES: &str = "\
Examples:
  ioc help start
  ioc help properties
  ioc help properties --markdown";

#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct HelpArgs {
    /// A command, or `properties` for the property table
    pub topic: Option<String>,

    /// Print the property table as Markdown (the README's table)
    #[arg(long)]
    pub markdown: bool,
}

pub fn run(args: &HelpArgs, out: &mut dyn Write) -> CommandResult {
    let mut cli = Cli::command();
    match args.topic.as_deref() {
        Some(PROPERTIES) if args.markdown => property_table(true).write_markdown(out)?,
        Some(PROPERTIES) => property_table(false).write(Format::Table, out)?,
        _ if args.markdown => {
            return Err(
                Error::Usage("--markdown only applies to `ioc help properties`".into()).into(),
            )
        }
        None => write!(out, "{}", cli.render_long_help())?,
        Some(topic) => match cli.find_subcommand_mut(topic) {
            Some(command) => write!(out, "{}", command.render_long_help())?,
            None => {
                return Err(Error::Usage(format!(
                    "no help on \"{topic}\": expected a command or `properties`"
                ))
                .into())
            }
        },
    }
    Ok(())
}

/// Every property from the registry, then the dynamic keys. Markdown puts names and defaults in
/// code spans.
fn property_table(markdown: bool) -> Table<'static> {
    let code = |text: &str| {
        if markdown {
            format!("`{text}`")
        } else {
            text.to_string()
        }
    };
    let mut rows: Vec<Vec<Cell>> = registry::all()
        .iter()
        .map(|p| {
            let default = match p.builtin {
                Builtin::Fixed(text) => code(text),
                Builtin::PerPlatform { linux, freebsd } => {
                    format!("{} (Linux), {} (FreeBSD)", code(linux), code(freebsd))
                }
            };
            let help = match p.scope {
                Scope::Jail => p.help.to_string(),
                Scope::Host => format!("{}; host-wide, set on defaults only", p.help),
            };
            vec![
                Cell::text(code(p.name)),
                Cell::text(default),
                Cell::text(help),
            ]
        })
        .collect();
    rows.extend(DYNAMIC_KEYS.iter().map(|k| {
        vec![
            Cell::text(code(k.pattern)),
            Cell::text(k.default),
            Cell::text(k.help),
        ]
    }));
    Table {
        columns: vec!["property", "default", "description"],
        rows,
    }
}
