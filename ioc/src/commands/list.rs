//! `ioc list [FILTER...] [-l | -o KEY,KEY...] [--output-format table|json|csv]`

use std::io::Write;

use clap::Args;
use ioc_core::config::properties::{
    DEFAULTROUTER, DEFAULTROUTER6, INTERFACES, IP4_ADDR, IP6_ADDR, NETWORK_PLUGIN,
};
use ioc_core::config::registry::{self, KeyKind};
use ioc_core::config::suggest;
use ioc_core::config::syntax::Syntax;
use ioc_core::config::ResolvedJail;
use ioc_core::filter::Filter;
use ioc_core::runtime::JailState;
use ioc_core::{Error, Result};

use super::{CommandResult, Context};
use crate::output::{Cell, Format, Table};
use crate::typed::{entries, key_cell, optional};

/// What `ioc list --help` shows last.
const EXAMPLES: &str = "\
Examples:
  ioc list
  ioc list -l 'web-*'
  ioc list vnet=on boot=on
  ioc list -o name,state,ip4_addr,priority --output-format json";

#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct ListArgs {
    /// Select jails: NAME patterns (* any text, + at least one character, a,b alternatives) and
    /// KEY=VALUE terms; all must match
    #[arg(value_name = "FILTER")]
    pub filters: Vec<String>,

    /// More columns: vnet, interfaces, ip6_addr, gateways, network plugin
    #[arg(short, long)]
    pub long: bool,

    /// The columns, in this order: any of jid, name, running, state, ip4_addr, vnet,
    /// interfaces, ip6_addr, defaultrouter, defaultrouter6, network_plugin, or any property
    /// (`ioc help properties`), <nic>_mac and user.* keys included
    #[arg(
        short = 'o',
        long = "output",
        value_name = "KEY,KEY",
        value_delimiter = ',',
        conflicts_with = "long"
    )]
    pub output: Vec<String>,

    #[arg(long, value_enum, default_value_t = Format::Table, value_name = "FORMAT")]
    pub output_format: Format,
}

/// One listed jail.
struct Row {
    jail: ResolvedJail,
    jid: Option<u32>,
    state: JailState,
}

/// A column: its name (header and JSON key), whether only `-l` shows it, and its cell.
struct Column {
    name: &'static str,
    long_only: bool,
    cell: fn(&Row) -> Cell,
}

const COLUMNS: &[Column] = &[
    Column {
        name: "jid",
        long_only: false,
        cell: |r| Cell::number(r.jid),
    },
    Column {
        name: "name",
        long_only: false,
        cell: |r| Cell::text(r.jail.name().as_str()),
    },
    Column {
        name: "running",
        long_only: false,
        cell: |r| {
            let up = matches!(r.state, JailState::Running { .. });
            Cell::boolean(up, if up { "yes" } else { "no" })
        },
    },
    Column {
        name: "state",
        long_only: true,
        cell: |r| Cell::text(r.state.describe()),
    },
    Column {
        name: "ip4_addr",
        long_only: false,
        cell: |r| entries(r.jail.get(IP4_ADDR)),
    },
    Column {
        name: "vnet",
        long_only: true,
        cell: |r| Cell::boolean(r.jail.vnet(), if r.jail.vnet() { "on" } else { "off" }),
    },
    Column {
        name: "interfaces",
        long_only: true,
        cell: |r| entries(r.jail.get(INTERFACES)),
    },
    Column {
        name: "ip6_addr",
        long_only: true,
        cell: |r| entries(r.jail.get(IP6_ADDR)),
    },
    Column {
        name: "defaultrouter",
        long_only: true,
        cell: |r| optional(r.jail.get(DEFAULTROUTER)),
    },
    Column {
        name: "defaultrouter6",
        long_only: true,
        cell: |r| optional(r.jail.get(DEFAULTROUTER6)),
    },
    Column {
        name: "network_plugin",
        long_only: true,
        cell: |r| Cell::text(r.jail.get(NETWORK_PLUGIN).print()),
    },
];

pub fn run(args: &ListArgs, context: &Context, out: &mut dyn Write) -> CommandResult {
    let jails = if args.filters.is_empty() {
        context.store.resolve_all()?
    } else {
        context.store.select(&Filter::from_args(&args.filters)?)?
    };
    let columns = chosen_columns(args)?;
    let rows = jails
        .into_iter()
        .map(|jail| jail.with_reported(&context.run_dir));
    let rows = rows.map(|jail| Row {
        jid: context.run_dir.jid(jail.name().as_str()),
        state: context.run_dir.state(jail.name().as_str()),
        jail,
    });
    let table = Table {
        columns: columns.iter().map(Chosen::name).collect(),
        rows: rows
            .map(|row| columns.iter().map(|c| c.cell(&row)).collect())
            .collect(),
    };
    table.write(args.output_format, out)?;
    Ok(())
}

/// A column of the table: one of the list's own, or a property key given with `-o`.
enum Chosen<'k> {
    Own(&'static Column),
    Key(&'k str),
}

impl Chosen<'_> {
    fn name(&self) -> &str {
        match self {
            Chosen::Own(c) => c.name,
            Chosen::Key(k) => k,
        }
    }

    /// A property's cell: typed for declared properties; `<nic>_mac` and `user.*` as text,
    /// `-` (null in JSON) where the jail has none.
    fn cell(&self, row: &Row) -> Cell {
        match self {
            Chosen::Own(c) => (c.cell)(row),
            Chosen::Key(key) => match row.jail.display(key) {
                Ok(text) => key_cell(row.jail.properties().value(key), text),
                Err(_) => Cell::optional("-".to_string(), None),
            },
        }
    }
}

/// The columns `-o` asks for, else the default ones (with `-l`, all of the list's own). A key
/// that is neither a column nor a property is a usage error naming it and what is valid.
fn chosen_columns(args: &ListArgs) -> Result<Vec<Chosen<'_>>> {
    if args.output.is_empty() {
        return Ok(COLUMNS
            .iter()
            .filter(|c| args.long || !c.long_only)
            .map(Chosen::Own)
            .collect());
    }
    args.output
        .iter()
        .map(|key| {
            let key = key.trim();
            if let Some(own) = COLUMNS.iter().find(|c| c.name == key) {
                return Ok(Chosen::Own(own));
            }
            match registry::classify(key) {
                Some(KeyKind::Static(_) | KeyKind::User | KeyKind::NicMac(_)) => {
                    Ok(Chosen::Key(key))
                }
                None => Err(unknown_column(key)),
            }
        })
        .collect()
}

fn unknown_column(key: &str) -> Error {
    let own = COLUMNS.iter().map(|c| c.name);
    let known = own.clone().chain(registry::all().iter().map(|p| p.name));
    let hint =
        suggest::nearest(key, known).map_or_else(String::new, |s| format!("; did you mean '{s}'?"));
    let own: Vec<&str> = own.collect();
    Error::Usage(format!(
        "unknown column '{key}' for -o: expected a column of ioc list ({}), a property that \
         `ioc help properties` lists, <nic>_mac or user.NAME{hint}",
        own.join(", ")
    ))
}
